"""The shared transform convention, proven against cv2, albumentations and one-pixel images."""
import cv2
import numpy as np
import pytest

import albumentations as A
from invariance import transforms as T
from invariance.errors import SpecError

H, W = 7, 9  # odd and unequal, so a wrong centre or swapped axis shows
CX, CY = (W - 1) / 2, (H - 1) / 2


def _apply(img, point, **kw):
    out = T.apply(img[None, :, :, None].astype("float32"), point, **kw)
    return np.asarray(__import__("keras").ops.convert_to_numpy(out))[0, :, :, 0]


def _dot(x, y):
    img = np.zeros((H, W), np.float32)
    img[y, x] = 1.0
    return img


def _where(img):
    ys, xs = np.nonzero(img > 0.5)
    return list(zip(xs.tolist(), ys.tolist()))


@pytest.mark.parametrize("point, src, dst", [
    ((1, 0, 0, 1), (4, 3), (5, 3)),     # dx > 0 moves right
    ((0, 2, 0, 1), (4, 3), (4, 5)),     # dy > 0 moves down
    ((0, 0, 90, 1), (6, 3), (4, 1)),    # +90 is counter-clockwise: right of centre goes up
    ((0, 0, -90, 1), (6, 3), (4, 5)),
    ((0, 0, 180, 1), (6, 3), (2, 3)),
    ((0, 0, 0, 2), (5, 3), (6, 3)),     # scale 2 about the centre doubles the offset
    ((1, 0, 90, 1), (6, 3), (5, 1)),    # rotate first, then shift
    ((0, 0, 90, 2), (5, 3), (4, 1)),    # scale and rotate compose about one centre
])
def test_one_pixel_signs_and_centre(point, src, dst):
    out = _apply(_dot(*src), point)
    ys, xs = np.mgrid[0:H, 0:W]
    centroid = ((out * xs).sum() / out.sum(), (out * ys).sum() / out.sum())
    assert centroid == pytest.approx(dst, abs=1e-5)
    assert np.unravel_index(out.argmax(), out.shape)[::-1] == dst


def test_centre_is_fixed_by_rotation_and_scale():
    img = _dot(int(CX), int(CY))
    for point in [(0, 0, 37, 1), (0, 0, 0, 1.7), (0, 0, -123, 0.6)]:
        out = _apply(img, point)
        assert out[int(CY), int(CX)] == pytest.approx(out.max())


def test_integer_shift_is_exact_not_blurred():
    rng = np.random.default_rng(0)
    img = rng.random((H, W)).astype("float32")
    out = _apply(img, (2, -1, 0, 1))
    expected = np.zeros_like(img)
    expected[0:H - 1, 2:] = img[1:, :W - 2]
    np.testing.assert_array_equal(out, expected)


def test_wrap_fill_is_a_circular_shift():
    rng = np.random.default_rng(1)
    img = rng.random((H, W)).astype("float32")
    out = _apply(img, (3, -2, 0, 1), fill="wrap")
    np.testing.assert_array_equal(out, np.roll(img, (-2, 3), axis=(0, 1)))


@pytest.mark.parametrize("k", [1, 2, 3])
def test_quarter_turns_are_exact_permutations(k):
    rng = np.random.default_rng(2)
    img = rng.random((9, 9)).astype("float32")
    out = T.apply(img[None, :, :, None], (0, 0, 90 * k, 1))
    out = np.asarray(__import__("keras").ops.convert_to_numpy(out))[0, :, :, 0]
    np.testing.assert_array_equal(out, np.rot90(img, k))  # np.rot90 turns counter-clockwise


POINTS = [(1.5, -2.25, 17, 1.0), (0, 0, 30, 0.8), (-3, 2, -45, 1.25), (2, 1, 0, 1), (0.3, 0.7, 123, 1.1)]
FILLS = {"constant": cv2.BORDER_CONSTANT, "wrap": cv2.BORDER_WRAP, "reflect": cv2.BORDER_REFLECT,
         "nearest": cv2.BORDER_REPLICATE}


def test_every_fill_mode_has_a_cv2_entry():
    assert set(FILLS) == set(T.FILL_MODES)


@pytest.mark.parametrize("fill", T.FILL_MODES)
@pytest.mark.parametrize("point", POINTS)
def test_matches_cv2_warp_affine(point, fill):
    rng = np.random.default_rng(3)
    img = rng.random((28, 28)).astype("float32")
    m = T.forward_matrices(point, height=28, width=28)[0, :2]
    ref = cv2.warpAffine(img, m, (28, 28), flags=cv2.INTER_LINEAR, borderMode=FILLS[fill], borderValue=0)
    out = _apply(img, point, fill=fill)
    # Inside the frame both sample the same bilinear weights; cv2 quantises weights to
    # 1/32, which is the only difference.
    inner = (slice(None), slice(None)) if fill == "wrap" else (slice(2, -2), slice(2, -2))
    np.testing.assert_allclose(out[inner], ref[inner], atol=0.04)


# albumentations rounds translations to whole pixels, so fractional shifts are checked
# against cv2 only (above).
ALBU_POINTS = [(1, -2, 17, 1.0), (0, 0, 30, 0.8), (-3, 2, -45, 1.25), (2, 1, 0, 1), (0, 1, 123, 1.1)]


@pytest.mark.parametrize("point", ALBU_POINTS)
def test_matches_albumentations_affine(point):
    dx, dy, angle, scale = point
    rng = np.random.default_rng(4)
    img = rng.random((28, 28)).astype("float32")
    # translate_percent takes fractional pixels too; albumentations multiplies it by the size.
    aug = A.Affine(translate_percent={"x": (dx / 28, dx / 28), "y": (dy / 28, dy / 28)},
                   rotate=(angle, angle), scale=(scale, scale), p=1.0,
                   interpolation=cv2.INTER_LINEAR, border_mode=cv2.BORDER_CONSTANT, fill=0)
    ref = aug(image=img)["image"]
    out = _apply(img, point)
    np.testing.assert_allclose(out[2:-2, 2:-2], ref[2:-2, 2:-2], atol=0.04)


def test_device_matrix_equals_numpy_matrix():
    import keras

    pts = np.array(POINTS, dtype="float32")
    a = T.keras_transforms(pts, height=28, width=32)
    b = keras.ops.convert_to_numpy(T.keras_transforms_tensor(pts, height=28, width=32))
    np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("kwargs, field", [
    ({"fill": "zero"}, "fill"),
    ({"interpolation": "cubic"}, "interpolation"),
])
def test_bad_options_name_field_and_value(kwargs, field):
    with pytest.raises(SpecError) as err:
        _apply(_dot(1, 1), T.IDENTITY, **kwargs)
    assert err.value.field == field and repr(list(kwargs.values())[0]) in str(err.value)


def test_bad_scale_is_rejected():
    with pytest.raises(SpecError, match="scale: must be > 0; received 0.0"):
        T.as_points((0, 0, 0, 0))
