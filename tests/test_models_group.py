"""p4 group convolutions: the equivariance law of each layer, exact quarter-turn invariance
of an untrained p4 CNN (and the plain twin that is not), the harness's 1.0, costs, spec rules
and serialization."""
from __future__ import annotations

import keras
import numpy as np
import pytest

import exact_checks
from invariance.errors import SpecError
from invariance.models import (GCNNSpec, P4BatchNormalization, P4Conv2D, P4Lift2D, P4Pool, build_model,
                               load_model, model_cost, resolve_model_spec, save_model)
from invariance.models.group import P4_LAYERS, group_kernel, lifted_kernel, rot90


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _turn(x, k=1):
    """A quarter turn of NHWC images counter-clockwise on screen (the harness's +90 degrees)."""
    return np.ascontiguousarray(np.rot90(x, k, axes=(1, 2)))


def _planes(x):
    n, h, w, c = x.shape
    return x.reshape(n, h, w, c // 4, 4)


@pytest.mark.parametrize("k", [0, 1, 2, 3, 5, -1])
def test_rot90_matches_numpy(k):
    kernel = np.arange(3 * 3 * 2 * 5, dtype="float32").reshape(3, 3, 2, 5)
    np.testing.assert_array_equal(_np(rot90(keras.ops.convert_to_tensor(kernel), k)), np.rot90(kernel, k))


def test_kernels_by_hand():
    w = np.random.default_rng(0).random((3, 3, 2, 5)).astype("float32")
    lifted = _np(lifted_kernel(keras.ops.convert_to_tensor(w))).reshape(3, 3, 2, 5, 4)
    for r in range(4):
        np.testing.assert_array_equal(lifted[..., r], np.rot90(w, r))
    g = np.random.default_rng(1).random((3, 3, 8, 5)).astype("float32")   # Cin = 2 group channels
    full = _np(group_kernel(keras.ops.convert_to_tensor(g))).reshape(3, 3, 2, 4, 5, 4)
    planes = g.reshape(3, 3, 2, 4, 5)
    for r in range(4):
        for s in range(4):
            np.testing.assert_array_equal(full[:, :, :, s, :, r], np.rot90(planes[:, :, :, (s - r) % 4, :], r))


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_lifting_and_group_convs_are_equivariant(padding):
    # Turning the input a quarter turn turns every plane and moves plane r to r + 1.
    x = np.random.default_rng(2).random((2, 9, 9, 3)).astype("float32")
    lift = P4Lift2D(4, 3, padding=padding, bias_initializer="random_normal")
    conv = P4Conv2D(5, 3, padding=padding, bias_initializer="random_normal")
    for k in (1, 2, 3):
        a, b = _np(lift(x)), _np(lift(_turn(x, k)))
        np.testing.assert_allclose(_planes(b), np.roll(_planes(_turn(a, k)), k, axis=-1), atol=1e-5)
        c, d = _np(conv(a)), _np(conv(b))
        np.testing.assert_allclose(_planes(d), np.roll(_planes(_turn(c, k)), k, axis=-1), atol=1e-5)
        pooled, pooled_turned = _np(P4Pool("max")(c)), _np(P4Pool("max")(d))
        np.testing.assert_allclose(pooled_turned, _turn(pooled, k), atol=1e-5)


def test_group_pooling_and_batch_norm():
    x = np.random.default_rng(3).normal(size=(2, 3, 3, 8)).astype("float32")
    np.testing.assert_array_equal(_np(P4Pool("max")(x)), _planes(x).max(axis=-1))
    np.testing.assert_allclose(_np(P4Pool("mean")(x)), _planes(x).mean(axis=-1), rtol=1e-6)
    bn = P4BatchNormalization(epsilon=0.0)
    out = _planes(_np(bn(x, training=True)))
    # One mean and variance per group channel, over batch, space and its 4 planes.
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2, 4)), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=(0, 1, 2, 4)), 1, atol=1e-3)
    assert bn.gamma.shape == (2,)


def test_p4_batch_norm_is_keras_batch_norm_on_the_5d_view():
    """The 4-D computation gives what Keras's BatchNormalization gives on the (N, H, W, C, 4) view
    with axis=-2: outputs in training and inference, the moving statistics, and the gradients."""
    rng = np.random.default_rng(4)
    x = (3.0 + 2.0 * rng.normal(size=(6, 5, 5, 12))).astype("float32")
    ours = P4BatchNormalization(momentum=0.7)
    ours.build(x.shape)
    keras_bn = keras.layers.BatchNormalization(axis=-2, momentum=0.7)
    keras_bn.build(_planes(x).shape)
    weights = [rng.normal(size=(3,)).astype("float32"), rng.normal(size=(3,)).astype("float32"),
               rng.normal(size=(3,)).astype("float32"), rng.uniform(0.5, 2.0, size=(3,)).astype("float32")]
    ours.set_weights(weights)
    keras_bn.set_weights(weights)
    for training in (True, False):
        np.testing.assert_allclose(_np(ours(x, training=training)),
                                   _np(keras_bn(_planes(x), training=training)).reshape(x.shape), atol=1e-5)
    np.testing.assert_allclose(_np(ours.moving_mean), _np(keras_bn.moving_mean), atol=1e-5)
    np.testing.assert_allclose(_np(ours.moving_variance), _np(keras_bn.moving_variance), atol=1e-5, rtol=1e-5)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        xt, probe = tf.constant(x), tf.constant(rng.normal(size=x.shape).astype("float32"))
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(xt)
            a = tf.reduce_sum(ours(xt, training=True) * probe)
            b = tf.reduce_sum(tf.reshape(keras_bn(tf.reshape(xt, _planes(x).shape), training=True), x.shape) * probe)
        np.testing.assert_allclose(tape.gradient(a, xt), tape.gradient(b, xt), atol=1e-5)
        np.testing.assert_allclose(tape.gradient(a, ours.gamma), tape.gradient(b, keras_bn.gamma), rtol=1e-4)


def test_p4_conv_needs_p4_maps_and_odd_kernels():
    with pytest.raises(ValueError, match="multiple of 4"):
        P4Conv2D(2)(np.zeros((1, 5, 5, 3), "float32"))
    with pytest.raises(ValueError, match="odd"):
        P4Lift2D(2, 4)


# --- the known answer: exact invariance to quarter turns --------------------------------------

@pytest.mark.parametrize("size, batch_norm", [(28, False), (28, True), (32, False)])
def test_p4cnn_is_exactly_invariant_to_quarter_turns(size, batch_norm):
    model = build_model(exact_checks.P4_SPEC, (size, size, 1), 10)
    assert [model.get_layer(f"block{b}_pool").output.shape[1] for b in (1, 2)] == [size // 2, size // 4]
    result = exact_checks.quarter_turn_change(exact_checks.P4_SPEC, size, batch_norm=batch_norm)
    assert exact_checks.is_exact(result), result


def test_circular_and_valid_padding_stay_exact():
    for padding, size in (("circular", 28), ("valid", 30)):
        spec = {**exact_checks.P4_SPEC, "padding": padding}
        result = exact_checks.quarter_turn_change(spec, size, seed=2)
        assert exact_checks.is_exact(result), (padding, result)


def test_plain_cnn_twin_is_not_invariant():
    result = exact_checks.quarter_turn_change(exact_checks.PLAIN_SPEC)
    assert exact_checks.is_clearly_variant(result), result


def test_harness_reports_quarter_turn_consistency_one():
    from invariance.harness import evaluate

    model = build_model("p4cnn", (28, 28, 1), 10, seed=1)
    x = np.concatenate([exact_checks.garment_like(28, seed=s) for s in range(8)])
    table = evaluate(model, x, np.zeros(8, int), sweeps={"angle": [90, 180, 270]}, metrics=("consistency", "kl"))
    rows = table[table["sweep"] == "angle"]
    consistency = rows[rows["metric"] == "consistency"]
    assert sorted(consistency["angle"]) == [90, 180, 270] and (consistency["value"] == 1.0).all()
    assert (rows[rows["metric"] == "kl"]["value"].abs() < 1e-6).all()


# --- specs, costs and serialization --------------------------------------------------------------

def test_p4cnn_cost_by_hand():
    # lift: 28*28 positions * 9 * 1 * 16 at 4 rotations; group conv: 14*14 * 9 * 64 * 32 * 4;
    # head: GAP(32) -> dense 128 -> logits 10. Batch norm after the 16, 32 group channels and
    # the dense 128 adds a scale and an offset per channel (its moving statistics are not
    # trained) and takes the bias of the layer before it; at inference it folds into that layer.
    macs = 4 * 28 * 28 * 9 * 16 + 4 * 14 * 14 * 9 * 64 * 32 + 32 * 128 + 128 * 10
    params = 9 * 16 + 9 * 64 * 32 + 32 * 128 + (128 * 10 + 10) + 2 * (16 + 32 + 128)
    assert model_cost(build_model("p4cnn", (28, 28, 1), 10)) == {"params": params, "macs": macs}


@pytest.mark.parametrize("layer, channels", [(P4Lift2D(6, 3, use_bias=False), 2),
                                             (P4Conv2D(6, 3, use_bias=False), 8)])
def test_a_p4_layer_costs_4x_a_plain_conv_with_the_same_kernel(layer, channels):
    def cost(conv):
        inputs = keras.Input((10, 10, channels))
        return model_cost(keras.Model(inputs, conv(inputs)))

    plain = cost(keras.layers.Conv2D(6, 3, padding="same", use_bias=False))
    p4 = cost(layer)
    assert p4["params"] == plain["params"]
    assert p4["macs"] == 4 * plain["macs"]
    # Counted per output plane: a plain conv with the same input maps and 4x the outputs.
    assert p4["macs"] == cost(keras.layers.Conv2D(24, 3, padding="same", use_bias=False))["macs"]


def test_p4cnn_group_conv_matches_its_plain_twin_in_parameters_at_4x_the_macs():
    # cnn_pool[head=gap]'s block2 conv reads 32 maps into 64; p4cnn's reads 16 x 4 planes into
    # 32 group channels: the same 9 * 64 * 32 weights, applied at 4 rotations.
    plain = build_model({"preset": "cnn_pool", "head": "gap", "batch_norm": True}, (28, 28, 1), 10)
    p4 = build_model("p4cnn", (28, 28, 1), 10)
    plain_kernel, p4_kernel = (m.get_layer("block2_conv1").kernel.shape for m in (plain, p4))
    assert np.prod(plain_kernel) == np.prod(p4_kernel) == 9 * 64 * 32
    assert p4.get_layer("block2_conv1").output.shape == (None, 14, 14, 128)
    plain_macs = 14 * 14 * 9 * 32 * 64
    lift_macs = 4 * 28 * 28 * 9 * 16
    head = 32 * 128 + 128 * 10
    assert model_cost(p4)["macs"] == lift_macs + 4 * plain_macs + head


@pytest.mark.parametrize("spec, shape, field", [
    ({"family": "gcnn", "kernel_size": 4}, (28, 28, 1), "kernel_size"),
    ({"family": "gcnn", "depth": 3}, (28, 28, 1), "depth"),          # a third pool on 7x7
    ({"family": "gcnn", "pool_size": 3, "pool_stride": 2}, (28, 28, 1), "pool_size"),
    ({"family": "gcnn"}, (28, 32, 1), "input_shape"),
    ({"family": "gcnn", "head": "flatten"}, (28, 28, 1), "head"),
    ({"family": "gcnn", "padding": "valid", "kernel_size": 9, "depth": 2}, (12, 12, 1), "depth"),
])
def test_spec_errors_name_the_field(spec, shape, field):
    with pytest.raises(SpecError) as info:
        build_model(spec, shape, 10)
    assert info.value.field.split(".")[-1] == field, str(info.value)


def test_spec_defaults_and_preset():
    spec = resolve_model_spec("p4cnn")
    assert isinstance(spec, GCNNSpec) and spec.block_channels == (16, 32) and spec.preset == "p4cnn"
    assert resolve_model_spec({"family": "gcnn", "dense_units": 0}).dense_units == ()


# One instance per p4 layer, with an input it accepts. A new layer without an entry fails.
INSTANCES = {
    P4Lift2D: (lambda: P4Lift2D(3, 3, kernel_initializer=keras.initializers.GlorotUniform(1)), (2, 7, 7, 2)),
    P4Conv2D: (lambda: P4Conv2D(2, 5, padding="valid", bias_initializer="ones"), (2, 7, 7, 8)),
    P4Pool: (lambda: P4Pool("mean"), (2, 5, 5, 8)),
    P4BatchNormalization: (lambda: P4BatchNormalization(momentum=0.9), (2, 5, 5, 8)),
}


def test_every_p4_layer_has_a_serialization_case():
    assert set(INSTANCES) == set(P4_LAYERS)


@pytest.mark.parametrize("cls", P4_LAYERS, ids=lambda c: c.__name__)
def test_p4_layers_round_trip_safe_mode(cls, tmp_path):
    make, shape = INSTANCES[cls]
    inputs = keras.Input(shape[1:])
    model = keras.Model(inputs, make()(inputs))
    x = np.random.default_rng(0).random(shape).astype("float32")
    assert keras.saving.serialize_keras_object(model.layers[-1])["registered_name"] == f"invariance>{cls.__name__}"
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_array_equal(_np(again(x)), _np(model(x)))
    assert again.layers[-1].get_config() == model.layers[-1].get_config()


def test_p4cnn_round_trips_and_stays_exact(tmp_path):
    model = build_model({"preset": "p4cnn", "batch_norm": True}, (28, 28, 1), 10, seed=2)
    again = load_model(save_model(model, tmp_path / "m.keras"))
    x = np.random.default_rng(4).random((2, 28, 28, 1)).astype("float32")
    np.testing.assert_array_equal(_np(again(x)), _np(model(x)))
    np.testing.assert_allclose(_np(again(_turn(x))), _np(model(x)), rtol=1e-5, atol=1e-6)


def test_first_layer_filters_of_a_p4cnn_are_its_lifting_filters():
    from invariance.plots.filters import first_layer_filters

    model = build_model("p4cnn", (28, 28, 1), 10, seed=0)
    kernels, name, kind = first_layer_filters(model)
    assert (kernels.shape, name, kind) == ((3, 3, 1, 16), "block1_conv1", "conv")
    np.testing.assert_array_equal(kernels, _np(model.get_layer("block1_conv1").kernel))
