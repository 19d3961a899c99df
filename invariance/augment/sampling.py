"""Random transform points, sampled apart from their application.

This is the ``get_random_transformation`` half of Keras' preprocessing-layer pattern:
the functions here only draw (dx, dy, angle, scale) points; :mod:`invariance.transforms`
applies them. Both twins draw each coordinate uniformly in the ranges of
:func:`point_ranges`; the numpy one feeds tests and host-side code, the Keras one runs
inside a compiled training step. Both share :func:`draw_options` and apply them the same
way: ``shift_mode: integer`` maps the same uniform draw to whole pixels, and ``p < 1``
replaces the points of the untransformed images by the identity, with one extra uniform
per image drawn after the points (so ``p = 1`` draws exactly what it always drew).
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


IDENTITY = np.array([0.0, 0.0, 0.0, 1.0])


def draw_options(ranges: Any, *, shift_mode: str | None = None, p: float | None = None) -> tuple[str, float]:
    """The (shift_mode, p) a draw uses: the arguments, else the spec's, else the defaults."""
    if isinstance(ranges, GeometricSpec):
        shift_mode = ranges.shift_mode if shift_mode is None else shift_mode
        p = ranges.p if p is None else p
    shift_mode = "continuous" if shift_mode is None else shift_mode
    p = 1.0 if p is None else float(p)
    if shift_mode not in ("continuous", "integer"):
        raise SpecError("shift_mode", "must be one of continuous, integer", shift_mode)
    if not 0.0 <= p <= 1.0:
        raise SpecError("p", "must be in [0, 1]", p)
    return shift_mode, p


def integer_shift_box(box: np.ndarray) -> np.ndarray:
    """The whole-pixel bounds (ceil(low), floor(high)) of the dx and dy rows of a box.

    Raises:
        SpecError: a shift range holds no whole pixel.
    """
    lo, hi = np.ceil(box[:2, 0] - 1e-9), np.floor(box[:2, 1] + 1e-9)
    if np.any(hi < lo):
        raise SpecError("shift", "holds no whole pixel, so shift_mode 'integer' cannot draw from it",
                        box[:2].tolist())
    return np.stack([lo, hi], axis=1)


def sample_points(rng: Any, n: int, ranges: Any, *, height: int | None = None,
                  width: int | None = None, shift_mode: str | None = None, p: float | None = None) -> np.ndarray:
    """Draws ``n`` transform points uniformly in a box.

    Args:
        rng: A ``numpy.random.Generator``, or a seed (int or sequence of ints) for one.
        n: Number of points.
        ranges: A :class:`GeometricSpec` or a (4, 2) low/high box from :func:`point_ranges`.
        height: Image height, needed when ``ranges`` is a spec with a fractional shift.
        width: Image width, likewise.
        shift_mode: ``continuous`` or ``integer`` (whole-pixel dx, dy, each integer of the
            range equally likely); default the spec's, else ``continuous``.
        p: Probability that a point is drawn at all rather than the identity (0, 0, 0, 1);
            default the spec's, else 1.

    Returns:
        float64 array of shape (n, 4): dx, dy, angle, scale.
    """
    box = _check_box(ranges, height, width)
    shift_mode, p = draw_options(ranges, shift_mode=shift_mode, p=p)
    rng = make_rng(rng)
    u = rng.random(size=(int(n), 4))
    points = box[:, 0] + u * (box[:, 1] - box[:, 0])
    if shift_mode == "integer":
        ibox = integer_shift_box(box)
        count = ibox[:, 1] - ibox[:, 0] + 1
        points[:, :2] = np.minimum(ibox[:, 0] + np.floor(u[:, :2] * count), ibox[:, 1])
    if p < 1.0:
        keep = rng.random(size=int(n)) < p
        points = np.where(keep[:, None], points, IDENTITY)
    return points


def sample_points_tensor(seed: Any, n: Any, ranges: Any, *, height: int | None = None,
                         width: int | None = None, shift_mode: str | None = None, p: float | None = None) -> Any:
    """Device twin of :func:`sample_points`, usable inside a compiled step.

    Args:
        seed: A ``keras.random.SeedGenerator`` (advanced by each call) or an int.
        n: Number of points (may be a symbolic batch size).
        ranges: A :class:`GeometricSpec` or a (4, 2) low/high box.
        height: Image height, needed for a spec with a fractional shift.
        width: Image width, likewise.
        shift_mode: As in :func:`sample_points`.
        p: As in :func:`sample_points`.

    Returns:
        float32 tensor of shape (n, 4).
    """
    import keras
    from keras import ops

    box64 = _check_box(ranges, height, width)
    shift_mode, p = draw_options(ranges, shift_mode=shift_mode, p=p)
    box = box64.astype("float32")
    u = keras.random.uniform((n, 4), dtype="float32", seed=seed)
    points = u * (box[:, 1] - box[:, 0]) + box[:, 0]
    if shift_mode == "integer":
        ibox = integer_shift_box(box64).astype("float32")
        count = ibox[:, 1] - ibox[:, 0] + 1
        shifts = ops.minimum(ibox[:, 0] + ops.floor(u[:, :2] * count), ibox[:, 1])
        points = ops.concatenate([shifts, points[:, 2:]], axis=1)
    if p < 1.0:
        keep = keras.random.uniform((n, 1), dtype="float32", seed=seed) < p
        points = ops.where(keep, points, ops.convert_to_tensor(IDENTITY.astype("float32")))
    return points


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

