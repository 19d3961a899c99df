"""The per-run summary: a harness table's one-number-per-run rows, pivoted to one row per run.

The harness writes a few summary rows per run (``mean_consistency`` and
``mean_consistency_correct`` of each sweep and grid, ``grid_accuracy`` of each grid,
``random_accuracy`` and ``worst_of_k_accuracy`` of the random-k draws, and the clean accuracy
on the evaluation images). :func:`run_summaries` turns them into columns, named once here:
``mean_consistency_<sweep>``, ``mean_consistency_correct_<sweep>``, ``grid_accuracy_<grid>``,
``clean_accuracy``, ``random_accuracy``, ``worst_of_k_accuracy``. The learning curves, the
report's findings and the study runner all read these columns.

``mean_consistency`` leaves out the identity point (see :mod:`invariance.harness.evaluation`);
``mean_consistency_correct`` averages only over images the run classifies correctly
untransformed, so runs of different accuracy compare on images each of them recognises.
Tables from before the ``mean_consistency_correct`` rows existed simply lack those columns.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

CONSISTENCY_PREFIX = "mean_consistency_"
CORRECT_PREFIX = "mean_consistency_correct_"
GRID_PREFIX = "grid_accuracy_"
SWEEP_METRICS: Mapping[str, str] = {"mean_consistency": CONSISTENCY_PREFIX, "mean_consistency_correct": CORRECT_PREFIX,
                                    "grid_accuracy": GRID_PREFIX}
"""Summary metric with one row per sweep or grid -> prefix of its column (the sweep's name follows)."""
RUN_METRICS = ("clean_accuracy", "random_accuracy", "worst_of_k_accuracy")
"""Summary metrics with one row per run: their columns take the metric's name. ``clean_accuracy``
is the harness's ``accuracy`` row of sweep ``clean``: the untransformed accuracy on the same
evaluation images as the consistency, grid and random-k rows (``runs.csv``'s test_accuracy is on
the full test set, so it is never set against them)."""
CLEAN = ("clean", "accuracy")
"""(sweep, metric) of the harness's clean-accuracy row."""
KEYS = ("model", "augmentation", "n_train", "seed")
"""What identifies a run when a table has no ``run_id``."""


def run_summaries(invariance: pd.DataFrame | None, *, keys: Sequence[str] = ("run_id",),
                  run_metrics: Sequence[str] = RUN_METRICS) -> pd.DataFrame | None:
    """One row per run (indexed by ``keys``) of its summary values.

    Args:
        invariance: Harness rows with the ``keys`` columns (``invariance.csv``), or None.
        keys: The columns that identify a run.
        run_metrics: Which one-per-run metrics to include (of :data:`RUN_METRICS`).

    Returns:
        DataFrame indexed by ``keys``: ``mean_consistency_<sweep>`` columns, then
        ``mean_consistency_correct_<sweep>`` columns, then ``grid_accuracy_<grid>`` columns (each in order of first appearance), then
        ``run_metrics`` present; None when there are no summary rows. Per-layer rows never count.
    """
    if invariance is None or len(invariance) == 0:
        return None
    names = {**SWEEP_METRICS, **{m: "" for m in run_metrics}}
    if "clean_accuracy" in run_metrics and "sweep" in invariance.columns:
        clean = (invariance["sweep"].astype(str) == CLEAN[0]) & (invariance["metric"] == CLEAN[1])
        invariance = invariance.assign(metric=invariance["metric"].where(~clean, "clean_accuracy"))
    rows = invariance[invariance["metric"].isin(list(names))]
    if "layer" in rows.columns:
        rows = rows[rows["layer"].isna() | (rows["layer"].astype(str) == "")]
    if len(rows) == 0:
        return None
    column = np.where(rows["metric"].isin(list(SWEEP_METRICS)),
                      rows["metric"].map(names) + rows["sweep"].astype(str), rows["metric"])
    rows = rows.assign(column=column, value=pd.to_numeric(rows["value"], errors="coerce"))
    order = [c for metric in names for c in pd.unique(rows.loc[rows["metric"] == metric, "column"])]
    # One summary row per run and sweep is the harness's contract; a mean keeps duplicates harmless.
    wide = rows.groupby(list(keys) + ["column"], dropna=False, sort=False)["value"].mean().unstack("column")
    return wide.reindex(columns=order).rename_axis(columns=None)


def sweeps_of(table: pd.DataFrame) -> list[str]:
    """The sweeps (and grids) with a ``mean_consistency_<sweep>`` column, in column order."""
    return [str(c)[len(CONSISTENCY_PREFIX):] for c in table.columns
            if str(c).startswith(CONSISTENCY_PREFIX) and not str(c).startswith(CORRECT_PREFIX)]


def correct_sweeps_of(table: pd.DataFrame) -> list[str]:
    """The sweeps (and grids) with a ``mean_consistency_correct_<sweep>`` column, in column order."""
    return [str(c)[len(CORRECT_PREFIX):] for c in table.columns if str(c).startswith(CORRECT_PREFIX)]


def grids_of(table: pd.DataFrame) -> list[str]:
    """The grids with a ``grid_accuracy_<grid>`` column, in column order."""
    return [str(c)[len(GRID_PREFIX):] for c in table.columns if str(c).startswith(GRID_PREFIX)]


def _run_consistencies(rows: pd.DataFrame | None, correct: bool) -> dict[str, float]:
    """One run's finite ``mean_consistency`` (or ``_correct``) summaries by sweep, in order."""
    if rows is None or not len(rows):
        return {}
    wide = run_summaries(rows.assign(_run=0), keys=("_run",), run_metrics=())
    if wide is None:
        return {}
    prefix, names = (CORRECT_PREFIX, correct_sweeps_of(wide)) if correct else (CONSISTENCY_PREFIX, sweeps_of(wide))
    values = {s: float(wide[prefix + s].iloc[0]) for s in names}
    return {s: v for s, v in values.items() if np.isfinite(v)}


def mean_consistency(rows: pd.DataFrame | None, *, correct: bool = False) -> float:
    """One run's invariance score: its ``mean_consistency`` summaries averaged over the sweeps
    and grids (NaN if none); with ``correct=True`` its ``mean_consistency_correct`` ones.
    :func:`consistency_sweeps` names what it averages."""
    values = list(_run_consistencies(rows, correct).values())
    return float(np.mean(values)) if values else float("nan")


def consistency_sweeps(rows: pd.DataFrame | None, *, correct: bool = False) -> list[str]:
    """The sweeps and grids whose summaries :func:`mean_consistency` averages, in table order:
    a score over shifts and rotations together must say so wherever it is shown."""
    return list(_run_consistencies(rows, correct))
