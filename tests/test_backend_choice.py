"""The backend choice (TensorFlow on CPU unless KERAS_BACKEND says otherwise), JAX's
compilation cache defaults, and the environment of workers that share a GPU."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from invariance import backend

_PROBE = "import invariance, keras; print(keras.backend.backend())"


def _probe(env_changes: dict) -> str:
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env.update(env_changes)
    proc = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip().splitlines()[-1]


def test_import_invariance_picks_tensorflow_on_a_cpu_machine():
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("tensorflow is not installed")
    if backend._installed("jax_cuda12_plugin") or backend._installed("jax_cuda13_plugin"):
        pytest.skip("a CUDA build of jaxlib is installed: JAX is the right choice here")
    assert _probe({}) == "tensorflow"


def test_keras_backend_set_by_the_user_wins():
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed")
    assert _probe({"KERAS_BACKEND": "jax"}) == "jax"


@pytest.mark.parametrize("installed, expected", [
    ({"tensorflow", "jax", "torch"}, "tensorflow"),
    ({"tensorflow", "jax", "jax_cuda12_plugin"}, "jax"),
    ({"jax", "jax_cuda13_plugin"}, "jax"),
    ({"jax", "torch"}, "jax"),
    ({"torch"}, "torch"),
    (set(), "tensorflow"),
])
def test_choose_backend_table(monkeypatch, installed, expected):
    monkeypatch.setattr(backend, "_installed", lambda name: name in installed)
    assert backend.choose_backend() == expected


@pytest.fixture
def clean_env(monkeypatch):
    for key in ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "INVARIANCE_JAX_CACHE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delitem(sys.modules, "jax", raising=False)  # configure() only acts before jax loads
    return monkeypatch


def test_configure_turns_on_the_jax_compilation_cache(clean_env, tmp_path):
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path))
    backend.configure()
    assert os.environ["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path / "invariance" / "jax")
    assert float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]) < 1.0


def test_configure_keeps_the_users_jax_cache_settings(clean_env, tmp_path):
    clean_env.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "mine"))
    backend.configure()
    assert os.environ["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path / "mine")


def test_configure_jax_cache_can_be_turned_off(clean_env):
    clean_env.setenv("INVARIANCE_JAX_CACHE", "0")
    backend.configure()
    assert "JAX_COMPILATION_CACHE_DIR" not in os.environ


def test_worker_env_shares_a_gpu(monkeypatch):
    from invariance.study.executors import worker_env

    for key in ("XLA_PYTHON_CLIENT_PREALLOCATE", "XLA_PYTHON_CLIENT_MEM_FRACTION", "TF_FORCE_GPU_ALLOW_GROWTH"):
        monkeypatch.delenv(key, raising=False)
    env = worker_env(2, "jax", gpu_share=0.25)
    assert env["KERAS_BACKEND"] == "jax"
    assert env["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"
    assert float(env["XLA_PYTHON_CLIENT_MEM_FRACTION"]) == pytest.approx(0.225)
    assert env["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
    assert "XLA_PYTHON_CLIENT_MEM_FRACTION" not in worker_env(2, "jax")  # a whole GPU: no cap
    monkeypatch.setenv("XLA_PYTHON_CLIENT_MEM_FRACTION", "0.5")
    assert worker_env(2, "jax", gpu_share=0.25)["XLA_PYTHON_CLIENT_MEM_FRACTION"] == "0.5"  # the user's wins
