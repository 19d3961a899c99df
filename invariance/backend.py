"""Picks the Keras backend before keras is first imported, unless the user already chose.

TensorFlow trains these small convnets about 3x faster than JAX on a CPU, while JAX runs
Keras about 4x faster than torch on a GPU. So: JAX when a CUDA build of jaxlib is
installed, else TensorFlow, else JAX, else torch. ``KERAS_BACKEND`` always wins.
"""
from __future__ import annotations

import importlib.util
import os
import sys


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def choose_backend() -> str:
    """The backend to use when ``KERAS_BACKEND`` is unset."""
    if _installed("jax") and (_installed("jax_cuda12_plugin") or _installed("jax_cuda13_plugin")):
        return "jax"
    for name in ("tensorflow", "jax", "torch"):
        if _installed(name):
            return name
    return "tensorflow"  # keras's own default; its import error then names what is missing


def jax_cache_dir() -> str:
    """Where JAX keeps compiled programs between runs and processes (see :func:`configure`)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "invariance", "jax")


def configure() -> None:
    """Sets ``KERAS_BACKEND`` (if unset and keras not yet imported), quietens TF's C++ logs,
    and turns on JAX's persistent compilation cache.

    Every run of a study builds a fresh model, so on JAX every run would compile its train,
    evaluation and harness steps again (seconds each, even for tiny models; most of a small
    run's time). The programs of runs that differ only in seed, data size or weights are the
    same, so JAX's persistent cache serves them from disk after the first, within a process
    and across processes (``--jobs``). Only environment defaults are set: ``JAX_*`` variables
    the user set win, and ``INVARIANCE_JAX_CACHE=0`` turns the cache off.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "KERAS_BACKEND" not in os.environ and "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = choose_backend()
    if os.environ.get("INVARIANCE_JAX_CACHE", "1") != "0" and "jax" not in sys.modules:
        os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", jax_cache_dir())
        # JAX's default keeps only programs that took over 1 s to compile; a study recompiles
        # the smaller ones once per run too.
        os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.1")
