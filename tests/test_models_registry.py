"""The zoo: every preset builds, runs, round-trips through .keras; specs resolve and fail clearly."""
from __future__ import annotations

import dataclasses
import re
from typing import Literal

import keras
import numpy as np
import pytest

from invariance.config import to_dict
from invariance.errors import SpecError
from invariance.models import (FAMILIES, PRESETS, CNNSpec, MLPSpec, ViTSpec, build_model, create_model,
                               load_model, model_cost, model_label, register_model, resolve_model_spec,
                               save_model)
from invariance.models.registry import DESCRIPTIONS
from invariance.models.specs import overridden_fields

# What each preset must look like at 28x28x1. A preset added to PRESETS without an entry
# here fails test_every_preset_has_an_expectation.
EXPECTED = {
    "cnn_pool": dict(family="cnn", embedding=128, convs=2, pools=2),
    "cnn_nopool": dict(family="cnn", embedding=128, convs=2, pools=0),
    "lenet5": dict(family="cnn", embedding=84, convs=2, pools=2),
    "allconv": dict(family="cnn", embedding=128, convs=6, pools=0),
    "vgg_tiny": dict(family="cnn", embedding=128, convs=6, pools=3),
    "resnet_tiny": dict(family="cnn", embedding=64, convs=6, pools=0),
    "cnn_gap": dict(family="cnn", embedding=128, convs=3, pools=3),
    "cnn_aps": dict(family="cnn", embedding=128, convs=2, pools=2),
    "p4cnn": dict(family="gcnn", embedding=128, convs=2, pools=2),
    "mlp": dict(family="mlp", embedding=128, convs=0, pools=0),
    "vit_tiny": dict(family="vit", embedding=64, convs=0, pools=0),
}
SHAPES = [(28, 28, 1), (32, 32, 3), (36, 36, 1)]

# Non-preset variants that exercise the other layers and options in the round trip.
VARIANTS = {
    "blur": {"preset": "cnn_pool", "pooling": "blur", "blur_kernel": 4},
    "circular_gmp": {"family": "cnn", "padding": "circular", "head": "gmp", "dense_units": 0},
    "full_avg_bn": {"family": "cnn", "padding": "full", "pooling": "avg", "batch_norm": True,
                    "order": "conv_act_bn_pool", "kernel_size": 5, "dropout": 0.1},
    "aps_blur_l1_same": {"preset": "cnn_pool", "pooling": "aps_blur_l1", "blur_kernel": 5},
    "p4_bn_avg_circular": {"preset": "p4cnn", "batch_norm": True, "pooling": "avg", "padding": "circular",
                           "group_pool": "mean", "head": "gmp", "convs_per_block": 2},
    "vit_gap": {"preset": "vit_tiny", "pool": "gap", "depth": 1, "dropout": 0.1},
    "mlp_bn": {"preset": "mlp", "batch_norm": True, "hidden": [32]},
    "linear": {"preset": "mlp", "hidden": []},
}


def _images(shape, n=2, seed=0):
    return np.random.default_rng(seed).random((n, *shape)).astype("float32")


def test_every_preset_has_an_expectation_and_description():
    assert set(EXPECTED) == set(PRESETS)
    assert set(DESCRIPTIONS) == set(PRESETS)
    for name, spec in PRESETS.items():
        assert spec.preset == name
        assert spec.family == EXPECTED[name]["family"]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_preset_builds_and_gives_finite_logits(name, shape):
    model = build_model(name, shape, 7, seed=0)
    logits = keras.ops.convert_to_numpy(model(_images(shape), training=False))
    assert logits.shape == (2, 7)
    assert np.isfinite(logits).all()
    assert model.get_layer("logits").units == 7
    assert model.get_layer("logits").activation is keras.activations.linear
    cost = model_cost(model)
    assert cost["params"] > 0 and cost["macs"] > 0
    if shape == (28, 28, 1):
        expected = EXPECTED[name]
        assert model.get_layer("embedding").output.shape == (None, expected["embedding"])
        names = [layer.name for layer in model.layers]
        assert sum(bool(re.fullmatch(r"block\d+_conv\d+", n)) for n in names) == expected["convs"]
        assert sum(n.endswith("_pool") for n in names) == expected["pools"]


@pytest.mark.parametrize("name", sorted(EXPECTED) + sorted(VARIANTS))
def test_round_trip_through_keras_file(name, tmp_path):
    spec = VARIANTS.get(name, name)
    model = build_model(spec, (28, 28, 1), 10, seed=1)
    x = _images((28, 28, 1), seed=3)
    before = keras.ops.convert_to_numpy(model(x, training=False))
    path = save_model(model, tmp_path / "m.keras")
    again = load_model(path)  # keras.saving.load_model with safe_mode=True
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(again(x, training=False)), before)
    assert [w.name for w in again.weights] == [w.name for w in model.weights]


def test_plain_keras_loader_reads_custom_layers_safely(tmp_path):
    model = build_model(VARIANTS["blur"], (28, 28, 1), 10, seed=0)
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    x = _images((28, 28, 1))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(again(x)), keras.ops.convert_to_numpy(model(x)))


def test_pool_and_nopool_differ_only_by_pooling():
    assert overridden_fields(PRESETS["cnn_nopool"], PRESETS["cnn_pool"]) == {"pooling": "none"}
    pool = build_model("cnn_pool", (28, 28, 1), 10, seed=0)
    nopool = build_model("cnn_nopool", (28, 28, 1), 10, seed=0)
    assert [l.name for l in pool.layers if not l.name.endswith("_pool")] == [l.name for l in nopool.layers]
    # Same seed, same layer order: the convolutions start from the same weights.
    for name in ("block1_conv1", "block2_conv1"):
        np.testing.assert_array_equal(pool.get_layer(name).get_weights()[0], nopool.get_layer(name).get_weights()[0])
    assert model_cost(nopool)["params"] > 10 * model_cost(pool)["params"]


@pytest.mark.parametrize("name", ["cnn_pool", "resnet_tiny", "vit_tiny"])
def test_seed_fixes_the_weights(name):
    def weights(seed):
        return [keras.ops.convert_to_numpy(w) for w in build_model(name, (28, 28, 1), 10, seed=seed).weights]

    a, b, c = weights(5), weights(5), weights(6)
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)
    assert any(not np.array_equal(wa, wc) for wa, wc in zip(a, c) if wa.std() > 0)


def test_vit_attention_projections_start_different():
    model = build_model("vit_tiny", (28, 28, 1), 10, seed=0)
    attention = model.get_layer("block1_attention")
    q, k, v = (keras.ops.convert_to_numpy(d.kernel) for d in
               (attention.query_dense, attention.key_dense, attention.value_dense))
    assert not np.array_equal(q, k) and not np.array_equal(k, v)
    assert model.get_layer("patch_embedding").kernel.shape == (4, 4, 1, 64)


def test_unseeded_models_differ():
    a = build_model("mlp", (28, 28, 1), 10).get_layer("logits").get_weights()[0]
    b = build_model("mlp", (28, 28, 1), 10).get_layer("logits").get_weights()[0]
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("obj", [
    "cnn_pool",
    {"preset": "cnn_pool"},
    {"preset": "cnn_pool", "family": "cnn"},
    {"family": "cnn", "dropout": 0.25, "preset": None},
    PRESETS["cnn_pool"],
])
def test_resolve_accepts_every_form(obj):
    spec = resolve_model_spec(obj)
    assert isinstance(spec, CNNSpec)
    assert spec.pooling == "max" and spec.depth == 2 and spec.block_channels == (32, 64)


def test_overrides_and_families():
    spec = resolve_model_spec({"preset": "cnn_pool", "depth": 3})
    assert spec.block_channels == (32, 64, 128) and spec.preset == "cnn_pool"
    assert isinstance(resolve_model_spec("mlp"), MLPSpec)
    assert resolve_model_spec("vit") == ViTSpec()
    assert resolve_model_spec({"family": "cnn", "channels": [8, 8, 16], "depth": 3}).block_channels == (8, 8, 16)
    assert resolve_model_spec({"preset": "cnn_pool", "dense_units": 64}).dense_units == (64,)
    assert resolve_model_spec({"preset": "cnn_pool", "dense_units": 0}).dense_units == ()
    assert set(FAMILIES) == {"cnn", "gcnn", "mlp", "vit"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_spec_round_trips_through_plain_data(name):
    spec = PRESETS[name]
    assert resolve_model_spec(to_dict(spec)) == spec
    changed = resolve_model_spec({**to_dict(spec), "dropout": 0.5})
    assert resolve_model_spec(to_dict(changed)) == changed


@pytest.mark.parametrize("obj, label", [
    ("cnn_pool", "cnn_pool"),
    ({"preset": "cnn_pool", "pooling": "max"}, "cnn_pool"),
    ({"preset": "cnn_pool", "depth": 3}, "cnn_pool[depth=3]"),
    ({"preset": "cnn_pool", "pooling": "blur", "depth": 3}, "cnn_pool[depth=3,pooling=blur]"),
    ({"preset": "cnn_pool", "dense_units": 256}, "cnn_pool[dense_units=256]"),
    ({"preset": "cnn_pool", "dense_units": [256]}, "cnn_pool[dense_units=256]"),
    ({"preset": "cnn_pool", "batch_norm": True}, "cnn_pool[batch_norm=true]"),
    ({"preset": "lenet5", "channels": [8, 16]}, "lenet5[channels=8-16]"),
    ({"preset": "mlp", "hidden": []}, "mlp[hidden=none]"),
    ({"preset": "vit_tiny", "mlp_ratio": 4}, "vit_tiny[mlp_ratio=4]"),
    ({"family": "cnn"}, "cnn"),
    ({"family": "cnn", "pooling": "avg"}, "cnn[pooling=avg]"),
    (CNNSpec(pool_stride=1), "cnn[pool_stride=1]"),
])
def test_model_label(obj, label):
    assert model_label(obj) == label


# (model spec, input shape to build with or None, field, words the message must contain, received)
BAD_SPECS = [
    ("cnn_poool", None, "model", ["'cnn_pool'", "'vit_tiny'", "'cnn'"], "cnn_poool"),
    ({"preset": "nope"}, None, "model.preset", ["'cnn_pool'", "'lenet5'"], "nope"),
    ({"preset": "cnn_pool", "poolng": "max"}, None, "model.poolng", ["allowed keys", "pooling"], "max"),
    ({"preset": "cnn_pool", "depth": 0}, None, "model.depth", ["between 1 and 6"], 0),
    ({"preset": "cnn_pool", "depth": 7}, None, "model.depth", ["between 1 and 6"], 7),
    ({"preset": "cnn_pool", "depth": "3"}, None, "model.depth", ["integer"], "3"),
    ({"family": "cnn", "padding": "reflect"}, None, "model.padding", ["'same'", "'circular'"], "reflect"),
    ({"family": "cnn", "pooling": "median"}, None, "model.pooling", ["'max'", "'blur'"], "median"),
    ({"family": "cnn", "head": "attention"}, None, "model.head", ["'flatten'", "'gap'"], "attention"),
    ({"family": "cnn", "activation": "swishy"}, None, "model.activation", ["'relu'"], "swishy"),
    ({"family": "cnn", "dropout": 1.5}, None, "model.dropout", ["between"], 1.5),
    ({"family": "cnn", "channels": [32, 64, 128]}, None, "model.channels", ["one entry per block"],
     [32, 64, 128]),
    ({"family": "cnn", "blur_kernel": 9}, None, "model.blur_kernel", ["between 1 and 7"], 9),
    ({"family": "cnn", "batch_norm": True, "order": "conv_pool_act"}, None, "model.order", ["bn"],
     "conv_pool_act"),
    ({"preset": "resnet_tiny", "padding": "valid"}, None, "model.padding", ["residual"], "valid"),
    ({"family": "rnn"}, None, "model.family", ["'cnn'", "'vit'"], "rnn"),
    ({"depth": 3}, None, "model", ["'preset'", "'family'"], {"depth": 3}),
    (42, None, "model", ["preset"], 42),
    ({"preset": "cnn_pool", "family": "mlp"}, None, "model.family", ["'cnn'"], "mlp"),
    ({"family": "vit", "heads": 5}, None, "model.heads", ["divide width=64"], 5),
    ({"preset": "mlp", "hidden": [0]}, None, "model.hidden[0]", ["between"], 0),
    ({"family": "cnn", "kernel_size": 9, "padding": "valid"}, (8, 8, 1), "model.kernel_size",
     ["8x8 feature map", "8x8x1"], 9),
    ({"preset": "cnn_pool", "depth": 6}, (28, 28, 1), "model.depth", ["28x28x1", "at most depth 4"], 6),
    ({"preset": "cnn_pool", "pool_size": 9}, (8, 8, 1), "model.pool_size", ["between 1 and 8"], 9),
    ({"preset": "cnn_pool", "pool_size": 4}, (3, 3, 1), "model.pool_size", ["3x3x1"], 4),
    ({"preset": "cnn_pool", "pooling": "blur", "pool_size": 2}, (2, 2, 1), "model.blur_kernel",
     ["2x2x1", "reflect"], 3),
    ({"preset": "vit_tiny", "patch_size": 5}, (28, 28, 1), "model.patch_size", ["28x28x1", "1, 2, 4, 7"], 5),
]


@pytest.mark.parametrize("obj, shape, field, words, received", BAD_SPECS,
                         ids=[f"{i}-{b[2]}" for i, b in enumerate(BAD_SPECS)])
def test_bad_specs_fail_clearly(obj, shape, field, words, received):
    with pytest.raises(SpecError) as info:
        if shape is None:
            resolve_model_spec(obj)
        else:
            build_model(obj, shape, 10)
    err = info.value
    assert err.field == field
    for word in words:
        assert word in str(err), (word, str(err))
    assert err.received == received


def test_error_path_names_the_document_position():
    with pytest.raises(SpecError) as info:
        resolve_model_spec({"preset": "cnn_pool", "pooling": "median"}, path="models[1]")
    assert info.value.field == "models[1].pooling"
    with pytest.raises(SpecError) as info:
        build_model({"preset": "cnn_pool", "depth": 6}, (28, 28, 1), 10, path="models[2]")
    assert info.value.field == "models[2].depth"


@pytest.mark.parametrize("kwargs, field", [
    (dict(input_shape=(28, 28), num_classes=10), "input_shape"),
    (dict(input_shape=(28, 28, 0), num_classes=10), "input_shape"),
    (dict(input_shape=(28, 28, 1), num_classes=1), "num_classes"),
    (dict(input_shape=(28, 28, 1), num_classes=10, seed=-1), "seed"),
])
def test_bad_build_arguments(kwargs, field):
    with pytest.raises(SpecError) as info:
        build_model("mlp", **kwargs)
    assert info.value.field == field


def test_create_model_with_overrides():
    model = create_model("cnn_pool", depth=3, pooling="avg", input_shape=(32, 32, 3), num_classes=5, seed=0)
    assert model.output.shape == (None, 5)
    assert model.get_layer("block3_pool").__class__.__name__ == "AveragePooling2D"
    assert model.get_layer("block3_conv1").filters == 128


def test_register_a_new_family():
    @dataclasses.dataclass(frozen=True)
    class LinearSpec:
        family: Literal["linear_test"] = "linear_test"
        preset: str | None = None

    @register_model("linear_test", spec=LinearSpec)
    def build(spec, input_shape, num_classes, *, seed=None):
        inputs = keras.Input(input_shape)
        x = keras.layers.Flatten(name="embedding")(inputs)
        return keras.Model(inputs, keras.layers.Dense(num_classes, name="logits")(x))

    try:
        model = build_model({"family": "linear_test"}, (4, 4, 1), 3)
        assert model.output.shape == (None, 3)
        assert model_label({"family": "linear_test"}) == "linear_test"
    finally:
        FAMILIES.pop("linear_test")
    with pytest.raises(TypeError):
        register_model("other", spec=LinearSpec)


@pytest.mark.parametrize("order, batch_norm, sequence", [
    ("conv_bn_act_pool", True, ["conv1", "bn1", "act1", "pool"]),
    ("conv_act_bn_pool", True, ["conv1", "act1", "bn1", "pool"]),
    ("conv_pool_bn_act", True, ["conv1", "pool", "bn1", "act1"]),
    ("conv_pool_act", False, ["conv1", "pool", "act1"]),
    ("conv_bn_act_pool", False, ["conv1", "act1", "pool"]),
])
def test_order_of_layers_is_a_lever(order, batch_norm, sequence):
    model = build_model({"family": "cnn", "depth": 1, "pooling": "avg", "order": order, "batch_norm": batch_norm},
                        (8, 8, 1), 3)
    names = [l.name.removeprefix("block1_") for l in model.layers if l.name.startswith("block1_")]
    assert names == sequence


def test_stride_padding_and_channel_levers_change_the_geometry():
    sizes = {}
    for padding in ("same", "valid", "full", "circular"):
        model = build_model({"family": "cnn", "depth": 1, "pooling": "none", "padding": padding, "kernel_size": 5,
                             "stride": 2, "channels": 6}, (28, 28, 1), 3)
        sizes[padding] = model.get_layer("block1_conv1").output.shape[1:]
    assert sizes == {"same": (14, 14, 6), "valid": (12, 12, 6), "full": (16, 16, 6), "circular": (14, 14, 6)}
