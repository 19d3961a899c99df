"""Per-curve summaries: fits with CIs, samples to a target accuracy, efficiency ratios.

Everything here is a pure function of the learning-curve table
(:func:`invariance.curves.table.learning_curve_table`); :func:`curves_table` gathers it
into the rows of ``curves.csv``.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from invariance.curves.bootstrap import (N_COLUMN, PARAMS, BootstrapFit, SeedDraws, SizeMeans, bootstrap_fit,
                                         fit_sizes, interval, n_column, size_means)
from invariance.curves.powerlaw import (MAX_EXTRAPOLATION, MIN_SIZES, PowerLaw, TargetSize, check_target, format_n,
                                        format_percent, format_ratio, format_size, not_reached,
                                        samples_to_target)
from invariance.errors import InvarianceError, in_range, one_of

CURVES_COLUMNS = (
    "model", "augmentation", "n_column", "n_runs", "n_seeds", "n_sizes", "min_seeds_per_n", "min_n_fit", "max_n_fit",
    "a", "a_lo", "a_hi", "b", "b_lo", "b_hi", "c", "c_lo", "c_hi", "fit_rmse", "asymptotic_accuracy",
    "err_at_max_n_fit", "err_at_max_n_observed",
    "target_accuracy", "samples_to_target", "samples_to_target_lo", "samples_to_target_hi",
    "target_status", "target_note",
    "samples_to_target_loso_min", "samples_to_target_loso_max", "sensitivity_note",
    "reference", "efficiency_ratio", "efficiency_ratio_lo", "efficiency_ratio_hi", "efficiency_note",
    "ci_level", "fit_note", "target_summary", "efficiency_summary",
)
"""Columns of ``curves.csv``. Sizes (``min_n_fit``, ``max_n_fit``, ``samples_to_target``, ``b``'s
units) count the images a run trained on, after the validation split (``n_column`` says
``n_fit``; ``n_train`` only for old tables that did not record it)."""
RATIO_COLUMNS = ("model", "augmentation", "reference", "efficiency_ratio", "efficiency_ratio_lo",
                 "efficiency_ratio_hi", "efficiency_note", "efficiency_summary")
DEFAULT_REFERENCE = "cnn_pool"
HEADLINE = ("interpolated", "extrapolated")
"""Target statuses whose samples-to-target is a number a sentence may state."""


@dataclasses.dataclass(frozen=True)
class CurveFit:
    """The fitted learning curve of one (model, augmentation).

    Attributes:
        model, augmentation: The labels of the curve.
        sizes: Its runs grouped by size (``n_column``).
        params: The point fit, or None when the curve cannot be fitted (see ``note``).
        boot: Bootstrap replicates, or None (no fit, or ``n_boot=0``).
        n_runs: Runs used (completed, with a size and test_accuracy).
        note: Why there is no fit or no CI, and which runs were left out; ``""`` if none.
        n_column: The size the curve is fitted on (``n_fit``: images trained on).
    """

    model: str
    augmentation: str
    sizes: SizeMeans
    params: PowerLaw | None
    boot: BootstrapFit | None
    n_runs: int
    note: str
    n_column: str = N_COLUMN

    @property
    def n_range(self) -> tuple[float, float]:
        """(smallest, largest) measured size; NaNs for an empty curve."""
        return (float(self.sizes.n[0]), float(self.sizes.n[-1])) if len(self.sizes.n) else (math.nan, math.nan)

    @property
    def n_seeds(self) -> int:
        """Distinct seeds among the curve's runs."""
        return len({s for seeds in self.sizes.seeds for s in seeds})

    def target(self, target_accuracy: float) -> TargetSize:
        """Samples to reach ``target_accuracy`` on the point fit."""
        if self.params is None:
            return TargetSize(math.nan, "no_fit", self.note or "no fit")
        return samples_to_target(*self.params, target_accuracy, n_range=self.n_range)

    def boot_targets(self, target_accuracy: float) -> np.ndarray | None:
        """(n_boot,) samples to target for each replicate: inf where unreachable or beyond
        :data:`MAX_EXTRAPOLATION` times the largest measured size, NaN where the replicate has no fit."""
        if self.boot is None:
            return None
        s = self.boot.samples
        n = target_sizes(s["a"].to_numpy(), s["b"].to_numpy(), s["c"].to_numpy(), target_accuracy)
        n = np.where(n > MAX_EXTRAPOLATION * self.n_range[1], np.inf, n)
        return np.where(s[list(PARAMS)].isna().any(axis=1).to_numpy(), np.nan, n)

    def leave_one_size_out(self, target_accuracy: float) -> np.ndarray:
        """Samples to target refitted with each measured size dropped in turn (inf: unreachable).

        Returns:
            One value per size; empty when dropping a size would leave fewer than
            :data:`MIN_SIZES` sizes or there is no fit.
        """
        if self.params is None or len(self.sizes.n) <= MIN_SIZES:
            return np.empty(0)
        out = []
        for j in range(len(self.sizes.n)):
            try:
                a, b, c = fit_sizes(self.sizes.drop(j))
            except (InvarianceError, ValueError, ArithmeticError, np.linalg.LinAlgError):
                out.append(math.nan)
                continue
            out.append(float(target_sizes(a, b, c, target_accuracy)))
        return np.asarray(out, dtype=np.float64)


def target_sizes(a, b, c, target_accuracy: float) -> np.ndarray:
    """Vectorised closed form ``(b / (err_target - a)) ** (1 / c)``; inf where unreachable.

    Returns:
        float64 array with the broadcast shape of a, b, c.
    """
    a, b, c = (np.asarray(v, dtype=np.float64) for v in (a, b, c))
    gap = (1.0 - check_target(target_accuracy)) - a
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        n = np.where(b > 0, (b / gap) ** (1.0 / c), 0.0)
    return np.where(gap > 0, n, np.inf)


def fit_curves(table: pd.DataFrame, *, n_boot: int = 200, seed: int = 0, level: float = 0.95,
               value: str = "test_accuracy") -> list[CurveFit]:
    """Fits every (model, augmentation) learning curve of ``table``.

    Curves are fitted on ``n_fit`` (images trained on, after the validation split); a
    table that does not record it falls back to ``n_train`` and says so in each ``note``.
    A curve with fewer than 3 distinct sizes (or whose fit fails) gets ``params=None`` and
    a ``note``; it never raises, so a study can always summarise what it has.

    Args:
        table: The learning-curve table (columns model, augmentation, n_fit or n_train,
            seed, ``value``).
        n_boot: Bootstrap replicates; 0 skips the bootstrap.
        seed: Seed of the bootstrap. The seed clusters are drawn once for the whole table
            (:class:`~invariance.curves.bootstrap.SeedDraws`), so every curve's replicate
            ``k`` holds the same seeds; the draws depend only on ``seed`` and the set of
            seeds, not on which curves the table holds.
        level: Confidence level of the intervals.
        value: The accuracy column to fit (as error = 1 - value).

    Returns:
        One CurveFit per curve, in order of first appearance in ``table``.
    """
    in_range("n_boot", n_boot, 0)
    in_range("seed", seed, 0)
    column = n_column(table)
    draws = None
    if n_boot and len(table) and "seed" in table.columns:
        usable = table[pd.to_numeric(table[column], errors="coerce").notna()
                       & pd.to_numeric(table[value], errors="coerce").notna()]
        if len(usable):
            draws = SeedDraws.draw(usable["seed"].tolist(), n_boot=n_boot, seed=seed)
    fits = []
    for (model, augmentation), group in table.groupby(["model", "augmentation"], sort=False, dropna=False):
        model, augmentation = str(model), str(augmentation)
        sizes = size_means(group, value=value, n=column)
        n_runs = int(sum(len(e) for e in sizes.errors))
        notes = []
        if column != N_COLUMN:
            notes.append(f"{N_COLUMN} not recorded: fitted on {column} (the subset size before the validation split)")
        no_n = int(pd.to_numeric(group[column], errors="coerce").isna().sum())
        if no_n:
            what = "all the data, size not recorded" if column == "n_train" else "size not recorded"
            notes.append(f"{no_n} run(s) with {column} null ({what}) left out")
        if n_runs + no_n < len(group):
            notes.append(f"{len(group) - n_runs - no_n} run(s) without {value} left out")
        params = boot = None
        if len(sizes.n) < MIN_SIZES:
            shown = ", ".join(f"{s:.0f}" for s in sizes.n) or "none"
            notes.insert(0, f"no fit: {len(sizes.n)} distinct {column} ({shown}); "
                            f"a power law needs at least {MIN_SIZES}")
        else:
            try:
                params = fit_sizes(sizes)
                if draws is not None:
                    boot = bootstrap_fit(group.assign(**{N_COLUMN: group[column]}), level=level, value=value,
                                         draws=draws)
                    if boot.note:
                        notes.append(boot.note)
            except (ValueError, RuntimeError, ArithmeticError, np.linalg.LinAlgError) as err:
                # A numerical failure on one curve must not lose the others.
                params = boot = None
                notes.insert(0, f"no fit: {err}")
        fits.append(CurveFit(model=model, augmentation=augmentation, sizes=sizes, params=params,
                             boot=boot, n_runs=n_runs, note="; ".join(notes), n_column=column))
    return fits


def resolve_reference(models: Iterable[str], reference: str | None = None, *,
                      field: str = "reference") -> str | None:
    """The reference model: ``reference`` if given (it must be one of ``models``), else
    ``cnn_pool`` if present, else the first ``cnn_pool[...]`` variant, else the first model.

    Returns:
        A model label, or None when ``models`` is empty.
    """
    models = list(dict.fromkeys(str(m) for m in models))
    if reference is not None:
        return one_of(field, reference, models)
    if not models:
        return None
    if DEFAULT_REFERENCE in models:
        return DEFAULT_REFERENCE
    variants = [m for m in models if m.startswith(DEFAULT_REFERENCE + "[")]
    return variants[0] if variants else models[0]


def sample_efficiency_ratio(fits: Sequence[CurveFit] | Mapping[tuple[str, str], CurveFit], *,
                            reference_model: str, target: float = 0.85, level: float = 0.95) -> pd.DataFrame:
    """How many times the data of ``reference_model`` each model needs to reach ``target``.

    Each model is compared with the reference under the same augmentation. The ratio is
    ``n_model / n_reference`` on the point fits. Its interval takes, replicate by replicate,
    the ratio of the two curves' samples-to-target: with the seed-cluster bootstrap both
    replicates ``k`` saw the same seeds, so the ratio is paired. A replicate in which the
    reference does not reach the target within :data:`MAX_EXTRAPOLATION` times its largest
    measured size gives no ratio.

    A ratio whose interval covers 1 is summarised as no detectable difference in the data
    needed. A point estimate beyond :data:`MAX_EXTRAPOLATION` times the largest measured size
    (on either curve) is not a number to quote: that row's ratio is NaN and its summary
    says the target is not reached within the measured range.

    Args:
        fits: CurveFits (a list, or a mapping keyed by (model, augmentation)).
        reference_model: A model label present in ``fits``.
        target: Target test accuracy in (0, 1).
        level: Confidence level.

    Returns:
        DataFrame with columns ``RATIO_COLUMNS``, one row per fit: the ratio and its CI
        (NaN where undefined or excluded, inf where only the reference reaches the target),
        a note on extrapolation or why there is no ratio, and a one-sentence summary.
    """
    target = check_target(target)
    fits = list(fits.values()) if isinstance(fits, Mapping) else list(fits)
    reference_model = resolve_reference([f.model for f in fits], reference_model, field="reference_model")
    by_key = {(f.model, f.augmentation): f for f in fits}
    tagged = len({f.augmentation for f in fits}) > 1
    rows = []
    for fit in fits:
        row = {"model": fit.model, "augmentation": fit.augmentation, "reference": reference_model,
               "efficiency_ratio": math.nan, "efficiency_ratio_lo": math.nan,
               "efficiency_ratio_hi": math.nan, "efficiency_note": "", "efficiency_summary": ""}
        rows.append(row)
        ref = by_key.get((reference_model, fit.augmentation))
        if fit.model == reference_model:
            row.update(efficiency_ratio=1.0, efficiency_note="reference")
            continue
        if ref is None:
            row["efficiency_note"] = f"no {reference_model} curve with augmentation {fit.augmentation}"
            continue
        row.update(_ratio(fit, ref, target=target, level=level, name=fit.model, ref_name=reference_model,
                          aug=_aug_phrase(fit, tagged)))
    return pd.DataFrame(rows, columns=list(RATIO_COLUMNS))


def efficiency_between(fit: CurveFit, ref: CurveFit, *, target: float = 0.85, level: float = 0.95) -> dict:
    """How many times the data of curve ``ref`` curve ``fit`` needs to reach ``target``: any two
    curves, e.g. a p4 CNN without augmentation against a plain CNN with rotation augmentation,
    where :func:`sample_efficiency_ratio` pairs only curves under the same augmentation.

    The curves' bootstrap replicates must come from one :func:`fit_curves` call (then
    replicate ``k`` of both saw the same seeds, and the interval is paired). The rules are
    :func:`sample_efficiency_ratio`'s: no ratio beyond :data:`MAX_EXTRAPOLATION` times a
    curve's largest measured size, and "no detectable difference" when the interval covers 1.

    Returns:
        A dict with the ``RATIO_COLUMNS`` but ``model``, ``augmentation`` and ``reference``.
    """
    target = check_target(target)
    differ = fit.augmentation != ref.augmentation

    def name(f: CurveFit) -> str:
        return f"{f.model} ({f.augmentation})" if differ else f.model

    aug = "" if differ else _aug_phrase(fit, True)
    return _ratio(fit, ref, target=target, level=level, name=name(fit), ref_name=name(ref), aug=aug)


def _ratio(fit: CurveFit, ref: CurveFit, *, target: float, level: float, name: str, ref_name: str,
           aug: str) -> dict:
    """The efficiency-ratio columns of ``fit`` against ``ref`` (see :func:`sample_efficiency_ratio`)."""
    pct = format_percent(target)
    row = {"efficiency_ratio": math.nan, "efficiency_ratio_lo": math.nan, "efficiency_ratio_hi": math.nan,
           "efficiency_note": "", "efficiency_summary": ""}
    if fit.params is None or ref.params is None:
        which = name if fit.params is None else ref_name
        row["efficiency_note"] = f"no fit for {which}"
        return row
    mine, theirs = fit.target(target), ref.target(target)
    if theirs.status == "unreachable":
        row["efficiency_note"] = f"{ref_name} does not reach {pct} on its fitted curve"
        row["efficiency_summary"] = f"{ref_name}{aug} does not reach {pct} on its fitted curve, so {name} has no ratio"
        return row
    beyond = [(who, t, f) for who, t, f in ((name, mine, fit), (ref_name, theirs, ref)) if t.status == "beyond_range"]
    if beyond:
        row["efficiency_note"] = "excluded: " + "; ".join(f"{who}: {t.note}" for who, t, _ in beyond)
        row["efficiency_summary"] = (f"{name}{aug}: no efficiency ratio to {ref_name} at {pct}: "
                                     + " and ".join(f"{who} {_beyond_text(t, f)}" for who, t, f in beyond))
        return row
    if mine.status == "unreachable":
        row.update(efficiency_ratio=math.inf,
                   efficiency_note=f"{name} does not reach {pct} on its fitted curve")
        row["efficiency_summary"] = (f"{name}{aug} does not reach {pct} on its "
                                     f"fitted curve (asymptotic accuracy {format_percent(1 - fit.params.a)}), "
                                     f"while {ref_name} does at ≈{format_n(theirs.n)} training images")
        return row
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = float(np.float64(mine.n) / np.float64(theirs.n))
    lo = hi = math.nan
    if fit.boot is not None and ref.boot is not None and (fit.boot.resampled or ref.boot.resampled):
        mine_k, theirs_k = fit.boot_targets(target), ref.boot_targets(target)
        with np.errstate(divide="ignore", invalid="ignore"):
            lo, hi = interval(np.where(np.isfinite(theirs_k), mine_k / theirs_k, np.nan), level)
    notes = [f"{who}: {t.note}" for who, t in ((name, mine), (ref_name, theirs)) if t.status == "extrapolated"]
    row.update(efficiency_ratio=ratio, efficiency_ratio_lo=lo, efficiency_ratio_hi=hi,
               efficiency_note="; ".join(notes))
    seeds = min(fit.n_seeds, ref.n_seeds)
    extra = [x for x in (_ci_text(lo, hi, level, format_ratio, seeds, suffix="x"), *notes) if x]
    if lo <= 1 <= hi:  # the interval covers "the same data": say so, not a ratio
        row["efficiency_summary"] = (f"{name} and {ref_name}{aug}: no detectable "
                                     f"difference in the data needed to reach {pct} (ratio "
                                     f"{format_ratio(ratio)}x, {'; '.join(extra)})")
        return row
    row["efficiency_summary"] = (f"{name} needs {format_ratio(ratio)}x the data of {ref_name} to "
                                 f"reach {pct}{aug}"
                                 + (f" ({'; '.join(extra)})" if extra else ""))
    return row


def curves_table(learning_curves: pd.DataFrame, *, target: float = 0.85, reference: str | None = None,
                 n_boot: int = 200, seed: int = 0, level: float = 0.95,
                 fits: Sequence[CurveFit] | None = None) -> pd.DataFrame:
    """One row per (model, augmentation): the fit, its CIs, samples to target, its
    leave-one-size-out sensitivity and the efficiency ratio.

    Args:
        learning_curves: The learning-curve table.
        target: Target test accuracy in (0, 1).
        reference: Reference model of the efficiency ratio; default as in
            :func:`resolve_reference`.
        n_boot: Bootstrap replicates (0: no CIs).
        seed: Seed of the bootstrap.
        level: Confidence level of every interval.
        fits: Precomputed :func:`fit_curves` output (then n_boot and seed are unused).

    Returns:
        DataFrame with columns ``CURVES_COLUMNS``. Errors are 1 - accuracy; sizes count
        images trained on (``n_column``); ``b`` is in those units (``err = a + b * n**-c``);
        ``samples_to_target`` is inf when unreachable, and ``target_status``
        ``beyond_range`` marks an estimate beyond :data:`MAX_EXTRAPOLATION` times the
        largest measured size (not a headline number). ``samples_to_target_hi`` is inf
        when the upper bound lies beyond that range. ``samples_to_target_loso_min`` /
        ``_max`` are the range of samples-to-target when each size is dropped in turn.
    """
    target = check_target(target)
    if fits is None:
        fits = fit_curves(learning_curves, n_boot=n_boot, seed=seed, level=level)
    if not fits:
        return pd.DataFrame(columns=list(CURVES_COLUMNS))
    reference = resolve_reference([f.model for f in fits], reference)
    ratios = sample_efficiency_ratio(fits, reference_model=reference, target=target, level=level)
    tagged = len({f.augmentation for f in fits}) > 1
    pct = format_percent(target)
    rows = []
    for fit, ratio in zip(fits, ratios.to_dict("records")):
        n_min, n_max = fit.n_range
        row = {"model": fit.model, "augmentation": fit.augmentation, "n_column": fit.n_column, "n_runs": fit.n_runs,
               "n_seeds": fit.n_seeds, "n_sizes": len(fit.sizes.n),
               "min_seeds_per_n": int(fit.sizes.counts.min()) if len(fit.sizes.n) else 0,
               "min_n_fit": n_min, "max_n_fit": n_max, "target_accuracy": target, "ci_level": level,
               "fit_note": fit.note,
               "err_at_max_n_observed": float(fit.sizes.errors[-1].mean()) if len(fit.sizes.n) else math.nan}
        p = fit.params
        for name in PARAMS:
            row[name] = getattr(p, name) if p is not None else math.nan
            row[f"{name}_lo"], row[f"{name}_hi"] = fit.boot.intervals[name] if fit.boot else (math.nan, math.nan)
        row["asymptotic_accuracy"] = 1.0 - row["a"]
        row["err_at_max_n_fit"] = float(p(n_max)) if p is not None else math.nan
        row["fit_rmse"] = _rmse(fit)
        t = fit.target(target)
        row.update(samples_to_target=t.n, target_status=t.status, target_note=t.note)
        lo = hi = math.nan
        if fit.boot is not None and fit.boot.resampled:
            lo, hi = interval(fit.boot_targets(target), level)
        row.update(samples_to_target_lo=lo, samples_to_target_hi=hi)
        loso = fit.leave_one_size_out(target)
        loso_lo, loso_hi, sensitivity = _sensitivity(fit, loso)
        row.update(samples_to_target_loso_min=loso_lo, samples_to_target_loso_max=loso_hi,
                   sensitivity_note=sensitivity)
        who = fit.model + _aug_phrase(fit, tagged)
        if t.status == "no_fit":
            row["target_summary"] = f"{who}: {fit.note}"
        elif t.status == "unreachable":
            row["target_summary"] = (f"{who} does not reach {pct} on its fitted curve "
                                     f"(asymptotic accuracy {format_percent(1 - p.a)})")
        elif t.status == "beyond_range":
            row["target_summary"] = f"{who}: {pct} {_beyond_text(t, fit)}"
        else:
            extra = [x for x in (_ci_text(lo, hi, level, format_n, fit.n_seeds), _loso_text(loso_lo, loso_hi, n_max),
                                 t.note) if x]
            row["target_summary"] = (f"{who} reaches {pct} at ≈{format_n(t.n)} training images"
                                     + (f" ({'; '.join(extra)})" if extra else ""))
        row.update({k: v for k, v in ratio.items() if k not in ("model", "augmentation")})
        rows.append(row)
    return pd.DataFrame(rows, columns=list(CURVES_COLUMNS))


def _sensitivity(fit: CurveFit, loso: np.ndarray) -> tuple[float, float, str]:
    """(min, max, note) of the leave-one-size-out samples-to-target."""
    if fit.params is None:
        return math.nan, math.nan, ""
    if len(loso) == 0:
        return math.nan, math.nan, (f"leave-one-size-out needs at least {MIN_SIZES + 1} sizes; "
                                    f"the curve has {len(fit.sizes.n)}")
    finite = loso[~np.isnan(loso)]
    if len(finite) == 0:
        return math.nan, math.nan, "no refit succeeded with a size left out"
    note = ""
    if np.isinf(finite).any():
        note = (f"in {int(np.isinf(finite).sum())} of {len(loso)} leave-one-size-out refits the fitted curve "
                f"does not reach the target")
    return float(finite.min()), float(finite.max()), note


def _beyond_text(t: TargetSize, fit: CurveFit) -> str:
    """``not reached within the measured range (the fit suggests ≈ 540,000)``."""
    return not_reached(t.n, fit.n_range[1])


def _loso_text(lo: float, hi: float, n_max: float) -> str:
    if math.isnan(lo) or math.isnan(hi):
        return ""
    return f"leave-one-size-out range {format_size(lo, n_max)} to {format_size(hi, n_max)}"


def _ci_text(lo: float, hi: float, level: float, fmt, seeds: int, *, suffix: str = "") -> str:
    """``95% CI 2,100 to 3,900, 3 seeds`` (``""`` without an interval); an infinite bound reads as
    beyond the measured range."""
    if math.isnan(lo) or math.isnan(hi):
        return ""

    def bound(v):
        return f"beyond {MAX_EXTRAPOLATION:g}x the measured range" if math.isinf(v) else fmt(v) + suffix

    return f"{round(100 * level):g}% CI {bound(lo)} to {bound(hi)}, {seeds} seed{'s' if seeds != 1 else ''}"


def _aug_phrase(fit: CurveFit, tagged: bool) -> str:
    """' without augmentation' / ' with augmentation <label>' when the study has several."""
    if not tagged:
        return ""
    return " without augmentation" if fit.augmentation == "none" else f" with augmentation {fit.augmentation}"


def _rmse(fit: CurveFit) -> float:
    if fit.params is None:
        return math.nan
    residuals = np.concatenate([e - fit.params(n) for n, e in zip(fit.sizes.n, fit.sizes.errors)])
    return float(np.sqrt(np.mean(residuals ** 2)))
