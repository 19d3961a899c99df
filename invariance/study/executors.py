"""Where a study's runs execute: a small registry of executors.

* ``local``: in this process one after another, or in ``jobs`` worker processes (spawned,
  each with its share of the CPU threads and the same Keras backend as this process).
* ``ray``: each run is a Ray task with ``num_cpus``/``num_gpus`` resources, on the cluster
  at ``address`` or on a local Ray instance. Needs ``pip install invariance[ray]``.

Every executor only computes: it hands each run's result back to the driver (the process
that called :func:`invariance.study.run_study`), which alone writes the results folder. So
all executors produce the same files, and a remote worker needs no shared file system for
the tables (the trainer's own files go to the run folder path on the worker's machine).

Packing small runs onto one GPU: a run of a small model keeps a GPU busy only a fraction of
the time (Python, kernel launches and copies fill the rest), so run several at once::

    KERAS_BACKEND=jax invariance run studies/X.yaml --jobs 4      # 4 processes share the GPU

Each worker then allocates GPU memory on demand, up to 90%/N of it (JAX:
``XLA_PYTHON_CLIENT_PREALLOCATE=false``, ``XLA_PYTHON_CLIENT_MEM_FRACTION``; TensorFlow:
``TF_FORCE_GPU_ALLOW_GROWTH``; see :func:`worker_env`; set them yourself to override), and
JAX's persistent compilation cache (:func:`invariance.backend.configure`) lets the workers
share compiled steps. Raise ``--jobs`` until the GPU is busy (``nvidia-smi``), typically 4-8
for the zoo's small CNNs on Fashion-MNIST; fewer for large models or when memory runs out.
With Ray, ``execution: {num_gpus: 0.25}`` packs 4 runs per GPU the same way.

An executor is a class with ``run(tasks, *, context, context_args, on_result)``: ``tasks`` is
a list of ``(RunSpec, run_dir)``, ``context`` the driver's RunContext, ``context_args`` what a
worker needs to rebuild it, and ``on_result(run, result)`` is called in the driver as each run
finishes. Add one with ``@register_executor("name")``.
"""
from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, Callable

from invariance.errors import InvarianceError, one_of
from invariance.provenance import usable_cores

EXECUTORS: dict[str, type] = {}

#: Environment variables that cap a worker's compute threads (read when the backend loads).
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


def register_executor(name: str) -> Callable[[type], type]:
    """Class decorator: makes an executor available as ``--executor NAME``."""
    def wrap(cls: type) -> type:
        EXECUTORS[name] = cls
        return cls
    return wrap


def get_executor(name: str, **options) -> Any:
    """Builds the executor ``name`` with ``options`` (jobs, address, num_cpus, num_gpus).

    Raises:
        SpecError: for an unknown name. InvarianceError: if its dependencies are missing.
    """
    one_of("executor", name, sorted(EXECUTORS))
    return EXECUTORS[name](**options)


def worker_env(threads: int, backend: str | None = None, *, gpu_share: float = 1.0) -> dict[str, str]:
    """The environment a worker sets before Keras loads: its backend, a thread cap and GPU memory.

    Several workers can share one GPU (``--jobs N``, or Ray tasks with ``num_gpus < 1``): none
    may then grab most of its memory up front, as JAX (75%) and TensorFlow (all) do by
    default. So JAX allocates on demand (``XLA_PYTHON_CLIENT_PREALLOCATE=false``) up to the
    worker's share (``XLA_PYTHON_CLIENT_MEM_FRACTION``: 0.9 x ``gpu_share``) and TensorFlow
    grows its memory as needed. Values the user set in the environment win.

    Args:
        threads: Compute threads for this worker (cores divided among the workers).
        backend: Keras backend name; default the current process's.
        gpu_share: The fraction of one GPU's memory this worker may use (1/jobs).

    Returns:
        Variable name -> value.
    """
    threads = max(1, int(threads))
    env = {k: str(threads) for k in _THREAD_VARS}
    env["TF_NUM_INTEROP_THREADS"] = "1" if threads == 1 else "2"
    env["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                        f" --xla_cpu_multi_thread_eigen={'false' if threads == 1 else 'true'}"
                        f" intra_op_parallelism_threads={threads}").strip()
    env["KERAS_BACKEND"] = backend or current_backend()
    env["TF_CPP_MIN_LOG_LEVEL"] = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3")
    env["XLA_PYTHON_CLIENT_PREALLOCATE"] = os.environ.get("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    if gpu_share < 1.0:
        env["XLA_PYTHON_CLIENT_MEM_FRACTION"] = os.environ.get("XLA_PYTHON_CLIENT_MEM_FRACTION",
                                                               f"{0.9 * max(gpu_share, 0.01):.3f}")
    env["TF_FORCE_GPU_ALLOW_GROWTH"] = os.environ.get("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    return env


def current_backend() -> str:
    """The Keras backend of this process, without importing keras if it is not loaded yet."""
    if "keras" in sys.modules:
        import keras

        return keras.backend.backend()
    import invariance  # noqa: F401  (chooses the backend)

    return os.environ["KERAS_BACKEND"]


@register_executor("local")
class LocalExecutor:
    """Runs in this process (``jobs=1``) or in ``jobs`` spawned worker processes."""

    def __init__(self, *, jobs: int = 1, address: str | None = None, num_cpus: float = 1, num_gpus: float = 0):
        if jobs < 1:
            raise InvarianceError(f"--jobs: must be >= 1; received {jobs!r}")
        if address:
            raise InvarianceError(f"--address: only the ray executor takes an address; received {address!r}")
        self.jobs = jobs

    def run(self, tasks, *, context, context_args, on_result) -> None:
        from invariance.study.execute import execute_run

        if not tasks:
            return
        if self.jobs == 1 or len(tasks) == 1:
            for run, run_dir in tasks:
                on_result(run, execute_run(run, run_dir, context))
            return
        self._run_pool(tasks, context_args=context_args, on_result=on_result)

    def _run_pool(self, tasks, *, context_args, on_result) -> None:
        import concurrent.futures as cf
        import multiprocessing

        jobs = min(self.jobs, len(tasks))
        threads = max(1, usable_cores() // jobs)
        pool = cf.ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                      initializer=_init_worker, initargs=(context_args, os.getpid()))
        try:
            # Workers are spawned during submit and copy this environment then, before
            # anything in them imports keras: that is when the backend and thread caps count.
            with _environment(worker_env(threads, gpu_share=1.0 / jobs)):
                futures = {pool.submit(_worker_execute, run, run_dir): run for run, run_dir in tasks}
            for future in cf.as_completed(futures):
                try:
                    result = future.result()
                except cf.process.BrokenProcessPool as err:
                    raise InvarianceError(
                        f"a worker process died ({err}); the runs that finished are saved: run the same "
                        "command again to continue, perhaps with fewer --jobs") from None
                on_result(futures[future], result)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)


_WORKER_CONTEXT = None


@contextlib.contextmanager
def _environment(env: dict[str, str]):
    """Sets environment variables for the duration of the block (for child processes)."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _init_worker(context_args: dict, parent_pid: int) -> None:
    """Runs first in each spawned worker: a watch on the driver, then the data, once."""
    global _WORKER_CONTEXT
    _exit_with_parent(parent_pid)
    from invariance.study.context import context_from_args

    _WORKER_CONTEXT = context_from_args(context_args)


def _worker_execute(run, run_dir):
    from invariance.study.execute import execute_run

    return execute_run(run, run_dir, _WORKER_CONTEXT)


def _exit_with_parent(parent_pid: int) -> None:
    """A worker whose driver was killed (``kill -9``) stops too, rather than train on unseen."""
    import threading
    import time

    def watch():
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True, name="invariance-parent-watch").start()


@register_executor("ray")
class RayExecutor:
    """Sends each run to Ray as a task with ``num_cpus``/``num_gpus`` resources.

    Connects to ``address`` (e.g. ``ray://head:10001`` or ``auto``), or joins the Ray instance
    this process already started, or starts a local one (no dashboard).
    """

    def __init__(self, *, jobs: int = 1, address: str | None = None, num_cpus: float = 1, num_gpus: float = 0):
        self.ray = import_ray()
        self.address = address
        self.num_cpus = num_cpus
        self.num_gpus = num_gpus

    def run(self, tasks, *, context, context_args, on_result) -> None:
        if not tasks:
            return
        ray = self.ray
        started = not ray.is_initialized()
        if started:
            if self.address:
                ray.init(address=self.address, log_to_driver=False)
            else:
                ray.init(include_dashboard=False, log_to_driver=False)
        try:
            self._run(tasks, context=context, on_result=on_result)
        finally:
            if started:
                ray.shutdown()

    def _run(self, tasks, *, context, on_result) -> None:
        ray = self.ray
        threads = max(1, int(self.num_cpus) or 1)
        remote = ray.remote(_ray_execute).options(
            num_cpus=self.num_cpus, num_gpus=self.num_gpus, max_retries=1,
            runtime_env={"env_vars": worker_env(threads, gpu_share=min(1.0, self.num_gpus or 1.0))})
        context_ref = ray.put(context)
        pending = {remote.remote(run, run_dir, context_ref): run for run, run_dir in tasks}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                run = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as err:  # the worker died: record it as the run's failure
                    result = {**run.key(), "status": "failed", "reason": f"ray: {type(err).__name__}: {err}",
                              "rows": None}
                on_result(run, result)


def _ray_execute(run, run_dir, context):
    from invariance.study.execute import execute_run

    return execute_run(run, run_dir, context)


def import_ray():
    """``import ray``, or a clear error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise InvarianceError("executor 'ray' needs Ray, which is not installed: pip install 'invariance[ray]'") \
            from None
    return ray
