"""Key findings in plain sentences, computed from a study's tables (pure functions).

Every number is a mean ± standard deviation over seeds at the study's largest n_train (the
learning-curve sentences cover the other sizes). Two accuracies count as *equal* when they
differ by no more than the larger of their standard deviations (at least 0.005), the noise
one would see between seeds anyway.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from invariance.curves.run_summary import CONSISTENCY_PREFIX as CONSISTENCY
from invariance.curves.run_summary import GRID_PREFIX as GRID
from invariance.curves.run_summary import run_summaries, sweeps_of

EQUAL_FLOOR = 0.005
SWEEP_WORDS = {"dx": "horizontal-shift", "dy": "vertical-shift", "angle": "rotation", "scale": "scale"}


@dataclasses.dataclass(frozen=True)
class Stat:
    """Mean, standard deviation (ddof=1; 0 for one value) and count of some seeds' values."""

    mean: float
    std: float
    n: int

    @classmethod
    def of(cls, values: Iterable[float]) -> "Stat":
        x = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=np.float64)
        if len(x) == 0:
            return cls(math.nan, math.nan, 0)
        return cls(float(x.mean()), float(x.std(ddof=1)) if len(x) > 1 else 0.0, len(x))

    def text(self, digits: int = 2) -> str:
        """``0.63 ± 0.03`` (the ± left out for a single seed)."""
        if self.n <= 1:
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} ± {self.std:.{digits}f}"


def equal(a: Stat, b: Stat) -> bool:
    """Whether two means are equal within seed noise (see the module docstring)."""
    return abs(a.mean - b.mean) <= max(a.std, b.std, EQUAL_FLOOR) + 1e-12  # printed ties count as equal


def sweep_phrase(sweep: str) -> str:
    """``mean rotation consistency`` for sweep ``angle``; other names are used as they are."""
    return f"mean {SWEEP_WORDS.get(sweep, sweep)} consistency"


def _is_grid(table: pd.DataFrame, sweep: str) -> bool:
    return f"{GRID}{sweep}" in table.columns


def _phrase(table: pd.DataFrame, sweep: str) -> str:
    return f"mean consistency over grid {sweep!r}" if _is_grid(table, sweep) else sweep_phrase(sweep)


def seeds_phrase(n: int) -> str:
    return "1 seed" if n == 1 else f"{n} seeds"


# ---------------------------------------------------------------------------------------------
# the per-run table every finding reads


def per_run_table(runs: pd.DataFrame, invariance: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per completed run with its accuracy and invariance summaries as columns.

    Columns: run_id, model, augmentation, n_train, seed, test_accuracy, train_accuracy, params
    (those present in ``runs``), then the per-run summary (:func:`invariance.curves.run_summaries`):
    ``mean_consistency_<sweep>`` (each sweep's mean consistency), ``grid_accuracy_<grid>``,
    ``random_accuracy`` and ``worst_of_k_accuracy`` when the harness rows have them.

    Returns:
        DataFrame with one row per completed run, in ``runs`` order.
    """
    done = runs[runs["status"].astype(str) == "completed"] if "status" in runs.columns else runs
    keep = [c for c in ("run_id", "model", "augmentation", "n_train", "seed", "test_accuracy", "train_accuracy",
                        "params") if c in done.columns]
    table = done[keep].copy()
    for col in ("run_id", "model", "augmentation"):
        if col in table.columns:
            table[col] = table[col].astype(str)
    if invariance is None or invariance.empty or "run_id" not in table.columns:
        return table.reset_index(drop=True)
    summaries = run_summaries(invariance.assign(run_id=invariance["run_id"].astype(str)))
    if summaries is not None:
        for column in summaries.columns:
            table[column] = table["run_id"].map(summaries[column])
    return table.reset_index(drop=True)


def at_largest_n(table: pd.DataFrame) -> pd.DataFrame:
    """The rows at the largest n_train (all rows when there is no n_train column)."""
    if "n_train" not in table.columns or table["n_train"].isna().all():
        return table
    return table[table["n_train"] == table["n_train"].max()]


def group_stats(table: pd.DataFrame, column: str) -> dict[tuple[str, str], Stat]:
    """(model, augmentation) -> Stat of ``column`` over seeds."""
    if column not in table.columns:
        return {}
    return {(str(m), str(a)): Stat.of(g[column]) for (m, a), g in table.groupby(["model", "augmentation"], sort=True)}


def _paired_change(table: pd.DataFrame, column: str, model: str, base: str, other: str) -> Stat:
    """Stat of (other − base) for one model, paired by seed (unpaired: difference of means,
    with the two standard deviations combined)."""
    a = table[(table["model"] == model) & (table["augmentation"] == base)].set_index("seed")[column]
    b = table[(table["model"] == model) & (table["augmentation"] == other)].set_index("seed")[column]
    common = a.index.intersection(b.index)
    if len(common) >= 2:
        return Stat.of((b.loc[common] - a.loc[common]).to_numpy())
    sa, sb = Stat.of(a), Stat.of(b)
    return Stat(sb.mean - sa.mean, math.hypot(sa.std, sb.std), min(sa.n, sb.n))


def _label(model: str, augmentation: str, *, with_aug: bool) -> str:
    if not with_aug:
        return model
    return f"{model} without augmentation" if augmentation == "none" else f"{model} with {augmentation}"


# ---------------------------------------------------------------------------------------------
# sentences


def accuracy_findings(table: pd.DataFrame) -> list[str]:
    """The most and the least accurate (model, augmentation).

    Returns:
        Zero or one sentence.
    """
    stats = group_stats(at_largest_n(table), "test_accuracy")
    stats = {k: s for k, s in stats.items() if s.n}
    if len(stats) < 2:
        return []
    with_aug = len({a for _, a in stats}) > 1
    best = max(stats, key=lambda k: stats[k].mean)
    worst = min(stats, key=lambda k: stats[k].mean)
    return [f"Most accurate: {_label(*best, with_aug=with_aug)} (test accuracy {stats[best].text(3)}, "
            f"{seeds_phrase(stats[best].n)}); least accurate: {_label(*worst, with_aug=with_aug)} "
            f"({stats[worst].text(3)})."]


def architecture_findings(table: pd.DataFrame, sweep: str) -> list[str]:
    """Which model is the most and the least invariant along a sweep, without augmentation
    (or with the first augmentation if none was run without), with accuracy beside it.

    Returns:
        Zero or one sentence.
    """
    table = at_largest_n(table)
    column = CONSISTENCY + sweep
    if column not in table.columns:
        return []
    augs = sorted(set(table["augmentation"]))
    base = "none" if "none" in augs else augs[0]
    part = table[table["augmentation"] == base]
    cons = {m: s for (m, _), s in group_stats(part, column).items() if s.n}
    acc = {m: s for (m, _), s in group_stats(part, "test_accuracy").items()}
    if len(cons) < 2:
        return []
    top = max(cons, key=lambda m: cons[m].mean)
    low = min(cons, key=lambda m: cons[m].mean)
    where = "Without augmentation" if base == "none" else f"With augmentation {base}"
    sentence = (f"{where}, {top} has the highest {_phrase(table, sweep)} ({cons[top].text()}) and {low} the "
                f"lowest ({cons[low].text()})")
    if top in acc and low in acc and acc[top].n and acc[low].n:
        if equal(acc[top], acc[low]):
            sentence += f", at equal accuracy ({acc[top].text(3)} vs {acc[low].text(3)})"
        else:
            sentence += f"; their test accuracies are {acc[top].text(3)} and {acc[low].text(3)}"
    return [sentence + "."]


def augmentation_findings(table: pd.DataFrame, sweep: str) -> list[str]:
    """What each augmentation did to each model's consistency along a sweep, vs no augmentation.

    One sentence per (augmentation, model): ``geometric[...] raised cnn_pool's mean rotation
    consistency from 0.41 to 0.63 (±0.03) at equal accuracy (0.912 vs 0.905).`` The ± is the
    standard deviation over seeds of the change (paired by seed).

    Returns:
        Sentences, sorted by augmentation then model.
    """
    table = at_largest_n(table)
    column = CONSISTENCY + sweep
    augs = sorted(set(table["augmentation"])) if "augmentation" in table.columns else []
    if column not in table.columns or "none" not in augs:
        return []
    cons = group_stats(table, column)
    acc = group_stats(table, "test_accuracy")
    out = []
    for aug in [a for a in augs if a != "none"]:
        for model in sorted(set(table["model"])):
            base, new = cons.get((model, "none")), cons.get((model, aug))
            if not base or not new or not base.n or not new.n:
                continue
            change = _paired_change(table, column, model, "none", aug)
            verb = "raised" if change.mean > 0 else "lowered" if change.mean < 0 else "left"
            spread = f" (±{change.std:.2f})" if change.n > 1 else ""
            sentence = (f"Augmentation {aug} {verb} {model}'s {_phrase(table, sweep)} from {base.mean:.2f} to "
                        f"{new.mean:.2f}{spread}")
            a0, a1 = acc.get((model, "none")), acc.get((model, aug))
            if a0 and a1 and a0.n and a1.n:
                if equal(a0, a1):
                    sentence += f" at equal accuracy ({a0.mean:.3f} vs {a1.mean:.3f})"
                else:
                    sentence += f", and test accuracy went from {a0.mean:.3f} to {a1.mean:.3f}"
            out.append(sentence + ".")
    return out


def lever_findings(table: pd.DataFrame, sweep: str) -> list[str]:
    """Architecture vs augmentation on one scale: the spread of mean consistency between models
    (no augmentation) against the mean change augmentation brings (Kauderer-Abrams 2017).

    Returns:
        Zero or one sentence per augmentation.
    """
    table = at_largest_n(table)
    column = CONSISTENCY + sweep
    if column not in table.columns or "none" not in set(table["augmentation"]):
        return []
    cons = group_stats(table, column)
    base = {m: s.mean for (m, a), s in cons.items() if a == "none" and s.n}
    if len(base) < 2:
        return []
    spread = max(base.values()) - min(base.values())
    out = []
    for aug in sorted({a for _, a in cons if a != "none"}):
        changes = [cons[(m, aug)].mean - base[m] for m in base if (m, aug) in cons and cons[(m, aug)].n]
        if not changes:
            continue
        mean_change = float(np.mean(changes))
        bigger = "more" if abs(mean_change) > spread else "less"
        where = f"Over grid {sweep!r}" if _is_grid(table, sweep) else f"Along {sweep}"
        out.append(f"{where}, augmentation {aug} changed {_phrase(table, sweep)} by {mean_change:+.2f} on "
                   f"average over {len(changes)} models: {bigger} than the spread between architectures without "
                   f"augmentation ({spread:.2f}).")
    return out


def robustness_findings(table: pd.DataFrame, *, k: int | None = None) -> list[str]:
    """Natural vs worst-of-k (and grid) accuracy: the model that loses the most and the least.

    Returns:
        Zero or one sentence per augmentation.
    """
    table = at_largest_n(table)
    if "worst_of_k_accuracy" not in table.columns:
        return []
    label = f"worst-of-{k}" if k else "worst-of-k"
    grids = [c for c in table.columns if c.startswith(GRID)]
    out = []
    for aug in sorted(set(table["augmentation"])):
        part = table[table["augmentation"] == aug]
        nat = group_stats(part, "test_accuracy")
        worst = group_stats(part, "worst_of_k_accuracy")
        drops = {m: nat[(m, a)].mean - worst[(m, a)].mean for (m, a) in worst
                 if (m, a) in nat and worst[(m, a)].n and nat[(m, a)].n}
        if not drops:
            continue
        most = max(drops, key=drops.get)
        least = min(drops, key=drops.get)
        where = "without augmentation" if aug == "none" else f"with augmentation {aug}"
        sentence = (f"Under the {label} attack {where}, {most} loses the most accuracy "
                    f"({nat[(most, aug)].mean:.3f} → {worst[(most, aug)].mean:.3f})")
        if least != most:
            sentence += f" and {least} the least ({nat[(least, aug)].mean:.3f} → {worst[(least, aug)].mean:.3f})"
        if grids:
            g = group_stats(part, grids[0])
            if (most, aug) in g and g[(most, aug)].n:
                sentence += (f"; on grid {grids[0][len(GRID):]!r} {most} keeps {g[(most, aug)].mean:.3f}")
        out.append(sentence + ".")
    return out


def learning_curve_findings(curves: pd.DataFrame | None, learning: pd.DataFrame | None = None) -> list[str]:
    """Samples to the target accuracy and efficiency ratios (the sentences ``curves.csv`` carries),
    and where the train − test gap is largest at the smallest n_train.

    Returns:
        Sentences (possibly none).
    """
    out = []
    if curves is not None and len(curves):
        for column in ("target_summary", "efficiency_summary"):
            if column in curves.columns:
                out += [str(s).rstrip(".") + "." for s in curves[column] if isinstance(s, str) and s.strip()]
    if learning is not None and {"n_train", "generalization_gap"} <= set(learning.columns) \
            and learning["n_train"].nunique() > 1:
        n0 = learning["n_train"].min()
        gaps = {k: s for k, s in group_stats(learning[learning["n_train"] == n0], "generalization_gap").items()
                if s.n}
        if len(gaps) >= 2:
            with_aug = len({a for _, a in gaps}) > 1
            hi = max(gaps, key=lambda k: gaps[k].mean)
            lo = min(gaps, key=lambda k: gaps[k].mean)
            out.append(f"With the fewest training images ({int(n0):,}), the train − test accuracy gap is largest "
                       f"for {_label(*hi, with_aug=with_aug)} ({gaps[hi].text(3)}) and smallest for "
                       f"{_label(*lo, with_aug=with_aug)} ({gaps[lo].text(3)}).")
    return out


def failure_findings(runs: pd.DataFrame) -> list[str]:
    """How many runs failed (the report lists them with reasons)."""
    if "status" not in runs.columns:
        return []
    failed = int((runs["status"].astype(str) == "failed").sum())
    if not failed:
        return []
    return [f"{failed} of {len(runs)} runs failed; they are listed with their reasons under Failed runs."]


SWEEP_TITLES = {"dx": "Horizontal shift (dx)", "dy": "Vertical shift (dy)", "angle": "Rotation (angle)",
                "scale": "Scaling (scale)"}


def key_findings(runs: pd.DataFrame, invariance: pd.DataFrame | None = None, *, curves: pd.DataFrame | None = None,
                 learning: pd.DataFrame | None = None, k: int | None = None,
                 sweeps: Sequence[str] | None = None) -> list[tuple[str, list[str]]]:
    """Every finding, grouped under headings in report order: accuracy; per sweep the
    architecture, the augmentation and which lever matters more; robustness; data hunger; failures.

    Returns:
        (heading, sentences) pairs; headings without sentences are left out.
    """
    table = per_run_table(runs, invariance)
    groups = [("Accuracy", accuracy_findings(table))]
    for sweep in sweeps if sweeps is not None else sweeps_of(table):
        heading = f"Grid {sweep}" if _is_grid(table, sweep) else SWEEP_TITLES.get(sweep, f"Sweep {sweep}")
        groups.append((heading,
                       architecture_findings(table, sweep) + lever_findings(table, sweep)
                       + augmentation_findings(table, sweep)))
    groups.append(("Spatial robustness", robustness_findings(table, k=k)))
    groups.append(("Data hunger", learning_curve_findings(curves, learning)))
    groups.append(("Failures", failure_findings(runs)))
    return [(heading, sentences) for heading, sentences in groups if sentences]
