"""The study cost estimate (``--dry-run``): the measured cost table and its MAC-model fallback."""
from __future__ import annotations

import json
import math

import pytest

from invariance.study import estimate as E

COST = {"train_macs_per_second": 1e9, "eval_macs_per_second": 1e10, "per_train_step": 0.01,
        "per_eval_batch": 0.02, "per_run": 2.0, "eval_batch_size": 500}
TABLE = {
    "format": 1, "basis": "test table", "backend": "tensorflow", "device": "cpu (2 cores, x86_64)", "batch_size": 100,
    "cost": COST, "augmentation": {"device": 1.5},
    "models": {"cnn_pool": {"k": 0.001, "alpha": 1.0, "n_max": 10000, "per_run": 3.0, "predict_fixed": 0.5,
                            "predict_per_image": 1e-4, "eval_fixed": 0.25, "eval_per_pair": 1e-5, "macs": 4e6}},
}


def test_epoch_seconds_power_law_then_linear_beyond_the_measured_sizes():
    m = E.ModelCost(k=2.0, alpha=0.5, per_run=0, predict_per_image=0, eval_per_pair=0, n_max=100)
    assert m.epoch_seconds(25) == pytest.approx(10.0)
    assert m.epoch_seconds(100) == pytest.approx(20.0)
    assert m.epoch_seconds(400) == pytest.approx(80.0)  # 20 s at 100, then linear in n
    assert E.ModelCost(k=1.0, alpha=0.5, per_run=0, predict_per_image=0, eval_per_pair=0).epoch_seconds(400) == 20.0


def test_table_run_seconds_known_answer():
    table = E.CostTable.from_dict(TABLE)
    seconds = table.run_seconds(model="cnn_pool", macs=4e6, n_fit=2000, n_predicted=3000, epochs=3, batch_size=100,
                                pairs=10000)
    # 3 + 3 epochs x 0.001 x 2000 + (0.5 + 3000e-4) + (0.25 + 10000e-5)
    assert seconds == pytest.approx(3 + 6 + 0.8 + 0.35)
    slower = table.run_seconds(model="cnn_pool", macs=4e6, n_fit=2000, n_predicted=3000, epochs=3, batch_size=100,
                               pairs=10000, augmentation_path="device")
    assert slower - seconds == pytest.approx(3.0)  # the epochs x 1.5


def test_models_not_in_the_table_and_other_batch_sizes_use_the_mac_model():
    table = E.CostTable.from_dict(TABLE)
    cost = E.CostModel(**COST)
    kwargs = dict(macs=4e6, n_fit=2000, n_predicted=3000, epochs=3, pairs=10000)
    expected = E.run_seconds(macs=4e6, n=2000, epochs=3, batch_size=100, points=10000, samples=1, n_all=3000,
                             cost=cost)
    assert table.run_seconds(model="mlp", batch_size=100, **kwargs) == pytest.approx(expected)
    expected_64 = E.run_seconds(macs=4e6, n=2000, epochs=3, batch_size=64, points=10000, samples=1, n_all=3000,
                                cost=cost)
    assert table.run_seconds(model="cnn_pool", batch_size=64, **kwargs) == pytest.approx(expected_64)
    steps = math.ceil(2000 / 100)
    assert expected == pytest.approx(2.0 + 3 * (steps * 0.01 + 2000 * 4e6 / 1e9) + 3000 * 4e6 / 1e10
                                     + math.ceil(10000 / 500) * 0.02 + 10000 * 4e6 / 1e10)


def test_flat_cost_model_file_still_reads(tmp_path, monkeypatch):
    path = tmp_path / "cost.json"
    path.write_text(json.dumps(COST))
    monkeypatch.setenv("INVARIANCE_COST_MODEL", str(path))
    table = E.load_cost_table(backend="jax", device="gpu:0")
    assert table.models == {} and table.cost.per_run == 2.0
    assert E.load_cost_model().per_train_step == 0.01


def test_shipped_table_is_used_only_on_its_backend_and_kind_of_device(tmp_path, monkeypatch):
    path = tmp_path / "cost_model.json"
    path.write_text(json.dumps(TABLE))
    monkeypatch.delenv("INVARIANCE_COST_MODEL", raising=False)
    monkeypatch.setattr(E, "COST_TABLE_FILE", path)
    assert "cnn_pool" in E.load_cost_table(backend="tensorflow", device="cpu (16 cores, x86_64)").models
    assert E.load_cost_table(backend="jax", device="cpu (2 cores, x86_64)").cost == E.DEFAULT_COST
    assert E.load_cost_table(backend="tensorflow", device="gpu:0 (NVIDIA H100)").cost == E.DEFAULT_COST
    path.write_text("{not json")
    assert E.load_cost_table(backend="tensorflow", device="cpu").cost == E.DEFAULT_COST  # damaged: fall back


def test_shipped_cost_table_parses():
    if not E.COST_TABLE_FILE.is_file():
        pytest.skip("no cost_model.json shipped")
    data = json.loads(E.COST_TABLE_FILE.read_text())
    table = E.CostTable.from_dict(data)
    assert {"mlp", "cnn_pool"} <= set(table.models)
    assert table.backend and table.device and table.batch_size
    for label, m in table.models.items():
        assert m.k > 0 and m.per_run >= 0, label
        assert m.epoch_seconds(54000) > m.epoch_seconds(1000) > 0, label


def test_estimate_study_uses_the_table_for_measured_models():
    from invariance.study.expand import expand_runs
    from invariance.study.loader import load_study
    from invariance.study.context import build_context

    study = load_study({"name": "est", "dataset": "fashion_mnist_mini", "models": ["cnn_pool", "mlp"],
                        "augmentation": ["none"], "train": {"epochs": 2, "batch_size": 100}, "n_train": [1000, 2000],
                        "seeds": [0], "evaluate": {"samples": 100, "sweeps": {"dx": "-2:2:2"}}})
    context = build_context(study)
    runs = expand_runs(study, context.dataset.fingerprint(), n_total=len(context.dataset.y_train))
    table = E.CostTable.from_dict(TABLE)
    est = E.estimate_study(runs, context, table=table)
    assert len(est.per_run) == 4 and est.total_seconds == pytest.approx(sum(est.per_run))
    assert "2 of 4 runs from measured models" in est.basis
    points = E.evaluation_points(context.evaluate)
    for run, seconds in zip(runs, est.per_run):
        if run.model_label == "cnn_pool":
            n_fit = round(run.n_train * 0.9)  # the default val_fraction
            assert seconds == pytest.approx(table.run_seconds(
                model="cnn_pool", macs=0, n_fit=n_fit, n_predicted=run.n_train + 1000, epochs=2, batch_size=100,
                pairs=points * 100))
    old = E.estimate_study(runs, context, cost=E.DEFAULT_COST)  # constants alone, as before
    assert old.basis == E.DEFAULT_COST.basis


def test_calibrate_scales_each_model_by_its_own_finished_runs_else_by_all_of_them():
    est = E.Estimate(per_run=[10.0, 10.0, 20.0, 30.0, 40.0, 50.0], total_seconds=160.0, basis="table")
    models = ["a", "a", "b", "b", "c", "c"]
    out = E.calibrate(est, models, {0: 30.0, 2: 30.0, 3: None})  # a took 3x, b 1.5x; c has none
    pooled = (30.0 + 30.0) / (10.0 + 20.0)
    assert out.per_run == pytest.approx([30.0, 30.0, 30.0, 45.0, 40.0 * pooled, 50.0 * pooled])
    assert out.total_seconds == pytest.approx(sum(out.per_run))
    assert out.basis == ("table; scaled to the 2 finished run(s), which took 2.00x their estimate "
                         "(2 model(s) by their own runs)")
    assert E.calibrate(est, models, {}) is est and E.calibrate(est, models, {1: 0.0, 2: None}) is est
