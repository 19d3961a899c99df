"""Running a study: train and evaluate every run, resumably, into one tidy results folder.

Layout of ``<out_dir>/<name>/``::

    study.yaml        the resolved study (defaults filled in, --set applied); loads back as is
    manifest.json     provenance (versions, backend, device, git SHA), start/end, dataset, counts, run ids
    .lock             the pid of the process running the study (see invariance.study.lock)
    runs/<run_id>/    the trainer's run folder (model.keras, history.csv, metrics.json, spec.json)
                      plus run.json (the run's spec), invariance.csv (the harness's rows) and
                      status.json (written last: the run is finished, completed or failed)
    runs.csv          one row per finished run (RUN_COLUMNS)
    invariance.csv    the harness rows of every completed run, with the run's key columns in front

Why it survives ``kill -9`` at any moment: every file is written atomically (a temporary file
renamed into place); a run counts as finished only once its ``status.json`` exists, and that is
written after its ``invariance.csv``; the trainer resumes an interrupted run and does not
retrain a completed one; and the two study tables are rebuilt from the per-run files, in
expansion order, while runs finish (at most every ``TABLE_INTERVAL_S``) and at the end. So a rerun of the same command only does what
is missing and ends with the same tables as an uninterrupted run.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from invariance.config import to_dict
from invariance.errors import InvarianceError, SpecError
from invariance.study.expand import RunSpec, expand_runs
from invariance.study.schema import StudySpec, study_to_dict

RUN_COLUMNS = ("run_id", "model", "augmentation", "n_train", "seed", "status", "reason", "test_accuracy",
               "train_accuracy", "params", "macs", "train_seconds", "epochs_run")
KEY_COLUMNS = ("run_id", "model", "augmentation", "n_train", "seed")
HARNESS_COLUMNS = ("sweep", "dx", "dy", "angle", "scale", "metric", "value", "n", "layer")
STATUS_FILE = "status.json"
RUN_TABLE = "invariance.csv"
_TRASH_PREFIX = ".trash-"
#: Least seconds between two rebuilds of the study tables while runs finish.
TABLE_INTERVAL_S = 10.0


@dataclass
class RunContext:
    """What every run of a study shares: the data and the fixed evaluation set.

    Attributes:
        dataset: The loaded Dataset. x_eval/y_eval: uint8 (M, H, W, C) images and (M,) labels,
            the same for every run. evaluate: The study's EvaluationSpec (harness). eval_hash: Identifies
            the evaluation (settings and data); a run evaluated otherwise is evaluated again.
    """

    dataset: Any
    x_eval: Any
    y_eval: Any
    evaluate: Any
    eval_hash: str
    description: str = ""


@dataclass
class StudySummary:
    """What :func:`run_study` did and where it put it."""

    name: str
    study_dir: Path
    total: int
    completed: int
    failed: list[dict[str, Any]]
    pending: int
    ran: int
    skipped: int
    wall_seconds: float
    paths: dict[str, Path] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every run completed and the curves and report (if any) were written."""
        return not self.failed and not self.pending and not self.errors


# ---------------------------------------------------------------------------------------------
# the study


def run_study(study: StudySpec | Mapping | str | os.PathLike, *, out_dir: str | os.PathLike = "results",
              executor: str | None = None, jobs: int | None = None, address: str | None = None,
              fresh: bool = False, quiet: bool = False, retry_failed: bool = False,
              overrides=(), progress: bool = True, post: bool = True) -> StudySummary:
    """Runs every run of a study that has not finished yet, then writes the tables.

    Args:
        study: A StudySpec, a mapping or a YAML path (validated first; nothing is written
            before validation passes).
        out_dir: The study writes ``out_dir/<name>/``.
        executor: ``"local"`` or ``"ray"`` (default: the study's ``execution.executor``).
        jobs: Parallel processes for the local executor (default: the study's).
        address: A Ray cluster address (default: the study's; none starts a local Ray).
        fresh: Throw away earlier results of this study first.
        quiet: Plain log lines instead of a live progress bar.
        retry_failed: Run again the runs that failed before (they are kept as failed otherwise).
        overrides: ``(dotted key, value)`` pairs applied to the study before validation.
        progress: Report progress at all (False: silent).
        post: Write the curves (more than one n_train) and the report at the end.

    Returns:
        A :class:`StudySummary`; ``summary.ok`` is False if any run failed.

    Raises:
        InvarianceError: on a bad study, missing data, a held lock, or an executor that
            cannot start. Failed runs do not raise; they are listed in the summary.
    """
    from invariance.study.executors import get_executor
    from invariance.study.loader import load_study
    from invariance.study.lock import StudyLock

    start = time.perf_counter()
    started = _now()
    study = load_study(study, overrides=overrides)
    executor = executor or study.execution.executor
    jobs = jobs if jobs is not None else study.execution.jobs
    address = address if address is not None else study.execution.address
    runner = get_executor(executor, jobs=jobs, address=address, num_cpus=study.execution.num_cpus,
                          num_gpus=study.execution.num_gpus)
    context = build_context(study)
    runs = expand_runs(study, context.dataset.fingerprint(), n_total=len(context.dataset.y_train))

    study_dir = Path(out_dir) / study.name
    study_dir.mkdir(parents=True, exist_ok=True)
    with StudyLock(study_dir):
        if fresh:
            clear_study_dir(study_dir)
        _remove_trash(study_dir)
        from invariance.io import write_text
        from invariance.yaml_io import dump_yaml

        write_text(study_dir / "study.yaml", _yaml_header(study) + dump_yaml(study_to_dict(study)))
        manifest = _manifest(study, context, runs, started=started, executor=executor, jobs=jobs)
        _write_manifest(study_dir, manifest, runs, context)

        states = {r.run_id: run_state(study_dir / "runs" / r.run_id, context.eval_hash) for r in runs}
        todo = [r for r in runs if states[r.run_id] == "pending"
                or (retry_failed and states[r.run_id] == "failed")]
        finished_before = len(runs) - len(todo)
        failed_before = sum(1 for r in runs if states[r.run_id] == "failed" and r not in todo)
        for r in todo:
            write_run_spec(study_dir / "runs" / r.run_id, r)

        from invariance.study.progress import StudyProgress

        reporter = StudyProgress(total=len(runs), already_done=finished_before, already_failed=failed_before,
                                 quiet=quiet, title=study.name) if progress else None

        cache: dict[str, Any] = {}
        last_write = [time.monotonic()]

        def on_result(run: RunSpec, result: dict[str, Any]) -> None:
            record_result(study_dir / "runs" / run.run_id, result)
            cache.pop(run.run_id, None)
            # Keep the tables current while the study runs, but not at a cost that grows with
            # its size: at most every TABLE_INTERVAL_S (the final rebuild below always runs).
            if time.monotonic() - last_write[0] >= TABLE_INTERVAL_S:
                write_tables(study_dir, runs, cache=cache)
                last_write[0] = time.monotonic()
            if reporter is not None:
                reporter.run_finished(result)

        if reporter is not None:
            reporter.__enter__()
        try:
            runner.run([(r, str(study_dir / "runs" / r.run_id)) for r in todo], context=context,
                       context_args=_context_args(study), on_result=on_result)
        finally:
            if reporter is not None:
                reporter.__exit__(None, None, None)
            tables = write_tables(study_dir, runs, cache=cache)
        counts = tables["counts"]
        manifest.update(finished=_now(), wall_seconds=round(time.perf_counter() - start, 3), counts=counts)
        _write_manifest(study_dir, manifest, runs, context)

        summary = StudySummary(name=study.name, study_dir=study_dir, total=len(runs), completed=counts["completed"],
                               failed=tables["failed"], pending=counts["pending"], ran=len(todo),
                               skipped=finished_before, wall_seconds=0.0,
                               paths={"runs_csv": study_dir / "runs.csv", "invariance_csv": study_dir / RUN_TABLE})
        if post:
            _post_process(study, summary)
        summary.wall_seconds = time.perf_counter() - start
        return summary


def build_context(study: StudySpec) -> RunContext:
    """Loads the study's data and picks its evaluation set (the harness's
    :func:`~invariance.harness.evaluation_set`: the first ``samples`` test images in a fixed
    class-interleaved order, so every run is measured on the same images)."""
    from invariance.data import load_dataset
    from invariance.harness import evaluation_set

    dataset = load_dataset(study.dataset, data_dir=study.data_dir, canvas=study.canvas)
    check_sizes(study.n_train, len(dataset.y_train))
    spec = study.evaluate
    n_test = len(dataset.y_test)
    if spec.samples is not None and spec.samples > n_test:
        raise SpecError("evaluate.samples", f"must be at most the test set's size {n_test} (or null for all)",
                        spec.samples)
    x_eval, y_eval, _, description = evaluation_set(dataset, spec.samples)
    text = json.dumps({"evaluate": to_dict(spec), "data": dataset.fingerprint()}, sort_keys=True, default=str)
    eval_hash = hashlib.sha256(text.encode()).hexdigest()[:12]
    return RunContext(dataset=dataset, x_eval=x_eval, y_eval=y_eval, evaluate=spec, eval_hash=eval_hash,
                      description=description)


def check_sizes(n_train, total: int) -> None:
    """Each ``n_train`` must fit the training set, and no two may mean the same size."""
    seen: dict[int, int] = {}
    for i, n in enumerate(n_train):
        if n is not None and n > total:
            raise SpecError(f"n_train[{i}]", f"must be at most the training set's size {total} (or null for all)", n)
        size = total if n is None else n
        if size in seen:
            raise SpecError(f"n_train[{i}]", f"means {size} images, as n_train[{seen[size]}] does (null = all "
                            f"{total}); list each size once", n)
        seen[size] = i


def _context_args(study: StudySpec) -> dict[str, Any]:
    """What a worker process needs to rebuild the context itself (cheaper than pickling the data)."""
    return {"study": study_to_dict(study)}


def context_from_args(args: Mapping[str, Any]) -> RunContext:
    """Rebuilds :class:`RunContext` in a worker from :func:`_context_args`."""
    from invariance.study.schema import parse_study

    return build_context(parse_study(args["study"]))


# ---------------------------------------------------------------------------------------------
# one run


def execute_run(run: RunSpec, run_dir: str | os.PathLike, context: RunContext, *, verbose: int = 0) -> dict[str, Any]:
    """Trains one run into ``run_dir`` and evaluates it on the study's evaluation set.

    Never raises for a failure of the run itself (divergence, an exception in training or
    evaluation): that is returned as ``status="failed"`` with its ``reason``. Writes nothing
    but the trainer's own files; the caller records the result (:func:`record_result`).

    Returns:
        A dict with the run's key columns, ``status``, ``reason``, the metrics of
        :data:`RUN_COLUMNS`, ``seconds``, ``eval_seconds``, ``mean_consistency``, ``eval_hash``
        and ``rows`` (the harness's DataFrame, or None when the run failed).
    """
    import keras

    from invariance.harness import evaluate
    from invariance.training import train

    start = time.perf_counter()
    result: dict[str, Any] = {**run.key(), "status": "failed", "reason": "", "eval_hash": context.eval_hash,
                              "rows": None, "mean_consistency": float("nan")}
    if run.n_train is None:  # tables show the size used, so that learning curves can use it
        result["n_train"] = int(len(context.dataset.y_train))
    run_dir = Path(run_dir)
    # Fresh global Keras state per run: automatic layer names (and so the `layer` column)
    # must not depend on how many runs this process did before.
    keras.backend.clear_session(free_memory=False)
    _collect_garbage()
    stage = "train"
    try:
        outcome = train(run.model, context.dataset, n_train=run.n_train, train=run.train,
                        augmentation=run.augmentation, seed=run.seed, out_dir=str(run_dir), verbose=verbose)
        metrics = dict(getattr(outcome, "metrics", None) or {})
        result.update({k: _plain(metrics.get(k)) for k in RUN_COLUMNS[7:]})
        if getattr(outcome, "status", "completed") != "completed":
            result["reason"] = str(getattr(outcome, "reason", "") or "training failed")
            return result
        stage = "evaluate"
        eval_start = time.perf_counter()
        kwargs = context.evaluate.evaluate_kwargs()
        kwargs["progress"] = False
        rows = evaluate(outcome.model, context.x_eval, context.y_eval, **kwargs)
        result["eval_seconds"] = time.perf_counter() - eval_start
        result["rows"] = rows
        result["mean_consistency"] = mean_consistency(rows)
        result["status"] = "completed"
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as err:  # a failed run is recorded, and the study goes on
        result["reason"] = f"{stage}: {type(err).__name__}: {err}"
        result["traceback"] = traceback.format_exc()
    finally:
        result["seconds"] = time.perf_counter() - start
    return result


_FROZEN = False


def _collect_garbage() -> None:
    """Frees the previous run's models, cheaply.

    A full ``gc.collect()`` walks every object alive, and the backend's import alone leaves
    ~0.5M: about 0.35 s per run on a 2-core CPU. Freezing what is alive at the first run
    (modules, the data: it lives as long as the process) makes later collections walk only
    what the runs themselves created (~0.02 s).
    """
    global _FROZEN
    import gc

    gc.collect()
    if not _FROZEN:
        gc.freeze()
        _FROZEN = True


def mean_consistency(rows) -> float:
    """The mean of the harness's ``mean_consistency`` summaries over the sweeps (NaN if none)."""
    if rows is None or not len(rows):
        return float("nan")
    values = rows.loc[rows["metric"] == "mean_consistency", "value"]
    return float(values.mean()) if len(values) else float("nan")


def write_run_spec(run_dir: Path, run: RunSpec) -> None:
    """Writes ``run.json`` (what the run is) unless it is already there."""
    from invariance.io import write_json

    if not (run_dir / "run.json").exists():
        write_json(run_dir / "run.json", run.to_dict())


def record_result(run_dir: str | os.PathLike, result: Mapping[str, Any]) -> None:
    """Writes a finished run's files: ``invariance.csv`` first, then ``status.json`` (the marker).

    A failed run gets ``error.txt`` with its traceback (when there is one) and no table.
    """
    from invariance.io import write_json, write_text, write_with

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    rows = result.get("rows")
    if result.get("status") == "completed":
        if rows is None:
            raise InvarianceError(f"run {result.get('run_id')}: a completed run must have harness rows")
        rows = rows.loc[:, [c for c in HARNESS_COLUMNS if c in rows.columns]
                        + [c for c in rows.columns if c not in HARNESS_COLUMNS]]
        write_with(run_dir / RUN_TABLE, lambda p: rows.to_csv(p, index=False))
    elif result.get("traceback"):
        write_text(run_dir / "error.txt", result["traceback"])
    status = {k: _plain(v) for k, v in result.items() if k not in ("rows", "traceback")}
    status["finished"] = _now()
    write_json(run_dir / STATUS_FILE, status)


def read_status(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    """A run's ``status.json``, or None when the run has not finished."""
    from invariance.io import read_json

    path = Path(run_dir) / STATUS_FILE
    if not path.is_file():
        return None
    try:
        return read_json(path)
    except (OSError, ValueError):  # cannot happen with atomic writes; treat as unfinished
        return None


def run_state(run_dir: str | os.PathLike, eval_hash: str | None = None) -> str:
    """``"completed"``, ``"failed"`` or ``"pending"`` (also for a completed run whose evaluation
    settings changed since: it is evaluated again, from its saved model)."""
    status = read_status(run_dir)
    if status is None:
        return "pending"
    if status.get("status") == "completed":
        if not (Path(run_dir) / RUN_TABLE).is_file():
            return "pending"
        if eval_hash is not None and status.get("eval_hash") != eval_hash:
            return "pending"
        return "completed"
    return "failed"


# ---------------------------------------------------------------------------------------------
# the study tables


def write_tables(study_dir: str | os.PathLike, runs: list[RunSpec], *,
                 cache: dict[str, Any] | None = None) -> dict[str, Any]:
    """Rebuilds ``runs.csv`` and ``invariance.csv`` from the per-run files, atomically.

    Rows follow the expansion order of ``runs`` (and the harness's order within a run), so
    the tables depend only on which runs finished and what they wrote, never on timing.

    Args:
        study_dir: The study's folder.
        runs: The study's runs, in expansion order.
        cache: Optional ``{run_id: (status, table)}`` of run files already read by this
            process (filled here; drop a run's entry when its files change).

    Returns:
        ``{"counts": {"total", "completed", "failed", "pending"}, "failed": [status dicts]}``.
    """
    import pandas as pd

    from invariance.io import write_with

    study_dir = Path(study_dir)
    cache = {} if cache is None else cache
    run_rows, frames, failed = [], [], []
    counts = {"total": len(runs), "completed": 0, "failed": 0, "pending": 0}
    for run in runs:
        if run.run_id not in cache:
            cache[run.run_id] = _read_run(study_dir / "runs" / run.run_id)
        status, table = cache[run.run_id]
        if status is None:
            cache.pop(run.run_id)  # not finished: look again next time
            counts["pending"] += 1
            continue
        key = run.key()
        if key["n_train"] is None:
            key["n_train"] = status.get("n_train")
        row = {c: status.get(c) for c in RUN_COLUMNS}
        row.update(key)
        if status.get("status") == "completed" and table is not None:
            counts["completed"] += 1
            table = table.copy()
            for i, (column, value) in enumerate(key.items()):
                table.insert(i, column, value)
            frames.append(table)
        elif status.get("status") == "completed":
            counts["pending"] += 1
            continue
        else:
            counts["failed"] += 1
            row["status"] = "failed"
            failed.append(row)
        run_rows.append(row)
    runs_table = pd.DataFrame(run_rows, columns=list(RUN_COLUMNS))
    for col in ("n_train", "seed", "params", "macs", "epochs_run"):
        runs_table[col] = runs_table[col].astype("Int64")
    if frames:
        inv_table = pd.concat(frames, ignore_index=True)
    else:
        inv_table = pd.DataFrame(columns=list(KEY_COLUMNS) + list(HARNESS_COLUMNS))
    inv_table["n_train"] = inv_table["n_train"].astype("Int64")
    write_with(study_dir / "runs.csv", lambda p: runs_table.to_csv(p, index=False))
    write_with(study_dir / RUN_TABLE, lambda p: inv_table.to_csv(p, index=False))
    return {"counts": counts, "failed": failed}


def _read_run(run_dir: Path):
    """(status dict or None, harness table or None) of one run folder."""
    import pandas as pd

    status = read_status(run_dir)
    table = None
    if status is not None and status.get("status") == "completed" and (run_dir / RUN_TABLE).is_file():
        table = pd.read_csv(run_dir / RUN_TABLE, keep_default_na=False, na_values=[""])
        if "layer" in table.columns:
            table["layer"] = table["layer"].fillna("").astype(str)
    return status, table


def study_status(study_dir: str | os.PathLike) -> dict[str, Any]:
    """Counts of runs completed, failed and pending in a results folder.

    Pending runs are those the stored ``study.yaml`` expands to that have not finished.
    The dataset fingerprint comes from ``manifest.json`` (no data loading) when present.

    Returns:
        ``{"name", "study_dir", "total", "completed", "failed", "pending", "failed_runs": [...],
        "running_pid": int | None}``.
    """
    from invariance.io import read_json
    from invariance.study.loader import load_study
    from invariance.study.lock import lock_holder

    study_dir = Path(study_dir)
    if not (study_dir / "study.yaml").is_file():
        raise InvarianceError(f"{study_dir}: not a study results folder (no study.yaml); "
                              "give the folder that `invariance run` wrote, e.g. results/<name>")
    study = load_study(study_dir / "study.yaml")
    manifest = read_json(study_dir / "manifest.json") if (study_dir / "manifest.json").is_file() else {}
    fingerprint = (manifest.get("dataset") or {}).get("fingerprint")
    n_total = (manifest.get("dataset") or {}).get("n_train")
    eval_hash = (manifest.get("evaluation") or {}).get("eval_hash")
    if fingerprint is None:
        context = build_context(study)
        fingerprint, eval_hash = context.dataset.fingerprint(), context.eval_hash
        n_total = len(context.dataset.y_train)
    runs = expand_runs(study, fingerprint, n_total=n_total)
    counts = {"completed": 0, "failed": 0, "pending": 0}
    failed = []
    for run in runs:
        state = run_state(study_dir / "runs" / run.run_id, eval_hash)
        counts[state] += 1
        if state == "failed":
            status = read_status(study_dir / "runs" / run.run_id) or {}
            failed.append({**run.key(), "reason": status.get("reason", "")})
    return {"name": study.name, "study_dir": str(study_dir), "total": len(runs), **counts, "failed_runs": failed,
            "running_pid": lock_holder(study_dir)}


# ---------------------------------------------------------------------------------------------
# helpers


def clear_study_dir(study_dir: Path) -> None:
    """Removes everything of a study folder but its lock (for ``--fresh``).

    Everything is first renamed into one ``.trash-*`` folder (atomic), then deleted, so an
    interruption leaves either the old results or none, never a mix; leftover trash is
    deleted by the next run.
    """
    trash = study_dir / f"{_TRASH_PREFIX}{os.getpid()}-{time.time_ns()}"
    trash.mkdir()
    for item in study_dir.iterdir():
        if item.name in (".lock", trash.name) or item.name.startswith(_TRASH_PREFIX):
            continue
        os.replace(item, trash / item.name)
    shutil.rmtree(trash, ignore_errors=True)


def _remove_trash(study_dir: Path) -> None:
    """Deletes what a killed process left: ``--fresh`` trash and atomic writes' temporary files.

    Called under the lock, so no other process is writing here.
    """
    for item in study_dir.glob(f"{_TRASH_PREFIX}*"):
        shutil.rmtree(item, ignore_errors=True)
    for item in study_dir.rglob(".*.tmp*"):
        if item.is_file():
            item.unlink(missing_ok=True)


def _manifest(study: StudySpec, context: RunContext, runs: list[RunSpec], *, started: str, executor: str,
              jobs: int) -> dict[str, Any]:
    from invariance.provenance import provenance

    dataset = context.dataset
    summary = dataset.summary() if hasattr(dataset, "summary") else {"name": dataset.name}
    return {"study": study.name, "started": started, "finished": None, "wall_seconds": None,
            "provenance": provenance(), "executor": {"name": executor, "jobs": jobs},
            "dataset": {**summary, "fingerprint": dataset.fingerprint()},
            "evaluation": {"samples": int(len(context.y_eval)), "images": context.description,
                           "eval_hash": context.eval_hash},
            "counts": {"total": len(runs)}, "runs": [r.run_id for r in runs]}


def _write_manifest(study_dir: Path, manifest: dict, runs, context) -> None:
    from invariance.io import write_json

    write_json(study_dir / "manifest.json", manifest)


def _post_process(study: StudySpec, summary: StudySummary) -> None:
    """Curves (when the study varies n_train) and the report; a failure here keeps the results."""
    study_dir = summary.study_dir
    if summary.completed == 0:
        return
    if len(study.n_train) > 1:
        _guarded(summary, "curves", lambda: _call_curves(study_dir), paths={
            "learning_curves_csv": study_dir / "learning_curves.csv", "curves_csv": study_dir / "curves.csv"})
    _guarded(summary, "report", lambda: _call_report(study_dir), paths={
        "figures": study_dir / "figures", "report_html": study_dir / "report.html",
        "report_md": study_dir / "report.md"})


def _call_curves(study_dir: Path) -> bool:
    try:
        from invariance.curves import write_curves
    except ImportError:
        return False
    write_curves(study_dir)
    return True


def _call_report(study_dir: Path) -> bool:
    try:
        from invariance.report import write_report
    except ImportError:
        return False
    write_report(study_dir)
    return True


def _guarded(summary: StudySummary, what: str, call: Callable[[], bool], *, paths: dict[str, Path]) -> None:
    try:
        done = call()
    except Exception as err:  # never lose the study's results to a plotting or report bug
        summary.errors.append(f"{what} failed: {type(err).__name__}: {err}")
        return
    if done:
        summary.paths.update({k: p for k, p in paths.items() if p.exists()})


def _yaml_header(study: StudySpec) -> str:
    return (f"# The resolved study {study.name!r}: defaults filled in and --set overrides applied.\n"
            f"# `invariance run` on this file redoes nothing that finished.\n")


def _plain(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else value
    if isinstance(value, (dict, list, tuple, str, int, float, bool)):
        return value
    return str(value)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")

