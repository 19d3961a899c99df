"""What pixel range a model expects, and the warning for a clean accuracy at chance.

The harness's images are float32 in [0, 1]. Many Keras models, keras.io's image-classification
examples among them, rescale their own input instead: their first layer is
``Rescaling(1/255)`` (or a ``Normalization`` adapted on raw 0..255 pixels), so they expect
0..255. Fed [0, 1], such a model sees an almost black image, predicts one class for everything,
and every consistency reads a perfect 1.0: a broken measurement shown as perfect invariance.

:func:`detect_input_range` reads the model's leading layers (through an augmentation block,
whose random layers are the identity at inference) and :func:`resolve_input_range` combines
it with the user's explicit choice. :func:`chance_warning` is the last line of defence: a
clean accuracy within :data:`CHANCE_MARGIN` of chance means the numbers measure nothing.
Keras-free: it only reads layer attributes.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from invariance.errors import SpecError

INPUT_RANGES = {"0-1": 1.0, "0-255": 255.0}
"""Input range name -> the factor the harness's [0, 1] images are multiplied by."""
CHANCE_MARGIN = 0.02
"""A clean accuracy within this of ``1 / num_classes`` gets :func:`chance_warning`."""

# Layers that pass images through unchanged at inference (augmentation is active in training only).
_TRANSPARENT = ("InputLayer", "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomCrop",
                "RandomContrast", "RandomBrightness", "RandomShear", "RandomAffine", "Dropout", "GaussianNoise",
                "GaussianDropout", "Activation")
# A Rescaling with a factor below this maps raw pixels down (1/255, 1/127.5): the model expects 0..255.
_SMALL_SCALE = 0.1
# A Normalization whose mean exceeds this was adapted on 0..255 pixels ([0, 1] data has mean <= 1).
_LARGE_MEAN = 1.5


def check_input_range(value: Any, *, field: str = "input_range") -> str | None:
    """``None`` (detect), ``"0-1"`` or ``"0-255"``; anything else raises SpecError."""
    if value is None or value in INPUT_RANGES:
        return value
    raise SpecError(field, "must be one of " + ", ".join(repr(r) for r in INPUT_RANGES) + " (or None: detect)", value)


def detect_input_range(model: Any) -> tuple[str, str]:
    """(``"0-1"`` or ``"0-255"``, why) from the model's first effective layer.

    ``"0-255"`` when that layer is a ``Rescaling`` by less than 0.1 (e.g. ``1/255``) or a
    ``Normalization`` with a mean above 1.5 (adapted on 0..255 pixels); else ``"0-1"``, the
    toolkit's convention. Random augmentation layers, dropout and nested models (an
    augmentation ``Sequential``) in front are looked through.
    """
    for layer in _leading_layers(model):
        kind = type(layer).__name__
        if kind == "Rescaling":
            scale = _max_abs(getattr(layer, "scale", 1.0))
            if scale is not None and scale < _SMALL_SCALE:
                return "0-255", f"its first layer {layer.name!r} is Rescaling(scale={scale:.6g})"
            return "0-1", f"its first layer {layer.name!r} is Rescaling(scale={scale:.6g})"
        if kind == "Normalization":
            mean = _max_abs(getattr(layer, "mean", None))
            if mean is not None and mean > _LARGE_MEAN:
                return "0-255", f"its first layer {layer.name!r} is a Normalization with mean {mean:.4g}"
            return "0-1", f"its first layer {layer.name!r} is a Normalization with mean {mean}"
        return "0-1", "it does not rescale its own input (the toolkit's convention: [0, 1])"
    return "0-1", "it does not rescale its own input (the toolkit's convention: [0, 1])"


def resolve_input_range(model: Any, input_range: str | None = None) -> tuple[str, str]:
    """(the range to feed, why): ``input_range`` when given, else :func:`detect_input_range`."""
    input_range = check_input_range(input_range)
    if input_range is not None:
        return input_range, "given"
    found, why = detect_input_range(model)
    return found, f"detected: {why}"


def chance_warning(accuracy: float, num_classes: int | None, *, input_range: str) -> str | None:
    """A warning when ``accuracy`` is within :data:`CHANCE_MARGIN` of chance, else None.

    Args:
        accuracy: The clean (untransformed) accuracy.
        num_classes: The model's number of outputs (chance is ``1 / num_classes``).
        input_range: The range the images were fed in.
    """
    if not num_classes or num_classes < 2 or not np.isfinite(accuracy):
        return None
    chance = 1.0 / num_classes
    if abs(accuracy - chance) > CHANCE_MARGIN + 1e-12:
        return None
    other = "0-1" if input_range == "0-255" else "0-255"
    return (f"clean accuracy {accuracy:.3f} is within {CHANCE_MARGIN * 100:.0f} points of chance "
            f"({chance:.3f} for {num_classes} classes): the invariance numbers (a consistency near 1.0 "
            f"included) most likely measure a broken input, not the model. Likely causes: the input range "
            f"(the images were fed as {input_range}; if the model expects {other}, pass --input-range {other}, "
            f"or input_range='{other}' in Python), the "
            f"channel order (RGB vs BGR, or channels-first), or the wrong dataset (labels that do not match "
            f"the model's classes).")


def _leading_layers(model: Any) -> Iterator[Any]:
    """The model's layers in order, nested models expanded, transparent layers skipped."""
    for layer in getattr(model, "layers", None) or []:
        if getattr(layer, "layers", None) is not None:  # a nested model (e.g. an augmentation block)
            inner = list(_leading_layers(layer))
            if inner:
                yield from inner
                return
            continue  # a nested block of augmentation layers only
        if type(layer).__name__ in _TRANSPARENT:
            continue
        yield layer
        return


def _max_abs(value: Any) -> float | None:
    if value is None:
        return None
    try:
        arr = np.abs(np.asarray(getattr(value, "numpy", lambda: value)(), dtype=np.float64))
    except (TypeError, ValueError):
        return None
    return float(arr.max()) if arr.size else None
