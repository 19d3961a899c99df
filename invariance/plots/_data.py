"""Selecting the harness rows a figure shows (filters only; nothing is computed here)."""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from invariance.plots.style import MissingDataError

AXES = ("dx", "dy", "angle", "scale")
IDENTITY = {"dx": 0.0, "dy": 0.0, "angle": 0.0, "scale": 1.0}
# Sweep names the harness reserves for rows that are not a sweep over transform points.
SPECIAL_SWEEPS = ("clean", "random_k", "walk", "equivariance")


def require_columns(df: pd.DataFrame, columns: Iterable[str], *, table: str) -> None:
    """Raises MissingDataError naming the columns ``df`` lacks."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise MissingDataError(f"{table}: needs columns {missing}; received columns {list(df.columns)}")


def harness_rows(df: pd.DataFrame, *, sweep: str | Iterable[str] | None = None,
                 metric: str | Iterable[str] | None = None) -> pd.DataFrame:
    """Rows of a harness table (``invariance.csv``) for the given sweep(s) and metric(s).

    ``layer`` read back from CSV is NaN for non-equivariance rows; it becomes ``""`` again.
    """
    require_columns(df, ("sweep", "metric", "value"), table="invariance table")
    out = df
    if sweep is not None:
        out = out[out["sweep"].isin([sweep] if isinstance(sweep, str) else list(sweep))]
    if metric is not None:
        out = out[out["metric"].isin([metric] if isinstance(metric, str) else list(metric))]
    out = out.copy()
    if "layer" in out.columns:
        out["layer"] = out["layer"].fillna("").astype(str)
    for col in ("model", "augmentation"):
        if col in out.columns:
            out[col] = out[col].astype(str)
    return out


def at_n_train(df: pd.DataFrame, n_train: int | None = None) -> tuple[pd.DataFrame, int | None]:
    """Rows at one training-set size: ``n_train``, or the largest in the table.

    A study with an ``n_train`` axis would otherwise mix sizes into one CI band.

    Returns:
        (rows, the n_train shown or None when the table has no such column).
    """
    if "n_train" not in df.columns or df["n_train"].isna().all():
        return df, None
    n = int(df["n_train"].max()) if n_train is None else int(n_train)
    rows = df[df["n_train"] == n]
    if rows.empty:
        raise MissingDataError(f"n_train: no rows with n_train={n}; the table has {sorted(df['n_train'].unique())}")
    return rows, n


def varying_axes(points: pd.DataFrame) -> list[str]:
    """The transform axes that take more than one value in ``points``, in AXES order."""
    return [a for a in AXES if a in points.columns and points[a].dropna().nunique() > 1]


def point_sweeps(df: pd.DataFrame, *, dims: int) -> list[str]:
    """Names of sweeps (``dims=1``) or grids (``dims=2``) over transform points, in table order.

    A sweep varies one axis and a grid two or more; reserved names (clean, random_k, walk,
    equivariance) are never returned.
    """
    rows = df[~df["sweep"].isin(SPECIAL_SWEEPS)].dropna(subset=[a for a in AXES if a in df.columns], how="all")
    out = []
    for name in pd.unique(rows["sweep"]):
        n = len(varying_axes(rows[rows["sweep"] == name]))
        if (dims == 1 and n == 1) or (dims >= 2 and n >= 2):
            out.append(str(name))
    return out


def sweep_axis(rows: pd.DataFrame, sweep: str) -> str:
    """The axis a one-axis sweep varies (its name when that is an axis name)."""
    if sweep in AXES:
        return sweep
    axes = varying_axes(rows)
    if len(axes) != 1:
        raise MissingDataError(f"sweep {sweep!r}: must vary exactly one of {AXES}; varies {axes}")
    return axes[0]


def ordered(values: Iterable) -> list[str]:
    """Unique labels sorted as strings (the order colours are given in)."""
    return sorted({str(v) for v in values if not (isinstance(v, float) and np.isnan(v))})


def augmentation_order(values: Iterable) -> list[str]:
    """Augmentation labels with ``none`` first, then sorted."""
    labels = ordered(values)
    return (["none"] if "none" in labels else []) + [a for a in labels if a != "none"]
