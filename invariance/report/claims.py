"""The lecture's claims, each checked against a study's own runs.

A claim applies when the study trained the designs it needs (by model label: ``cnn_pool``,
``cnn_gap`` or ``cnn_pool[head=gap]``, ``cnn_nopool``, ``mlp``). Its verdict comes from a
difference paired by seed with a 95% interval: *shown* when the interval excludes 0 in the
claimed direction, *contradicted* when it excludes 0 the other way, and *not shown by this run*
when it covers 0 (or there is no interval). Every verdict states its interval and seeds, and
says so when a design it rests on did not converge.

Claims are a registry (:data:`CLAIMS`): name -> function of the per-run table returning a
sentence, or None where the study lacks what the claim needs.
"""
from __future__ import annotations

from typing import Callable

import pandas as pd

from invariance.analysis.paired import Difference, difference
from invariance.curves.run_summary import CONSISTENCY_PREFIX
from invariance.report.comparisons import Key, budget_note, compare, values

NONE = "none"
ALIASES = {"gap": ("cnn_gap", "cnn_pool[head=gap]")}


def _model(table: pd.DataFrame, *names: str) -> str | None:
    present = set(table["model"]) if "model" in table.columns else set()
    for name in names:
        for label in ALIASES.get(name, (name,)):
            if label in present:
                return label
    return None


def _shift_column(table: pd.DataFrame) -> str | None:
    for sweep in ("dx", "dy"):
        if f"{CONSISTENCY_PREFIX}{sweep}" in table.columns:
            return f"{CONSISTENCY_PREFIX}{sweep}"
    return None


def verdict(d: Difference, *, positive: bool = True) -> str:
    """``shown`` / ``contradicted`` / ``not shown by this run`` for a claim that ``d`` is > 0
    (``positive``) or < 0."""
    if not d.detected:
        return "not shown by this run"
    return "shown" if (d.estimate > 0) == positive else "contradicted"


def _interval(d: Difference, label: str) -> str:
    return d.text(scale=100, unit=" points", digits=1, label=label)


def _note(table: pd.DataFrame, keys: list[Key]) -> str:
    return budget_note(table, keys, with_aug=len({a for _, a in keys}) > 1, what="verdict")


def _paired_claim(table: pd.DataFrame, claim: str, column: str, low: str, high: str, what: str) -> str | None:
    """``claim: verdict (high − low, what: interval)`` for the claim that ``high`` exceeds ``low``
    on ``column`` without augmentation; None without a pair."""
    d = compare(table, column, (low, NONE), (high, NONE))
    if not d.n:
        return None
    return f"{claim}: {verdict(d)} ({_interval(d, f'{high} − {low}, {what}')}){_note(table, [(low, NONE), (high, NONE)])}."


def global_pooling(table: pd.DataFrame) -> str | None:
    """Global pooling makes a CNN more shift-consistent than a flatten head."""
    flat, gap, column = _model(table, "cnn_pool"), _model(table, "gap"), _shift_column(table)
    if not (flat and gap and column):
        return None
    return _paired_claim(table, "Global pooling makes a CNN more shift-consistent than a flatten head", column,
                         flat, gap, "mean shift consistency")


def pooling(table: pd.DataFrame) -> str | None:
    """Pooling cuts parameters and buys some shift invariance."""
    pool, nopool, column = _model(table, "cnn_pool"), _model(table, "cnn_nopool"), _shift_column(table)
    if not (pool and nopool and column) or "params" not in table.columns:
        return None
    p_pool, p_nopool = (values(table, "params", (m, NONE)) for m in (pool, nopool))
    if p_pool.empty or p_nopool.empty:
        return None
    ratio = float(p_nopool.iloc[0]) / float(p_pool.iloc[0])
    return _paired_claim(table, f"Pooling cuts parameters ({nopool} has {ratio:.1f}× the parameters of {pool}) "
                         "and buys some shift invariance", column, nopool, pool, "mean shift consistency")


def fully_connected(table: pd.DataFrame) -> str | None:
    """A fully connected network overfits more than a CNN of the same task (train − test gap)."""
    mlp, cnn = _model(table, "mlp"), _model(table, "cnn_pool")
    if not (mlp and cnn) or not {"train_accuracy", "test_accuracy"} <= set(table.columns):
        return None
    gap = table.assign(_gap=pd.to_numeric(table["train_accuracy"], errors="coerce")
                       - pd.to_numeric(table["test_accuracy"], errors="coerce"))
    return _paired_claim(gap, "Fully connected layers on images overfit more than convolutions (train − test gap)",
                         "_gap", cnn, mlp, "train − test accuracy gap")


def parameters_per_point(table: pd.DataFrame) -> str | None:
    """Which design spends the most parameters per point of test accuracy (no augmentation)."""
    if not {"params", "test_accuracy"} <= set(table.columns):
        return None
    part = table[table["augmentation"] == NONE]
    cost = {m: float(g["params"].iloc[0]) / (100 * float(pd.to_numeric(g["test_accuracy"]).mean()))
            for m, g in part.groupby("model") if pd.to_numeric(g["test_accuracy"]).mean() > 0}
    if len(cost) < 2:
        return None
    top, low = max(cost, key=cost.get), min(cost, key=cost.get)
    return (f"{top} spends the most parameters per point of test accuracy ({cost[top]:,.0f}), {low} the fewest "
            f"({cost[low]:,.0f}); parameter counts are exact, accuracies are means over seeds.")


def augmentation_vs_architecture(table: pd.DataFrame) -> str | None:
    """Augmentation raises shift consistency more than the best architecture lever does."""
    column = _shift_column(table)
    if column is None or "augmentation" not in table.columns:
        return None
    augs = [a for a in dict.fromkeys(table["augmentation"]) if a != NONE]
    models = [m for m in dict.fromkeys(table["model"]) if len(values(table, column, (m, NONE)))]
    if not augs or len(models) < 2:
        return None
    aug = augs[0]
    base = {m: values(table, column, (m, NONE)) for m in models}
    means = {m: float(v.mean()) for m, v in base.items()}
    best, worst = max(means, key=means.get), min(means, key=means.get)
    architecture = base[best] - base[worst]
    effects = [values(table, column, (m, aug)) - base[m] for m in models]
    augmentation = pd.concat(effects, axis=1).mean(axis=1, skipna=False).dropna()
    d = difference(architecture, augmentation)
    if not d.n:
        return None
    keys = [(m, a) for m in models for a in (NONE, aug)]
    return (f"Augmentation ({aug}) raises shift consistency more than any architecture lever: {verdict(d)} "
            f"({_interval(d, f'mean gain from augmentation − ({best} − {worst}) without it')})"
            f"{_note(table, keys)}.")


CLAIMS: dict[str, Callable[[pd.DataFrame], str | None]] = {
    "global_pooling": global_pooling,
    "pooling": pooling,
    "fully_connected": fully_connected,
    "parameters_per_point": parameters_per_point,
    "augmentation_vs_architecture": augmentation_vs_architecture,
}


def lecture_claims(table: pd.DataFrame) -> list[str]:
    """The sentences of every claim this per-run table can check, in registry order."""
    if table.empty or not {"model", "augmentation", "seed"} <= set(table.columns):
        return []
    return [s for s in (claim(table) for claim in CLAIMS.values()) if s]


__all__ = ["CLAIMS", "lecture_claims", "verdict"]
