"""Bootstrap over seed clusters: confidence intervals for learning-curve fits.

Runs that share a seed share their training subset (the subsets of one seed are nested
across sizes), their initial-weight stream and their evaluation images, so they are
correlated: a seed is a *cluster*. Each replicate therefore draws seeds with replacement,
once for the whole study, and every run of a drawn seed, at every size and for every
model, enters the replicate together (:class:`SeedDraws`). The per-size means of the
drawn runs are refitted, weighted by how many drawn runs each size has. Sizes are never
resampled: the design (which n were measured) is fixed.

Because all curves use the same draws, replicate ``k`` of one curve and replicate ``k`` of
another saw the same seeds, so a ratio of two curves (the efficiency ratio) is taken
replicate by replicate.
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
N_COLUMN = "n_fit"
"""The size a curve is fitted on: images trained on, after the validation split."""
FALLBACK_N_COLUMN = "n_train"
"""Used only for tables that do not record ``n_fit`` (subset size before the split)."""


@dataclasses.dataclass(frozen=True)
class SizeMeans:
    """A learning curve reduced to its sizes.

    Attributes:
        n: (S,) distinct training-set sizes, ascending.
        errors: S arrays, the test errors of the runs at each size.
        seeds: S arrays, the seed of each of those runs (same shapes as ``errors``).
    """

    n: np.ndarray
    errors: tuple[np.ndarray, ...]
    seeds: tuple[np.ndarray, ...] = ()

    @property
    def counts(self) -> np.ndarray:
        """(S,) number of runs (seeds) at each size."""
        return np.array([len(e) for e in self.errors], dtype=np.float64)

    @property
    def means(self) -> np.ndarray:
        """(S,) mean test error at each size."""
        return np.array([e.mean() for e in self.errors])

    def drop(self, j: int) -> "SizeMeans":
        """The curve without its ``j``-th size (leave-one-size-out)."""
        keep = [i for i in range(len(self.n)) if i != j]
        return SizeMeans(self.n[keep], tuple(self.errors[i] for i in keep),
                         tuple(self.seeds[i] for i in keep) if self.seeds else ())


@dataclasses.dataclass(frozen=True)
class SeedDraws:
    """Which seeds each bootstrap replicate takes.

    Attributes:
        seeds: The distinct seeds of the study, ascending.
        picks: (n_boot, len(seeds)) indices into ``seeds``: replicate ``k`` is made of the
            seeds ``seeds[picks[k]]`` (with repeats).
    """

    seeds: tuple
    picks: np.ndarray

    @classmethod
    def draw(cls, seeds: Sequence, *, n_boot: int, seed: int | Sequence[int] = 0) -> "SeedDraws":
        """Draws ``n_boot`` replicates of the distinct ``seeds``, with replacement, from ``seed``.

        The draws depend only on the set of seeds, ``n_boot`` and ``seed``: which curves a
        table holds does not change them.
        """
        in_range("n_boot", n_boot, 1)
        distinct = tuple(sorted(set(seeds)))
        if not distinct:
            raise InvarianceError("bootstrap: no seeds to resample")
        picks = make_rng(seed).integers(0, len(distinct), size=(n_boot, len(distinct)))
        return cls(distinct, picks)

    @property
    def n_boot(self) -> int:
        return int(self.picks.shape[0])

    def weights(self, seeds: np.ndarray) -> np.ndarray:
        """(n_boot, len(seeds)): how many times each run (given by its seed) is in each replicate."""
        index = {s: i for i, s in enumerate(self.seeds)}
        counts = np.zeros((self.n_boot, len(self.seeds)))
        np.add.at(counts, (np.repeat(np.arange(self.n_boot), self.picks.shape[1]), self.picks.ravel()), 1.0)
        cols = [index.get(s) for s in seeds]
        missing = [s for s, c in zip(seeds, cols) if c is None]
        if missing:
            raise InvarianceError(f"bootstrap: seeds {sorted(set(missing))} are not among the drawn seeds "
                                  f"{list(self.seeds)}")
        return counts[:, cols]


@dataclasses.dataclass(frozen=True)
class BootstrapFit:
    """Bootstrap replicates of a power-law fit and their percentile intervals.

    Attributes:
        samples: (n_boot, 3) DataFrame with columns a, b, c, one row per replicate (NaN
            where a replicate left fewer than 3 sizes to fit).
        level: Confidence level of ``intervals``, e.g. 0.95.
        intervals: {"a": (low, high), "b": ..., "c": ...}; NaN when not resampled.
        resampled: False when the curve has a single seed, so resampling cannot vary
            anything; then ``intervals`` are NaN and ``note`` says why.
        note: ``""`` or the reason the intervals are missing.
    """

    samples: pd.DataFrame
    level: float
    intervals: dict[str, tuple[float, float]]
    resampled: bool
    note: str


def n_column(df: pd.DataFrame) -> str:
    """The size column a curve is fitted on: ``n_fit`` when the table records it, else ``n_train``."""
    if N_COLUMN in df.columns and pd.to_numeric(df[N_COLUMN], errors="coerce").notna().any():
        return N_COLUMN
    return FALLBACK_N_COLUMN


def size_means(df: pd.DataFrame, *, value: str = "test_accuracy", n: str | None = None) -> SizeMeans:
    """Groups the runs of one (model, augmentation) curve by training-set size.

    Args:
        df: Rows with the size column, ``value`` (an accuracy) and, for the bootstrap,
            ``seed``; rows where the size or the value is missing are left out.
        value: The accuracy column; the curve is fitted to ``1 - value``.
        n: The size column; default :func:`n_column` (``n_fit``, else ``n_train``).

    Returns:
        SizeMeans with the sizes ascending.
    """
    n = n or n_column(df)
    for column in (n, value):
        if column not in df.columns:
            raise InvarianceError(f"learning curve: missing column {column}; it has {', '.join(df.columns)}")
    for column in ("model", "augmentation"):
        if column in df.columns and df[column].nunique(dropna=False) > 1:
            raise InvarianceError(f"learning curve: expected the runs of one {column}; received "
                                  f"{sorted(map(str, df[column].unique()))}")
    size = pd.to_numeric(df[n], errors="coerce").to_numpy(dtype=np.float64)
    err = 1.0 - pd.to_numeric(df[value], errors="coerce").to_numpy(dtype=np.float64)
    seeds = (df["seed"].to_numpy() if "seed" in df.columns else np.arange(len(df))).astype(object)
    keep = np.isfinite(size) & np.isfinite(err)
    size, err, seeds = size[keep], err[keep], seeds[keep]
    sizes = np.unique(size)
    return SizeMeans(n=sizes, errors=tuple(err[size == s] for s in sizes),
                     seeds=tuple(seeds[size == s] for s in sizes))


def fit_sizes(sizes: SizeMeans) -> PowerLaw:
    """Fits the per-size mean errors weighted by the number of runs at each size."""
    return fit_power_law(sizes.n, sizes.means, weights=sizes.counts)


def replicate_fits(sizes: SizeMeans, draws: SeedDraws) -> pd.DataFrame:
    """The power-law fit of each replicate of ``draws`` (rows a, b, c; NaN where under 3 sizes remain).

    Replicate ``k`` weights every run by how often its seed was drawn; a size whose seeds
    were all left out drops out of that replicate's fit.
    """
    means = np.full((draws.n_boot, len(sizes.n)), np.nan)
    counts = np.zeros((draws.n_boot, len(sizes.n)))
    for j, (errors, seeds) in enumerate(zip(sizes.errors, sizes.seeds)):
        w = draws.weights(seeds)  # (n_boot, runs at this size)
        counts[:, j] = w.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            means[:, j] = (w * errors).sum(axis=1) / counts[:, j]
    rows = []
    for k in range(draws.n_boot):
        present = counts[k] > 0
        if present.sum() < 3:
            rows.append((math.nan,) * 3)
            continue
        rows.append(tuple(fit_power_law(sizes.n[present], means[k, present], weights=counts[k, present])))
    return pd.DataFrame(rows, columns=list(PARAMS))


def bootstrap_fit(df: pd.DataFrame, *, n_boot: int = 200, seed: int | Sequence[int] = 0,
                  level: float = 0.95, value: str = "test_accuracy", draws: SeedDraws | None = None) -> BootstrapFit:
    """Seed-cluster bootstrap intervals for the power-law fit of one learning curve.

    Args:
        df: The runs of one (model, augmentation): columns ``n_fit`` (or ``n_train``),
            ``seed`` and ``value``.
        n_boot: Number of replicates (>= 1); unused when ``draws`` is given.
        seed: Seed of the resampling (an int or a sequence of ints, as for
            ``np.random.default_rng``); unused when ``draws`` is given.
        level: Confidence level of the percentile intervals, in (0, 1).
        value: The accuracy column.
        draws: The study's :class:`SeedDraws`, shared by every curve so that ratios pair
            replicates; default: drawn here from this curve's seeds.

    Returns:
        BootstrapFit with one replicate per draw.

    Raises:
        InvarianceError: If the curve has fewer than 3 distinct sizes.
    """
    _check_level(level)
    sizes = size_means(df, value=value)
    fit_sizes(sizes)  # fails early, with the fit's own message, on a degenerate curve
    if draws is None:
        draws = SeedDraws.draw([s for seeds in sizes.seeds for s in seeds], n_boot=n_boot, seed=seed)
    samples = replicate_fits(sizes, draws)
    resampled = len({s for seeds in sizes.seeds for s in seeds}) > 1
    if resampled:
        intervals = {p: interval(samples[p].to_numpy(), level) for p in PARAMS}
        note = ""
    else:
        intervals = {p: (math.nan, math.nan) for p in PARAMS}
        note = "one seed: no bootstrap CI (needs 2+ seeds)"
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
