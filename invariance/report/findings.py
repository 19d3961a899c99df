"""Key findings in plain sentences, computed from a study's tables (pure functions).

Findings compare runs at the study's largest n_train (the learning-curve sentences cover the
other sizes). Levels are means ± standard deviation over seeds; every comparison between
models or augmentations is a difference *paired by seed* (same subset, same initial weights,
same evaluation images) with its 95% t-interval and its number of seeds
(:func:`invariance.analysis.paired.difference`). The rules:

- a difference whose interval covers 0 is written "no detectable difference (…)";
- "most"/"least" is said only when the top (bottom) item is separable from every other item;
  otherwise the sentence names the group it cannot be told apart from;
- a comparison that involves a run with ``converged`` false says so in the same sentence;
- accuracies set beside consistency, worst-of-k, grid or random accuracy are the harness's
  clean accuracy on the same evaluation images (``clean_accuracy``), never ``runs.csv``'s
  test accuracy on the full test set.
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from invariance.analysis.paired import difference
from invariance.curves.run_summary import CONSISTENCY_PREFIX as CONSISTENCY
from invariance.curves.run_summary import GRID_PREFIX as GRID
from invariance.curves.run_summary import run_summaries, sweeps_of
from invariance.report.claims import lecture_claims
from invariance.report.comparisons import (as_flag, budget_note, capitalise, compare, design_label, diff_text,
                                           pair_label, rank, ranking_sentence, seeds_phrase, unconverged, values)

SWEEP_WORDS = {"dx": "horizontal-shift", "dy": "vertical-shift", "angle": "rotation", "scale": "scale"}


def sweep_phrase(sweep: str) -> str:
    """``mean rotation consistency`` for sweep ``angle``; other names are used as they are."""
    return f"mean {SWEEP_WORDS.get(sweep, sweep)} consistency"


def _is_grid(table: pd.DataFrame, sweep: str) -> bool:
    return f"{GRID}{sweep}" in table.columns


def _phrase(table: pd.DataFrame, sweep: str) -> str:
    return f"mean consistency over grid {sweep!r}" if _is_grid(table, sweep) else sweep_phrase(sweep)


def accuracy_column(table: pd.DataFrame) -> str:
    """The accuracy to set beside harness numbers: ``clean_accuracy`` (same evaluation images)
    when the harness recorded it, else ``test_accuracy``."""
    if "clean_accuracy" in table.columns and table["clean_accuracy"].notna().any():
        return "clean_accuracy"
    return "test_accuracy"


def _accuracy_words(column: str) -> str:
    return "accuracy on the evaluation images" if column == "clean_accuracy" else "test accuracy"


# ---------------------------------------------------------------------------------------------
# the per-run table every finding reads


def per_run_table(runs: pd.DataFrame, invariance: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per completed run with its accuracy and invariance summaries as columns.

    Columns: run_id, model, augmentation, n_train, seed, test_accuracy, train_accuracy, params,
    converged (True/False/None: not recorded), stop_reason (those present in ``runs``), then the
    per-run summary (:func:`invariance.curves.run_summaries`): ``mean_consistency_<sweep>`` (each
    sweep's mean consistency), ``grid_accuracy_<grid>``, ``clean_accuracy`` (on the evaluation
    images), ``random_accuracy`` and ``worst_of_k_accuracy`` when the harness rows have them.

    Returns:
        DataFrame with one row per completed run, in ``runs`` order.
    """
    done = runs[runs["status"].astype(str) == "completed"] if "status" in runs.columns else runs
    keep = [c for c in ("run_id", "model", "augmentation", "n_train", "seed", "test_accuracy", "train_accuracy",
                        "params", "converged", "stop_reason") if c in done.columns]
    table = done[keep].copy()
    if "converged" in table.columns:
        table["converged"] = table["converged"].map(as_flag).astype(object)
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


# ---------------------------------------------------------------------------------------------
# sentences


def unconverged_findings(runs: pd.DataFrame) -> list[str]:
    """The completed runs whose ``converged`` is false, listed first in the report.

    A table without a ``converged`` column (older studies) gives no sentence: convergence
    was not recorded, which is not the same as not converged.
    """
    table = per_run_table(runs)
    if "converged" not in table.columns:
        return []
    keys = list(dict.fromkeys(zip(table["model"], table["augmentation"])))
    bad = unconverged(table, keys)
    if not bad:
        return []
    with_aug = len({a for _, a in keys}) > 1
    n_bad = sum(v[0] for v in bad.values())
    parts = []
    for key, (k, n, reasons) in bad.items():
        rows = table[(table["model"] == key[0]) & (table["augmentation"] == key[1])]
        seeds = ", ".join(str(s) for s in rows.loc[rows["converged"].map(lambda v: v is False), "seed"])
        stop = f"; stopped by {reasons}" if reasons else ""
        parts.append(f"{design_label(*key, with_aug=with_aug)} ({k} of {n} seeds: {seeds}{stop})")
    return [f"{n_bad} of {len(table)} completed runs stopped before converging: {'; '.join(parts)}. Every "
            f"comparison that involves them measures the training budget, not the design, and says so."]


def chance_findings(table: pd.DataFrame, num_classes: int | None) -> list[str]:
    """The completed runs whose accuracy on the evaluation images is within
    :data:`~invariance.harness.input_range.CHANCE_MARGIN` of chance, listed first in the report:
    their consistency (often near 1.0: a constant prediction never flips) measures nothing.

    Uses ``clean_accuracy`` (the evaluation images) where recorded, else ``test_accuracy``.
    """
    from invariance.harness.input_range import CHANCE_MARGIN

    column = accuracy_column(table)
    if not num_classes or num_classes < 2 or column not in table.columns or table.empty:
        return []
    chance = 1.0 / num_classes
    acc = pd.to_numeric(table[column], errors="coerce")
    bad = table[(acc - chance).abs() <= CHANCE_MARGIN + 1e-12]
    if bad.empty:
        return []
    with_aug = table["augmentation"].nunique() > 1 if "augmentation" in table.columns else False
    names = "; ".join(f"{design_label(r.model, r.augmentation, with_aug=with_aug)}, seed {r.seed}"
                      + (f", n_train {int(r.n_train)}" if "n_train" in bad.columns and pd.notna(r.n_train) else "")
                      + f" ({getattr(r, column):.3f})" for r in bad.itertuples())
    return [f"{len(bad)} of {len(table)} completed runs are at chance level (within {CHANCE_MARGIN * 100:.0f} "
            f"points of {chance:.3f}): {names}. Their invariance numbers measure a model that predicts "
            f"(nearly) one class, not its invariance; they diverged, are badly under-trained, or were fed the "
            f"wrong input range."]


def accuracy_findings(table: pd.DataFrame) -> list[str]:
    """The most accurate (model, augmentation), and with three or more the least accurate,
    each stated only where it is separable from the others (test accuracy, full test set).

    Returns:
        Zero, one or two sentences.
    """
    table = at_largest_n(table)
    keys = sorted({(str(m), str(a)) for m, a in zip(table["model"], table["augmentation"])})
    with_aug = len({a for _, a in keys}) > 1
    out = []
    top = rank(table, "test_accuracy", keys, highest=True)
    if top is None:
        return []
    out.append(capitalise(ranking_sentence(table, top, "test_accuracy", what="test accuracy", top_word="highest",
                                      digits=3, points=True, with_aug=with_aug)) + ".")
    if len(keys) > 2:
        low = rank(table, "test_accuracy", keys, highest=False)
        out.append(capitalise(ranking_sentence(table, low, "test_accuracy", what="test accuracy", top_word="lowest",
                                          digits=3, points=True, with_aug=with_aug)) + ".")
    return out


def architecture_findings(table: pd.DataFrame, sweep: str) -> list[str]:
    """Which model is the most (and, with three or more, the least) invariant along a sweep,
    without augmentation (or with the first augmentation if none was run without), with the
    accuracy difference on the same evaluation images beside it.

    Returns:
        Zero, one or two sentences.
    """
    table = at_largest_n(table)
    column = CONSISTENCY + sweep
    if column not in table.columns:
        return []
    augs = sorted(set(table["augmentation"]))
    base = "none" if "none" in augs else augs[0]
    keys = [(str(m), base) for m in sorted(set(table.loc[table["augmentation"] == base, "model"]))]
    where = "without augmentation, " if base == "none" else f"with augmentation {base}, "
    acc = accuracy_column(table)
    out = []
    for highest in ((True, False) if len(keys) > 2 else (True,)):
        r = rank(table, column, keys, highest=highest)
        if r is None:
            return []
        sentence = ranking_sentence(table, r, column, what=_phrase(table, sweep),
                                     top_word="highest" if highest else "lowest", digits=2, points=False,
                                     with_aug=False, lead_in=where)
        d = compare(table, acc, r.second, r.first)
        if d.n:
            sentence += (f"; {_accuracy_words(acc)}: "
                         f"{diff_text(d, pair_label(r.first, r.second, with_aug=False), points=True)}")
        out.append(capitalise(sentence) + ".")
    return out


def augmentation_findings(table: pd.DataFrame, sweep: str) -> list[str]:
    """What each augmentation did to each model's consistency along a sweep, vs no augmentation,
    paired by seed, with the accuracy change on the same evaluation images.

    Returns:
        Sentences, sorted by augmentation then model.
    """
    table = at_largest_n(table)
    column = CONSISTENCY + sweep
    augs = sorted(set(table["augmentation"])) if "augmentation" in table.columns else []
    if column not in table.columns or "none" not in augs:
        return []
    acc = accuracy_column(table)
    out = []
    for aug in [a for a in augs if a != "none"]:
        for model in sorted(set(table["model"])):
            base, new = (model, "none"), (model, aug)
            if not len(values(table, column, base)) or not len(values(table, column, new)):
                continue
            d = compare(table, column, base, new)
            m0, m1 = values(table, column, base).mean(), values(table, column, new).mean()
            label = "with − without"  # the augmentation's label is in the sentence already
            if d.detected:
                verb = "raised" if d.estimate > 0 else "lowered"
                sentence = (f"Augmentation {aug} {verb} {model}'s {_phrase(table, sweep)} from {m0:.2f} to {m1:.2f} "
                            f"({d.text(digits=2, label=label)})")
            else:
                sentence = (f"Augmentation {aug} made no detectable difference to {model}'s {_phrase(table, sweep)} "
                            f"({m0:.2f} to {m1:.2f}; {d.text(digits=2, label=label)})")
            da = compare(table, acc, base, new)
            if da.n:
                sentence += f"; {_accuracy_words(acc)}: {diff_text(da, label, points=True)}"
            out.append(sentence + budget_note(table, (base, new), with_aug=True) + ".")
    return out


def lever_findings(table: pd.DataFrame, sweep: str) -> list[str]:
    """Architecture vs augmentation on one scale (Kauderer-Abrams 2017), per seed: the spread
    between the most and the least consistent model without augmentation, against the mean
    change augmentation brings over the models; their difference is paired by seed.

    Returns:
        Zero or one sentence per augmentation.
    """
    table = at_largest_n(table)
    column = CONSISTENCY + sweep
    if column not in table.columns or "none" not in set(table["augmentation"]):
        return []
    models = sorted(set(table.loc[table["augmentation"] == "none", "model"]))
    keys = [(m, "none") for m in models if len(values(table, column, (m, "none")))]
    top, low = rank(table, column, keys, highest=True), rank(table, column, keys, highest=False)
    if top is None:
        return []
    spread = values(table, column, top.first) - values(table, column, low.first)  # per seed
    spread = spread.dropna()
    where = f"Over grid {sweep!r}" if _is_grid(table, sweep) else f"Along {sweep}"
    out = []
    for aug in sorted({a for a in table["augmentation"] if a != "none"}):
        changes = [values(table, column, (m, aug)) - values(table, column, (m, "none")) for m, _ in keys
                   if len(values(table, column, (m, aug)))]
        if not changes:
            continue
        change = pd.concat(changes, axis=1).mean(axis=1, skipna=True).dropna()  # per seed, mean over models
        zero_c, zero_s = pd.Series(0.0, index=change.index), pd.Series(0.0, index=spread.index)
        d_change, d_spread = difference(zero_c, change), difference(zero_s, spread)
        sign = 1.0 if change.mean() >= 0 else -1.0
        lever = difference(spread, sign * change)  # |augmentation change| − architecture spread, per seed
        if lever.detected:
            verdict = (f"augmentation moves it {'more' if lever.estimate > 0 else 'less'} than the choice of "
                       f"architecture ({lever.text(digits=2, label='|augmentation| − architecture')})")
        else:
            verdict = (f"no detectable difference between the two levers "
                       f"({lever.text(digits=2, label='|augmentation| − architecture')})")
        out.append(f"{where}, augmentation {aug} changed {_phrase(table, sweep)} on average over {len(changes)} "
                   f"models ({d_change.text(digits=2)}), and the spread between architectures without augmentation "
                   f"is {top.first[0]} − {low.first[0]} ({d_spread.text(digits=2)}): {verdict}"
                   + budget_note(table, [*keys, *((m, aug) for m, _ in keys)], with_aug=True) + ".")
    return out


def robustness_findings(table: pd.DataFrame, *, k: int | None = None) -> list[str]:
    """The accuracy each model loses under the worst-of-k attack: clean accuracy minus
    worst-of-k accuracy, both on the same evaluation images (harness rows), paired by seed.
    Without the harness's clean accuracy no drop is computed.

    Returns:
        Zero or one sentence per augmentation.
    """
    table = at_largest_n(table)
    if "worst_of_k_accuracy" not in table.columns or "clean_accuracy" not in table.columns:
        return []
    table = table.assign(_drop=table["clean_accuracy"] - table["worst_of_k_accuracy"])
    label = f"worst-of-{k}" if k else "worst-of-k"
    grids = [c for c in table.columns if c.startswith(GRID)]
    out = []
    for aug in sorted(set(table["augmentation"])):
        part = table[table["augmentation"] == aug]
        keys = [(m, aug) for m in sorted(set(part["model"])) if len(values(part, "_drop", (m, aug)))]
        if not keys:
            continue
        where = "without augmentation" if aug == "none" else f"with augmentation {aug}"

        def levels(key):
            return (f"{values(part, 'clean_accuracy', key).mean():.3f} → "
                    f"{values(part, 'worst_of_k_accuracy', key).mean():.3f}")

        head = f"Under the {label} attack {where}, on the evaluation images, "
        r = rank(part, "_drop", keys, highest=True)
        if r is None:
            n = len(values(part, "_drop", keys[0]))
            sentence = head + f"{keys[0][0]} keeps {levels(keys[0])} ({seeds_phrase(n)})"
        else:
            lead = diff_text(r.lead, f"drop {r.first[0]} − {r.second[0]}", points=True)
            if r.separable:
                sentence = head + (f"{r.first[0]} loses the most accuracy ({levels(r.first)}), more than "
                                   f"{r.second[0]} ({levels(r.second)}; {lead})")
            else:
                members = ", ".join(f"{key[0]} ({levels(key)})" for key in r.group)
                if r.second in r.group:
                    sentence = head + f"the largest accuracy loss is not separable between {members} ({lead})"
                else:
                    tie = diff_text(r.tie, f"drop {r.first[0]} − {r.group[1][0]}", points=True)
                    sentence = head + (f"the largest accuracy loss is not separable between {members} ({tie}), "
                                       f"although {r.second[0]} ({levels(r.second)}), nearer by mean, is "
                                       f"separable ({lead})")
        if grids:
            g = values(part, grids[0], r.first if r else keys[0])
            if len(g):
                sentence += f"; on grid {grids[0][len(GRID):]!r} {(r.first if r else keys[0])[0]} keeps {g.mean():.3f}"
        out.append(sentence + budget_note(part, keys, with_aug=False) + ".")
    return out


def learning_curve_findings(curves: pd.DataFrame | None, learning: pd.DataFrame | None = None,
                            runs: pd.DataFrame | None = None) -> list[str]:
    """Samples to the target accuracy and efficiency ratios (the sentences ``curves.csv`` carries:
    seed-cluster intervals, nothing quoted beyond twice the measured range), and which design
    has the largest train − test gap at the smallest n_train, where separable.

    Args:
        curves: ``curves.csv``. learning: ``learning_curves.csv``.
        runs: The per-run table of every size (:func:`per_run_table`); with a ``converged``
            column, a sentence about a curve (or its reference) with unconverged runs says so.

    Returns:
        Sentences (possibly none).
    """
    out = []
    has_flags = runs is not None and "converged" in runs.columns
    if curves is not None and len(curves):
        tagged = curves["augmentation"].nunique() > 1 if "augmentation" in curves.columns else False
        for column in ("target_summary", "efficiency_summary"):
            if column not in curves.columns:
                continue
            for _, row in curves.iterrows():
                text = row[column]
                if not isinstance(text, str) or not text.strip():
                    continue
                keys = [(str(row["model"]), str(row["augmentation"]))]
                if column == "efficiency_summary" and isinstance(row.get("reference"), str):
                    keys.append((row["reference"], str(row["augmentation"])))
                what = "comparison" if column == "efficiency_summary" else "estimate"
                note = budget_note(runs, keys, with_aug=tagged, unit="runs", what=what) if has_flags else ""
                out.append(text.rstrip(".") + note + ".")
    if learning is not None and {"n_train", "generalization_gap"} <= set(learning.columns) \
            and learning["n_train"].nunique() > 1:
        n0 = learning["n_train"].min()
        small = learning[learning["n_train"] == n0]
        if has_flags and "converged" not in small.columns:
            at_n0 = runs[pd.to_numeric(runs["n_train"], errors="coerce") == float(n0)]
            flags = at_n0[["model", "augmentation", "seed", "converged"]
                          + (["stop_reason"] if "stop_reason" in at_n0.columns else [])]
            small = small.merge(flags, on=["model", "augmentation", "seed"], how="left")
        keys = sorted({(str(m), str(a)) for m, a in zip(small["model"], small["augmentation"])})
        r = rank(small, "generalization_gap", keys, highest=True)
        if r is not None:
            with_aug = len({a for _, a in keys}) > 1
            lead_in = f"with the fewest training images ({int(n0):,}), "
            out.append(capitalise(ranking_sentence(small, r, "generalization_gap", what="train − test accuracy gap",
                                              top_word="largest", digits=3, points=True, with_aug=with_aug,
                                              lead_in=lead_in)) + ".")
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
                 sweeps: Sequence[str] | None = None,
                 num_classes: int | None = None) -> list[tuple[str, list[str]]]:
    """Every finding, grouped under headings in report order: chance-level and unconverged runs
    first (``num_classes`` enables the chance check); accuracy;
    per sweep the architecture, the augmentation and which lever matters more; robustness; data
    hunger; failures.

    Returns:
        (heading, sentences) pairs; headings without sentences are left out.
    """
    table = per_run_table(runs, invariance)
    groups = [("Chance-level runs", chance_findings(table, num_classes)),
              ("Unconverged runs", unconverged_findings(runs)),
              ("The lecture's claims", lecture_claims(at_largest_n(table))),
              ("Accuracy", accuracy_findings(table))]
    for sweep in sweeps if sweeps is not None else sweeps_of(table):
        heading = f"Grid {sweep}" if _is_grid(table, sweep) else SWEEP_TITLES.get(sweep, f"Sweep {sweep}")
        groups.append((heading,
                       architecture_findings(table, sweep) + lever_findings(table, sweep)
                       + augmentation_findings(table, sweep)))
    groups.append(("Spatial robustness", robustness_findings(table, k=k)))
    groups.append(("Data hunger", learning_curve_findings(curves, learning, table)))
    groups.append(("Failures", failure_findings(runs)))
    return [(heading, sentences) for heading, sentences in groups if sentences]
