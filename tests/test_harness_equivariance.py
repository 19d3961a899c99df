"""Feature-map equivariance: ~0 for circular stride-1 convolutions, broken by pooling off the stride grid."""
import keras
import numpy as np
import pytest
from keras import layers

from invariance.errors import SpecError
from invariance.harness import COLUMNS, cumulative_strides, equivariance_error, equivariance_layers
from invariance.models.layers import CircularPad2D


def _images(n=6, size=16, seed=0):
    return np.random.default_rng(seed).random((n, size, size, 1)).astype("float32")


@pytest.fixture(scope="module")
def circular_model():
    keras.utils.set_random_seed(0)
    inp = keras.Input((16, 16, 1))
    h = layers.Conv2D(4, 3, padding="valid", activation="relu", name="conv1")(CircularPad2D(1)(inp))
    h = layers.MaxPooling2D(2, name="pool1")(h)
    h = layers.Conv2D(4, 3, padding="valid", activation="relu", name="conv2")(CircularPad2D(1)(h))
    h = layers.GlobalAveragePooling2D()(h)
    return keras.Model(inp, layers.Dense(3)(h))


def _errors(frame):
    return {(layer, int(dx)): v for layer, dx, v in zip(frame.layer, frame.dx, frame.value)}


def test_circular_conv_is_equivariant_and_pooling_breaks_it_off_grid(circular_model):
    frame = equivariance_error(circular_model, _images())
    assert tuple(frame.columns) == COLUMNS
    assert set(frame.sweep) == {"equivariance"} and set(frame.metric) == {"equivariance_error"}
    assert (frame.angle == 0).all() and (frame.scale == 1).all() and (frame.n == 6).all()
    err = _errors(frame)
    # defaults: the stride and twice the stride, plus the odd shift 1 after striding
    assert sorted(err) == [("conv1", 1), ("conv1", 2), ("conv2", 1), ("conv2", 2), ("conv2", 4),
                           ("pool1", 1), ("pool1", 2), ("pool1", 4)]
    for key in [("conv1", 1), ("conv1", 2), ("pool1", 2), ("pool1", 4), ("conv2", 2), ("conv2", 4)]:
        assert err[key] < 1e-5, key
    assert err[("pool1", 1)] > 0.05
    assert err[("conv2", 1)] > 0.05


def test_zero_padding_breaks_equivariance_at_the_border():
    keras.utils.set_random_seed(1)
    inp = keras.Input((16, 16, 1))
    h = layers.Conv2D(4, 3, padding="same", name="conv")(inp)
    model = keras.Model(inp, layers.Dense(2)(layers.Flatten()(h)))
    err = _errors(equivariance_error(model, _images(), shifts=[1, (2, 0)]))
    assert err[("conv", 1)] > 0.01 and err[("conv", 2)] > 0.01


def test_cumulative_strides_follow_the_graph():
    inp = keras.Input((32, 32, 3))
    a = layers.Conv2D(4, 3, strides=2, padding="same", name="stem")(inp)
    b = layers.Conv2D(4, 3, padding="same", name="branch")(a)
    c = layers.Add(name="add")([a, b])  # a residual join: stride 2, not 4
    d = layers.MaxPooling2D(2, name="pool")(c)
    e = layers.AveragePooling2D(pool_size=3, strides=1, padding="same", name="avg")(d)
    model = keras.Model(inp, layers.Dense(2)(layers.GlobalAveragePooling2D()(e)))
    s = cumulative_strides(model)
    assert s["stem"] == s["branch"] == s["add"] == (2, 2)
    assert s["pool"] == s["avg"] == (4, 4)
    assert [l.name for l in equivariance_layers(model)] == ["stem", "branch", "pool", "avg"]

    seq = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, 3, strides=(1, 2), name="c"),
                            layers.MaxPooling2D(2, name="p"), layers.Flatten(), layers.Dense(2)])
    s = cumulative_strides(seq)
    assert s["c"] == (1, 2) and s["p"] == (2, 4)


def test_zoo_blurpool_is_measured():
    from invariance.models import build_model

    model = build_model({"preset": "cnn_pool", "pooling": "blur"}, (16, 16, 1), 3, seed=0)
    frame = equivariance_error(model, _images(n=2), shifts=[2])
    assert len(frame) >= 3 and frame.value.notna().all()


def test_layer_choice_and_errors(circular_model):
    frame = equivariance_error(circular_model, _images(n=2), layers=["pool1"], shifts=[(2, 0), 3])
    assert frame.layer.tolist() == ["pool1", "pool1"]
    assert frame[["dx", "dy"]].values.tolist() == [[2, 0], [3, 3]]
    with pytest.raises(SpecError, match=r"layers\[0\]: must name a layer"):
        equivariance_error(circular_model, _images(n=2), layers=["nope"])
    with pytest.raises(SpecError, match="4-D"):
        equivariance_error(circular_model, _images(n=2), layers=[circular_model.layers[-1].name])
    with pytest.raises(SpecError, match=r"shifts\[0\]"):
        equivariance_error(circular_model, _images(n=2), shifts=[1.5])
