"""Where a result came from: package versions, backend, device and git commit."""
from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

_PACKAGES = ("invariance", "keras", "tensorflow", "jax", "torch", "numpy", "albumentations", "pandas")


@functools.lru_cache(maxsize=None)
def versions() -> dict[str, str]:
    """Installed versions of the packages that shape results (absent ones are left out)."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def backend() -> str:
    """The active Keras backend name."""
    import keras

    return keras.backend.backend()


@functools.lru_cache(maxsize=None)
def device() -> str:
    """A short description of the compute device Keras uses, e.g. ``gpu:0 (NVIDIA H100)`` or ``cpu (2 cores)``."""
    import keras

    try:
        devices = keras.distribution.list_devices()
    except Exception:  # a broken accelerator stack must not stop provenance
        devices = []
    accel = [d for d in devices if not d.lower().startswith("cpu")]
    if accel:
        detail = ""
        if backend() == "jax":
            import jax

            detail = f" ({getattr(jax.devices()[0], 'device_kind', '')})"
        return f"{accel[0].lower()}{detail}"
    return _cpu()


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity (``taskset``, a container's cpuset)
    where the platform tells it, else every core. The backends size their thread pools by it."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _cpu() -> str:
    cores = os.cpu_count()
    return f"cpu ({cores} cores, {platform.machine()}{_thread_cap(cores)})"


def _thread_cap(cores: int | None) -> str:
    # A worker of `--jobs N` gets a share of the cores (invariance.study.executors.worker_env),
    # and a process pinned by taskset gets fewer threads than the machine has cores. Its wall
    # times are then not those of a run that had the whole machine, and its floats are rounded
    # by a different split of the same reductions, so say so.
    threads = usable_cores()
    cap = os.environ.get("TF_NUM_INTRAOP_THREADS") or os.environ.get("OMP_NUM_THREADS")
    if cap and cap.isdigit() and int(cap) > 0:
        threads = min(threads, int(cap))
    if not cores or threads >= cores:
        return ""
    return f", {threads} thread{'s' if threads > 1 else ''}"


def planned_backend() -> str:
    """The Keras backend this process uses, or will use once keras loads, without loading it."""
    if "keras" in sys.modules:
        return backend()
    from invariance.backend import choose_backend

    return os.environ.get("KERAS_BACKEND") or choose_backend()


def planned_device() -> str:
    """:func:`device` once keras has loaded; before, a guess that needs neither keras nor its
    backend (a time estimate must not wait seconds for them): an accelerator when the backend
    has a CUDA build and an NVIDIA driver is loaded, else this CPU."""
    if "keras" in sys.modules:
        return device()
    from invariance.backend import cuda_build_installed

    if Path("/proc/driver/nvidia").exists() and cuda_build_installed(planned_backend()):
        return "gpu (not yet loaded)"
    return _cpu()


@functools.lru_cache(maxsize=None)
def git_sha(start: str | os.PathLike | None = None) -> str | None:
    """The git commit of the source tree (``+dirty`` when it has uncommitted changes), or None."""
    where = Path(start) if start else Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    changes = uncommitted_changes(where)
    return sha + ("+dirty" if changes is None or changes else "")


def uncommitted_changes(start: str | os.PathLike | None = None) -> list[str] | None:
    """``git status --porcelain`` lines for tracked files with uncommitted changes (untracked
    files do not count), or None outside a git checkout. This is what ``+dirty`` means."""
    where = Path(start) if start else Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=where,
                             capture_output=True, text=True, timeout=5, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return [line for line in out.splitlines() if line.strip()]


def provenance() -> dict[str, Any]:
    """Everything above in one dict, for ``metrics.json`` and ``manifest.json``."""
    return {"backend": backend(), "device": device(), "versions": versions(), "git_sha": git_sha()}
