"""Parameter and MAC counts: exact known answers on tiny models."""
from __future__ import annotations

import math

import keras
import pytest

from invariance.models import PRESETS, build_model, model_cost
from invariance.models.cost import einsum_macs
from invariance.models.layers import BlurPool2D


def _cost(input_shape, *layers):
    inputs = keras.Input(input_shape)
    x = inputs
    for layer in layers:
        x = layer(x)
    return model_cost(keras.Model(inputs, x))


# (input shape, layers, params, MACs), each MAC count worked out by hand.
CASES = {
    # 5x5 outputs, each a 3x3x1 window for 2 filters: 5*5*9*1*2.
    "conv_same": ((5, 5, 1), [keras.layers.Conv2D(2, 3, padding="same")], 9 * 2 + 2, 450),
    # valid 3x3 on 5x5 -> 3x3 outputs: 3*3*9*1*2.
    "conv_valid": ((5, 5, 1), [keras.layers.Conv2D(2, 3)], 20, 162),
    # stride 2 same on 6x6x3 -> 3x3 outputs, 4 filters of 3x3x3: 9*27*4.
    "conv_stride": ((6, 6, 3), [keras.layers.Conv2D(4, 3, strides=2, padding="same", use_bias=False)], 108, 972),
    # depthwise 3x3 on 4x4x3 same: 16 positions * 9 * 3.
    "depthwise": ((4, 4, 3), [keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False)], 27, 432),
    # separable: 16 positions * (9*2 depthwise + 2*5 pointwise).
    "separable": ((4, 4, 2), [keras.layers.SeparableConv2D(5, 3, padding="same", use_bias=False)], 28, 448),
    # transposed 2x2 stride 2 on 3x3x1 -> every input pixel scatters 2*2*1*4 products.
    "transpose": ((3, 3, 1), [keras.layers.Conv2DTranspose(4, 2, strides=2, use_bias=False)], 16, 144),
    "dense": ((10,), [keras.layers.Dense(3)], 33, 30),
    # dense on a sequence: 7 tokens * 4 * 6.
    "dense_tokens": ((7, 4), [keras.layers.Dense(6, use_bias=False)], 24, 168),
    # blur 3x3 on a 3x3x2 map after the stride-1 2x2 max of 4x4x2: 2x2 outputs * 2 channels * 9.
    "blurpool": ((4, 4, 2), [BlurPool2D(2, 2, 3)], 0, 72),
    "free_layers": ((4, 4, 2), [keras.layers.BatchNormalization(), keras.layers.ReLU(),
                                keras.layers.MaxPooling2D(), keras.layers.GlobalAveragePooling2D()], 4, 0),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_known_costs(name):
    shape, layers, params, macs = CASES[name]
    assert _cost(shape, *layers) == {"params": params, "macs": macs}


def test_attention_cost():
    # T=S=5 tokens of width 8, 2 heads of key_dim 3, output width 8:
    # q, k, v projections 3 * 5*8*2*3 = 720; scores and weighted sum 2*5*5*(3+3) = 300;
    # output projection 5*2*3*8 = 240.
    inputs = keras.Input((5, 8))
    layer = keras.layers.MultiHeadAttention(2, 3)
    model = keras.Model(inputs, layer(inputs, inputs))
    assert model_cost(model)["macs"] == 720 + 300 + 240


def test_einsum_macs():
    assert einsum_macs("abc,cd->abd", (None, 7, 4), (4, 6)) == 7 * 4 * 6
    assert einsum_macs("...b,bc->...c", (None, 5, 3), (3, 2)) == 5 * 3 * 2
    inputs = keras.Input((7, 4))
    layer = keras.layers.EinsumDense("abc,cd->abd", output_shape=(None, 6))
    assert model_cost(keras.Model(inputs, layer(inputs)))["macs"] == 168


def test_nested_models_are_walked():
    inner_in = keras.Input((5, 5, 1))
    inner = keras.Model(inner_in, keras.layers.Conv2D(2, 3, padding="same")(inner_in))
    inputs = keras.Input((5, 5, 1))
    outer = keras.Model(inputs, keras.layers.Flatten()(inner(inputs)))
    assert model_cost(outer) == {"params": 20, "macs": 450}


def test_cnn_pool_by_hand():
    # conv1 28*28*9*1*32, conv2 14*14*9*32*64, dense 7*7*64*128, logits 128*10.
    macs = 28 * 28 * 9 * 32 + 14 * 14 * 9 * 32 * 64 + 3136 * 128 + 1280
    params = (9 * 32 + 32) + (9 * 32 * 64 + 64) + (3136 * 128 + 128) + (128 * 10 + 10)
    assert model_cost(build_model("cnn_pool", (28, 28, 1), 10)) == {"params": params, "macs": macs}


def test_params_are_trainable_only():
    model = build_model("resnet_tiny", (28, 28, 1), 10)
    cost = model_cost(model)
    non_trainable = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    assert non_trainable > 0
    assert cost["params"] == model.count_params() - non_trainable


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_costs_something(name):
    cost = model_cost(build_model(name, (28, 28, 1), 10))
    assert cost["params"] > 0 and cost["macs"] >= cost["params"] // 2
