"""The learning-curve table: one row per completed run, with its invariance summaries.

Takes the study's ``runs.csv`` and ``invariance.csv`` (as frames) and joins them, through the
per-run summary (:mod:`invariance.curves.run_summary`), into the tidy table behind
``learning_curves.csv`` and every fit in :mod:`invariance.curves`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from invariance.curves.run_summary import KEYS, SWEEP_METRICS, run_summaries
from invariance.errors import InvarianceError

REQUIRED_RUN_COLUMNS = ("model", "augmentation", "n_train", "seed", "status", "test_accuracy")
BASE_COLUMNS = ("run_id", "model", "augmentation", "n_train", "n_fit", "seed", "test_accuracy",
                "train_accuracy", "generalization_gap", "params", "macs", "train_seconds")
#: The columns the table takes from the runs table (the others of BASE_COLUMNS are computed).
_FROM_RUNS = tuple(c for c in BASE_COLUMNS if c != "generalization_gap")


def learning_curve_table(runs: pd.DataFrame, invariance: pd.DataFrame | None = None) -> pd.DataFrame:
    """Joins completed runs with their invariance summaries.

    Args:
        runs: The study's runs table (columns as in ``runs.csv``; ``run_id``, ``n_fit``,
            ``train_accuracy``, ``params``, ``macs`` and ``train_seconds`` may be absent and
            then come out as NaN).
        invariance: The study's tidy harness rows (``invariance.csv``) or None. Its summary
            rows become columns: ``mean_consistency_<sweep>`` for each sweep's
            ``mean_consistency`` row, ``mean_consistency_correct_<sweep>`` for its
            ``mean_consistency_correct`` row, ``grid_accuracy_<grid>`` for each grid's
            ``grid_accuracy`` row. Rows are matched by ``run_id`` when both tables have it,
            else by (model, augmentation, n_train, seed).

    Returns:
        DataFrame, one row per completed run, with columns ``BASE_COLUMNS`` (where
        ``generalization_gap = train_accuracy - test_accuracy``; ``n_train`` is the run's
        subset size before the validation split, ``n_fit`` the images it trained on, the
        size every curve is fitted on) followed by the summary columns (mean consistencies
        first, then grid accuracies, each in order of first appearance). Rows are ordered by model and augmentation as they first appear in
        ``runs``, then by n_train and seed.

    Raises:
        InvarianceError: If ``runs`` lacks a required column.
    """
    _require(runs, REQUIRED_RUN_COLUMNS, "runs table")
    done = runs[runs["status"].astype(str) == "completed"].reset_index(drop=True)
    for column in _FROM_RUNS:
        if column not in done.columns:
            done[column] = np.nan
    table = done[list(_FROM_RUNS)].copy()
    for column in ("test_accuracy", "train_accuracy", "params", "macs", "train_seconds"):
        table[column] = pd.to_numeric(table[column], errors="coerce")
    for column in ("n_train", "n_fit", "seed"):
        table[column] = _as_int(table[column])
    table["generalization_gap"] = table["train_accuracy"] - table["test_accuracy"]
    table = table[list(BASE_COLUMNS)]

    summaries = _summaries(invariance, by_run_id=table["run_id"].notna().all())
    if summaries is not None:
        keys = list(summaries.index.names)
        table = table.merge(summaries.reset_index(), on=keys, how="left", validate="many_to_one")

    order = {name: i for i, name in enumerate(pd.unique(runs["model"].astype(str)))}
    aug_order = {name: i for i, name in enumerate(pd.unique(runs["augmentation"].astype(str)))}
    sort_keys = pd.DataFrame({"m": table["model"].astype(str).map(order),
                              "a": table["augmentation"].astype(str).map(aug_order),
                              "n": table["n_train"], "s": table["seed"]})
    table = table.iloc[sort_keys.reset_index(drop=True).sort_values(["m", "a", "n", "s"], kind="stable").index]
    return table.reset_index(drop=True)


def _summaries(invariance: pd.DataFrame | None, *, by_run_id: bool) -> pd.DataFrame | None:
    """The per-run summary pivot (:func:`run_summaries`), keyed by run_id or by :data:`KEYS`."""
    if invariance is None or len(invariance) == 0:
        return None
    _require(invariance, ("sweep", "metric", "value"), "invariance table")
    if by_run_id and "run_id" in invariance.columns:
        return run_summaries(invariance, keys=("run_id",), run_metrics=())
    rows = invariance[invariance["metric"].isin(list(SWEEP_METRICS))]
    if len(rows) == 0:
        return None
    _require(rows, KEYS, "invariance table (no run_id to join on)")
    rows = rows.assign(n_train=_as_int(rows["n_train"]), seed=_as_int(rows["seed"]))
    return run_summaries(rows, keys=KEYS, run_metrics=())


def _as_int(series: pd.Series) -> pd.Series:
    values = pd.to_numeric(series, errors="coerce")
    return values.astype("Int64") if values.isna().any() else values.astype("int64")


def _require(frame: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvarianceError(f"{what}: missing column(s) {', '.join(missing)}; it has "
                              f"{', '.join(map(str, frame.columns)) or 'no columns'}")
