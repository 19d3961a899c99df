"""The one deterministic geometric transform that augmentation and the harness share.

A transform point is ``(dx, dy, angle, scale)``:

* ``dx > 0`` moves content right and ``dy > 0`` moves it down, in pixels;
* ``angle`` is in degrees, ``> 0`` counter-clockwise on screen, about the centre
  ``c = ((W - 1) / 2, (H - 1) / 2)``;
* ``scale > 1`` enlarges the content about the same centre;
* they compose as scale, then rotate, then shift.

So a content point ``p`` (in pixel-index coordinates, x right, y down) lands at
``p' = R(angle) * scale * (p - c) + c + (dx, dy)``, with
``R(a) = [[cos a, sin a], [-sin a, cos a]]`` (counter-clockwise on a y-down screen).
This is the matrix of ``cv2.getRotationMatrix2D(c, angle, scale)`` plus the shift, and
what albumentations ``Affine(translate_px, rotate, scale)`` applies.

Images are float NHWC. Application is batched on the Keras device through
``keras.ops.image.affine_transform``, one matrix per image, so it runs unchanged on the
TensorFlow, JAX and torch backends. Everything else here is pure numpy.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from invariance.errors import SpecError, one_of

FILL_MODES = ("constant", "wrap", "reflect", "nearest")
INTERPOLATIONS = ("bilinear", "nearest")
IDENTITY = (0.0, 0.0, 0.0, 1.0)
AXES = ("dx", "dy", "angle", "scale")

# cv2 border names for each fill mode, for reference implementations and albumentations.
CV2_BORDER = {"constant": "BORDER_CONSTANT", "wrap": "BORDER_WRAP", "reflect": "BORDER_REFLECT",
              "nearest": "BORDER_REPLICATE"}


def as_points(points: Any) -> np.ndarray:
    """Validates transform points and returns them as a float64 array of shape (N, 4).

    Args:
        points: One point ``(dx, dy, angle, scale)`` or a sequence of them.

    Returns:
        float64 array of shape (N, 4), columns dx, dy, angle, scale.
    """
    arr = np.asarray(points, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise SpecError("points", "must have shape (N, 4): dx, dy, angle, scale", arr.shape)
    if not np.all(np.isfinite(arr)):
        raise SpecError("points", "must be finite", arr[~np.all(np.isfinite(arr), axis=1)][0].tolist())
    if np.any(arr[:, 3] <= 0):
        raise SpecError("scale", "must be > 0", float(arr[arr[:, 3] <= 0, 3][0]))
    return arr


def _cos_sin(angle_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Snap values that are 0 or +-1 up to rounding, so that 90/180 degree rotations
    # map pixel centres onto pixel centres exactly and bilinear sampling does not blur.
    rad = np.deg2rad(angle_deg)
    cos, sin = np.cos(rad), np.sin(rad)
    for arr in (cos, sin):
        for exact in (-1.0, 0.0, 1.0):
            arr[np.abs(arr - exact) < 1e-12] = exact
    return cos, sin


def forward_matrices(points: Any, *, height: int, width: int) -> np.ndarray:
    """Matrices that send content coordinates to their new place.

    Args:
        points: Transform points, shape (4,) or (N, 4).
        height: Image height H in pixels.
        width: Image width W in pixels.

    Returns:
        float64 array of shape (N, 3, 3); the top two rows equal the 2x3 matrix that
        ``cv2.warpAffine`` takes (``getRotationMatrix2D`` plus the shift).
    """
    p = as_points(points)
    dx, dy, angle, scale = p.T
    cos, sin = _cos_sin(angle)
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    a, b = scale * cos, scale * sin
    m = np.zeros((len(p), 3, 3))
    m[:, 0, 0], m[:, 0, 1] = a, b
    m[:, 1, 0], m[:, 1, 1] = -b, a
    m[:, 0, 2] = (1 - a) * cx - b * cy + dx
    m[:, 1, 2] = b * cx + (1 - a) * cy + dy
    m[:, 2, 2] = 1.0
    return m


def keras_transforms(points: Any, *, height: int, width: int) -> np.ndarray:
    """The ``transform`` argument of ``keras.ops.image.affine_transform`` for each point.

    Keras maps each *output* pixel to the *input* location it samples from, so this is
    the inverse of :func:`forward_matrices`, flattened as ``[a0, a1, a2, b0, b1, b2, 0, 0]``.

    Returns:
        float32 array of shape (N, 8).
    """
    inv = np.linalg.inv(forward_matrices(points, height=height, width=width))
    # Inverting exact integer shifts can leave 1e-16 noise; snapping keeps them exact.
    inv = np.where(np.abs(inv - np.round(inv)) < 1e-9, np.round(inv), inv)
    out = np.zeros((len(inv), 8), dtype=np.float32)
    out[:, :6] = inv[:, :2, :].reshape(len(inv), 6)
    return out


def check_fill(fill: str, *, field: str = "fill") -> str:
    """Validates a fill mode name."""
    return one_of(field, fill, FILL_MODES)


def check_interpolation(interpolation: str, *, field: str = "interpolation") -> str:
    """Validates an interpolation name."""
    return one_of(field, interpolation, INTERPOLATIONS)


def apply(images: Any, points: Any, *, fill: str = "constant", interpolation: str = "bilinear") -> Any:
    """Applies one transform point per image, batched on the Keras device.

    Args:
        images: Float tensor or array of shape (N, H, W, C).
        points: Shape (4,) (the same point for every image) or (N, 4).
        fill: ``constant`` (zeros), ``wrap`` (circular), ``reflect`` or ``nearest``.
        interpolation: ``bilinear`` or ``nearest``.

    Returns:
        A backend tensor of shape (N, H, W, C), the same dtype as ``images``.
    """
    from keras import ops

    check_fill(fill)
    check_interpolation(interpolation)
    shape = tuple(images.shape)
    if len(shape) != 4:
        raise SpecError("images", "must have shape (N, H, W, C)", shape)
    p = as_points(points)
    if len(p) == 1 and shape[0] != 1:
        p = np.repeat(p, shape[0], axis=0)
    if len(p) != shape[0]:
        raise SpecError("points", f"must hold one point per image ({shape[0]})", len(p))
    return transform_tensor(images, keras_transforms(p, height=shape[1], width=shape[2]),
                            fill=fill, interpolation=interpolation)


def transform_tensor(images: Any, transforms: Any, *, fill: str = "constant",
                     interpolation: str = "bilinear") -> Any:
    """Applies precomputed Keras transforms; usable inside a compiled training step.

    Args:
        images: Float tensor (N, H, W, C).
        transforms: Tensor (N, 8) from :func:`keras_transforms` (or its tensor twin).
        fill: A name from ``FILL_MODES``.
        interpolation: A name from ``INTERPOLATIONS``.

    Returns:
        A tensor of shape (N, H, W, C).
    """
    from keras import ops

    transforms = ops.convert_to_tensor(transforms, dtype="float32")
    if fill == "wrap":
        return _sample_wrapped(images, transforms, interpolation=interpolation)
    return ops.image.affine_transform(images, transforms, interpolation=interpolation, fill_mode=fill,
                                      fill_value=0.0, data_format="channels_last")


def _sample_wrapped(images: Any, transforms: Any, *, interpolation: str) -> Any:
    """Circular (torus) resampling with gathers.

    Keras' fused ``affine_transform`` wraps coordinates but fills the neighbour across the
    seam with zeros, so a half-pixel circular shift darkens one column. Sampling with
    indices taken modulo the size makes ``wrap`` truly circular for any transform.
    """
    from keras import ops

    n, h, w, c = images.shape
    ys, xs = np.mgrid[0:h, 0:w].astype("float32")
    xs = ops.convert_to_tensor(xs.reshape(1, -1))
    ys = ops.convert_to_tensor(ys.reshape(1, -1))
    t = transforms
    src_x = t[:, 0:1] * xs + t[:, 1:2] * ys + t[:, 2:3]
    src_y = t[:, 3:4] * xs + t[:, 4:5] * ys + t[:, 5:6]
    flat = ops.reshape(images, (-1, h * w, c))

    def gather(ix, iy):
        idx = ops.mod(iy, h) * w + ops.mod(ix, w)
        return ops.take_along_axis(flat, ops.expand_dims(ops.cast(idx, "int32"), -1), axis=1)

    if interpolation == "nearest":
        # Round half away from the sampled point the way the fused op does (floor(x + 0.5)).
        out = gather(ops.floor(src_x + 0.5), ops.floor(src_y + 0.5))
    else:
        x0, y0 = ops.floor(src_x), ops.floor(src_y)
        fx, fy = ops.expand_dims(src_x - x0, -1), ops.expand_dims(src_y - y0, -1)
        out = ((1 - fx) * (1 - fy) * gather(x0, y0) + fx * (1 - fy) * gather(x0 + 1, y0)
               + (1 - fx) * fy * gather(x0, y0 + 1) + fx * fy * gather(x0 + 1, y0 + 1))
    return ops.cast(ops.reshape(out, (-1, h, w, c)), images.dtype)


def keras_transforms_tensor(points: Any, *, height: int, width: int) -> Any:
    """Backend-tensor twin of :func:`keras_transforms`, for points sampled on the device.

    Args:
        points: Tensor of shape (N, 4): dx, dy, angle (degrees), scale.
        height: Image height H.
        width: Image width W.

    Returns:
        float32 tensor of shape (N, 8), equal to ``keras_transforms`` up to float32 rounding.
    """
    from keras import ops

    points = ops.cast(points, "float32")
    dx, dy, angle, scale = (points[:, i] for i in range(4))
    rad = angle * (np.pi / 180.0)
    cos, sin = ops.cos(rad), ops.sin(rad)
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    # Inverse of [[s c, s s], [-s s, s c]] is (1/s) [[c, -s], [s, c]]; the offset follows.
    inv_a, inv_b = cos / scale, sin / scale
    tx = (1 - inv_a) * cx + inv_b * cy
    ty = -inv_b * cx + (1 - inv_a) * cy
    a2 = tx - (inv_a * dx - inv_b * dy)
    b2 = ty - (inv_b * dx + inv_a * dy)
    zeros = ops.zeros_like(dx)
    return ops.stack([inv_a, -inv_b, a2, inv_b, inv_a, b2, zeros, zeros], axis=1)
