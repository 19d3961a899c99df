"""The saturating power law of learning curves, its fit, and the data size it predicts.

Test error against training-set size ``n`` follows ``err(n) = a + b * n**(-c)`` over the
range that matters in practice (Hestness et al. 2017, "Deep Learning Scaling is
Predictable, Empirically"; Hoiem et al. 2021, "Learning Curves for Analysis of Deep
Networks"): ``a`` is the asymptotic error, ``b`` the scale and ``c`` the rate.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.optimize import minimize_scalar

from invariance.errors import InvarianceError, SpecError

#: Bounds of the fitted parameters: 0 <= a <= 1 (an error rate), b >= 0 (error falls
#: with n) and C_BOUNDS for c. Below 1e-3 the curve is a constant over any real range of
#: n, so a and b stop being identifiable; above 5 it is a step.
A_BOUNDS = (0.0, 1.0)
C_BOUNDS = (1e-3, 5.0)
MIN_SIZES = 3
ABSURD = 1000
"""Past this multiple of the largest measured n a nearly flat fit's crossing point is not printed."""
MAX_EXTRAPOLATION = 2.0
"""A samples-to-target beyond this multiple of the largest measured n is not an estimate:
the fit's shape that far out is a guess, and one size more or less moves it by orders of
magnitude. It is reported as not reached within the measured range."""

# The profile over c starts on this fixed grid (log-spaced), so the fit is deterministic.
_C_GRID = np.geomspace(*C_BOUNDS, 121)


class PowerLaw(NamedTuple):
    """Parameters of ``err(n) = a + b * n**(-c)``; unpacks as ``a, b, c = fit``."""

    a: float
    b: float
    c: float

    def __call__(self, n) -> np.ndarray:
        """The fitted error at ``n`` (scalar or array)."""
        return power_law(n, self.a, self.b, self.c)


class TargetSize(NamedTuple):
    """The data size at which a fitted curve reaches a target accuracy.

    Attributes:
        n: Training-set size (float; ``inf`` when unreachable, ``nan`` without a fit).
        status: ``"interpolated"`` (inside the measured range), ``"extrapolated"``
            (outside it, but within :data:`MAX_EXTRAPOLATION` times the largest measured n),
            ``"beyond_range"`` (further out: not a headline number), ``"unreachable"`` (the
            asymptote is not below the target error), ``"fitted"`` (no range was given) or ``"no_fit"``.
        note: A plain sentence for the non-interpolated cases; ``""`` otherwise.
    """

    n: float
    status: str
    note: str


def power_law(n, a: float, b: float, c: float) -> np.ndarray:
    """Evaluates ``a + b * n**(-c)``.

    Returns:
        float64 array with the shape of ``n`` (a 0-d array for a scalar).
    """
    n = np.asarray(n, dtype=np.float64)
    return a + b * n ** (-c)


def fit_power_law(n, err, *, weights=None) -> PowerLaw:
    """Fits ``err(n) = a + b * n**(-c)`` by weighted least squares on the error scale.

    Minimises ``sum(w * (err - a - b * n**(-c))**2)`` subject to ``0 <= a <= 1``,
    ``b >= 0`` and ``c`` in ``C_BOUNDS``. For a fixed ``c`` the problem is a 2-parameter
    linear least squares with box bounds, solved exactly, so only ``c`` is searched: a
    fixed log-spaced grid, then Brent's method between the best grid point's neighbours.
    No random start; the same input always gives the same fit.

    Weighting by seeds: passing every seed's point with weight 1 and passing the per-n
    means with ``weights`` = number of seeds minimise the same objective (they differ by a
    constant, the within-n variance), so both give the same fit.

    Args:
        n: Training-set sizes, shape (N,), all > 0.
        err: Test errors (1 - accuracy), shape (N,).
        weights: Non-negative weights, shape (N,); default all 1.

    Returns:
        PowerLaw(a, b, c) with ``b`` in the units of ``n`` (``b * n**-c`` is an error).

    Raises:
        InvarianceError: If the inputs are not finite, have different lengths, or hold
            fewer than 3 distinct n with positive weight (a 3-parameter curve needs 3).
    """
    n, err, w = _check_inputs(n, err, weights)
    # Work with u = n / n0 (n0 the geometric mean of the sizes) so the columns of the
    # linear problem are of order 1 whatever the units of n; b = B * n0**c afterwards.
    n0 = float(np.exp(np.mean(np.log(np.unique(n[w > 0])))))
    log_u = np.log(n / n0)

    def profile(c_values: np.ndarray):
        x = np.exp(-np.multiply.outer(c_values, log_u))  # (G, N)
        return _bounded_linear_fit(x, err, w)

    a_grid, big_b_grid, sse_grid = profile(_C_GRID)
    k = int(np.argmin(sse_grid))
    lo, hi = math.log(_C_GRID[max(k - 1, 0)]), math.log(_C_GRID[min(k + 1, len(_C_GRID) - 1)])
    best = (float(sse_grid[k]), float(_C_GRID[k]), float(a_grid[k]), float(big_b_grid[k]))
    if hi > lo:
        res = minimize_scalar(lambda t: float(profile(np.array([math.exp(t)]))[2][0]),
                              bounds=(lo, hi), method="bounded", options={"xatol": 1e-12})
        c = math.exp(float(res.x))
        a, big_b, sse = (float(v[0]) for v in profile(np.array([c])))
        if sse <= best[0]:
            best = (sse, c, a, big_b)
    _, c, a, big_b = best
    return PowerLaw(a=a, b=big_b * n0 ** c, c=c)


def samples_to_target(a: float, b: float, c: float, target_accuracy: float, *,
                      n_range: tuple[float, float] | None = None) -> TargetSize:
    """The training-set size at which ``a + b * n**(-c)`` falls to ``1 - target_accuracy``.

    Closed form: ``n = (b / (err_target - a)) ** (1 / c)``.

    Args:
        a, b, c: A fitted power law (``nan`` for no fit).
        target_accuracy: In (0, 1), e.g. 0.85.
        n_range: ``(min_n, max_n)`` measured; with it, a size outside the range is marked
            ``"extrapolated"`` and said so in ``note``; beyond :data:`MAX_EXTRAPOLATION` times
            the largest it is ``"beyond_range"``.

    Returns:
        TargetSize(n, status, note).
    """
    target_accuracy = check_target(target_accuracy)
    if not all(np.isfinite([a, b, c])):
        return TargetSize(math.nan, "no_fit", "no fit")
    err_target = 1.0 - target_accuracy
    pct = format_percent(target_accuracy)
    if err_target <= a:
        return TargetSize(math.inf, "unreachable",
                          f"unreachable: the fitted asymptotic error {a:.3f} (accuracy "
                          f"{format_percent(1 - a)}) is not below the target error "
                          f"{err_target:.3f} ({pct} accuracy)")
    n = 0.0 if b <= 0 else (b / (err_target - a)) ** (1.0 / c)
    if n_range is None:
        return TargetSize(n, "fitted", "")
    n_min, n_max = n_range
    if n > MAX_EXTRAPOLATION * n_max:
        return TargetSize(n, "beyond_range", f"{not_reached(n, n_max)[:-1]}; largest measured n={n_max:,.0f})")
    if n > n_max:
        return TargetSize(n, "extrapolated", f"extrapolated beyond the largest measured n={n_max:.0f}")
    if n < n_min:
        return TargetSize(n, "extrapolated",
                          f"extrapolated below the smallest measured n={n_min:.0f} "
                          f"(the fitted curve is already at {pct} there)")
    return TargetSize(n, "interpolated", "")


def check_target(target_accuracy) -> float:
    """Returns ``target_accuracy`` as a float if it lies strictly between 0 and 1."""
    try:
        value = float(target_accuracy)
    except (TypeError, ValueError):
        raise SpecError("target", "must be an accuracy between 0 and 1, e.g. 0.85", target_accuracy) from None
    if not 0.0 < value < 1.0:
        raise SpecError("target", "must be an accuracy between 0 and 1 (exclusive), e.g. 0.85",
                        target_accuracy)
    return value


def not_reached(n: float, n_max: float) -> str:
    """``not reached within the measured range (the fit suggests ≈ 194,000)``; past
    :data:`ABSURD` times ``n_max`` the number itself means nothing and is not printed."""
    if n > ABSURD * n_max:
        return f"not reached within the measured range (the fit suggests over {ABSURD:,}x the largest measured n)"
    return f"not reached within the measured range (the fit suggests ≈ {format_n(n)})"


def format_size(n: float, n_max: float) -> str:
    """:func:`format_n`, or ``beyond range`` past :data:`MAX_EXTRAPOLATION` times ``n_max``."""
    return "beyond range" if n > MAX_EXTRAPOLATION * n_max else format_n(n)


def format_n(n: float) -> str:
    """A sample count for sentences: 2823.3 -> '2,820', 245.3 -> '245', inf -> 'unbounded'."""
    if not math.isfinite(n):
        return _non_finite(n)
    if n >= 1000:
        n = round(n, -int(math.floor(math.log10(n))) + 2)
    return f"{n:,.0f}"


def format_ratio(r: float) -> str:
    """A ratio for sentences: 6.31 -> '6.3', 12.4 -> '12', 0.523 -> '0.52', inf -> 'unbounded'.

    A ratio other than 1 never reads as 1 (1.02 -> '1.02', 0.996 -> '0.996'): an interval
    bound just above 1 printed as '1.0' would read as touching "the same data"."""
    if not math.isfinite(r):
        return _non_finite(r)
    if r >= 10:
        return f"{r:,.0f}"
    text = f"{r:.1f}" if r >= 1 else f"{r:.2g}"
    for digits in (2, 3):
        if r == 1 or float(text) != 1:
            break
        text = f"{r:.{digits}f}"
    return text


def _non_finite(x: float) -> str:
    return "n/a" if math.isnan(x) else "unbounded"


def format_percent(fraction: float) -> str:
    """0.85 -> '85%', 0.875 -> '87.5%', 0.8312 -> '83.1%'."""
    return f"{round(100 * fraction, 1):g}%"


def _check_inputs(n, err, weights):
    n = np.asarray(n, dtype=np.float64).ravel()
    err = np.asarray(err, dtype=np.float64).ravel()
    w = np.ones_like(n) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if not (len(n) == len(err) == len(w)):
        raise InvarianceError(f"fit_power_law: n, err and weights must have the same length; "
                              f"received {len(n)}, {len(err)} and {len(w)}")
    for name, values in (("n", n), ("err", err), ("weights", w)):
        if not np.all(np.isfinite(values)):
            raise InvarianceError(f"fit_power_law: {name} must be finite; received {values.tolist()}")
    if np.any(n <= 0):
        raise InvarianceError(f"fit_power_law: n must be > 0; received {n.tolist()}")
    if np.any(w < 0):
        raise InvarianceError(f"fit_power_law: weights must be >= 0; received {w.tolist()}")
    sizes = np.unique(n[w > 0])
    if len(sizes) < MIN_SIZES:
        raise InvarianceError(f"fit_power_law: a power law a + b*n^-c needs at least {MIN_SIZES} "
                              f"distinct n (with weight > 0); received {len(sizes)}: "
                              f"{[int(s) if s.is_integer() else s for s in sizes]}")
    return n, err, w


def _bounded_linear_fit(x: np.ndarray, y: np.ndarray, w: np.ndarray):
    """For each row of ``x``, min over 0<=a<=1, B>=0 of sum(w * (y - a - B*x)**2).

    The objective is a convex quadratic, so its box-constrained minimum is the
    unconstrained one when feasible, else the best of the clipped 1-D minima on the faces
    (B = 0; a = 0; a = 1).

    Args:
        x: (G, N) regressors, one row per candidate c.
        y: (N,) targets. w: (N,) weights.

    Returns:
        (a, B, sse), each of shape (G,).
    """
    a_lo, a_hi = A_BOUNDS
    sw = w.sum()
    xm = (x * w).sum(axis=1) / sw
    ym = float((w * y).sum() / sw)
    dx = x - xm[:, None]
    sxx = (w * dx * dx).sum(axis=1)
    sxy = (w * dx * (y - ym)).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        b_free = np.where(sxx > 0, sxy / sxx, 0.0)
    a_free = ym - b_free * xm
    swxx = (w * x * x).sum(axis=1)
    candidates = [(a_free, b_free, (b_free >= 0) & (a_free >= a_lo) & (a_free <= a_hi)),
                  (np.full_like(xm, min(max(ym, a_lo), a_hi)), np.zeros_like(xm), None)]
    for a_face in (a_lo, a_hi):
        with np.errstate(divide="ignore", invalid="ignore"):
            b_face = np.where(swxx > 0, (w * x * (y - a_face)).sum(axis=1) / swxx, 0.0)
        candidates.append((np.full_like(xm, a_face), np.maximum(b_face, 0.0), None))
    best_a = best_b = best_sse = None
    for a, big_b, feasible in candidates:
        sse = (w * (y - a[:, None] - big_b[:, None] * x) ** 2).sum(axis=1)
        if feasible is not None:
            sse = np.where(feasible, sse, np.inf)
        if best_sse is None:
            best_a, best_b, best_sse = a, big_b, sse
        else:
            better = sse < best_sse
            best_a = np.where(better, a, best_a)
            best_b = np.where(better, big_b, best_b)
            best_sse = np.where(better, sse, best_sse)
    return best_a, best_b, best_sse
