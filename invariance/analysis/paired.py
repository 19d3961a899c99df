"""Differences between two designs over seeds, with confidence intervals.

Runs that share a seed share their training subset, their initial-weight stream and their
evaluation images, so two designs are compared *paired* by seed: the interval is a
Student-t interval over the per-seed differences. Without common seeds the comparison
falls back to Welch's unpaired interval, and with a single value on either side there is
no interval at all (it is reported as such, never as a verdict).

A difference whose interval covers 0 is a finding of its own: "no detectable difference".
"""
from __future__ import annotations

import dataclasses
import math
from typing import Mapping

import numpy as np
import pandas as pd
from scipy import stats

DEFAULT_LEVEL = 0.95


@dataclasses.dataclass(frozen=True)
class Difference:
    """``b - a`` over seeds, with its confidence interval.

    Attributes:
        estimate: Mean of the per-seed differences (paired), or difference of means.
        low, high: Interval bounds; NaN when there is no interval (``n < 2``).
        n: Pairs (paired) or the smaller group size (unpaired).
        level: Confidence level, e.g. 0.95.
        paired: Whether the runs were paired by seed.
    """

    estimate: float
    low: float
    high: float
    n: int
    level: float = DEFAULT_LEVEL
    paired: bool = True

    @property
    def has_interval(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)

    @property
    def detected(self) -> bool:
        """Whether the interval excludes 0 (False without an interval)."""
        return self.has_interval and (self.low > 0 or self.high < 0)

    @property
    def sign(self) -> int:
        """+1 / -1 when detected, 0 otherwise."""
        return int(np.sign(self.estimate)) if self.detected else 0

    def text(self, *, scale: float = 1.0, unit: str = "", digits: int = 2, label: str = "") -> str:
        """``blur − max: +0.9 points, 95% CI −0.9 to +2.6, 3 seeds`` (label optional).

        Args:
            scale: Multiplies every number (100 turns accuracies into points).
            unit: Written after the estimate (`` points``).
            digits: Decimals.
            label: Written first, followed by a colon.
        """
        def num(v: float) -> str:
            return f"{v * scale:+.{digits}f}".replace("-", "−")

        head = f"{label}: " if label else ""
        seeds = f"{self.n} seed{'s' if self.n != 1 else ''}" if self.paired else f"unpaired, {self.n}+ seeds"
        if not self.has_interval:
            return f"{head}{num(self.estimate)}{unit}, no interval ({seeds})"
        return (f"{head}{num(self.estimate)}{unit}, {round(self.level * 100):d}% CI {num(self.low)} to "
                f"{num(self.high)}, {seeds}")


def difference(a: Mapping | pd.Series, b: Mapping | pd.Series, *, level: float = DEFAULT_LEVEL) -> Difference:
    """``b - a`` with a t-interval, paired by seed where the two share seeds.

    Args:
        a, b: Values keyed by seed (a Series indexed by seed, or a dict); missing values
            (None, NaN) are dropped.
        level: Confidence level in (0, 1).

    Returns:
        A :class:`Difference`. Paired over the common seeds when there are any (an
        interval needs 2 pairs); Welch's unpaired interval when no seed is common and each
        side has at least 2 values; else no interval.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); received {level!r}")
    sa, sb = _series(a), _series(b)
    common = sa.index.intersection(sb.index)
    if len(common) >= 2:
        d = (sb.loc[common] - sa.loc[common]).to_numpy(dtype=np.float64)
        lo, hi = t_interval(d, level)
        return Difference(float(d.mean()), lo, hi, len(d), level, paired=True)
    if len(common) == 1:  # the design is paired; one pair gives no interval
        s = common[0]
        return Difference(float(sb[s] - sa[s]), math.nan, math.nan, 1, level, paired=True)
    if len(sa) == 0 or len(sb) == 0:
        return Difference(math.nan, math.nan, math.nan, 0, level, paired=False)
    estimate = float(sb.mean() - sa.mean())
    if len(sa) < 2 or len(sb) < 2:
        return Difference(estimate, math.nan, math.nan, min(len(sa), len(sb)), level, paired=False)
    va, vb = sa.var(ddof=1) / len(sa), sb.var(ddof=1) / len(sb)
    se = math.sqrt(va + vb)
    if se == 0:
        return Difference(estimate, estimate, estimate, min(len(sa), len(sb)), level, paired=False)
    dof = (va + vb) ** 2 / (va ** 2 / (len(sa) - 1) + vb ** 2 / (len(sb) - 1))
    half = float(stats.t.ppf((1 + level) / 2, dof)) * se
    return Difference(estimate, estimate - half, estimate + half, min(len(sa), len(sb)), level, paired=False)


def t_interval(values: np.ndarray, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """Student-t interval for the mean of ``values`` (at least 2); zero width when they agree."""
    x = np.asarray(values, dtype=np.float64)
    if len(x) < 2:
        return math.nan, math.nan
    mean, sem = float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x)))
    half = float(stats.t.ppf((1 + level) / 2, len(x) - 1)) * sem
    return mean - half, mean + half


def _series(values: Mapping | pd.Series) -> pd.Series:
    s = values if isinstance(values, pd.Series) else pd.Series(dict(values), dtype=np.float64)
    s = pd.to_numeric(s, errors="coerce").dropna()
    if s.index.has_duplicates:
        raise ValueError(f"one value per seed expected; seeds repeat: {sorted(set(s.index[s.index.duplicated()]))}")
    return s.astype(np.float64)
