"""A study folder's learning-curve files: ``learning_curves.csv`` and ``curves.csv``, beside its tables."""
from __future__ import annotations

import logging
import os
from typing import Callable

import pandas as pd

from invariance.curves.powerlaw import check_target
from invariance.curves.summary import CURVES_COLUMNS, curves_table, fit_curves, resolve_reference
from invariance.curves.table import learning_curve_table
from invariance.errors import in_range
from invariance.results.layout import CURVES_FILE, LEARNING_CURVES_FILE
from invariance.results.loader import load_study_tables
from invariance.results.tables import write_table

_log = logging.getLogger(__name__)


def write_curves(study_dir: str | os.PathLike, *, target: float = 0.85, reference: str | None = None,
                 n_boot: int = 200, seed: int = 0, level: float = 0.95,
                 log: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Computes a study's learning curves and writes them beside its tables.

    Writes, atomically, ``learning_curves.csv`` (:func:`learning_curve_table`) and
    ``curves.csv`` (:func:`curves_table`, one row per (model, augmentation); header only
    when no run completed). Curves that cannot be fitted (fewer than 3 n_train) keep a row
    with NaN parameters and the reason in ``fit_note``, so ``curves.csv`` is never stale.
    Degenerate data never raises; bad arguments do, and so does a folder that is not a study
    folder (:class:`~invariance.results.NotAStudyFolder`).

    Args:
        study_dir: The study's results folder (holds ``runs.csv``).
        target: Target test accuracy in (0, 1).
        reference: Reference model of the efficiency ratios (default: ``cnn_pool`` if
            present, else the first model). It must be a model of the study.
        n_boot: Bootstrap replicates per curve (0: no CIs).
        seed: Bootstrap seed (>= 0); the same seed writes the same files.
        level: Confidence level.
        log: Called with one line per thing written or skipped; default: the
            ``invariance.results.curve_files`` logger at INFO.

    Returns:
        (learning_curves, curves) DataFrames, as written.
    """
    say = log or _log.info
    target = check_target(target)
    in_range("n_boot", n_boot, 0)
    in_range("seed", seed, 0)
    tables = load_study_tables(study_dir)
    study_dir, invariance = tables.study_dir, tables.invariance
    runs = with_n_fit(tables.runs, tables.run_dir)
    learning_curves = learning_curve_table(runs, invariance)
    reference = resolve_reference(learning_curves["model"], reference) if len(learning_curves) \
        else resolve_reference(runs["model"] if "model" in runs else [], reference)
    write_table(study_dir / LEARNING_CURVES_FILE, learning_curves)
    say(f"wrote {study_dir / LEARNING_CURVES_FILE} ({len(learning_curves)} completed runs)")
    if len(learning_curves) == 0:
        curves = pd.DataFrame(columns=list(CURVES_COLUMNS))
        write_table(study_dir / CURVES_FILE, curves)
        say("no completed runs: learning curves not fitted")
        return learning_curves, curves
    fits = fit_curves(learning_curves, n_boot=n_boot, seed=seed, level=level)
    curves = curves_table(learning_curves, target=target, reference=reference, level=level, fits=fits)
    write_table(study_dir / CURVES_FILE, curves)
    fitted = sum(f.params is not None for f in fits)
    say(f"wrote {study_dir / CURVES_FILE} ({fitted} of {len(fits)} curves fitted)")
    for fit in fits:
        if fit.params is None:
            say(f"skipped {fit.model} / {fit.augmentation}: {fit.note}")
    return learning_curves, curves


def with_n_fit(runs: pd.DataFrame, run_dir: Callable) -> pd.DataFrame:
    """``runs`` with ``n_fit`` (images trained on) filled from each run's ``metrics.json``
    where ``runs.csv`` lacks it (tables written before ``runs.csv`` carried the column).

    Args:
        runs: The runs table. run_dir: run_id -> the run's :class:`RunDir`.
    """
    if "run_id" not in runs.columns:
        return runs
    have = pd.to_numeric(runs["n_fit"], errors="coerce") if "n_fit" in runs.columns \
        else pd.Series(float("nan"), index=runs.index)
    missing = have.isna() & (runs["status"].astype(str) == "completed") if "status" in runs.columns else have.isna()
    if not missing.any():
        return runs
    filled = have.copy()
    for i in runs.index[missing]:
        try:
            metrics = run_dir(str(runs.at[i, "run_id"])).read_metrics() or {}
        except (OSError, ValueError):
            metrics = {}
        if metrics.get("n_fit") is not None:
            filled.at[i] = metrics["n_fit"]
    return runs.assign(n_fit=filled)
