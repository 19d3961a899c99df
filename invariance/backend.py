"""Picks the Keras backend before keras is first imported, unless the user already chose.

TensorFlow trains these small convnets about 3x faster than JAX on a CPU, while JAX runs
Keras about 4x faster than torch on a GPU. So: JAX when a CUDA build of jaxlib is
installed, else TensorFlow, else JAX, else torch. ``KERAS_BACKEND`` always wins.

It also holds the one hook on keras's import (:func:`after_keras_loads`): keras loads quietly
and the toolkit's custom layers register the moment it does, so nothing else needs to import
keras early.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import re
import sys
import tempfile
from typing import Iterator


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


# What a CUDA build of each backend installs besides the backend itself.
_CUDA_MODULES = {"jax": ("jax_cuda12_plugin", "jax_cuda13_plugin"), "tensorflow": ("nvidia.cudnn",),
                 "torch": ("nvidia.cudnn",)}


def cuda_build_installed(name: str) -> bool:
    """True when backend ``name`` is installed with its CUDA libraries (found without importing it)."""
    return _installed(name) and any(_installed(m) for m in _CUDA_MODULES.get(name, ()))


def choose_backend() -> str:
    """The backend to use when ``KERAS_BACKEND`` is unset."""
    if cuda_build_installed("jax"):
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


# Start-up chatter that TensorFlow's native (absl) logger prints to fd 2 when it loads on a
# machine without a GPU. Recent TF builds ignore TF_CPP_MIN_LOG_LEVEL for these lines.
_NATIVE_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IW]0000 .*(port\.cc|cudart_stub\.cc|cpu_feature_guard\.cc)"
    r"|To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.)")


@contextlib.contextmanager
def quiet_native_logs() -> Iterator[None]:
    """Hides TF's native start-up lines while keras loads; every other line is replayed.

    Works at the file-descriptor level because the lines come from C++, not Python. A no-op
    where fd 2 cannot be redirected. :func:`after_keras_loads` runs keras's import inside it.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        capture = tempfile.TemporaryFile(mode="w+b")
        os.dup2(capture.fileno(), 2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        yield
    finally:
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os.dup2(saved, 2)
        os.close(saved)
        capture.seek(0)
        kept = [line for line in capture.read().decode("utf-8", "replace").splitlines()
                if not _NATIVE_NOISE.match(line)]
        capture.close()
        if kept:
            sys.stderr.write("\n".join(kept) + "\n")


def after_keras_loads(*modules: str) -> None:
    """Imports ``modules`` as soon as keras has loaded, and keeps keras's import quiet.

    The toolkit's custom layers register themselves with keras when their module is
    imported; ``import invariance`` names those modules here, so that a later plain
    ``keras.saving.load_model(path)`` reads a toolkit model, while ``import invariance``
    itself (and the CLI's start-up) never pays for loading keras. Where keras is already
    loaded, the modules are imported at once.
    """
    if "keras" in sys.modules:
        for name in modules:
            importlib.import_module(name)
        return
    for finder in sys.meta_path:
        if isinstance(finder, _KerasImportHook):
            finder.modules.extend(m for m in modules if m not in finder.modules)
            return
    sys.meta_path.insert(0, _KerasImportHook(list(modules)))


class _KerasImportHook:
    """A ``sys.meta_path`` finder that wraps the loading of the top-level ``keras`` module.

    It finds nothing itself: it asks the other finders for keras's spec and swaps in a
    loader that runs keras's own inside :func:`quiet_native_logs`, then imports the
    modules to register. It removes itself once keras has loaded.
    """

    def __init__(self, modules: list[str]):
        self.modules = modules

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _QuietLoader(spec.loader, self)
                return spec
        return None

    def loaded(self) -> None:
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        # When one of these modules is itself what imported keras, it is half-initialised now and
        # the others import from it: leave them to that import (the zoo loads them together).
        if any(getattr(getattr(sys.modules.get(name), "__spec__", None), "_initializing", False)
               for name in self.modules):
            return
        for name in self.modules:
            importlib.import_module(name)


class _QuietLoader:
    """Keras's own loader, run quietly, with the hook told when the module has executed."""

    def __init__(self, loader, hook: _KerasImportHook):
        self._loader = loader
        self._hook = hook

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with quiet_native_logs():
            self._loader.exec_module(module)
        module.__loader__ = module.__spec__.loader = self._loader  # keras looks as if loaded plainly
        self._hook.loaded()

    def __getattr__(self, name):  # get_resource_reader, is_package, get_data, ...
        return getattr(self._loader, name)
