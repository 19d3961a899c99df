"""The two execution paths apply the shared transform: proven against cv2 and each other."""
import cv2
import keras
import numpy as np
import pytest

from invariance import transforms as T
from invariance.augment import (
    AlbumentationsBatches,
    RandomAffine,
    make_compose,
    resolve_augmentation,
    with_augmentation,
)
from invariance.errors import InvarianceError

CV2_BORDER = {"constant": cv2.BORDER_CONSTANT, "wrap": cv2.BORDER_WRAP, "reflect": cv2.BORDER_REFLECT,
              "nearest": cv2.BORDER_REPLICATE}


def _point_spec(point, **kw):
    """A spec whose ranges are degenerate at ``point``, so both paths apply exactly it."""
    dx, dy, angle, scale = point
    assert dx == dy or kw.get("_separate")  # one shift range serves dx and dy
    return resolve_augmentation({"shift": [dx, dx], "rotate": [angle, angle], "scale": [scale, scale], **kw})


def _device(images, point, **kw):
    dx, dy, angle, scale = point
    layer = RandomAffine((dx, dx), (dy, dy), (angle, angle), (scale, scale), seed=0, **kw)
    return keras.ops.convert_to_numpy(layer(images.astype("float32"), training=True))


def _albu(images_u8, spec):
    compose = make_compose(spec, seed=0)
    return np.stack([compose(image=im)["image"].reshape(im.shape) for im in images_u8])


def _cv2(img, point, fill="constant"):
    m = T.forward_matrices(point, height=img.shape[0], width=img.shape[1])[0, :2]
    return cv2.warpAffine(img, m, img.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=CV2_BORDER[fill],
                          borderValue=0)


POINTS = [(2, 2, 17, 1.0), (0, 0, 30, 0.8), (-3, -3, -45, 1.25), (1, 1, 0, 1.0), (0, 0, 123, 1.1)]


@pytest.mark.parametrize("fill", T.FILL_MODES)
@pytest.mark.parametrize("point", POINTS)
def test_device_albumentations_and_cv2_agree(point, fill):
    rng = np.random.default_rng(0)
    img_u8 = (rng.random((28, 28, 1)) * 255).astype(np.uint8)
    img = img_u8.astype("float32") / 255
    ref = _cv2(img[:, :, 0], point, fill)
    dev = _device(img[None], point, fill=fill)[0, :, :, 0]
    alb = _albu(img_u8[None], _point_spec(point, fill=fill))[0, :, :, 0] / 255
    # cv2 quantises bilinear weights to 1/32 and albumentations works in uint8 (1/255);
    # a 2-px margin keeps edge handling of reflect/replicate out of the comparison.
    inner = (slice(None), slice(None)) if fill == "wrap" else (slice(2, -2), slice(2, -2))
    np.testing.assert_allclose(dev[inner], ref[inner], atol=0.04)
    np.testing.assert_allclose(alb[inner], ref[inner], atol=0.045)
    np.testing.assert_allclose(alb[inner], dev[inner], atol=0.045)


def test_fractional_shift_device_matches_cv2():
    img = np.random.default_rng(1).random((28, 28)).astype("float32")
    point = (1.5, -0.75, 10, 1.05)
    np.testing.assert_allclose(_device(img[None, :, :, None], point)[0, 2:-2, 2:-2, 0],
                               _cv2(img, point)[2:-2, 2:-2], atol=0.04)


# one lit pixel on an odd, non-square image: (point, source (x, y), destination (x, y))
SIGNS = [
    ((1, 1, 0, 1), (4, 3), (5, 4)),     # dx > 0 right, dy > 0 down
    ((-2, -2, 0, 1), (4, 3), (2, 1)),
    ((0, 0, 90, 1), (6, 3), (4, 1)),    # +90 counter-clockwise about ((W-1)/2, (H-1)/2) = (4, 3)
    ((0, 0, -90, 1), (6, 3), (4, 5)),
    ((0, 0, 0, 2), (5, 3), (6, 3)),     # scale about the centre
    ((1, 1, 90, 1), (6, 3), (5, 2)),    # rotate, then shift
]


@pytest.mark.parametrize("point, src, dst", SIGNS)
def test_one_pixel_signs_on_both_paths(point, src, dst):
    img = np.zeros((7, 9, 1), np.uint8)
    img[src[1], src[0]] = 255
    dev = _device(img[None] / 255.0, point)[0, :, :, 0]
    alb = _albu(img[None], _point_spec(point))[0, :, :, 0]
    for out in (dev, alb):
        assert np.unravel_index(out.argmax(), out.shape)[::-1] == dst


def test_layer_is_identity_at_inference_and_random_in_training():
    layer = RandomAffine((-3, 3), (-3, 3), (-20, 20), (0.9, 1.1), seed=1)
    x = np.random.default_rng(0).random((4, 12, 12, 1)).astype("float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x)), x)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x)
    a = keras.ops.convert_to_numpy(layer(x, training=True))
    b = keras.ops.convert_to_numpy(layer(x, training=True))
    assert not np.allclose(a, x) and not np.allclose(a, b)  # each call draws new points
    layer.reseed(5)
    c = keras.ops.convert_to_numpy(layer(x, training=True))
    layer.reseed(5)
    np.testing.assert_array_equal(c, keras.ops.convert_to_numpy(layer(x, training=True)))


def test_layer_saves_and_loads_with_safe_mode(tmp_path):
    spec = resolve_augmentation({"shift": 0.1, "rotate": 10, "fill": "reflect"}).geometric
    layer = RandomAffine.from_spec(spec, height=20, width=30, seed=3)
    assert layer.get_config()["dx"] == [-3.0, 3.0] and layer.get_config()["dy"] == [-2.0, 2.0]
    model = keras.Sequential([keras.Input((20, 30, 1)), layer, keras.layers.Flatten(), keras.layers.Dense(2)])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert loaded.layers[0].get_config() == layer.get_config()


def test_integer_shift_layer_moves_whole_pixels_and_sometimes_not_at_all(tmp_path):
    # Zhang's random crops: whole-pixel shifts, each image moved with probability p
    spec = resolve_augmentation({"shift": 2, "shift_mode": "integer", "p": 0.5}).geometric
    layer = RandomAffine.from_spec(spec, height=9, width=9, seed=0)
    x = np.zeros((400, 9, 9, 1), "float32")
    x[:, 4, 4] = 1.0
    out = keras.ops.convert_to_numpy(layer(x, training=True))
    assert np.all(np.isclose(out, 0) | np.isclose(out, 1))  # no bilinear smear: whole pixels only
    rows, cols = np.nonzero(out[..., 0].reshape(400, -1))[1] // 9, np.nonzero(out[..., 0].reshape(400, -1))[1] % 9
    assert set(cols - 4) == set(range(-2, 3)) and set(rows - 4) == set(range(-2, 3))
    assert 0.45 < np.mean((rows == 4) & (cols == 4)) < 0.62  # 1/2 kept + 1/2 * 1/25 drawn (0, 0)
    model = keras.Sequential([keras.Input((9, 9, 1)), layer, keras.layers.Flatten(), keras.layers.Dense(2)])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True).layers[0]
    assert loaded.get_config() == layer.get_config() and loaded.shift_mode == "integer" and loaded.p == 0.5


def test_training_wrapper_shares_weights_and_trains():
    keras.utils.set_random_seed(0)
    inner = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(3, name="logits")])
    wrapper = with_augmentation(inner, RandomAffine((-1, 1), (-1, 1), seed=0))
    wrapper.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = inner.get_weights()[0].copy()
    x = np.random.default_rng(0).random((16, 8, 8, 1)).astype("float32")
    wrapper.fit(x, np.arange(16) % 3, epochs=1, batch_size=8, verbose=0)
    assert not np.array_equal(before, inner.get_weights()[0])
    assert not any(isinstance(layer, RandomAffine) for layer in inner.layers)


def _batches(workers, epoch=0, seed=0):
    rng = np.random.default_rng(0)
    x = (rng.random((40, 10, 10, 1)) * 255).astype(np.uint8)
    y = np.arange(40) % 4
    ds = AlbumentationsBatches(x, y, spec={"shift": 2, "rotate": 30}, batch_size=16, seed=seed, epoch=epoch,
                               order=np.random.default_rng(1).permutation(40), workers=workers)
    return ds, x, y


def test_albumentations_batches_are_deterministic_and_worker_independent():
    ds0, x, y = _batches(0)
    first = [ds0[i] for i in range(len(ds0))]
    assert len(ds0) == 3 and first[-1][0].shape == (8, 10, 10, 1)
    assert first[0][0].dtype == np.float32 and 0 <= first[0][0].min() and first[0][0].max() <= 1
    # the same batch again, in another order and from a fresh dataset with threads: identical
    ds2, _, _ = _batches(2)
    for i in (2, 0, 1):
        np.testing.assert_array_equal(ds2[i][0], first[i][0])
        np.testing.assert_array_equal(ds2[i][1], first[i][1])
    # another epoch or seed draws other transforms
    assert not np.array_equal(_batches(0, epoch=1)[0][0][0], first[0][0])
    assert not np.array_equal(_batches(0, seed=1)[0][0][0], first[0][0])


def test_albumentations_batches_through_fit_with_workers():
    ds, _, _ = _batches(2)
    model = keras.Sequential([keras.Input((10, 10, 1)), keras.layers.Flatten(), keras.layers.Dense(4)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_shape_changing_transform_is_a_clear_error():
    x = np.zeros((4, 10, 10, 1), np.uint8)
    ds = AlbumentationsBatches(x, np.zeros(4, int), spec={"albumentations": [{"CenterCrop": {"height": 6, "width": 6}}]},
                               batch_size=2, seed=0, workers=0)
    with pytest.raises(InvarianceError, match="must keep the image shape"):
        ds[0]


def test_user_transform_list_runs():
    x = (np.random.default_rng(0).random((6, 10, 10, 1)) * 255).astype(np.uint8)
    ds = AlbumentationsBatches(x, np.zeros(6, int), batch_size=3, seed=0, workers=0,
                               spec={"albumentations": [{"HorizontalFlip": {"p": 1.0}}]})
    np.testing.assert_array_equal(ds[0][0], x[:3, :, ::-1].astype("float32") / 255)
