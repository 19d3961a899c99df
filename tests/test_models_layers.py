"""The zoo's custom layers: known answers on tiny inputs, shapes, and serialization."""
from __future__ import annotations

import keras
import numpy as np
import pytest

from invariance.models import build_model
from invariance.models.layers import (CUSTOM_LAYERS, BlurPool2D, CircularPad2D, ClassToken, PositionEmbedding,
                                      TokenPooling, binomial_filter)


def _np(x):
    return keras.ops.convert_to_numpy(x)


def test_binomial_filters_are_zhangs():
    np.testing.assert_allclose(binomial_filter(3), np.outer([1, 2, 1], [1, 2, 1]) / 16)
    np.testing.assert_allclose(binomial_filter(4), np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 64)
    np.testing.assert_allclose(binomial_filter(5)[2], np.array([1, 4, 6, 4, 1]) * 6 / 256)
    assert binomial_filter(1).tolist() == [[1.0]]


def test_blurpool_known_answer_on_a_ramp():
    # x[i, j] = 1 + 4i + j. The stride-1 2x2 max takes each window's bottom-right value:
    # m = [[6, 7, 8], [10, 11, 12], [14, 15, 16]] = 6 + 4i + j. With reflect padding, [1, 2, 1]/4
    # at an edge index gives (m0 + m1) / 2 (and (m1 + m2) / 2 at the other edge), so rows sit
    # at 0.5 and 1.5 and columns at 0.5 and 1.5 after the stride-2 subsampling:
    # out = 6 + 4 * [0.5, 1.5] + [0.5, 1.5] = [[8.5, 9.5], [12.5, 13.5]].
    x = np.arange(1, 17, dtype="float32").reshape(1, 4, 4, 1)
    out = _np(BlurPool2D(pool_size=2, strides=2, filter_size=3)(x))
    np.testing.assert_allclose(out[0, :, :, 0], [[8.5, 9.5], [12.5, 13.5]])
    # Plain max pooling of the same ramp, for contrast: [[6, 8], [14, 16]].
    np.testing.assert_allclose(_np(keras.layers.MaxPooling2D(2)(x))[0, :, :, 0], [[6, 8], [14, 16]])


def test_blurpool_known_answer_on_an_impulse():
    # One bright pixel at (1, 1) of a 4x4 image: the dense max spreads it over rows and
    # columns 0..1 of the 3x3 map; the 1-D reflect-padded blur at index 0 is
    # (m1 + 2 m0 + m1) / 4 = 1 and at index 2 is (m1 + 2 m2 + m1) / 4 = 1/2.
    x = np.zeros((1, 4, 4, 1), "float32")
    x[0, 1, 1, 0] = 1
    out = _np(BlurPool2D(2, 2, 3)(x))[0, :, :, 0]
    np.testing.assert_allclose(out, np.outer([1, 0.5], [1, 0.5]))


def _blurpool_reference(x, pool, stride, size):
    n, h, w, c = x.shape
    dense = np.stack([np.stack([x[:, i:i + pool, j:j + pool].max(axis=(1, 2)) for j in range(w - pool + 1)], 1)
                      for i in range(h - pool + 1)], 1)
    before, after = (size - 1) // 2, size - 1 - (size - 1) // 2
    padded = np.pad(dense, ((0, 0), (before, after), (before, after), (0, 0)), mode="reflect")
    kernel = binomial_filter(size)
    rows = range(0, padded.shape[1] - size + 1, stride)
    cols = range(0, padded.shape[2] - size + 1, stride)
    return np.array([[[np.einsum("nhwc,hw->nc", padded[:, i:i + size, j:j + size], kernel)] for j in cols]
                     for i in rows])[:, :, 0].transpose(2, 0, 1, 3)


@pytest.mark.parametrize("shape, pool, stride, size", [
    ((2, 7, 9, 3), 2, 2, 3), ((1, 8, 8, 2), 3, 2, 5), ((1, 6, 7, 1), 2, 3, 4), ((1, 5, 5, 2), 1, 2, 2),
])
def test_blurpool_matches_numpy_reference(shape, pool, stride, size):
    x = np.random.default_rng(0).random(shape).astype("float32")
    layer = BlurPool2D(pool, stride, size)
    out = _np(layer(x))
    np.testing.assert_allclose(out, _blurpool_reference(x, pool, stride, size), rtol=1e-5, atol=1e-6)
    assert out.shape == layer.compute_output_shape(shape)


def test_circular_pad_wraps_like_numpy():
    x = np.arange(2 * 3 * 4 * 2, dtype="float32").reshape(2, 3, 4, 2)
    layer = CircularPad2D(((1, 2), (2, 1)))
    np.testing.assert_array_equal(_np(layer(x)), np.pad(x, ((0, 0), (1, 2), (2, 1), (0, 0)), mode="wrap"))
    assert layer.compute_output_shape((None, 3, 4, 2)) == (None, 6, 7, 2)


def test_circular_cnn_is_exactly_equivariant_to_circular_shifts():
    spec = {"family": "cnn", "padding": "circular", "pooling": "none", "head": "gap", "dense_units": 0,
            "channels": 4, "kernel_size": 3}
    model = build_model(spec, (8, 8, 1), 3, seed=0)
    features = keras.Model(model.input, model.get_layer("block2_act1").output)
    x = np.random.default_rng(1).random((2, 8, 8, 1)).astype("float32")
    shifted = np.roll(x, (2, -3), axis=(1, 2))
    np.testing.assert_allclose(_np(features(shifted)), np.roll(_np(features(x)), (2, -3), axis=(1, 2)),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(model(shifted)), _np(model(x)), rtol=1e-5, atol=1e-5)


def test_class_token_position_embedding_and_token_pooling():
    x = np.ones((2, 3, 4), "float32")
    token = ClassToken(initializer="ones")
    out = _np(token(x))
    assert out.shape == (2, 4, 4)
    pe = PositionEmbedding(initializer="zeros")
    np.testing.assert_array_equal(_np(pe(x)), x)
    assert pe.embedding.shape == (1, 3, 4)
    y = np.arange(24, dtype="float32").reshape(2, 3, 4)
    np.testing.assert_array_equal(_np(TokenPooling("cls")(y)), y[:, 0])
    np.testing.assert_allclose(_np(TokenPooling("gap")(y)), y.mean(axis=1))
    with pytest.raises(ValueError):
        TokenPooling("max")


# One instance per custom layer, with an input it accepts. A new layer without an entry fails.
INSTANCES = {
    BlurPool2D: (lambda: BlurPool2D(3, 2, 5, name="b"), (1, 9, 9, 2)),
    CircularPad2D: (lambda: CircularPad2D((1, 2), name="c"), (1, 4, 4, 1)),
    ClassToken: (lambda: ClassToken(initializer=keras.initializers.RandomNormal(seed=1)), (1, 3, 4)),
    PositionEmbedding: (lambda: PositionEmbedding(initializer=keras.initializers.RandomNormal(seed=2)), (1, 3, 4)),
    TokenPooling: (lambda: TokenPooling("gap"), (1, 3, 4)),
}


def test_every_custom_layer_has_a_serialization_case():
    assert set(INSTANCES) == set(CUSTOM_LAYERS)


@pytest.mark.parametrize("cls", CUSTOM_LAYERS, ids=lambda c: c.__name__)
def test_custom_layers_serialize(cls, tmp_path):
    make, shape = INSTANCES[cls]
    inputs = keras.Input(shape[1:])
    model = keras.Model(inputs, make()(inputs))
    x = np.random.default_rng(0).random(shape).astype("float32")
    config = keras.saving.serialize_keras_object(model.layers[-1])
    assert config["registered_name"] == f"invariance>{cls.__name__}"
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_array_equal(_np(again(x)), _np(model(x)))
    assert again.layers[-1].get_config() == model.layers[-1].get_config()
