"""Example strips: test images under a sweep's transforms, so readers see what the numbers mean."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from invariance.plots import _data
from invariance.plots.style import MissingDataError, themed


def format_point(point: Sequence[float]) -> str:
    """A transform point in words, only its non-identity parts.

    ``(4, 0, 0, 1)`` -> ``"dx = 4 px"``; ``(0, 0, 30, 0.8)`` -> ``"angle = 30°, scale = 0.8×"``;
    the identity -> ``"original"``.
    """
    dx, dy, angle, scale = (float(v) for v in point)
    parts = []
    if dx:
        parts.append(f"dx = {dx:g} px")
    if dy:
        parts.append(f"dy = {dy:g} px")
    if angle:
        parts.append(f"angle = {angle:g}°")
    if scale != 1.0:
        parts.append(f"scale = {scale:g}×")
    return ", ".join(parts) or "original"


def sweep_example_points(table: pd.DataFrame, *, per_sweep: int = 7) -> dict[str, np.ndarray]:
    """A few evenly spaced points of each one-axis sweep in a harness table (always both ends).

    Args:
        table: Harness rows (``invariance.csv``).
        per_sweep: Points per sweep at most.

    Returns:
        dict sweep name -> float64 array (k, 4) of (dx, dy, angle, scale), sorted along the axis.
    """
    out = {}
    for sweep in _data.point_sweeps(table, dims=1):
        rows = table[table["sweep"] == sweep].dropna(subset=list(_data.AXES))
        axis = _data.sweep_axis(rows, sweep)
        points = rows[list(_data.AXES)].drop_duplicates().sort_values(axis).to_numpy(np.float64)
        if len(points) > per_sweep:
            points = points[np.unique(np.round(np.linspace(0, len(points) - 1, per_sweep)).astype(int))]
        out[sweep] = points
    return out


@themed
def plot_example_strip(images: Any, points: Any, *, labels: Sequence[Any] | None = None,
                       class_names: Sequence[str] | None = None, fill: str = "constant",
                       interpolation: str = "bilinear", title: str | None = None) -> Figure:
    """A grid of images (rows) under transform points (columns), made by ``transforms.apply``.

    Args:
        images: uint8 or float [0, 1] images, shape (N, H, W, C), a few.
        points: Shape (K, 4) transform points (dx, dy, angle, scale).
        labels: Optional class labels of the images, shown beside each row.
        class_names: Names for the labels.
        fill: Fill mode, as in the harness.
        interpolation: Interpolation, as in the harness.
        title: Figure title.

    Returns:
        Figure with an (N, K) grid of image axes; column titles say each transform in words.
    """
    import keras

    from invariance.data import to_float
    from invariance.transforms import apply, as_points

    x = np.asarray(images)
    if x.ndim != 4:
        raise MissingDataError(f"images: must have shape (N, H, W, C); received {x.shape}")
    x = to_float(x) if x.dtype == np.uint8 else x.astype(np.float32)
    pts = as_points(points)
    n, k = len(x), len(pts)
    strips = [np.clip(keras.ops.convert_to_numpy(apply(x, p, fill=fill, interpolation=interpolation)), 0, 1)
              for p in pts]
    cell = 1.45
    fig = Figure(figsize=(cell * k + 0.9, cell * n + 1.0), layout="constrained")
    axes = fig.subplots(n, k, squeeze=False)
    for j, p in enumerate(pts):
        for i in range(n):
            ax = axes[i, j]
            img = strips[j][i]
            ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray" if img.shape[-1] == 1 else None,
                      vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(True)
                spine.set_color("0.6")
        axes[0, j].set_title(format_point(p).replace(", ", "\n"), fontsize=11, fontweight="normal")
    if labels is not None:
        for i, label in enumerate(labels):
            name = class_names[int(label)] if class_names is not None else str(label)
            axes[i, 0].set_ylabel(name, fontsize=11)
    if title:
        fig.suptitle(title, fontsize=14)
    return fig
