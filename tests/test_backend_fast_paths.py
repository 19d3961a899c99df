"""The speed fixes of issue 9 keep results exact: predict_logits, per-run garbage collection,
the CLI's fast exit, and the timings a study records for benchmarks/study_overhead.py."""
from __future__ import annotations

import gc
import subprocess
import sys

import keras
import numpy as np
import pytest

from invariance.data import load_dataset
from invariance.models import build_model
from invariance.training import train
from invariance.training.evaluation import evaluate_arrays, predict_logits


@pytest.fixture(scope="module")
def data():
    return load_dataset("fashion_mnist_mini")


@pytest.mark.parametrize("n, batch", [(1, 512), (7, 3), (9, 3), (1000, 512), (1025, 512)])
def test_predict_logits_equals_predict(n, batch):
    model = build_model("mlp", (28, 28, 1), 10, seed=0)
    x = np.random.default_rng(0).random((n, 28, 28, 1), dtype=np.float32)
    got = predict_logits(model, x, batch_size=batch)
    assert got.shape == (n, 10)
    np.testing.assert_allclose(got, model.predict(x, batch_size=batch, verbose=0), rtol=1e-5, atol=1e-6)


def test_evaluate_arrays_known_answer():
    # A model whose logits are [0, 1] for every image: loss log(1 + e) for label 0, log(1 + 1/e) for label 1.
    inputs = keras.Input((2, 2, 1))
    flat = keras.layers.Flatten()(inputs)
    out = keras.layers.Dense(2, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant([0.0, 1.0]))(flat)
    model = keras.Model(inputs, out)
    y = np.array([0, 1, 1, 1])
    loss, acc = evaluate_arrays(model, np.zeros((4, 2, 2, 1), np.float32), y)
    assert acc == 0.75
    assert loss == pytest.approx((np.log1p(np.e) + 3 * np.log1p(np.exp(-1))) / 4)


def test_trainer_records_metrics_seconds_and_leaves_no_backup(data, tmp_path):
    result = train("mlp", data, n_train=200, train={"epochs": 2, "batch_size": 50}, seed=0, out_dir=tmp_path / "run",
                   verbose=0)
    assert result.status == "completed"
    assert result.metrics["metrics_seconds"] > 0
    assert result.metrics["train_seconds"] > 0
    assert not (tmp_path / "run" / "backup").exists()


def test_collect_garbage_freezes_once(monkeypatch):
    from invariance.study import execute

    calls = []
    monkeypatch.setattr(execute, "_FROZEN", False)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    execute._collect_garbage()
    execute._collect_garbage()
    assert calls == ["freeze"]


@pytest.mark.parametrize("args, code, stream, text", [
    (["models", "--json"], 0, "stdout", '"cnn_pool"'),
    (["run", "no-such-study.yaml"], 2, "stderr", "Error:"),
])
def test_console_entry_point_exit_codes_and_output(args, code, stream, text):
    """main() without argv ends with os._exit: exit code and (piped) output must survive."""
    proc = subprocess.run([sys.executable, "-c", "from invariance.cli import main; main()", *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == code, proc.stderr[-2000:]
    assert text in getattr(proc, stream)
