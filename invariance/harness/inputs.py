"""What the harness checks before it measures: the images, the labels, and that the model fits them.

:func:`prepare_inputs` turns user arrays into float32 NHWC images in [0, 1] (uint8 through
:func:`invariance.data.to_float`) and int64 labels; :func:`check_model_fits` compares a
model's input and output shapes with the data; :func:`evaluation_set` picks the fixed,
class-balanced evaluation images of a dataset.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from invariance.data import to_float
from invariance.errors import InvarianceError, SpecError, in_range


def prepare_inputs(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Checks images and labels; returns float32 NHWC images in [0, 1] and int64 labels.

    Raises:
        SpecError: On a wrong rank, length mismatch, non-integer labels or float pixels
            outside [0, 1].
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 4:
        raise SpecError("x", "must be images of shape (N, H, W, C)", x.shape)
    if len(x) == 0:
        raise SpecError("x", "must hold at least one image", x.shape)
    if y.shape != (len(x),):
        raise SpecError("y", f"must be integer labels of shape ({len(x)},)", y.shape)
    if not np.issubdtype(y.dtype, np.integer):
        if np.issubdtype(y.dtype, np.floating) and np.all(np.mod(y, 1) == 0):
            y = y.astype(np.int64)
        else:
            raise SpecError("y", "must be integer labels", y.dtype)
    if np.any(y < 0):
        raise SpecError("y", "labels must be >= 0", int(y.min()))
    if x.dtype == np.uint8:
        x = to_float(x)
    elif np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.float32, copy=False)
        lo, hi = float(x.min()), float(x.max())
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise SpecError("x", "float images must be in [0, 1] (uint8 images are divided by 255)",
                            f"values in [{lo:g}, {hi:g}]")
    else:
        raise SpecError("x", "must be float images in [0, 1] or uint8", x.dtype)
    return np.ascontiguousarray(x), y.astype(np.int64)


def check_model_fits(model: Any, image_shape: tuple, labels: np.ndarray | None = None, *,
                     num_classes: int | None = None, what: str = "the images") -> None:
    """Raises InvarianceError, naming both shapes, when the model cannot take these images or labels.

    Args:
        model: A Keras model.
        image_shape: (H, W, C) of the images.
        labels: Labels to check against the model's output size (optional).
        num_classes: The dataset's class count, which must equal the output size (optional).
        what: How to call the images in the message (e.g. ``"dataset fashion_mnist"``).
    """
    # Here, not at the top: the evaluation set (and so a study's --dry-run) needs no keras.
    from invariance.harness.inference import model_input_shape, model_num_classes

    expected = model_input_shape(model)
    image_shape = tuple(int(d) for d in image_shape)
    if expected is not None:
        fits = len(expected) == len(image_shape) and all(e is None or e == d for e, d in zip(expected, image_shape))
        if not fits:
            raise InvarianceError(f"the model takes images of shape {_shape(expected)} but {what} have shape "
                                  f"{_shape(image_shape)}; use a model built for this input (or the --canvas it "
                                  f"was trained with)")
    outputs = model_num_classes(model)
    if outputs is None:
        return
    if num_classes is not None and outputs != num_classes:
        raise InvarianceError(f"the model has {outputs} outputs but {what} have {num_classes} classes")
    if labels is not None and len(labels) and int(labels.max()) >= outputs:
        raise InvarianceError(f"the model has {outputs} outputs but the labels go up to {int(labels.max())}")


def evaluation_set(dataset: Any, samples: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """The evaluation images: the first ``samples`` test images in a fixed stratified order.

    The order is ``invariance.data.subsets.stratified_order(y_test, seed=0)``, so any prefix
    is as class-balanced as possible and the same ``samples`` always gives the same images.
    ``samples=None`` (or >= the test size) takes all test images, in the same order.

    Args:
        dataset: An ``invariance.data.Dataset``.
        samples: Number of images, or None for all.

    Returns:
        (x float32 (S, H, W, C) in [0, 1], y int64 (S,), indices into the test split int64 (S,),
        a sentence saying which images these are).
    """
    from invariance.data.subsets import stratified_order

    n_test = len(dataset.y_test)
    if samples is not None:
        _check_int("samples", samples, 1)
    order = np.asarray(stratified_order(dataset.y_test, seed=0), dtype=np.int64)
    if samples is None or samples >= n_test:
        indices = order
        description = f"all {n_test} test images of {dataset.name} (in stratified order, seed 0)"
    else:
        indices = order[:samples]
        description = (f"the first {samples} of {n_test} test images of {dataset.name} "
                       f"in stratified order (seed 0)")
    x = np.asarray(to_float(dataset.x_test[indices]), dtype=np.float32)
    return x, np.asarray(dataset.y_test[indices], dtype=np.int64), indices, description


def _shape(shape: tuple) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"


def _check_int(field: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise SpecError(field, "must be an integer", value)
    return in_range(field, int(value), low)
