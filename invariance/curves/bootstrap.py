"""Bootstrap over seeds: confidence intervals for a learning-curve fit.

Each replicate resamples, within every training-set size, that size's runs (seeds) with
replacement, then refits the per-size means weighted by the number of runs. Sizes are
never resampled: the design (which n were measured) is fixed, the seed-to-seed noise is
what the interval shows.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np
import pandas as pd

from invariance.curves.powerlaw import PowerLaw, fit_power_law
from invariance.errors import InvarianceError, SpecError, in_range
from invariance.seeding import make_rng

PARAMS = ("a", "b", "c")


@dataclasses.dataclass(frozen=True)
class SizeMeans:
    """A learning curve reduced to its sizes.

    Attributes:
        n: (S,) distinct training-set sizes, ascending.
        errors: S arrays, the test errors of the runs at each size.
    """

    n: np.ndarray
    errors: tuple[np.ndarray, ...]

    @property
    def counts(self) -> np.ndarray:
        """(S,) number of runs (seeds) at each size."""
        return np.array([len(e) for e in self.errors], dtype=np.float64)

    @property
    def means(self) -> np.ndarray:
        """(S,) mean test error at each size."""
        return np.array([e.mean() for e in self.errors])


@dataclasses.dataclass(frozen=True)
class BootstrapFit:
    """Bootstrap replicates of a power-law fit and their percentile intervals.

    Attributes:
        samples: (n_boot, 3) DataFrame with columns a, b, c, one row per replicate.
        level: Confidence level of ``intervals``, e.g. 0.95.
        intervals: {"a": (low, high), "b": ..., "c": ...}; NaN when not resampled.
        resampled: False when every size has a single run, so resampling cannot vary
            anything; then ``intervals`` are NaN and ``note`` says why.
        note: ``""`` or the reason the intervals are missing.
    """

    samples: pd.DataFrame
    level: float
    intervals: dict[str, tuple[float, float]]
    resampled: bool
    note: str


def size_means(df: pd.DataFrame, *, value: str = "test_accuracy") -> SizeMeans:
    """Groups the runs of one (model, augmentation) curve by n_train.

    Args:
        df: Rows with columns ``n_train`` and ``value`` (an accuracy); rows where either
            is missing are left out.
        value: The accuracy column; the curve is fitted to ``1 - value``.

    Returns:
        SizeMeans with the sizes ascending.
    """
    for column in ("n_train", value):
        if column not in df.columns:
            raise InvarianceError(f"learning curve: missing column {column}; it has {', '.join(df.columns)}")
    for column in ("model", "augmentation"):
        if column in df.columns and df[column].nunique(dropna=False) > 1:
            raise InvarianceError(f"learning curve: expected the runs of one {column}; received "
                                  f"{sorted(map(str, df[column].unique()))}")
    n = pd.to_numeric(df["n_train"], errors="coerce").to_numpy(dtype=np.float64)
    err = 1.0 - pd.to_numeric(df[value], errors="coerce").to_numpy(dtype=np.float64)
    keep = np.isfinite(n) & np.isfinite(err)
    n, err = n[keep], err[keep]
    sizes = np.unique(n)
    return SizeMeans(n=sizes, errors=tuple(err[n == s] for s in sizes))


def fit_sizes(sizes: SizeMeans) -> PowerLaw:
    """Fits the per-size mean errors weighted by the number of runs at each size."""
    return fit_power_law(sizes.n, sizes.means, weights=sizes.counts)


def bootstrap_fit(df: pd.DataFrame, *, n_boot: int = 200, seed: int | Sequence[int] = 0,
                  level: float = 0.95, value: str = "test_accuracy") -> BootstrapFit:
    """Bootstrap confidence intervals for the power-law fit of one learning curve.

    Args:
        df: The runs of one (model, augmentation): columns ``n_train`` and ``value``.
        n_boot: Number of replicates (>= 1).
        seed: Seed of the resampling (an int or a sequence of ints, as for
            ``np.random.default_rng``). The same seed gives the same intervals.
        level: Confidence level of the percentile intervals, in (0, 1).
        value: The accuracy column.

    Returns:
        BootstrapFit with ``n_boot`` replicates.

    Raises:
        InvarianceError: If the curve has fewer than 3 distinct sizes.
    """
    in_range("n_boot", n_boot, 1)
    _check_level(level)
    sizes = size_means(df, value=value)
    fit_sizes(sizes)  # fails early, with the fit's own message, on a degenerate curve
    rng = make_rng(seed)
    # Draw every size's resamples up front, in ascending-size order, so the replicates
    # depend only on the seed and the data.
    means = np.empty((n_boot, len(sizes.n)))
    for j, errors in enumerate(sizes.errors):
        picks = rng.integers(0, len(errors), size=(n_boot, len(errors)))
        means[:, j] = errors[picks].mean(axis=1)
    counts = sizes.counts
    rows = [tuple(fit_power_law(sizes.n, means[k], weights=counts)) for k in range(n_boot)]
    samples = pd.DataFrame(rows, columns=list(PARAMS))
    resampled = bool(np.any(counts > 1))
    if resampled:
        intervals = {p: interval(samples[p].to_numpy(), level) for p in PARAMS}
        note = ""
    else:
        intervals = {p: (math.nan, math.nan) for p in PARAMS}
        note = "one run per n_train: no bootstrap CI (needs 2+ seeds)"
    return BootstrapFit(samples=samples, level=level, intervals=intervals, resampled=resampled, note=note)


def interval(values, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of ``values``, ignoring NaN; ``inf`` values count as infinite.

    Returns:
        (low, high); (nan, nan) when no value is left.
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return math.nan, math.nan
    big = np.finfo(np.float64).max
    # Quantiles interpolate, and inf - inf is nan: stand in the largest float for inf.
    q = np.quantile(np.clip(v, -big, big), [(1 - level) / 2, (1 + level) / 2])
    lo, hi = (float(x) if abs(x) < big / 2 else math.copysign(math.inf, x) for x in q)
    return lo, hi


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise SpecError("level", "must be a confidence level between 0 and 1 (exclusive)", level)
