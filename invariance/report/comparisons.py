"""The comparisons behind the findings: designs' values by seed, paired differences, rankings
that hold only where separable, and the note every comparison with an unconverged run carries.

A *design* is a (model, augmentation) pair; its runs are keyed by seed. Runs that share a seed
share their training subset, initial weights and evaluation images, so two designs are compared
by :func:`invariance.analysis.paired.difference` over their common seeds.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from invariance.analysis.paired import Difference, difference

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


def as_flag(value) -> bool | None:
    """A ``converged`` cell as True/False, or None when not recorded."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip().lower()
    return {"true": True, "1": True, "1.0": True, "false": False, "0": False, "0.0": False}.get(text)


def seeds_phrase(n: int) -> str:
    return "1 seed" if n == 1 else f"{n} seeds"


Key = tuple  # (model, augmentation)


def values(table: pd.DataFrame, column: str, key: Key) -> pd.Series:
    """One (model, augmentation)'s ``column`` keyed by seed (missing values dropped)."""
    if column not in table.columns:
        return pd.Series(dtype=np.float64)
    rows = table[(table["model"] == key[0]) & (table["augmentation"] == key[1])]
    return pd.to_numeric(rows.set_index("seed")[column], errors="coerce").dropna()


def compare(table: pd.DataFrame, column: str, a: Key, b: Key) -> Difference:
    """``b − a`` on ``column``, paired by seed."""
    return difference(values(table, column, a), values(table, column, b))


def unconverged(table: pd.DataFrame, keys: Iterable[Key]) -> dict[Key, tuple[int, int, str]]:
    """(model, augmentation) -> (unconverged seeds, seeds, stop reasons) for the keys with a run
    whose ``converged`` is False (a missing column or value counts as not recorded, not flagged)."""
    if "converged" not in table.columns:
        return {}
    out = {}
    for key in keys:
        rows = table[(table["model"] == key[0]) & (table["augmentation"] == key[1])]
        bad = rows[rows["converged"].map(lambda v: v is False)]
        if len(bad):
            reasons = ""
            if "stop_reason" in bad.columns:
                reasons = ", ".join(sorted({str(r) for r in bad["stop_reason"].dropna() if str(r)}))
            out[key] = (len(bad), len(rows), reasons)
    return out


def budget_note(table: pd.DataFrame, keys: Iterable[Key], *, with_aug: bool, unit: str = "seeds",
                what: str = "comparison") -> str:
    """``; cnn_gap stopped at the cap before converging (3 of 3 seeds); this comparison measures the
    budget`` when any compared design has unconverged runs, else ``""``.

    Args:
        unit: What the counts count (``seeds`` at one size; ``runs`` over a learning curve's sizes).
        what: What the sentence states (``comparison``, ``estimate``).
    """
    bad = unconverged(table, keys)
    if not bad:
        return ""
    parts = []
    for key, (n_bad, n, reasons) in bad.items():
        where = " at the cap" if reasons == "cap" else (f" ({reasons})" if reasons else "")
        parts.append(f"{design_label(*key, with_aug=with_aug)} stopped{where} before converging "
                     f"({n_bad} of {n} {unit})")
    return "; " + " and ".join(parts) + f"; this {what} measures the budget"


def design_label(model: str, augmentation: str, *, with_aug: bool) -> str:
    if not with_aug:
        return model
    return f"{model} without augmentation" if augmentation == "none" else f"{model} with {augmentation}"


def short_label(key: Key, *, with_aug: bool) -> str:
    return f"{key[0]}/{key[1]}" if with_aug else key[0]


def pair_label(a: Key, b: Key, *, with_aug: bool) -> str:
    return f"{short_label(a, with_aug=with_aug)} − {short_label(b, with_aug=with_aug)}"


@dataclasses.dataclass(frozen=True)
class Ranking:
    """The top (or bottom) of some designs on one value, and whether it is separable.

    Attributes:
        first: The design with the highest (lowest) mean.
        second: The runner-up by mean.
        lead: ``first − second``, paired by seed.
        group: ``first`` and every design whose difference from it is not detected, by mean.
        tie: ``first − group[1]``, the nearest design that ``first`` cannot be told from; None
            when separable. It differs from ``lead`` when the runner-up by mean is separable
            (its seeds agree) while a design further away is not (its seeds scatter).
    """

    first: Key
    second: Key
    lead: Difference
    group: tuple
    tie: Difference | None = None

    @property
    def separable(self) -> bool:
        return len(self.group) == 1


def rank(table: pd.DataFrame, column: str, keys: Sequence[Key], *, highest: bool = True) -> Ranking | None:
    """The top (``highest``) or bottom design of ``keys`` on ``column``; None with fewer than 2."""
    means = {k: float(values(table, column, k).mean()) for k in keys if len(values(table, column, k))}
    if len(means) < 2:
        return None
    order = sorted(means, key=lambda k: means[k], reverse=highest)
    first = order[0]
    group = [first] + [k for k in order[1:] if not compare(table, column, k, first).detected]
    tie = compare(table, column, group[1], first) if len(group) > 1 else None
    return Ranking(first, order[1], compare(table, column, order[1], first), tuple(group), tie)


def stat_text(table: pd.DataFrame, column: str, key: Key, digits: int) -> str:
    return Stat.of(values(table, column, key)).text(digits)


def diff_text(d: Difference, label: str, *, points: bool) -> str:
    """The difference in words: ``A − B: +0.9 points, 95% CI −0.9 to +2.6, 3 seeds``, prefixed by
    ``no detectable difference (…)`` when the interval covers 0 (or there is none)."""
    text = d.text(scale=100, unit=" points", digits=1, label=label) if points else d.text(digits=2, label=label)
    return text if d.detected else f"no detectable difference ({text})"


def ranking_sentence(table: pd.DataFrame, r: Ranking, column: str, *, what: str, top_word: str, digits: int,
                      points: bool, with_aug: bool, lead_in: str = "") -> str:
    """``Most accurate: A (0.910 ± 0.014, 2 seeds), ahead of B (A − B: …)`` or the non-separable form."""
    name = design_label(*r.first, with_aug=with_aug)
    n = Stat.of(values(table, column, r.first)).n
    lead = diff_text(r.lead, pair_label(r.first, r.second, with_aug=with_aug), points=points)
    if r.separable:
        sentence = (f"{lead_in}{name} has the {top_word} {what} ({stat_text(table, column, r.first, digits)}, "
                    f"{seeds_phrase(n)}), separable from the runner-up {design_label(*r.second, with_aug=with_aug)} "
                    f"({lead})")
    else:
        members = ", ".join(f"{design_label(*k, with_aug=with_aug)} ({stat_text(table, column, k, digits)})"
                            for k in r.group)
        if r.second in r.group:
            sentence = f"{lead_in}the {top_word} {what} is not separable between {members} (first two: {lead})"
        else:
            # Naming only the runner-up here would cite a separable pair as the evidence of a tie.
            tie = diff_text(r.tie, pair_label(r.first, r.group[1], with_aug=with_aug), points=points)
            sentence = (f"{lead_in}the {top_word} {what} is not separable between {members} ({tie}), although "
                        f"{design_label(*r.second, with_aug=with_aug)} ({stat_text(table, column, r.second, digits)})"
                        f", nearer by mean, is separable ({lead})")
    return sentence + budget_note(table, r.group + ((r.second,) if r.second not in r.group else ()),
                                  with_aug=with_aug)


def capitalise(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]
