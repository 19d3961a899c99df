"""A table of malformed studies: each fails up front, naming the YAML path, what is allowed and
what was received, and nothing is written."""
import pytest

from invariance.errors import SpecError
from invariance.study import load_study, run_study
from study_helpers import set_path, tiny_study

BASE = tiny_study(models=["mlp", {"preset": "cnn_pool", "depth": [1, 2]}],
                  augmentation=["none", {"shift": 2}])

# (path to change, new value, expected error path, fragment of the rule, fragment of the received value)
MALFORMED = [
    ("name", "Bad Name", "name", "[a-z0-9_-]+", "'Bad Name'"),
    ("modles", ["mlp"], "modles", "allowed keys are name, dataset, models", "['mlp']"),
    ("dataset", "fashion", "dataset", "'fashion_mnist_mini'", "'fashion'"),
    ("dataset", "npz:/no/such/file.npz", "dataset", "npz:PATH must name an existing .npz file",
     "'npz:/no/such/file.npz'"),
    ("canvas", 0, "canvas", "positive integer", "0"),
    ("models", [], "models", "at least one model", "[]"),
    ("models[0]", "cnn_poo", "models[0]", "'cnn_pool'", "'cnn_poo'"),
    ("models[1].pooling", "maxx", "models[1].pooling", "'max'", "'maxx'"),
    ("models[1].depth", [1, 99], "models[1].depth[1]", "between 1 and 6", "99"),
    ("models[1].dept", 3, "models[1].dept", "allowed keys are", "3"),
    ("models[1].preset", "resnet", "models[1].preset", "'resnet_tiny'", "'resnet'"),
    ("models[1].grid", [1, 2], "models[1].grid", "must map field names to lists of values", "[1, 2]"),
    ("models[1]", {"preset": "cnn_pool", "grid": {"channels": [[8, 16], [8]]}}, "models[1].grid.channels[1]",
     "one entry per block", "[8]"),
    ("models[1].name", "", "models[1].name", "non-empty string", "''"),
    ("models[2]", "mlp", "models[2]", "same spec as models[0]", "'mlp'"),
    ("augmentation[1].rotat", 10, "augmentation[1].rotat", "allowed keys are", "10"),
    ("augmentation[1]", {"albumentations": ["HorizontalFlipp"]}, "augmentation[1].albumentations[0]",
     "HorizontalFlip", "HorizontalFlipp"),
    ("augmentation[1].shift", "far", "augmentation[1].shift", "number", "'far'"),
    ("train.epochs", "ten", "train.epochs", "integer", "'ten'"),
    ("train.lr", 0.1, "train.lr", "allowed keys are", "0.1"),
    ("train.batch_size", 0, "train.batch_size", "between 1 and 65536", "0"),
    ("train.steps", "many", "train.steps", "integer", "'many'"),
    ("train.max_epochs", 5, "train.max_epochs", "only applies with train.steps", "5"),
    ("n_train", [0], "n_train[0]", "positive integer or null", "0"),
    ("n_train", ["many"], "n_train[0]", "integer", "'many'"),
    ("n_train", [200, 200], "n_train[1]", "repeats n_train[0]", "200"),
    ("seeds", [-1], "seeds[0]", ">= 0", "-1"),
    ("seeds", [0, 0], "seeds[1]", "repeats seeds[0]", "0"),
    ("evaluate.samples", 0, "evaluate.samples", ">= 1", "0"),
    ("evaluate.sweeps", {"dz": "-2:2:1"}, "evaluate.sweeps.dz", "'dx'", "'dz'"),
    ("evaluate.sweeps.dx", "-8:8:0", "evaluate.sweeps.dx", "step must not be 0", "'-8:8:0'"),
    ("evaluate.sweeps.scale", "-1:1:1", "evaluate.sweeps.scale", "scale values must be > 0", "'-1:1:1'"),
    ("evaluate.grids", {"clean": {"dx": 1}}, "evaluate.grids.clean", "'clean'", "'clean'"),
    ("evaluate.metrics", ["accuracy", "bogus"], "evaluate.metrics[1]", "'consistency'", "'bogus'"),
    ("evaluate.fill", "mirror", "evaluate.fill", "'constant'", "'mirror'"),
    ("evaluate.random_k", {"k": 0}, "evaluate.random_k.k", "between 1 and", "0"),
    ("execution.executor", "slurm", "execution.executor", "'local'", "'slurm'"),
]


@pytest.mark.parametrize("path, value, field, rule, received", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_study_names_path_rule_and_value(path, value, field, rule, received, tmp_path):
    bad = set_path(BASE, path, value)
    with pytest.raises(SpecError) as err:
        run_study(bad, out_dir=tmp_path / "out", progress=False)
    message = str(err.value)
    assert err.value.field == field, message
    assert rule in message, message
    assert received in message, message
    assert not (tmp_path / "out").exists(), "nothing may be written before validation passes"


def test_table_is_large_enough():
    assert len(MALFORMED) >= 20


def test_base_study_is_valid():
    load_study(BASE)


def test_data_size_errors_come_before_anything_is_written(tmp_path):
    for n_train, field in (([10 ** 7], "n_train[0]"), ([6000, None], "n_train[1]")):
        with pytest.raises(SpecError) as err:
            run_study(tiny_study(n_train=n_train), out_dir=tmp_path / "out", progress=False)
        assert err.value.field == field
    with pytest.raises(SpecError) as err:
        run_study(tiny_study(evaluate={"samples": 10 ** 6}), out_dir=tmp_path / "out", progress=False)
    assert err.value.field == "evaluate.samples"
    assert not (tmp_path / "out").exists()
