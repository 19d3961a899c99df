"""Adaptive polyphase sampling: known answers, the tie-break, exact circular-shift invariance
of an untrained APS CNN (and the max-pooling twin that is not), costs and serialization."""
from __future__ import annotations

import keras
import numpy as np
import pytest

import exact_checks
from invariance.errors import SpecError
from invariance.models import APSPool2D, build_model, model_cost
from invariance.models.aps import aps_downsample, polyphase_components, select_first_max


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _aps(x, **kwargs):
    out, index = aps_downsample(keras.ops.convert_to_tensor(x), **kwargs)
    return _np(out), _np(index)


def test_polyphase_components_are_strided_slices_in_row_major_order():
    x = np.arange(2 * 4 * 6 * 3, dtype="float32").reshape(2, 4, 6, 3)
    comps = _np(polyphase_components(keras.ops.convert_to_tensor(x), 2))
    assert comps.shape == (2, 4, 2, 3, 3)
    for k, (i, j) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        np.testing.assert_array_equal(comps[:, k], x[:, i::2, j::2])


def test_each_example_gets_its_own_component_exactly_even_with_inf_features():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 8, 8, 3)).astype("float32")
    x[2, 1::2, 1::2, 0] = np.inf  # component 3 of example 2 wins; the others hold no NaN
    out, index = _aps(x)
    phases = [(0, 0), (0, 1), (1, 0), (1, 1)]
    for n, k in enumerate(index):
        i, j = phases[k]
        np.testing.assert_array_equal(out[n], x[n, i::2, j::2])
    assert index[2] == 3 and not np.isnan(out).any()


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="gradient through tf.GradientTape")
def test_the_gradient_reaches_only_the_chosen_component():
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(1).normal(size=(4, 6, 6, 2)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        out, index = aps_downsample(x)
        loss = tf.reduce_sum(out)
    grad, index = tape.gradient(loss, x).numpy(), index.numpy()
    for n, k in enumerate(index):
        mask = np.zeros((6, 6, 2), "float32")
        mask[k // 2::2, k % 2::2] = 1
        np.testing.assert_array_equal(grad[n], mask)


def test_aps_keeps_the_component_with_the_largest_norm():
    # One bright pixel at (row 1, col 0) of each 2x2 cell: component (1, 0), index 2, wins.
    x = np.zeros((1, 4, 4, 1), "float32")
    x[0, 1::2, 0::2, 0] = [[1, 2], [3, 4]]
    out, index = _aps(x)
    assert index.tolist() == [2]
    np.testing.assert_array_equal(out[0, :, :, 0], [[1, 2], [3, 4]])


def test_l1_and_l2_can_disagree():
    # Component (0, 0) holds one 3 (l2^2 = 9, l1 = 3); component (1, 1) four 1.2s
    # (l2^2 = 5.76, l1 = 4.8): l2 keeps (0, 0), l1 keeps (1, 1).
    x = np.zeros((1, 4, 4, 1), "float32")
    x[0, 0, 0, 0] = 3.0
    x[0, 1::2, 1::2, 0] = 1.2
    assert _aps(x, norm="l2")[1].tolist() == [0]
    assert _aps(x, norm="l1")[1].tolist() == [3]


def test_norm_is_over_height_width_and_channels_per_example():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 6, 8, 3)).astype("float32")
    out, index = _aps(x)
    for n in range(5):
        norms = [np.sum(x[n, i::2, j::2] ** 2) for i in (0, 1) for j in (0, 1)]
        assert index[n] == int(np.argmax(norms))
        i, j = divmod(int(index[n]), 2)
        np.testing.assert_array_equal(out[n], x[n, i::2, j::2])


def test_tie_break_is_the_lowest_index():
    norms = keras.ops.convert_to_tensor(np.array([[1, 3, 3, 2], [5, 5, 5, 5], [0, 0, 0, 1], [2, 1, 2, 2]],
                                                 "float32"))
    assert _np(select_first_max(norms)).tolist() == [1, 0, 3, 0]


@pytest.mark.parametrize("value", [0.0, 0.7, -2.0])
def test_constant_images_tie_everywhere_and_keep_component_zero(value):
    # All four components are equal, so all norms tie: (0, 0) is kept, for every shift
    # (a shifted constant image is the same image), and the output is the constant.
    x = np.full((3, 6, 6, 2), value, "float32")
    out, index = _aps(x)
    assert index.tolist() == [0, 0, 0]
    np.testing.assert_array_equal(out, np.full((3, 3, 3, 2), value, "float32"))


def test_ties_between_shifted_copies_stay_shift_consistent():
    # A checkerboard: components (0, 0) and (1, 1) tie (all ones), (0, 1) and (1, 0) are 0.
    # A one-pixel shift swaps the roles; the tie-break picks a different component but the
    # same content, so the output does not change.
    board = (np.indices((8, 8)).sum(axis=0) % 2 == 0).astype("float32")[None, :, :, None]
    out, index = _aps(board)
    assert index.tolist() == [0]
    for shift in [(1, 0), (0, 1), (1, 1), (3, -2)]:
        moved_out, moved_index = _aps(np.roll(board, shift, axis=(1, 2)))
        np.testing.assert_array_equal(moved_out, out)
    assert _aps(np.roll(board, 1, axis=1))[1].tolist() == [1]


def test_odd_sizes_are_padded_at_the_end():
    # 5 -> 6 (circularly: the first row and column are appended), 3x3 output.
    x = np.random.default_rng(1).random((2, 5, 5, 1)).astype("float32")
    out, index = _aps(x)
    padded = np.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)), mode="wrap")
    assert out.shape == (2, 3, 3, 1)
    for n in range(2):
        i, j = divmod(int(index[n]), 2)
        np.testing.assert_array_equal(out[n], padded[n, i::2, j::2])
    reflect_out, reflect_index = _aps(x, padding="reflect")
    padded = np.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)), mode="reflect")
    i, j = divmod(int(reflect_index[0]), 2)
    np.testing.assert_array_equal(reflect_out[0], padded[0, i::2, j::2])


def test_layer_is_dense_max_then_aps():
    x = np.random.default_rng(2).random((2, 6, 6, 3)).astype("float32")
    layer = APSPool2D(pool_size=2, strides=2, filter_size=1)
    dense = np.maximum.reduce([np.roll(x, (-a, -b), axis=(1, 2)) for a in (0, 1) for b in (0, 1)])
    expected, _ = _aps(dense)
    np.testing.assert_allclose(_np(layer(x)), expected)
    assert layer.compute_output_shape((None, 7, 6, 3)) == (None, 4, 3, 3)


@pytest.mark.parametrize("kwargs", [dict(norm="l3"), dict(padding="zero"), dict(filter_size=9)])
def test_bad_layer_arguments(kwargs):
    with pytest.raises(ValueError):
        APSPool2D(**kwargs)


# --- the known answer: exact invariance to circular shifts -------------------------------------

@pytest.mark.parametrize("pooling", ["aps", "aps_blur"])
def test_aps_cnn_is_exactly_invariant_to_every_circular_shift_28(pooling):
    result = exact_checks.circular_shift_change(pooling, 28)
    assert exact_checks.is_exact(result), result


def test_aps_cnn_is_exactly_invariant_on_a_32_px_canvas():
    result = exact_checks.circular_shift_change("aps", 28, canvas=32)
    assert exact_checks.is_exact(result), result


@pytest.mark.parametrize("canvas", [None, 32])
def test_max_pooling_twin_is_not_invariant(canvas):
    result = exact_checks.circular_shift_change("max", 28, canvas=canvas)
    assert exact_checks.is_clearly_variant(result), result


def test_harness_reports_wrap_consistency_one():
    from invariance.harness import evaluate

    model = build_model({**exact_checks.APS_SPEC, "pooling": "aps_blur"}, (28, 28, 1), 10, seed=3)
    x = np.concatenate([exact_checks.garment_like(28, seed=s) for s in range(6)])
    table = evaluate(model, x, np.zeros(6, int), sweeps={"dx": "-3:3:1", "dy": [-2, 5]}, fill="wrap",
                     metrics=("consistency",))
    values = table[(table["metric"] == "consistency")]["value"]
    assert len(values) == 9 and (values == 1.0).all()


# --- the cnn options, costs and serialization ---------------------------------------------------

def test_aps_options_build_the_layer():
    model = build_model({"preset": "cnn_aps", "pooling": "aps_blur_l1", "blur_kernel": 5}, (28, 28, 1), 10)
    layer = model.get_layer("block1_pool")
    assert isinstance(layer, APSPool2D)
    assert (layer.pool_size, layer.strides, layer.filter_size, layer.norm, layer.padding) == (2, 2, 5, "l1",
                                                                                              "circular")
    same = build_model({"preset": "cnn_pool", "pooling": "aps"}, (28, 28, 1), 10).get_layer("block2_pool")
    assert (same.filter_size, same.norm, same.padding) == (1, "l2", "reflect")
    assert model.get_layer("block2_pool").output.shape == (None, 7, 7, 64)


def test_aps_refuses_a_blur_larger_than_the_map():
    with pytest.raises(SpecError) as info:
        build_model({"preset": "cnn_aps", "pooling": "aps_blur", "blur_kernel": 7, "depth": 4}, (12, 12, 1), 10)
    assert info.value.field.endswith("depth")


def test_aps_cost_by_hand():
    # 4x4x2 input, 3x3 blur at full resolution: 16 * 2 * 9; the l2 norms one square per element.
    inputs = keras.Input((4, 4, 2))
    model = keras.Model(inputs, APSPool2D(2, 2, 3)(inputs))
    assert model_cost(model) == {"params": 0, "macs": 16 * 2 * 9 + 32}
    inputs = keras.Input((5, 5, 2))
    model = keras.Model(inputs, APSPool2D(2, 2, 1, norm="l1")(inputs))
    assert model_cost(model) == {"params": 0, "macs": 0}
    # cnn_aps: cnn_pool[head=gap,batch_norm=true] plus the norms of the 28x28x32 and 14x14x64 maps.
    plain = model_cost(build_model({"preset": "cnn_pool", "head": "gap", "batch_norm": True}, (28, 28, 1), 10))
    aps = model_cost(build_model("cnn_aps", (28, 28, 1), 10))
    assert aps == {"params": plain["params"], "macs": plain["macs"] + 28 * 28 * 32 + 14 * 14 * 64}


@pytest.mark.parametrize("kwargs", [dict(), dict(pool_size=3, strides=2, filter_size=5, norm="l1", padding="reflect")])
def test_layer_round_trips_safe_mode(kwargs, tmp_path):
    inputs = keras.Input((9, 9, 2))
    model = keras.Model(inputs, APSPool2D(**kwargs, name="aps")(inputs))
    config = keras.saving.serialize_keras_object(model.layers[-1])
    assert config["registered_name"] == "invariance>APSPool2D"
    x = np.random.default_rng(0).random((3, 9, 9, 2)).astype("float32")
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_array_equal(_np(again(x)), _np(model(x)))
    assert again.layers[-1].get_config() == model.layers[-1].get_config()


@pytest.mark.parametrize("pooling", ["aps", "aps_blur"])
def test_aps_model_round_trips_and_stays_exact(pooling, tmp_path):
    from invariance.models import load_model, save_model

    model = build_model({**exact_checks.APS_SPEC, "pooling": pooling}, (28, 28, 1), 10, seed=4)
    again = load_model(save_model(model, tmp_path / "m.keras"))
    x = exact_checks.garment_like(28, seed=5)
    shifted = np.roll(x, (3, -5), axis=(1, 2))
    np.testing.assert_array_equal(_np(again(x)), _np(model(x)))
    np.testing.assert_allclose(_np(again(shifted)), _np(model(x)), rtol=1e-5, atol=1e-6)
