"""The per-run record: what a finished run of a study leaves for the study tables.

A finished run has ``invariance.csv`` (its harness rows; completed runs only), then
``status.json``, its record: the run's key columns, ``status``, ``reason``, the trainer's
metrics, timings, the ``eval_hash`` it was evaluated under and ``artifacts``, the sha256 of
each of its files (:data:`~invariance.training.run_dir.ARTIFACTS`). The record is written last,
so a run counts as finished exactly when it exists, and as *completed* only while its files
still match the record (:func:`verify_run`): a deleted ``model.keras`` or a truncated
``metrics.json``, as after a partial copy between machines, makes it pending again, so that
``invariance run`` redoes it and ``invariance status`` reports it. :class:`~invariance.training.RunDir` owns the
files; this module says what goes in them and how a record becomes a ``runs.csv`` row.
"""
from __future__ import annotations

import datetime as _dt
import math
import os
from typing import Any, Mapping

import pandas as pd

from invariance.errors import InvarianceError
from invariance.results.layout import HARNESS_COLUMNS, RUN_COLUMNS
from invariance.results.tables import read_table, write_table
from invariance.io import keras_archive_problem, read_json
from invariance.training.run_dir import TRAINER_ARTIFACTS, RunDir

COMPLETED, FAILED, PENDING = "completed", "failed", "pending"


def record_result(run_dir: RunDir | str | os.PathLike, result: Mapping[str, Any]) -> None:
    """Writes a finished run's files: ``invariance.csv`` first, then ``status.json`` (the marker).

    A failed run gets ``error.txt`` with its traceback (when there is one) and no table.

    Raises:
        InvarianceError: for a completed result without harness rows.
    """
    run = as_run_dir(run_dir)
    run.path.mkdir(parents=True, exist_ok=True)
    rows = result.get("rows")
    if result.get("status") == COMPLETED:
        if rows is None:
            raise InvarianceError(f"run {result.get('run_id')}: a completed run must have harness rows")
        rows = rows.loc[:, [c for c in HARNESS_COLUMNS if c in rows.columns]
                        + [c for c in rows.columns if c not in HARNESS_COLUMNS]]
        write_table(run.table, rows)
    elif result.get("traceback"):
        run.write_error(result["traceback"])
    record = {k: plain(v) for k, v in result.items() if k not in ("rows", "traceback")}
    record["finished"] = now()
    record["artifacts"] = run.checksums()
    run.write_record(record)


def read_run(run_dir: RunDir | str | os.PathLike) -> tuple[dict[str, Any] | None, pd.DataFrame | None]:
    """(record or None, harness table or None) of one run folder.

    A completed run that fails :func:`verify_run` reads as unfinished ``(None, None)``, so the
    study tables never take rows from files that went bad.
    """
    run = as_run_dir(run_dir)
    record = run.read_record()
    if record is not None and verify_run(run, record):
        return None, None
    table = read_table(run.table) if record is not None and record.get("status") == COMPLETED else None
    return record, table


def run_state(run_dir: RunDir | str | os.PathLike, eval_hash: str | None = None, *, verify: bool = True) -> str:
    """``"completed"``, ``"failed"`` or ``"pending"``.

    Pending also covers a completed run whose evaluation settings changed since (it is
    evaluated again, from its saved model) and one that fails :func:`verify_run` (it is
    redone). ``verify=False`` skips the checksums, for a caller that has just verified.
    """
    run = as_run_dir(run_dir)
    record = run.read_record()
    if record is None:
        return PENDING
    if record.get("status") == COMPLETED:
        if verify and verify_run(run, record):
            return PENDING
        if eval_hash is not None and record.get("eval_hash") != eval_hash:
            return PENDING
        return COMPLETED
    return FAILED


def verify_run(run_dir: RunDir | str | os.PathLike, record: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
    """What is wrong with a completed run's files: ``[(file name, why), ...]``, empty when nothing.

    Each file named in the record's ``artifacts`` must exist with the sha256 recorded there.
    A record from before the checksums existed is checked as far as it can be: ``model.keras``,
    ``metrics.json`` and ``invariance.csv`` must exist, ``metrics.json`` must parse and
    ``model.keras`` must be a zip archive with a ``config.json``. Failed and unfinished runs
    have nothing to verify.
    """
    run = as_run_dir(run_dir)
    record = run.read_record() if record is None else record
    if record is None or record.get("status") != COMPLETED:
        return []
    problems = []
    expected = record.get("artifacts")
    if isinstance(expected, Mapping):
        from invariance.io import file_sha256

        for name, digest in expected.items():
            path = run.path / name
            if not path.is_file():
                problems.append((name, f"{name} is missing"))
            elif file_sha256(path) != digest:
                problems.append((name, f"{name} has changed since the run finished (its sha256 differs)"))
        return problems
    for name in (run.model.name, run.metrics.name, run.table.name):
        if not (run.path / name).is_file():
            problems.append((name, f"{name} is missing"))
    if run.metrics.is_file():
        try:
            read_json(run.metrics)
        except (OSError, ValueError):
            problems.append((run.metrics.name, f"{run.metrics.name} is not valid JSON (truncated?)"))
    if run.model.is_file() and keras_archive_problem(run.model):
        problems.append((run.model.name, f"{run.model.name} is not a valid .keras archive"))
    return problems


def discard_for_redo(run_dir: RunDir | str | os.PathLike, problems: list[tuple[str, str]]) -> str:
    """Deletes what a redo must rebuild; returns ``"train"`` or ``"evaluate"`` (what is redone).

    The record and ``invariance.csv`` always go. When any trainer file is bad, the trainer's
    files go too, so the run is trained again; otherwise the trainer's stored model is only
    evaluated again.
    """
    run = as_run_dir(run_dir)
    retrain = any(name in TRAINER_ARTIFACTS for name, _ in problems)
    run.discard([run.record.name, run.table.name] + (list(TRAINER_ARTIFACTS) if retrain else []))
    return "train" if retrain else "evaluate"


def run_row(record: Mapping[str, Any], key: Mapping[str, Any]) -> dict[str, Any]:
    """A run's row of ``runs.csv`` (:data:`RUN_COLUMNS`): its record, under its study key.

    ``key`` is the run's key columns as the study expands them; an ``n_train`` of None (all
    the data) takes the size the record says was used.
    """
    row = {c: record.get(c) for c in RUN_COLUMNS}
    row.update(key)
    if row.get("n_train") is None:
        row["n_train"] = record.get("n_train")
    return row


def as_run_dir(run_dir: RunDir | str | os.PathLike) -> RunDir:
    return run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir)


def plain(value: Any) -> Any:
    """``value`` as plain JSON: numpy scalars as Python numbers, NaN as None, others as text."""
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


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
