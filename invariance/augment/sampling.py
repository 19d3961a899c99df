"""Random transform points, sampled apart from their application.

This is the ``get_random_transformation`` half of Keras' preprocessing-layer pattern:
the functions here only draw (dx, dy, angle, scale) points; :mod:`invariance.transforms`
applies them. Both twins draw each coordinate uniformly in the ranges of
:func:`point_ranges`; the numpy one feeds tests and host-side code, the Keras one runs
inside a compiled training step.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from invariance.augment.spec import GeometricSpec
from invariance.errors import SpecError
from invariance.seeding import make_rng


def point_ranges(spec: GeometricSpec, *, height: int, width: int) -> np.ndarray:
    """The sampling box of a geometric spec in absolute units.

    Args:
        spec: The ranges (a fractional shift is resolved against the image size).
        height: Image height H in pixels.
        width: Image width W in pixels.

    Returns:
        float64 array of shape (4, 2): rows dx, dy (px), angle (degrees), scale (x);
        columns low, high.
    """
    lo, hi = spec.shift
    if spec.shift_is_fraction:
        dx, dy = (lo * width, hi * width), (lo * height, hi * height)
    else:
        dx = dy = (lo, hi)
    return np.array([dx, dy, spec.rotate, spec.scale], dtype=np.float64)


def sample_points(rng: Any, n: int, ranges: Any, *, height: int | None = None,
                  width: int | None = None) -> np.ndarray:
    """Draws ``n`` transform points uniformly in a box.

    Args:
        rng: A ``numpy.random.Generator``, or a seed (int or sequence of ints) for one.
        n: Number of points.
        ranges: A :class:`GeometricSpec` or a (4, 2) low/high box from :func:`point_ranges`.
        height: Image height, needed when ``ranges`` is a spec with a fractional shift.
        width: Image width, likewise.

    Returns:
        float64 array of shape (n, 4): dx, dy, angle, scale.
    """
    box = _check_box(ranges, height, width)
    return make_rng(rng).uniform(box[:, 0], box[:, 1], size=(int(n), 4))


def sample_points_tensor(seed: Any, n: Any, ranges: Any, *, height: int | None = None,
                         width: int | None = None) -> Any:
    """Device twin of :func:`sample_points`, usable inside a compiled step.

    Args:
        seed: A ``keras.random.SeedGenerator`` (advanced by each call) or an int.
        n: Number of points (may be a symbolic batch size).
        ranges: A :class:`GeometricSpec` or a (4, 2) low/high box.
        height: Image height, needed for a spec with a fractional shift.
        width: Image width, likewise.

    Returns:
        float32 tensor of shape (n, 4).
    """
    import keras

    box = _check_box(ranges, height, width).astype("float32")
    u = keras.random.uniform((n, 4), dtype="float32", seed=seed)
    return u * (box[:, 1] - box[:, 0]) + box[:, 0]


def _check_box(ranges: Any, height: int | None, width: int | None) -> np.ndarray:
    if isinstance(ranges, GeometricSpec):
        if ranges.shift_is_fraction and (height is None or width is None):
            raise SpecError("shift", "is a fraction of the image size, so height and width are needed",
                            list(ranges.shift))
        return point_ranges(ranges, height=height or 1, width=width or 1)
    box = np.asarray(ranges, dtype=np.float64)
    if box.shape != (4, 2) or np.any(box[:, 0] > box[:, 1]):
        raise SpecError("ranges", "must be a (4, 2) array of [low, high] rows for dx, dy, angle, scale",
                        box.tolist())
    return box

