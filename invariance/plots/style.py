"""One look for every figure of a study: a slide-size theme, model colours, augmentation dashes.

Figures are built on :class:`matplotlib.figure.Figure` directly (never ``pyplot``), so making
one neither needs nor changes the user's interactive backend, and nothing has to be closed:
a figure is freed when the last reference goes. Saving renders through Agg.
"""
from __future__ import annotations

import contextlib
import functools
import os
import textwrap
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np
from matplotlib.figure import Figure

from invariance.errors import InvarianceError
from invariance.io import write_with

DPI = 150
# Bootstrap resamples behind every 95% CI band (see ci95).
N_BOOT = 1000

# Axis labels with units, shared by every figure.
AXIS_LABELS = {
    "dx": "horizontal shift dx (px)",
    "dy": "vertical shift dy (px)",
    "angle": "rotation angle (degrees)",
    "scale": "scale (×)",
    "shift": "shift magnitude |(dx, dy)| (px)",
    "n_train": "training images n (log scale)",
    "n_fit": "images trained on n, after the validation split (log scale)",
    "params": "parameters (log scale)",
}
METRIC_LABELS = {
    "accuracy": "accuracy",
    "consistency": "consistency (top-1 agrees with clean)",
    "consistency_correct": "consistency on correct images",
    "kl": "KL(clean ‖ transformed) (nats)",
    "embedding_cosine": "embedding cosine similarity",
    "embedding_distance": "embedding distance (normalised L2)",
    "equivariance_error": "equivariance error",
    "mean_consistency": "mean consistency",
    "mean_consistency_correct": "mean consistency on correct images",
    "test_accuracy": "test accuracy",
    "generalization_gap": "generalisation gap (train − test accuracy)",
}

# seaborn "colorblind" first; beyond ten models fall back to an evenly spaced hue circle.
# seaborn's colorblind palette, with its vermilion moved back: next to its orange the two read as one
# hue in thin lines, and a study's first five models must never share one.
_QUALITATIVE = ["#0173b2", "#de8f05", "#029e73", "#cc78bc", "#949494",
                "#ca9161", "#56b4e9", "#d55e00", "#fbafe4", "#ece133"]
# seaborn dash codes: "" is a solid line.
_DASHES = ["", (5, 2), (1.5, 1.5), (4, 1.5, 1.5, 1.5), (8, 2), (2, 3), (6, 2, 1.5, 2, 1.5, 2)]
_MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
NO_AUGMENTATION = "none"

_RC = {
    "figure.dpi": 100,
    "savefig.dpi": DPI,
    "font.size": 13,
    "axes.titlesize": 15,
    "axes.titleweight": "bold",
    "axes.labelsize": 14,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 12,
    "legend.title_fontsize": 13,
    "figure.titlesize": 16,
    "figure.titleweight": "bold",
    "lines.linewidth": 2.2,
    "lines.markersize": 6,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def ci95(values: Any) -> tuple[float, float]:
    """95% percentile-bootstrap interval of the mean: seaborn's ``errorbar=("ci", 95)``, vectorised.

    seaborn resamples in a Python loop, one group at a time, which takes tens of seconds for
    a study's thousands of (curve, point) groups; this draws all resamples at once. The seed is
    fixed, so a figure is the same every time. Passed to seaborn as ``errorbar=ci95``.

    Args:
        values: The seeds' values at one point, shape (n,).

    Returns:
        (low, high); both the value itself when n == 1.
    """
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return (np.nan, np.nan)
    if len(x) == 1 or np.all(x == x[0]):
        return (float(x[0]), float(x[0]))
    rng = np.random.default_rng(0)
    means = x[rng.integers(0, len(x), size=(N_BOOT, len(x)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return (float(low), float(high))


def band_words(table: Any, *, kind: str = "band") -> str:
    """What the band of a :func:`ci95` line plot of ``table`` is, for a caption.

    The band is only as good as the seeds behind it: one seed draws none, two draw their range
    (a bootstrap of two values spans exactly them), three or more a 95% bootstrap CI.

    Args:
        table: Rows with ``seed`` and the curve keys present among ``model``, ``augmentation``,
            ``n_train``.
        kind: What the interval is drawn as, for the words: ``"band"`` or ``"bars"``.
    """
    if "seed" not in getattr(table, "columns", ()) or len(table) == 0:
        return f"{kind}: 95% CI over seeds"
    keys = [c for c in ("model", "augmentation", "n_train") if c in table.columns]
    counts = (table.groupby(keys, dropna=False)["seed"].nunique() if keys else
              np.array([table["seed"].nunique()]))
    low, high = int(np.min(counts)), int(np.max(counts))
    seeds = f"{low}" if low == high else f"{low}–{high}"
    if high <= 1:
        return f"no {kind}: 1 seed per {'curve' if kind == 'band' else 'point'}"
    if high == 2:
        return f"{kind}: range of {seeds} seeds"
    return f"{kind}: 95% bootstrap CI over {seeds} seeds"


class MissingDataError(InvarianceError):
    """The data lacks what a figure needs; :func:`make_study_figures` skips that figure."""


def _unique_sorted(labels: Iterable[Any]) -> list[str]:
    return sorted({str(x) for x in labels if x is not None and not (isinstance(x, float) and np.isnan(x))})


def model_palette(models: Iterable[Any]) -> dict[str, str]:
    """Colours for model labels, deterministic from the sorted unique labels.

    Build it once from every model of a study and pass it to each figure, so that a model
    has the same colour everywhere, also in figures that show only some of the models.

    Args:
        models: Model labels (duplicates allowed).

    Returns:
        dict label -> hex colour, in sorted label order.
    """
    labels = _unique_sorted(models)
    if len(labels) <= len(_QUALITATIVE):
        colours = _QUALITATIVE[: len(labels)]
    else:
        import seaborn as sns

        colours = sns.color_palette("husl", len(labels)).as_hex()
    return dict(zip(labels, colours))


def augmentation_dashes(augmentations: Iterable[Any]) -> dict[str, Any]:
    """seaborn dash codes per augmentation label: ``none`` is solid, the rest sorted.

    Returns:
        dict label -> ``""`` (solid) or a tuple of dash lengths.
    """
    labels = _unique_sorted(augmentations)
    rest = [a for a in labels if a != NO_AUGMENTATION]
    out = {NO_AUGMENTATION: ""} if NO_AUGMENTATION in labels else {}
    for i, label in enumerate(rest):
        out[label] = _DASHES[1 + i % (len(_DASHES) - 1)]
    return out


def augmentation_markers(augmentations: Iterable[Any]) -> dict[str, str]:
    """Scatter markers per augmentation label: ``none`` is a circle, the rest sorted."""
    labels = _unique_sorted(augmentations)
    rest = [a for a in labels if a != NO_AUGMENTATION]
    ordered = ([NO_AUGMENTATION] if NO_AUGMENTATION in labels else []) + rest
    return {a: _MARKERS[i % len(_MARKERS)] for i, a in enumerate(ordered)}


def linestyle(dash: Any) -> Any:
    """A seaborn dash code as a matplotlib ``linestyle``."""
    return "-" if dash in ("", None) or len(dash) == 0 else (0, tuple(dash))


def wrap_label(label: Any, width: int = 26) -> str:
    """Breaks a long label after commas so that legends stay narrow.

    ``geometric[shift=4,rotate=20,scale=0.8-1.2]`` becomes two lines; short labels are kept.
    """
    label = str(label)
    if len(label) <= width:
        return label
    return "\n".join(textwrap.wrap(label.replace(",", ", "), width=width, break_long_words=False)).replace(", ", ",")


def palette_for(data_models: Iterable[Any], palette: Mapping[str, str] | None) -> dict[str, str]:
    """The given palette, completed for labels it lacks (so a partial palette never fails)."""
    if palette is None:
        return model_palette(data_models)
    missing = [m for m in _unique_sorted(data_models) if m not in palette]
    if not missing:
        return dict(palette)
    extra = model_palette(list(palette) + missing)
    return {**palette, **{m: extra[m] for m in missing}}


def dashes_for(data_augs: Iterable[Any], dashes: Mapping[str, Any] | None) -> dict[str, Any]:
    """The given dash map, completed for labels it lacks."""
    if dashes is None:
        return augmentation_dashes(data_augs)
    missing = [a for a in _unique_sorted(data_augs) if a not in dashes]
    if not missing:
        return dict(dashes)
    extra = augmentation_dashes(list(dashes) + missing)
    return {**dashes, **{a: extra[a] for a in missing}}


@contextlib.contextmanager
def theme() -> Iterator[None]:
    """The study theme (seaborn whitegrid, slide-size fonts) for the duration of a block."""
    import matplotlib as mpl
    import seaborn as sns

    with mpl.rc_context({**sns.axes_style("whitegrid"), **_RC}):
        yield


def themed(fn: Callable[..., Figure]) -> Callable[..., Figure]:
    """Runs a plot function inside :func:`theme` (rc values apply when artists are made)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with theme():
            return fn(*args, **kwargs)

    return wrapper


MIN_FIGURE_WIDTH = 9.0  # inches


def new_figure(nrows: int = 1, ncols: int = 1, *, panel: tuple[float, float] = (5.2, 4.0),
               squeeze: bool = False, **subplot_kw: Any) -> tuple[Figure, np.ndarray]:
    """A constrained-layout figure with a grid of axes sized per panel (inches).

    Returns:
        (figure, axes) with axes of shape (nrows, ncols) unless ``squeeze``.
    """
    # A one-panel figure still carries a legend and a two-line title beside it; below this
    # width the title is clipped.
    fig = Figure(figsize=(max(panel[0] * ncols, MIN_FIGURE_WIDTH), panel[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=squeeze, **subplot_kw)
    return fig, axes


def title_figure(fig: Figure, main: str, detail: str = "") -> None:
    """Sets the figure title ``main (detail)``, on two lines when one would be wider than the figure."""
    import matplotlib as mpl
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    text = f"{main} ({detail})" if detail else main
    size = mpl.rcParams["figure.titlesize"]
    width_in = TextPath((0, 0), text, prop=FontProperties(size=size, weight="bold")).get_extents().width / 72
    if detail and width_in > 0.95 * fig.get_figwidth():
        text = f"{main}\n({detail})"
    fig.suptitle(text)


def model_aug_legend(ax: Any, *, models: Iterable[str], palette: Mapping[str, str],
                     augmentations: Iterable[str] = (), dashes: Mapping[str, Any] | None = None,
                     markers: Mapping[str, str] | None = None) -> None:
    """One legend right of ``ax``: a colour per model, then a line style (or marker) per augmentation.

    It hangs from the top-right panel; constrained layout makes room for it, so it never covers data.
    """
    from matplotlib.lines import Line2D

    handles, labels = [], []

    def header(text):
        handles.append(Line2D([], [], linestyle="none"))
        labels.append(text)

    models = list(models)
    header("model")
    for m in models:
        handles.append(Line2D([], [], color=palette[m], lw=3, marker="o" if markers else None))
        labels.append(wrap_label(m))
    augmentations = list(augmentations)
    if augmentations:
        header("augmentation")
        for a in augmentations:
            if markers:
                handles.append(Line2D([], [], color="0.3", linestyle="none", marker=markers[a], markersize=8))
            else:
                handles.append(Line2D([], [], color="0.3", lw=2.2, linestyle=linestyle((dashes or {}).get(a, ""))))
            labels.append(wrap_label(a))
    legend = ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.03, 1.0), borderaxespad=0,
                       frameon=False, handlelength=2.6)
    for text, label in zip(legend.get_texts(), labels):
        if label in ("model", "augmentation"):
            text.set_fontweight("bold")


def save_figure(fig: Figure, path_without_ext: str | os.PathLike, *, dpi: int = DPI,
                formats: tuple[str, ...] = ("png", "svg")) -> dict[str, Path]:
    """Writes a figure as PNG (``dpi``, at least 150) and SVG, each file atomically.

    Args:
        fig: The figure.
        path_without_ext: Target path without extension; parent folders are created.
        dpi: Raster resolution of the PNG.
        formats: File formats to write.

    Returns:
        dict format -> written path.
    """
    if dpi < DPI:
        raise ValueError(f"dpi: must be >= {DPI}; received {dpi!r}")
    import matplotlib as mpl

    base = Path(path_without_ext)
    out = {}
    # a fixed salt gives stable SVG ids; the theme's font sizes are already baked into the artists
    with mpl.rc_context({"svg.hashsalt": "invariance", "svg.fonttype": "path"}):
        for fmt in formats:
            path = base.with_name(base.name + "." + fmt)
            write_with(path, lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, dpi=dpi, facecolor="white",
                                                              metadata=_metadata(fmt)))
            out[fmt] = path
    return out


def _metadata(fmt: str) -> dict[str, Any]:
    # No creation dates: the same figure gives the same bytes.
    if fmt == "svg":
        return {"Date": None}
    if fmt == "png":
        return {"Software": None}
    return {}
