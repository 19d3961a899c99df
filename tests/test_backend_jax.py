"""The JAX path: ``KERAS_BACKEND=jax invariance run`` works unchanged and needs no TensorFlow,
and the device feed gives the same batches (and so the same training) as the host feed."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

# Runs the console entry point with TensorFlow made unimportable: as on a machine without it.
_NO_TENSORFLOW = textwrap.dedent("""\
    import sys
    class _NoTensorFlow:
        def find_spec(self, name, path=None, target=None):
            if name == "tensorflow" or name.startswith("tensorflow."):
                raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)")
            return None
    sys.meta_path.insert(0, _NoTensorFlow())
    from invariance.cli import main
    main()
""")

TINY = """\
name: tiny_jax
dataset: fashion_mnist_mini
models: [{preset: cnn_pool, channels: 4, dense_units: 16}]
augmentation: [{shift: 2, rotate: 10, path: device}]
train: {epochs: 1, batch_size: 50}
n_train: [200]
seeds: [0]
evaluate: {samples: 50, sweeps: {dx: "-2:2:2", angle: "-10:10:10"}}
"""


def _require_jax():
    if importlib.util.find_spec("jax") is None:
        if os.environ.get("CI"):
            pytest.fail("jax is not installed, but CI must test the JAX path: pip install -e '.[test,jax]'")
        pytest.skip("jax is not installed (pip install -e '.[jax]')")


def test_jax_study_end_to_end_without_tensorflow(tmp_path):
    _require_jax()
    study = tmp_path / "tiny.yaml"
    study.write_text(TINY)
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu",
               JAX_COMPILATION_CACHE_DIR=str(tmp_path / "jax-cache"))
    proc = subprocess.run([sys.executable, "-c", _NO_TENSORFLOW, "run", str(study), "--out", str(tmp_path),
                           "--quiet"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    study_dir = tmp_path / "tiny_jax"
    runs = pd.read_csv(study_dir / "runs.csv")
    assert list(runs["status"]) == ["completed"]
    assert 0.0 <= runs["test_accuracy"][0] <= 1.0
    inv = pd.read_csv(study_dir / "invariance.csv")
    assert {"dx", "angle"} <= set(inv["sweep"]) and inv["value"].notna().all()
    metrics = json.loads(next((study_dir / "runs").glob("*/metrics.json")).read_text())
    assert metrics["backend"] == "jax"
    assert metrics["feed"] == "device"  # images sliced on the device, not copied per batch
    assert (study_dir / "report.html").is_file()


def test_device_batches_equal_host_batches():
    from invariance.training.feed import DeviceBatches, to_device

    rng = np.random.default_rng(0)
    x = rng.random((23, 4, 4, 1), dtype=np.float32)
    y = rng.integers(0, 10, 23)
    order = rng.permutation(23)
    batches = DeviceBatches(*to_device(x, y), batch_size=5, order=order)
    assert len(batches) == 5
    got_x = np.concatenate([np.asarray(batches[i][0]) for i in range(len(batches))])
    got_y = np.concatenate([np.asarray(batches[i][1]) for i in range(len(batches))])
    np.testing.assert_array_equal(got_x, x[order])
    np.testing.assert_array_equal(got_y, y[order])
    assert np.asarray(batches[4][0]).shape == (3, 4, 4, 1)
    with pytest.raises(IndexError):
        batches[5]


def test_device_feed_trains_exactly_as_the_host_feed(monkeypatch):
    """Same seed, the two feeds: identical history and weights (on the active backend)."""
    from invariance.data import load_dataset
    from invariance.training import train

    data = load_dataset("fashion_mnist_mini")
    results = {}
    for feed in ("host", "device"):
        monkeypatch.setenv("INVARIANCE_FEED", feed)
        result = train("mlp", data, n_train=300, train={"epochs": 2, "batch_size": 64}, seed=1, verbose=0)
        assert result.metrics["feed"] == feed
        results[feed] = result
    host, device = results["host"], results["device"]
    cols = ["loss", "accuracy", "val_loss", "val_accuracy"]
    pd.testing.assert_frame_equal(host.history[cols], device.history[cols])
    for a, b in zip(host.model.get_weights(), device.model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_feed_choice(monkeypatch):
    import keras

    from invariance.errors import SpecError
    from invariance.training.feed import default_feed

    monkeypatch.delenv("INVARIANCE_FEED", raising=False)
    expected = "device" if keras.backend.backend() == "jax" else "host"
    assert default_feed() == expected
    assert default_feed(augmentation_path="albumentations") == "host"
    monkeypatch.setenv("INVARIANCE_FEED", "device")
    assert default_feed(augmentation_path="device") == "device"
    monkeypatch.setenv("INVARIANCE_FEED", "gpu")
    with pytest.raises(SpecError, match="INVARIANCE_FEED"):
        default_feed()
