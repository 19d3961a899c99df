"""First-layer filters as images (the AlexNet slide), and a ViT's patch filters with their PCA.

Kernels are read from the model with numpy; nothing here runs the model.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from invariance.plots.style import MissingDataError, theme, themed

PATCH_EMBEDDING = "patch_embedding"


def _walk(layers) -> list:
    out = []
    for layer in layers:
        out.append(layer)
        if hasattr(layer, "layers") and layer.layers is not layers:  # nested models, in network order
            out.extend(_walk(layer.layers))
    return out


def first_layer_filters(model: Any) -> tuple[np.ndarray, str, str]:
    """The first layer's filters of a model, as images.

    The layer named ``patch_embedding`` if there is one (a ViT's patch filters), else the
    first Conv2D (or a p4 CNN's lifting convolution) in network order, else a first Dense layer fed the flattened image (an MLP's
    templates).

    Args:
        model: A keras.Model.

    Returns:
        (kernels of shape (kh, kw, c_in, n_filters) float32, layer name, kind) with kind one of
        ``"patch"``, ``"conv"``, ``"dense"``.

    Raises:
        MissingDataError: if the model has no such layer.
    """
    import keras

    layers = _walk(model.layers)
    by_name = {layer.name: layer for layer in layers}
    if PATCH_EMBEDDING in by_name and isinstance(by_name[PATCH_EMBEDDING], keras.layers.Conv2D):
        layer = by_name[PATCH_EMBEDDING]
        return _kernel(layer), layer.name, "patch"
    from invariance.models.group import P4Lift2D

    for layer in layers:
        if isinstance(layer, keras.layers.Conv2D) and not isinstance(layer, keras.layers.DepthwiseConv2D):
            return _kernel(layer), layer.name, "conv"
        if isinstance(layer, P4Lift2D):  # a p4 CNN's lifting filters, at 0 degrees
            return _kernel(layer), layer.name, "conv"
    image_shape = tuple(model.inputs[0].shape[1:]) if getattr(model, "inputs", None) else ()
    size = int(np.prod(image_shape)) if image_shape and None not in image_shape else 0
    for layer in layers:
        if isinstance(layer, keras.layers.Dense):
            kernel = _kernel(layer)
            if size and kernel.shape[0] == size and len(image_shape) == 3:
                return kernel.reshape(*image_shape, kernel.shape[-1]), layer.name, "dense"
            break
    raise MissingDataError(f"model {model.name!r}: has no {PATCH_EMBEDDING!r} layer, no Conv2D and no Dense layer "
                           "fed the flattened image, so there are no first-layer filters to show")


def _kernel(layer) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(layer.kernel), dtype=np.float32)


def patch_embedding_pca(kernels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Principal components of a set of filters, as in the ViT paper's figure.

    Each filter is a vector of length kh*kw*c_in; the components are the top right singular
    vectors of the centred (n_filters, kh*kw*c_in) matrix (numpy SVD). Sign convention: the
    entry of largest magnitude of each component is positive, so results are deterministic.

    Args:
        kernels: Shape (kh, kw, c_in, n_filters).
        k: Number of components (at most min(n_filters, kh*kw*c_in)).

    Returns:
        (components of shape (k, kh, kw, c_in), explained variance ratio of shape (k,)).
    """
    kernels = np.asarray(kernels, dtype=np.float64)
    if kernels.ndim != 4:
        raise MissingDataError(f"kernels: must have shape (kh, kw, c_in, n_filters); received {kernels.shape}")
    kh, kw, cin, n = kernels.shape
    limit = min(n, kh * kw * cin)
    if not 1 <= k <= limit:
        raise MissingDataError(f"pca: must be between 1 and {limit} for kernels of shape {kernels.shape}; "
                               f"received {k}")
    x = kernels.reshape(kh * kw * cin, n).T
    x = x - x.mean(axis=0, keepdims=True)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    comps = vt[:k]
    pivot = np.argmax(np.abs(comps), axis=1)
    comps = comps * np.sign(comps[np.arange(k), pivot])[:, None]
    var = s**2
    ratio = var[:k] / var.sum() if var.sum() > 0 else np.zeros(k)
    return comps.reshape(k, kh, kw, cin).astype(np.float32), ratio


def filter_images(kernels: np.ndarray) -> np.ndarray:
    """Each filter min-max scaled to [0, 1] on its own: RGB for 3 input channels, else grey.

    Args:
        kernels: Shape (kh, kw, c_in, n).

    Returns:
        float32 array (n, kh, kw, 3) for c_in == 3, else (n, kh, kw) (the channel mean).
    """
    k = np.moveaxis(np.asarray(kernels, dtype=np.float64), -1, 0)  # (n, kh, kw, c)
    if k.shape[-1] != 3:
        k = k.mean(axis=-1)
    axes = tuple(range(1, k.ndim))
    lo, hi = k.min(axis=axes, keepdims=True), k.max(axis=axes, keepdims=True)
    return ((k - lo) / np.where(hi > lo, hi - lo, 1.0)).astype(np.float32)


def _draw_grid(fig, images: np.ndarray, *, titles=None, max_cols: int = 8) -> None:
    n = len(images)
    ncols = min(max_cols, n)
    nrows = int(np.ceil(n / ncols))
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i < n:
            img = images[i]
            ax.imshow(img, cmap=None if img.ndim == 3 else "gray", vmin=0, vmax=1, interpolation="nearest")
            if titles is not None:
                ax.set_title(titles[i], fontsize=9, fontweight="normal", pad=2)


@themed
def plot_filter_grid(kernels: np.ndarray, *, title: str | None = None, max_filters: int = 64,
                     max_cols: int = 8) -> Figure:
    """First-layer kernels as an image grid, each scaled to [0, 1] on its own.

    Args:
        kernels: Shape (kh, kw, c_in, n_filters).
        title: Figure title.
        max_filters: Show at most this many (the first ones).
        max_cols: Images per row.

    Returns:
        Figure with one (hidden-frame) axes per filter.
    """
    images = filter_images(kernels)[:max_filters]
    ncols = min(max_cols, len(images))
    nrows = int(np.ceil(len(images) / ncols))
    fig = Figure(figsize=(max(1.05 * ncols + 0.4, 6.5), 1.05 * nrows + 1.1), layout="constrained")
    _draw_grid(fig, images, max_cols=max_cols)
    if title:
        fig.suptitle(title)
    return fig


def plot_model_filters(model: Any, *, pca: int | None = None, max_filters: int = 64) -> Figure:
    """A model's first-layer filters; for a ViT (or when ``pca`` is given) also their PCA.

    Args:
        model: A keras.Model (a zoo model or any model with a Conv2D).
        pca: Number of principal components to show; default 28 for ViT patch filters (as in
            the ViT paper) and none otherwise.
        max_filters: Show at most this many raw filters.

    Returns:
        Figure: the filter grid, or two sub-figures (filters | principal components).
    """
    kernels, layer, kind = first_layer_filters(model)
    kh, kw, cin, n = kernels.shape
    what = {"patch": "patch-embedding filters", "conv": "first-layer conv kernels",
            "dense": "first Dense layer's weights as images"}[kind]
    shown = min(n, max_filters)
    count = f"{shown} of {n}" if shown < n else f"{n}"
    head = f"{model.name}: {what}\n(layer {layer!r}, {kh}×{kw}×{cin}, {count} filters)"
    if pca is None and kind == "patch":
        pca = min(28, n, kh * kw * cin)
    if not pca:
        return plot_filter_grid(kernels, title=head, max_filters=max_filters)
    comps, ratio = patch_embedding_pca(kernels, pca)
    with theme():
        images = filter_images(kernels)[:max_filters]
        ncols = min(8, len(images))
        rows_left = int(np.ceil(len(images) / ncols))
        rows_right = int(np.ceil(pca / 7))
        height = 1.1 * max(rows_left, rows_right) + 1.3
        fig = Figure(figsize=(1.05 * ncols + 1.1 * min(7, pca) + 1.0, height), layout="constrained")
        left, right = fig.subfigures(1, 2, width_ratios=[ncols, min(7, pca)], wspace=0.04)
        left, right = _top_aligned(left, rows_left, rows_right), _top_aligned(right, rows_right, rows_left)
        _draw_grid(left, images, max_cols=8)
        left.suptitle(f"filters ({shown} of {n})", fontsize=13)
        _draw_grid(right, filter_images(np.moveaxis(comps, 0, -1)), titles=[f"{r:.0%}" for r in ratio], max_cols=7)
        right.suptitle(f"first {pca} principal components\n(share of variance above each)", fontsize=13)
        fig.suptitle(head)
    return fig


def _top_aligned(subfig, rows: int, other_rows: int):
    """The top part of ``subfig`` sized for ``rows`` grid rows when the other side has more,
    so both grids have the same cell size and start at the top."""
    if rows >= other_rows:
        return subfig
    top, _ = subfig.subfigures(2, 1, height_ratios=[rows + 0.6, other_rows - rows])
    return top
