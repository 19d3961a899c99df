"""Effect sizes of design factors on one scale (Kauderer-Abrams 2017's question: which matters
more for invariance, augmentation, pooling or filter size?).

A factor compares two levels of one column of a per-run table (for example ``model``:
``base`` vs ``nopool``, or ``augmentation``: ``none`` vs ``shift``) on one value (for example
the mean translation consistency). When ``match`` names the other design columns (seed,
the other factor), each run at the ``high`` level is paired with the run at the ``low`` level
that agrees on all of them, and the effect is the mean of the paired differences ± their
standard deviation: seeds and the other factor's levels are the replicates. Cohen's d divides
the mean difference by the pooled standard deviation of the two groups, so effects of
different factors are on the same, unit-free scale.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from invariance.errors import SpecError


@dataclass(frozen=True)
class Effect:
    """One factor's effect: ``high`` minus ``low``.

    Attributes:
        factor: The factor's name.
        low, high: The two levels compared.
        mean_low, mean_high: The value's mean at each level.
        diff: Mean of the paired differences (high - low); the difference of means if unpaired.
        diff_std: Sample standard deviation (ddof=1) of the paired differences (NaN if one pair
            or unpaired).
        n_pairs: Number of pairs (0 when unpaired).
        cohens_d: ``(mean_high - mean_low) / pooled std`` (ddof=1 per group); NaN when the
            pooled std is 0 or undefined.
    """

    factor: str
    low: str
    high: str
    mean_low: float
    mean_high: float
    diff: float
    diff_std: float
    n_pairs: int
    cohens_d: float


def cohens_d(low: Sequence[float], high: Sequence[float]) -> float:
    """(mean(high) - mean(low)) / pooled sample std; NaN when it is undefined or zero."""
    a, b = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    if len(a) < 2 and len(b) < 2:
        return float("nan")
    dof = len(a) + len(b) - 2
    if dof < 1:
        return float("nan")
    var = ((len(a) - 1) * (a.var(ddof=1) if len(a) > 1 else 0.0)
           + (len(b) - 1) * (b.var(ddof=1) if len(b) > 1 else 0.0)) / dof
    if not var > 0:
        return float("nan")
    return float((b.mean() - a.mean()) / np.sqrt(var))


def factor_effect(table: pd.DataFrame, *, factor: str, column: str, low: str, high: str, value: str,
                  match: Sequence[str] = ()) -> Effect:
    """The effect of moving ``column`` from ``low`` to ``high`` on ``value``.

    Args:
        table: One row per run.
        factor: Name for the result.
        column: The column holding the factor's levels.
        low, high: The levels compared.
        value: The numeric column compared.
        match: Columns a pair must agree on (e.g. ``("seed", "augmentation")``); empty: unpaired.

    Returns:
        An :class:`Effect`.
    """
    for name in (column, value, *match):
        if name not in table.columns:
            raise SpecError("column", "must name a column of the table: " + ", ".join(map(str, table.columns)), name)
    a = table[table[column] == low]
    b = table[table[column] == high]
    for level, rows in ((low, a), (high, b)):
        if rows.empty:
            raise SpecError(factor, f"level not found in column {column!r}; levels: "
                            + ", ".join(map(str, table[column].unique())), level)
    mean_low, mean_high = float(a[value].mean()), float(b[value].mean())
    if match:
        keys = list(match)
        pairs = a[keys + [value]].merge(b[keys + [value]], on=keys, suffixes=("_low", "_high"))
        if pairs.empty:
            raise SpecError(factor, f"no runs at {low!r} and {high!r} agree on " + ", ".join(keys), "0 pairs")
        d = (pairs[f"{value}_high"] - pairs[f"{value}_low"]).to_numpy(dtype=float)
        diff, n_pairs = float(d.mean()), len(d)
        diff_std = float(d.std(ddof=1)) if len(d) > 1 else float("nan")
    else:
        diff, diff_std, n_pairs = mean_high - mean_low, float("nan"), 0
    return Effect(factor, str(low), str(high), mean_low, mean_high, diff, diff_std, n_pairs,
                  cohens_d(a[value].to_numpy(), b[value].to_numpy()))


def factor_effects(table: pd.DataFrame, factors: Mapping[str, Mapping[str, str]], *, value: str,
                   match: Sequence[str] = ()) -> pd.DataFrame:
    """Several factors' effects as one table (one row each, the :class:`Effect` fields).

    Args:
        table: One row per run.
        factors: ``{name: {"column": ..., "low": ..., "high": ...}}``; an entry may carry its
            own ``match`` list, which then replaces the shared one.
        value: The numeric column compared.
        match: Default pairing columns; a column equal to the factor's own column is dropped.

    Returns:
        DataFrame with columns factor, low, high, mean_low, mean_high, diff, diff_std, n_pairs, cohens_d.
    """
    rows = []
    for name, f in factors.items():
        keys = [m for m in f.get("match", match) if m != f["column"]]
        rows.append(asdict(factor_effect(table, factor=name, column=f["column"], low=f["low"], high=f["high"],
                                         value=value, match=keys)))
    return pd.DataFrame(rows, columns=[*Effect.__dataclass_fields__])
