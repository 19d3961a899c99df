"""Tiny real studies: the results layout, resume without retraining, failures, --fresh."""
import json
import shutil

import pandas as pd
import pytest

from invariance.study import run_study
from invariance.results import HARNESS_COLUMNS, KEY_COLUMNS, RUN_COLUMNS
from study_helpers import tiny_study

MLP = {"preset": "mlp", "hidden": [16]}
STUDY = tiny_study("runner", models=[MLP, {"preset": "cnn_pool", "channels": 4, "dense_units": 16}])


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    summary = run_study(STUDY, out_dir=out, progress=False, post=False)
    return out / "runner", summary


def test_layout_and_tables(done):
    study_dir, summary = done
    assert summary.ok and summary.total == summary.completed == summary.ran == 2
    for name in ("study.yaml", "manifest.json", "runs.csv", "invariance.csv"):
        assert (study_dir / name).is_file(), name
    assert not (study_dir / ".lock").exists()
    manifest = json.loads((study_dir / "manifest.json").read_text())
    assert {"provenance", "started", "finished", "counts", "dataset", "runs"} <= set(manifest)
    assert manifest["counts"] == {"total": 2, "completed": 2, "failed": 0, "pending": 0}
    assert manifest["provenance"]["backend"] and "versions" in manifest["provenance"]

    runs = pd.read_csv(study_dir / "runs.csv")
    assert list(runs.columns) == list(RUN_COLUMNS)
    assert list(runs["model"]) == ["mlp[hidden=16]", "cnn_pool[channels=4,dense_units=16]"]  # study order
    assert set(runs["status"]) == {"completed"} and (runs["n_train"] == 200).all()
    assert runs["test_accuracy"].between(0, 1).all() and (runs["params"] > 0).all()
    # how each run ended: the convergence fields of the issue, from the trainer's metrics.json
    for column in ("epochs_run", "best_epoch", "stop_reason", "converged", "train_accuracy", "val_accuracy"):
        assert runs[column].notna().all(), column
    assert set(runs["stop_reason"]) <= {"plateau", "mid_decay", "cap"}
    assert (runs["converged"] == (runs["stop_reason"] == "plateau")).all()
    assert (runs["best_epoch"] <= runs["epochs_run"]).all()
    for run_id in runs["run_id"]:
        run_dir = study_dir / "runs" / run_id
        for name in ("model.keras", "metrics.json", "history.csv", "run.json", "invariance.csv", "status.json"):
            assert (run_dir / name).is_file(), name

    inv = pd.read_csv(study_dir / "invariance.csv", keep_default_na=False, na_values=[""])
    assert list(inv.columns) == list(KEY_COLUMNS) + list(HARNESS_COLUMNS)
    assert list(dict.fromkeys(inv["run_id"])) == list(runs["run_id"])
    assert {"clean", "dx", "angle"} <= set(inv["sweep"])
    assert len(inv[(inv["sweep"] == "dx") & (inv["metric"] == "accuracy")]) == 2 * 3  # 3-point sweep per run
    assert not list(study_dir.rglob(".*.tmp*")), "no temporary files are left behind"


def test_rerun_does_nothing_and_rewrites_the_same_tables(done):
    study_dir, _ = done
    before = {p: (study_dir / p).read_bytes() for p in ("runs.csv", "invariance.csv")}
    metrics = {p: p.stat().st_mtime_ns for p in study_dir.glob("runs/*/metrics.json")}
    summary = run_study(STUDY, out_dir=study_dir.parent, progress=False, post=False)
    assert summary.ran == 0 and summary.skipped == 2 and summary.ok
    assert {p: (study_dir / p).read_bytes() for p in before} == before
    assert {p: p.stat().st_mtime_ns for p in study_dir.glob("runs/*/metrics.json")} == metrics


def test_changed_evaluation_re_evaluates_without_retraining(done, tmp_path):
    study_dir, _ = done
    metrics = {p: p.stat().st_mtime_ns for p in study_dir.glob("runs/*/metrics.json")}
    changed = dict(STUDY, evaluate={"samples": 50, "sweeps": {"scale": [0.9, 1.1]}})
    summary = run_study(changed, out_dir=study_dir.parent, progress=False, post=False)
    assert summary.ran == 2 and summary.ok
    assert {p: p.stat().st_mtime_ns for p in study_dir.glob("runs/*/metrics.json")} == metrics
    inv = pd.read_csv(study_dir / "invariance.csv")
    assert "scale" in set(inv["sweep"]) and "dx" not in set(inv["sweep"])
    run_study(STUDY, out_dir=study_dir.parent, progress=False, post=False)  # back, for the other tests


def test_failed_run_is_recorded_and_the_others_go_on(tmp_path, monkeypatch):
    import invariance.training as training

    real = training.train

    def flaky(model, *args, **kwargs):
        if getattr(model, "family", "") == "mlp":
            raise RuntimeError("boom")
        return real(model, *args, **kwargs)

    monkeypatch.setattr(training, "train", flaky)
    summary = run_study(STUDY, out_dir=tmp_path, progress=False, post=False)
    assert not summary.ok and summary.completed == 1
    assert [f["model"] for f in summary.failed] == ["mlp[hidden=16]"]
    assert "train: RuntimeError: boom" in summary.failed[0]["reason"]
    runs = pd.read_csv(tmp_path / "runner" / "runs.csv")
    assert list(runs["status"]) == ["failed", "completed"]
    failed_dir = tmp_path / "runner" / "runs" / runs["run_id"][0]
    assert "boom" in (failed_dir / "error.txt").read_text()
    assert not (failed_dir / "invariance.csv").exists()

    # A rerun keeps the failure (no retraining) unless asked to retry it.
    monkeypatch.setattr(training, "train", real)
    again = run_study(STUDY, out_dir=tmp_path, progress=False, post=False)
    assert again.ran == 0 and len(again.failed) == 1
    retried = run_study(STUDY, out_dir=tmp_path, progress=False, post=False, retry_failed=True)
    assert retried.ran == 1 and retried.ok


def test_fresh_starts_over(done, tmp_path):
    study_dir, _ = done
    copy = tmp_path / "runner"
    shutil.copytree(study_dir, copy)
    (copy / "stale.txt").write_text("old")
    summary = run_study(dict(STUDY, models=[MLP]), out_dir=tmp_path, progress=False, post=False, fresh=True)
    assert summary.ran == 1 and summary.ok
    assert not (copy / "stale.txt").exists()
    assert not list(copy.glob(".trash-*"))
    assert len(list(copy.glob("runs/*"))) == 1


def test_report_failure_keeps_the_results(done, monkeypatch):
    import invariance.study.runner as runner

    study_dir, _ = done
    calls = []

    def broken(where):
        calls.append(where)
        raise RuntimeError("plotting bug")

    monkeypatch.setattr(runner, "_call_curves", broken)
    monkeypatch.setattr(runner, "_call_report", broken)
    summary = run_study(STUDY, out_dir=study_dir.parent, progress=False)
    assert summary.completed == 2 and not summary.failed and not summary.ok
    assert summary.errors == ["report failed: RuntimeError: plotting bug"]  # no curves: a single n_train
    assert calls == [study_dir]
    assert len(pd.read_csv(study_dir / "runs.csv")) == 2


def test_worker_environment_caps_threads_and_keeps_the_backend():
    import keras

    from invariance.study.executors import EXECUTORS, worker_env

    env = worker_env(1)
    assert env["KERAS_BACKEND"] == keras.backend.backend()
    assert env["TF_NUM_INTRAOP_THREADS"] == env["OMP_NUM_THREADS"] == "1"
    assert "intra_op_parallelism_threads=1" in env["XLA_FLAGS"]
    assert {"local", "ray"} <= set(EXECUTORS)


def test_a_study_with_excluded_cells_runs_to_its_report(tmp_path):
    # one model without the augmentation the other has, at two sizes: tables, curves, figures and
    # the report must cope with a grid that is not a full product
    study = tiny_study("holes", models=[MLP, {"preset": "cnn_pool", "channels": 4, "dense_units": 16}],
                       augmentation=["none", {"name": "geo", "shift": 2}], n_train=[100, 200],
                       exclude=[{"model": "mlp[hidden=16]", "augmentation": "geo"}])
    summary = run_study(study, out_dir=tmp_path, progress=False)
    assert summary.ok and summary.total == summary.completed == 6, summary.errors
    runs = pd.read_csv(tmp_path / "holes" / "runs.csv")
    assert not ((runs["model"] == "mlp[hidden=16]") & (runs["augmentation"] == "geo")).any()
    assert (tmp_path / "holes" / "report.html").is_file()
