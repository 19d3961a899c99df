"""train(): determinism, the run directory, completed runs, divergence, both augmentation paths."""
import json

import numpy as np
import pandas as pd
import pytest

from invariance.data import load_dataset
from invariance.errors import InvarianceError, SpecError
from invariance.training import HISTORY_COLUMNS, TrainSpec, train

MODEL = {"preset": "cnn_pool", "channels": 4, "dense_units": 16}  # keeps the preset's dropout
FAST = {"epochs": 2, "batch_size": 32}


@pytest.fixture(scope="module")
def data():
    return load_dataset("fashion_mnist_mini")


def _weights(model):
    return [np.asarray(w) for w in model.get_weights()]


@pytest.fixture(scope="module")
def run_a(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "a"
    return train(MODEL, data, n_train=200, train=FAST, seed=1, out_dir=out, verbose=0)


def test_run_directory_contents(run_a):
    d = run_a.run_dir
    assert run_a.status == "completed" and run_a.reason is None
    assert {p.name for p in d.iterdir()} == {"model.keras", "history.csv", "metrics.json", "spec.json", "status"}
    assert (d / "status").read_text().strip() == "completed"
    history = pd.read_csv(d / "history.csv")
    assert tuple(history.columns) == HISTORY_COLUMNS and list(history["epoch"]) == [1, 2]
    metrics = json.loads((d / "metrics.json").read_text())
    for key in ("test_accuracy", "test_loss", "train_accuracy", "val_accuracy", "params", "macs", "train_seconds",
                "images_per_second", "epochs_run", "status", "reason", "backend", "device", "versions", "git_sha"):
        assert key in metrics, key
    assert metrics["n_train"] == 200 and metrics["n_fit"] == 180 and metrics["n_val"] == 20
    assert 0 <= metrics["test_accuracy"] <= 1 and metrics["epochs_run"] == 2 and metrics["params"] > 0
    # two epochs at the cap (patience 3 cannot run out): not converged; the kept weights are the best epoch's
    assert (metrics["stop_reason"], metrics["converged"], metrics["max_epochs"]) == ("cap", False, 2)
    assert metrics["best_epoch"] in (1, 2) and 0 <= metrics["val_accuracy"] <= 1
    spec = json.loads((d / "spec.json").read_text())
    assert spec["dataset"]["fingerprint"] == load_dataset("fashion_mnist_mini").fingerprint()
    assert spec["seed"] == 1 and spec["n_train"] == 200 and spec["train"]["epochs"] == 2
    assert spec["augmentation"]["kind"] == "none" and spec["model"]["channels"] == 4


def test_same_seed_is_bit_identical_and_other_seeds_differ(data, run_a):
    again = train(MODEL, data, n_train=200, train=FAST, seed=1, verbose=0)
    for a, b in zip(_weights(run_a.model), _weights(again.model)):
        np.testing.assert_array_equal(a, b)
    for key in ("test_accuracy", "test_loss", "train_loss", "val_loss"):
        assert again.metrics[key] == run_a.metrics[key]
    pd.testing.assert_frame_equal(again.history.drop(columns=["seconds", "cpu_seconds"]), run_a.history.drop(columns=["seconds", "cpu_seconds"]))
    other = train(MODEL, data, n_train=200, train=FAST, seed=2, verbose=0)
    assert not np.array_equal(_weights(other.model)[0], _weights(run_a.model)[0])
    assert other.metrics["test_loss"] != run_a.metrics["test_loss"]


def test_completed_run_is_returned_not_redone(data, run_a, monkeypatch):
    import invariance.models

    monkeypatch.setattr(invariance.models, "build_model", lambda *a, **k: pytest.fail("retrained"))
    stored = train(MODEL, data, n_train=200, train=FAST, seed=1, out_dir=run_a.run_dir, verbose=0)
    assert stored.status == "completed" and stored.metrics == json.loads((run_a.run_dir / "metrics.json").read_text())
    assert stored._model is None  # loaded lazily, on first access
    x = np.asarray(data.x_test[:8], np.float32) / 255
    np.testing.assert_allclose(stored.model.predict(x, verbose=0), run_a.model.predict(x, verbose=0), atol=1e-6)


def test_other_run_in_the_same_folder_is_refused(data, run_a):
    with pytest.raises(InvarianceError, match="holds a different run"):
        train(MODEL, data, n_train=200, train=FAST, seed=5, out_dir=run_a.run_dir, verbose=0)


@pytest.mark.parametrize("kwargs, field", [
    ({"train": {"batch_size": 0}}, "train.batch_size"),
    ({"augmentation": {"shfit": 2}}, "augmentation.shfit"),
    ({"augmentation": {"albumentations": ["Afine"]}}, "augmentation.albumentations[0]"),
    ({"n_train": 0}, "n_train"),
    ({"seed": -1}, "seed"),
    ({"model": {"preset": "cnn_pool", "pooling": "maxx"}}, "model.pooling"),
])
def test_bad_input_fails_before_writing(data, tmp_path, kwargs, field):
    model = kwargs.pop("model", MODEL)
    with pytest.raises(SpecError) as err:
        train(model, data, out_dir=tmp_path / "bad", verbose=0, **kwargs)
    assert err.value.field == field
    assert not (tmp_path / "bad").exists()


DIVERGE = {"model": {"family": "mlp", "hidden": [32], "activation": "linear"}, "n_train": 100, "seed": 0,
           "train": {"epochs": 5, "batch_size": 10, "optimizer": "sgd", "learning_rate": 10.0}}


def test_divergence_marks_the_run_failed(data, tmp_path):
    kw = dict(DIVERGE)
    result = train(kw.pop("model"), data, out_dir=tmp_path / "nan", verbose=0, **kw)
    assert result.status == "failed" and "diverged" in result.reason and result.model is None
    metrics = json.loads((tmp_path / "nan" / "metrics.json").read_text())
    assert metrics["status"] == "failed" and metrics["reason"] == result.reason and metrics["test_accuracy"] is None
    assert (metrics["stop_reason"], metrics["converged"]) == ("diverged", False)
    assert (tmp_path / "nan" / "status").read_text().strip() == "failed"
    assert not (tmp_path / "nan" / "model.keras").exists() and not (tmp_path / "nan" / "backup").exists()
    history = pd.read_csv(tmp_path / "nan" / "history.csv")
    assert not np.isfinite(history["loss"].iloc[-1])
    # finished: a rerun returns the stored failure without training
    kw = dict(DIVERGE)
    assert train(kw.pop("model"), data, out_dir=tmp_path / "nan", verbose=0, **kw).reason == result.reason


def test_early_stopping_waits_for_the_learning_rate_to_come_down(data, tmp_path):
    from invariance.training.schedule import epoch_plan

    spec = {"epochs": 40, "batch_size": 10, "learning_rate": 0.01, "early_stopping": 2, "patience_steps": 0,
            "val_fraction": 0.5, "min_delta": 0.0}
    result = train({"family": "mlp", "hidden": [64]}, data, n_train=60, seed=0, verbose=0, train=spec)
    # 30 images to fit, batch 10: 3 steps per epoch, a 40-epoch cosine (capped), warm-up 3 steps;
    # half the decay is ceil((3 + 58.5) / 3) = 21 epochs, + patience 2 = 23
    assert epoch_plan(TrainSpec(**spec), steps_per_epoch=3).earliest_stop_epochs == 23
    h = result.history
    assert int(h["val_loss"].idxmin()) + 1 + 2 < 23  # it would have stopped sooner without the wait
    assert result.metrics["epochs_run"] >= 23
    assert result.metrics["best_epoch"] == int(h["val_loss"].idxmin()) + 1
    assert result.metrics["val_loss"] == pytest.approx(h["val_loss"].min(), rel=1e-4)


def test_early_stopping_restores_the_best_epoch_and_survives_a_crash(data, tmp_path, monkeypatch):
    from invariance.training.run_dir import RunDir

    kw = dict(n_train=60, seed=0, verbose=0, out_dir=tmp_path / "es",
              train={"epochs": 40, "batch_size": 10, "learning_rate": 0.01, "early_stopping": 2, "patience_steps": 0,
                     "val_fraction": 0.5, "stop_after": 0.0,
                     "min_delta": 0.0})

    def crash(self, metrics):
        raise RuntimeError("killed before metrics.json")

    with monkeypatch.context() as m:  # dies after the last epoch's backup, before the results
        m.setattr(RunDir, "write_metrics", crash)
        with pytest.raises(RuntimeError):
            train({"family": "mlp", "hidden": [64]}, data, **kw)
    assert (tmp_path / "es" / "backup" / "state.json").is_file()
    result = train({"family": "mlp", "hidden": [64]}, data, **kw)  # resumes: must not train past the stop
    h = result.history
    best = int(h["val_loss"].idxmin())
    assert result.metrics["epochs_run"] < 40 and result.metrics["epochs_run"] == best + 3
    assert result.metrics["best_epoch"] == best + 1
    # stopped 2 epochs after its best, early in a 40-epoch cosine: noise, not convergence
    assert (result.metrics["stop_reason"], result.metrics["converged"]) == ("mid_decay", False)
    # the best epoch's weights, read back from the backup, not the last epoch's
    assert result.metrics["val_loss"] == pytest.approx(h["val_loss"][best], rel=1e-4)


@pytest.mark.parametrize("augmentation, path, twice", [
    ({"shift": 2, "rotate": 10, "path": "device"}, "device", True),
    ({"shift": 2, "rotate": 10, "path": "albumentations"}, "albumentations", False),
    ({"albumentations": [{"HorizontalFlip": {"p": 0.5}}]}, "albumentations", False),
])
def test_augmented_training_on_each_path(data, run_a, augmentation, path, twice):
    # the same subset, schedule and seed as run_a, which trained without augmentation
    kw = dict(n_train=200, train=FAST, augmentation=augmentation, seed=1, verbose=0)
    a = train(MODEL, data, **kw)
    assert a.status == "completed" and a.metrics["augmentation_path"] == path
    assert a.metrics["test_loss"] != run_a.metrics["test_loss"]
    assert [layer.name for layer in a.model.layers] == [layer.name for layer in run_a.model.layers]
    if twice:  # the albumentations batches' determinism is proven in test_augment_paths
        assert train(MODEL, data, **kw).metrics["test_loss"] == a.metrics["test_loss"]


def test_min_delta_ignores_tiny_improvements():
    from invariance.training.stopping import new_best, plateaued, stop_fields, update_best

    best = new_best()
    # 1.0 is the best; 0.9995 is below it by less than min_delta, so it waits; 0.9 counts.
    assert [update_best(best, v, e, min_delta=1e-3) for e, v in enumerate([1.0, 0.9995, 0.9, 0.8995], 1)] \
        == [True, False, True, False]
    assert (best["epoch"], best["wait"]) == (3, 1) and not plateaued(best, 2)
    update_best(best, 0.95, 5, min_delta=1e-3)
    assert plateaued(best, 2) and stop_fields("completed", best, patience=2) == {"stop_reason": "plateau",
                                                                                 "converged": True}
    assert stop_fields("completed", None, patience=None) == {"stop_reason": "cap", "converged": False}
    assert stop_fields("failed", best, patience=2) == {"stop_reason": "diverged", "converged": False}


def test_epoch_order_of_several_passes():
    from invariance.training.trainer import epoch_order

    one = epoch_order(30, seed=4, epoch=2)
    three = epoch_order(30, seed=4, epoch=2, passes=3)
    assert np.array_equal(three[:30], one)  # the first pass is the one-pass epoch's order
    assert all(sorted(three[i * 30:(i + 1) * 30]) == list(range(30)) for i in range(3))
    assert not np.array_equal(three[:30], three[30:60])
    assert np.array_equal(three, epoch_order(30, seed=4, epoch=2, passes=3))  # seeded
    assert not np.array_equal(three, epoch_order(30, seed=4, epoch=3, passes=3))


def test_min_epoch_steps_makes_an_epoch_of_several_passes(data):
    spec = {"epochs": 2, "batch_size": 50, "min_epoch_steps": 10, "schedule": "none", "early_stopping": None}
    result = train({"family": "mlp", "hidden": [16]}, data, n_train=200, seed=0, verbose=0, train=spec)
    # 180 images to fit, batch 50: 4 steps a pass; 3 passes (540 images) make the 10 steps
    assert result.metrics["epoch_passes"] == 3 and result.metrics["epochs_run"] == 2
    again = train({"family": "mlp", "hidden": [16]}, data, n_train=200, seed=0, verbose=0, train=spec)
    assert all(np.array_equal(a, b) for a, b in zip(_weights(result.model), _weights(again.model)))
    one_pass = train({"family": "mlp", "hidden": [16]}, data, n_train=200, seed=0, verbose=0,
                     train={**spec, "min_epoch_steps": 1})
    assert one_pass.metrics["epoch_passes"] == 1
    assert not all(np.array_equal(a, b) for a, b in zip(_weights(result.model), _weights(one_pass.model)))
