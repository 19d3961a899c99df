"""Grid expansion rules, run ids (stable, order-free, sensitive), and every shipped study."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from invariance.study import expand_runs, load_study
from study_helpers import tiny_study

FP = "f" * 64
STUDIES = sorted((Path(__file__).resolve().parents[1] / "studies").glob("**/*.yaml"))


def labels(study, what="models"):
    from invariance.study.expand import expand_entries

    return [e.label for e in expand_entries(load_study(study))[what]]


def test_runs_are_the_product_in_order():
    study = tiny_study(models=["mlp", "cnn_pool"], augmentation=["none", {"shift": 2}], n_train=[100, 200],
                       seeds=[0, 1])
    runs = expand_runs(load_study(study), FP)
    assert len(runs) == 2 * 2 * 2 * 2
    assert [r.index for r in runs] == list(range(16))
    assert (runs[0].label, runs[0].augmentation_label, runs[0].n_train, runs[0].seed) == ("mlp", "none", 100, 0)
    assert (runs[1].n_train, runs[1].seed) == (100, 1)
    assert runs[-1].label == "cnn_pool" and runs[-1].augmentation_label.startswith("geometric")
    assert len({r.run_id for r in runs}) == 16


def test_list_for_a_single_valued_field_is_a_grid():
    assert labels(tiny_study(models=[{"preset": "cnn_pool", "depth": [1, 2, 3]}])) == \
        ["cnn_pool[depth=1]", "cnn_pool", "cnn_pool[depth=3]"]


def test_list_for_a_list_valued_field_is_one_value():
    runs = expand_runs(load_study(tiny_study(models=[{"preset": "cnn_pool", "channels": [16, 48]}])), FP)
    assert len(runs) == 1 and runs[0].model.channels == (16, 48)


def test_list_of_lists_is_a_grid_of_lists():
    runs = expand_runs(load_study(tiny_study(models=[{"preset": "cnn_pool", "channels": [[8, 16], [16, 32]]}])), FP)
    assert [r.model.channels for r in runs] == [(8, 16), (16, 32)]


def test_explicit_grid_key_and_names():
    study = tiny_study(models=[{"name": "cnn", "preset": "cnn_pool", "pooling": ["max", "blur"],
                                "grid": {"channels": [[8, 16], [16, 32]]}}])
    assert labels(study) == ["cnn[pooling=max,channels=8-16]", "cnn[pooling=max,channels=16-32]",
                             "cnn[pooling=blur,channels=8-16]", "cnn[pooling=blur,channels=16-32]"]


def test_preset_list_expands():
    assert labels(tiny_study(models=[{"preset": ["cnn_pool", "cnn_nopool"], "depth": 1}])) == \
        ["cnn_pool[depth=1]", "cnn_nopool[depth=1]"]


def test_augmentation_lists_are_ranges_unless_under_grid():
    study = tiny_study(augmentation=[{"name": "geo", "scale": [0.8, 1.2]},
                                     {"name": "shift", "grid": {"shift": [2, 4]}}])
    runs = expand_runs(load_study(study), FP)
    assert [r.augmentation_label for r in runs] == ["geo", "shift[shift=2]", "shift[shift=4]"]
    assert runs[0].augmentation.geometric.scale == (0.8, 1.2)


def test_train_grid_labels_the_model_column():
    runs = expand_runs(load_study(tiny_study(train={"epochs": 1, "learning_rate": [0.001, 0.01]})), FP)
    assert [r.train.learning_rate for r in runs] == [0.001, 0.01]
    assert [r.key()["model"] for r in runs] == ["cnn_pool[channels=4,dense_units=16] (learning_rate=0.001)",
                                                "cnn_pool[channels=4,dense_units=16] (learning_rate=0.01)"]


def test_step_budget_sets_epochs_per_size():
    study = load_study(tiny_study(train={"steps": 40, "min_epochs": 2, "max_epochs": 30, "batch_size": 50,
                                         "val_fraction": 0.1},
                                  n_train=[100, 1000, 6000, None]))
    runs = expand_runs(study, FP, n_total=6000)
    # n_fit = n - 10%: 90 -> 2 steps/epoch -> 20 epochs; 900 -> 18 -> 3; 5400 -> 108 -> 1, floored to 2
    assert [r.train.epochs for r in runs] == [20, 3, 2, 2]
    # the cosine of the default recipe decays over the budget
    assert [r.train.decay_steps for r in runs] == [40] * 4
    assert runs[2].run_id == expand_runs(load_study(tiny_study(
        train={"epochs": 2, "batch_size": 50, "decay_steps": 40}, n_train=[6000])), FP)[0].run_id
    with pytest.raises(Exception, match="null"):
        expand_runs(study, FP)


def _first_id(model, **train):
    study = tiny_study(models=[model], n_train=[100], seeds=[0], train={"epochs": 1, "batch_size": 50, **train})
    return expand_runs(load_study(study), FP)[0]


def test_run_id_is_stable_across_added_train_options():
    # The id of this run before decay_passes and precise_bn existed: finished folders keep their ids.
    assert _first_id("cnn_pool").run_id == "c70bfc1b6e44"
    bn = {"preset": "cnn_pool", "batch_norm": True}
    for option in _added_train_options():  # each one, set, retrains a model it can affect
        assert _first_id(bn).run_id != _first_id(bn, **{option: 70}).run_id, option
    # precise_bn cannot change a model without batch norm: its id stays whatever the value
    assert _first_id("cnn_pool", precise_bn=70).run_id == _first_id("cnn_pool", precise_bn=0).run_id == "c70bfc1b6e44"
    # with batch norm, the default (on) is a new id, and precise_bn: 0 hashes as before it existed
    assert "precise_bn" in _first_id(bn).to_dict()["train"]
    assert "precise_bn" not in _first_id(bn, precise_bn=0).to_dict()["train"]


def _added_train_options():
    from invariance.study.expand import _ADDED_TRAIN_OPTIONS

    return sorted(_ADDED_TRAIN_OPTIONS)


def test_run_id_ignores_key_order_and_spelling():
    a = tiny_study(models=[{"preset": "cnn_pool", "depth": 2, "pooling": "max"}],
                   train={"epochs": 1, "batch_size": 50})
    b = tiny_study(models=[{"pooling": "max", "depth": 2, "preset": "cnn_pool"}],  # cnn_pool's own values
                   train={"batch_size": 50, "epochs": 1})
    assert expand_runs(load_study(a), FP)[0].run_id == expand_runs(load_study(b), FP)[0].run_id
    assert expand_runs(load_study(tiny_study(models=["cnn_pool"])), FP)[0].run_id == \
        expand_runs(load_study(a), FP)[0].run_id


@pytest.mark.parametrize("change", [
    {"models": [{"preset": "cnn_pool", "depth": 3}]},
    {"augmentation": [{"shift": 1}]},
    {"train": {"epochs": 2, "batch_size": 50}},
    {"n_train": [201]},
    {"seeds": [1]},
])
def test_run_id_changes_with_every_input(change):
    base = expand_runs(load_study(tiny_study()), FP)[0].run_id
    assert expand_runs(load_study(tiny_study(**change)), FP)[0].run_id != base
    assert expand_runs(load_study(tiny_study()), "0" * 64)[0].run_id != base


def test_run_id_does_not_depend_on_evaluation():
    a = expand_runs(load_study(tiny_study()), FP)[0].run_id
    b = expand_runs(load_study(tiny_study(evaluate={"samples": 10, "sweeps": {"dx": [1]}})), FP)[0].run_id
    assert a == b


def test_run_id_is_stable_across_processes():
    code = ("import json, sys; from invariance.study import expand_runs, load_study; "
            "print(json.dumps([r.run_id for r in expand_runs(load_study(json.loads(sys.argv[1])), sys.argv[2])]))")
    study = tiny_study(models=["mlp", {"preset": "cnn_pool", "depth": [1, 2]}], seeds=[0, 1])
    here = [r.run_id for r in expand_runs(load_study(study), FP)]
    out = subprocess.run([sys.executable, "-c", code, json.dumps(study), FP], capture_output=True, text=True,
                         check=True, env={"PYTHONHASHSEED": "123", **__import__("os").environ})
    assert json.loads(out.stdout.strip().splitlines()[-1]) == here
    assert all(len(r) == 12 and int(r, 16) >= 0 for r in here)


def test_shipped_studies_exist():
    names = {p.stem for p in STUDIES}
    assert {"quickstart", "pooling_depth", "augmentation", "levers", "architectures"} <= names


@pytest.mark.parametrize("path", STUDIES, ids=[p.stem for p in STUDIES])
def test_every_shipped_study_loads_and_expands(path):
    text = path.read_text()
    assert text.lstrip().startswith("#"), "each study starts with a comment saying what it shows"
    study = load_study(path)
    runs = expand_runs(study, FP)
    assert runs and len({r.run_id for r in runs}) == len(runs)
    assert len({(r.label, r.augmentation_label, r.n_train, r.seed) for r in runs}) == len(runs)


def test_exclude_leaves_out_the_matching_cells_and_keeps_the_other_ids():
    base = dict(models=["mlp", "cnn_pool"], augmentation=["none", {"name": "geo", "shift": 2}],
                n_train=[100, 200], seeds=[0, 1])
    full = expand_runs(load_study(tiny_study(**base)), FP)
    cut = expand_runs(load_study(tiny_study(**base, exclude=[{"model": "mlp", "augmentation": "geo"},
                                                             {"model": "cnn_pool", "n_train": 100}])), FP)
    cells = {(r.label, r.augmentation_label, r.n_train) for r in cut}
    assert cells == {("mlp", "none", 100), ("mlp", "none", 200), ("cnn_pool", "none", 200), ("cnn_pool", "geo", 200)}
    assert len(cut) == 4 * 2 and [r.index for r in cut] == list(range(8))
    # a run's id depends on what it is, not on what else the study runs
    assert {r.run_id for r in cut} <= {r.run_id for r in full}


@pytest.mark.parametrize("exclude, path, words", [
    ([{"model": "vit_tiny"}], "exclude[0].model", "must be one of the study's model values: mlp, cnn_pool"),
    ([{"augmentation": "none", "n_train": 300}], "exclude[0].n_train", "n_train values: 100, 200"),
    ([{"seed": 0}], "exclude[0]", "'model', 'augmentation', 'n_train'"),
    (["mlp"], "exclude[0]", "must be a mapping"),
    ([{"n_train": 100}, {"n_train": 200}], "exclude", "leaves no run"),
])
def test_bad_excludes_name_the_field(exclude, path, words):
    from invariance.errors import SpecError

    study = tiny_study(models=["mlp", "cnn_pool"], n_train=[100, 200], exclude=exclude)
    with pytest.raises(SpecError) as err:
        expand_runs(load_study(study), FP)
    assert path in str(err.value) and words in str(err.value)
