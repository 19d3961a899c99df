"""The exactness tests and their negative twins on the JAX backend too.

The TensorFlow (default) side runs in test_models_aps.py and test_models_group.py. Here the
same checks (tests/exact_checks.py) run in a subprocess with ``KERAS_BACKEND=jax``, as
test_backend_jax.py does, and the same verdicts are required.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import exact_checks
from test_backend_jax import _require_jax

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def jax_results(tmp_path_factory):
    _require_jax()
    cache = tmp_path_factory.mktemp("jax-cache")
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu", JAX_COMPILATION_CACHE_DIR=str(cache),
               PYTHONPATH=os.pathsep.join([str(HERE.parent), str(HERE), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, str(HERE / "exact_checks.py")], capture_output=True, text=True,
                          env=env, timeout=600, cwd=HERE.parent)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    assert data["backend"] == "jax"
    return data["checks"]


@pytest.mark.parametrize("name", exact_checks.EXACT)
def test_exact_on_jax(jax_results, name):
    assert exact_checks.is_exact(jax_results[name]), jax_results[name]


@pytest.mark.parametrize("name", exact_checks.TWINS)
def test_twins_are_not_invariant_on_jax(jax_results, name):
    assert exact_checks.is_clearly_variant(jax_results[name]), jax_results[name]
