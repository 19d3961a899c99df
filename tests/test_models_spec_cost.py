"""The keras-free cost of a zoo spec equals model_cost of the model it builds, for every preset
and a table of overrides that touches each family's options; and it needs no keras."""
import subprocess
import sys

import keras
import pytest

from invariance.errors import SpecError
from invariance.models import FAMILIES, PRESETS, build_model, model_cost, resolve_model_spec
from invariance.models.spec_cost import SPEC_COSTS, spec_cost

SHAPES = [(28, 28, 1), (40, 40, 1), (32, 32, 3)]

# (model, input shape): each family option that changes a layer's shape or count, at least once.
OVERRIDES = [
    ({"preset": "cnn_pool", "batch_norm": True}, (40, 40, 1)),
    ({"preset": "cnn_pool", "batch_norm": True, "order": "conv_act_bn_pool"}, (28, 28, 1)),
    ({"preset": "cnn_pool", "channels": 16, "batch_norm": True, "head": "gap", "dense_units": 128}, (40, 40, 1)),
    ({"preset": "cnn_pool", "pooling": "none", "stride": 2, "batch_norm": True}, (40, 40, 1)),
    ({"preset": "cnn_pool", "pooling": "blur", "blur_kernel": 5}, (36, 36, 1)),
    ({"preset": "cnn_pool", "pooling": "blur", "blur_kernel": 3, "pool_stride": 1}, (28, 28, 1)),
    ({"preset": "cnn_pool", "pooling": "avg", "pool_size": 3, "pool_stride": 2}, (28, 28, 1)),
    ({"preset": "cnn_pool", "padding": "valid", "kernel_size": 5}, (28, 28, 1)),
    ({"preset": "cnn_pool", "padding": "full", "kernel_size": 5, "stride": 2}, (28, 28, 1)),
    ({"preset": "cnn_pool", "padding": "circular", "kernel_size": 4}, (28, 28, 1)),
    ({"preset": "cnn_pool", "depth": 3, "channels": [8, 8, 16], "dense_units": [64, 32], "dropout": 0.2}, (28, 28, 1)),
    ({"preset": "cnn_pool", "head": "gmp", "dense_units": 0, "batch_norm": True, "order": "conv_pool_bn_act"},
     (28, 28, 1)),
    ({"preset": "cnn_pool", "pooling": "aps", "padding": "circular", "head": "gap"}, (40, 40, 1)),
    ({"preset": "cnn_pool", "pooling": "aps_blur", "blur_kernel": 5}, (30, 30, 1)),
    ({"preset": "cnn_pool", "pooling": "aps_l1"}, (28, 28, 1)),
    ({"preset": "cnn_pool", "pooling": "aps_blur_l1", "pool_size": 3, "pool_stride": 3}, (28, 28, 1)),
    ({"preset": "cnn_pool", "residual": True, "convs_per_block": 2, "batch_norm": True}, (28, 28, 1)),
    ({"preset": "cnn_pool", "residual": True, "stride": 2, "pooling": "none", "channels": [8, 8], "depth": 2},
     (28, 28, 1)),
    ({"family": "gcnn", "padding": "valid", "pooling": "none", "depth": 2, "channels": 6}, (28, 28, 1)),
    ({"family": "gcnn", "padding": "circular", "batch_norm": True, "dense_units": 32, "convs_per_block": 2},
     (40, 40, 1)),
    ({"family": "gcnn", "kernel_size": 5, "pooling": "avg", "head": "gmp", "group_pool": "mean"}, (28, 28, 3)),
    ({"family": "mlp", "hidden": [], "dropout": 0.1}, (28, 28, 1)),
    ({"family": "mlp", "hidden": [64, 32], "batch_norm": True}, (32, 32, 3)),
    ({"family": "vit", "pool": "gap", "patch_size": 7, "heads": 2, "mlp_ratio": 1.5, "dropout": 0.1}, (28, 28, 1)),
    ({"family": "vit", "width": 48, "depth": 2, "heads": 3, "patch_size": 8}, (32, 32, 3)),
]


def _fits(spec, shape) -> bool:
    try:
        spec_cost(spec, shape, 10)
    except SpecError:
        return False
    return True


CASES = [pytest.param(name, shape, id=f"{name}-{'x'.join(map(str, shape))}")
         for name in PRESETS for shape in SHAPES if _fits(PRESETS[name], shape)]
CASES += [pytest.param(model, shape, id=f"override{i}") for i, (model, shape) in enumerate(OVERRIDES)]


@pytest.mark.parametrize("model, shape", CASES)
def test_spec_cost_equals_the_built_models_cost(model, shape):
    spec = resolve_model_spec(model)
    built = build_model(spec, shape, 10, seed=0)
    try:
        assert spec_cost(spec, shape, 10) == model_cost(built)
    finally:
        del built
        keras.backend.clear_session()


def test_every_preset_is_checked_on_some_input_and_every_family_has_a_cost():
    checked = {p.values[0] for p in CASES if isinstance(p.values[0], str)}
    assert checked == set(PRESETS)
    assert set(SPEC_COSTS) == set(FAMILIES)


@pytest.mark.parametrize("model, shape, field", [
    ({"preset": "cnn_pool", "depth": 6}, (28, 28, 1), "depth"),
    ({"preset": "vit_tiny", "patch_size": 5}, (28, 28, 1), "patch_size"),
    ({"family": "gcnn"}, (28, 32, 1), "input_shape"),
])
def test_a_spec_that_does_not_fit_fails_as_the_builder_does(model, shape, field):
    spec = resolve_model_spec(model)
    with pytest.raises(SpecError) as counted:
        spec_cost(spec, shape, 10)
    with pytest.raises(SpecError) as built:
        build_model(spec, shape, 10)
    assert str(counted.value) == str(built.value) and field in str(counted.value)


def test_a_family_without_an_entry_is_left_to_the_caller():
    class Other:
        family = "someone_elses"

    assert spec_cost(Other(), (28, 28, 1), 10) is None


def test_spec_cost_needs_no_keras():
    code = ("import sys\nfrom invariance.models import resolve_model_spec\n"
            "from invariance.models.spec_cost import spec_cost\n"
            "print(spec_cost(resolve_model_spec('cnn_pool'), (28, 28, 1), 10)['macs'], 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[1] == "False" and int(out[0]) > 0
