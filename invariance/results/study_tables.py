"""The study tables ``runs.csv`` and ``invariance.csv``, rebuilt from the per-run records.

Rows follow the expansion order of the runs (and the harness's order within a run), so the
tables depend only on which runs finished and what they wrote, never on timing: a study that
was interrupted and resumed ends with the same tables as one that ran straight through.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Protocol

import pandas as pd

import invariance.results.layout as L
from invariance.results.records import COMPLETED, read_run, run_row
from invariance.results.tables import write_table


class StudyRun(Protocol):
    """What the tables need of a run: its id and its key columns (a study's RunSpec)."""

    run_id: str

    def key(self) -> dict[str, Any]: ...


def write_study_tables(study_dir: str | os.PathLike, runs: Iterable[StudyRun], *,
                       cache: dict[str, Any] | None = None) -> dict[str, Any]:
    """Rebuilds ``runs.csv`` and ``invariance.csv`` from the per-run files, atomically.

    Args:
        study_dir: The study's folder.
        runs: The study's runs, in expansion order.
        cache: Optional ``{run_id: (record, table)}`` of run files already read by this
            process (filled here; drop a run's entry when its files change).

    Returns:
        ``{"counts": {"total", "completed", "failed", "pending"}, "failed": [runs.csv rows]}``.
    """
    study_dir = Path(study_dir)
    runs = list(runs)
    cache = {} if cache is None else cache
    run_rows, frames, failed = [], [], []
    counts = {"total": len(runs), "completed": 0, "failed": 0, "pending": 0}
    for run in runs:
        if run.run_id not in cache:
            cache[run.run_id] = read_run(L.run_dir(study_dir, run.run_id))
        record, table = cache[run.run_id]
        if record is None:
            cache.pop(run.run_id)  # not finished: look again next time
            counts["pending"] += 1
            continue
        row = run_row(record, run.key())
        if record.get("status") == COMPLETED and table is not None:
            counts["completed"] += 1
            table = table.copy()
            for i, column in enumerate(L.KEY_COLUMNS):
                table.insert(i, column, row[column])
            frames.append(table)
        elif record.get("status") == COMPLETED:
            counts["pending"] += 1
            continue
        else:
            counts["failed"] += 1
            row["status"] = "failed"
            failed.append(row)
        run_rows.append(row)
    runs_table = pd.DataFrame(run_rows, columns=list(L.RUN_COLUMNS))
    for column in L.INT_COLUMNS:
        runs_table[column] = runs_table[column].astype("Int64")
    if frames:
        inv_table = pd.concat(frames, ignore_index=True)
    else:
        inv_table = pd.DataFrame(columns=list(L.KEY_COLUMNS) + list(L.HARNESS_COLUMNS))
    inv_table["n_train"] = inv_table["n_train"].astype("Int64")
    write_table(study_dir / L.RUNS_FILE, runs_table)
    write_table(study_dir / L.INVARIANCE_FILE, inv_table)
    return {"counts": counts, "failed": failed}
