"""The exact-invariance study's README blocks: built-in against learned invariance, and its cost.

Rendered from ``results/reference/exact_invariance/`` (``runs.csv``, ``invariance.csv``) by the
same rules as :mod:`readme_tables`: means ± std over seeds, differences paired by seed with
their 95% t-interval, and efficiency ratios with seed-cluster bootstrap intervals that are only
quoted inside the measured range. ``readme_tables.py`` registers :data:`TABLES` with its own;
until the reference folder exists, its verdict block says the study is pending and the others
are empty.

Per run (:func:`per_run`), from the harness rows of ``studies/exact_invariance.yaml``:

* ``circular``: consistency under circular shifts, the mean of the dx and dy sweeps'
  ``mean_consistency`` (fill ``wrap``, every non-zero shift of -8..8);
* ``zero_fill``: consistency under the same shifts with zero fill on the black canvas, the mean
  of the ``dx_zero_fill`` and ``dy_zero_fill`` grids' ``mean_consistency`` (content leaves the
  frame beyond 6 px, so no design is exact here);
* ``pairs``: Zhang's pair consistency, two random shifts of up to 8 px with zero fill on the
  black canvas (pairs of shifted copies, neither of them the original);
* ``quarter``: consistency at 90°, 180° and 270° (mean of the three points of the angle sweep);
* ``rotation``: the angle sweep's ``mean_consistency`` (every 15° step);
* ``rotated_accuracy``: accuracy averaged over the 24 angles 0°..345°, i.e. on uniformly
  rotated test images;
* ``test_accuracy``: on the full upright test set (``runs.csv``).
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd


if str(Path(__file__).resolve().parent) not in sys.path:  # scripts/ is not a package
    sys.path.insert(0, str(Path(__file__).resolve().parent))
import table_cells as _c  # noqa: E402  (the module readme_tables.py loads by the same path)

read, runs_of, mean_std, diff, diff_cell, table, run_line, num = (
    getattr(_c, n) for n in ("read", "runs", "mean_std", "diff", "diff_cell", "table", "run_line", "num"))

STUDY = "exact_invariance"
PLAIN = "cnn_aps[pooling=max]"
DESIGNS = {  # model label -> short name
    "cnn_aps[pooling=max]": "max", "cnn_aps[pooling=blur]": "blur", "cnn_aps": "aps",
    "cnn_aps[pooling=aps_blur]": "aps_blur", "p4cnn[padding=circular]": "p4"}
SHIFT_MODELS = ["cnn_aps[pooling=max]", "cnn_aps[pooling=blur]", "cnn_aps", "cnn_aps[pooling=aps_blur]"]
P4 = "p4cnn[padding=circular]"
QUARTER_TURNS = (90.0, 180.0, 270.0)
KEYS = ["model", "augmentation", "n_train", "seed"]
EXACT = 1 - 1e-6  # a consistency this close to 1 on every image of every run is exact, not learned


# ---------------------------------------------------------------- per run

def per_run(ref: Path) -> pd.DataFrame:
    """One row per completed run: its key columns, ``n_fit``, test accuracy, params, MACs, and
    the measures of the module docstring."""
    runs = runs_of(ref, STUDY)
    inv = read(ref, STUDY, "invariance.csv")
    summary = inv[inv["dx"].isna()]
    points = inv[inv["dx"].notna()]

    def summary_of(sweep: str, metric: str) -> pd.Series:
        rows = summary[(summary["sweep"] == sweep) & (summary["metric"] == metric)]
        return rows.groupby(KEYS)["value"].mean()

    angle = points[points["sweep"] == "angle"]
    quarter = angle[(angle["metric"] == "consistency") & angle["angle"].isin(QUARTER_TURNS)]
    out = runs.set_index(KEYS)[["n_fit", "test_accuracy", "params", "macs", "converged"]].copy()
    out["circular"] = pd.concat([summary_of("dx", "mean_consistency"),
                                 summary_of("dy", "mean_consistency")]).groupby(level=KEYS).mean()
    out["zero_fill"] = pd.concat([summary_of("dx_zero_fill", "mean_consistency"),
                                  summary_of("dy_zero_fill", "mean_consistency")]).groupby(level=KEYS).mean()
    out["pairs"] = summary_of("shift_pairs", "pair_consistency")
    out["quarter"] = quarter.groupby(KEYS)["value"].mean()
    out["rotation"] = summary_of("angle", "mean_consistency")
    out["rotated_accuracy"] = angle[angle["metric"] == "accuracy"].groupby(KEYS)["value"].mean()
    return out.reset_index()


def _largest(df: pd.DataFrame) -> pd.DataFrame:
    """The runs at the study's largest n_train, where every design was trained."""
    return df[df["n_train"] == df["n_train"].max()]


def _pick(df: pd.DataFrame, model: str, augmentation: str, value: str) -> pd.Series:
    rows = df[(df["model"] == model) & (df["augmentation"] == augmentation)]
    return rows.set_index("seed")[value]


def _name(model: str, augmentation: str) -> str:
    short = DESIGNS.get(model, model)
    return short if augmentation == "none" else f"{short} + {augmentation}"


def _measured(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").dropna()


def _all_exact(x: pd.Series) -> bool:
    """Every measured value is 1 to float precision (and there is one)."""
    return bool(len(x)) and bool((x >= EXACT).all())


def _exact(values: pd.Series) -> str:
    """``1.000 (all runs)`` when every value is 1 to float precision; else mean ± std."""
    x = _measured(values)
    return f"**1.000 exactly** ({len(x)} runs)" if _all_exact(x) else mean_std(x)


# ---------------------------------------------------------------- shifts

def shifts(ref: Path) -> str:
    df = _largest(per_run(ref))
    rows = []
    for model in SHIFT_MODELS:
        for aug in ("none", "shift"):
            g = df[(df["model"] == model) & (df["augmentation"] == aug)]
            if g.empty:
                continue
            rows.append([f"`{_name(model, aug)}`", mean_std(g["test_accuracy"], scale=100, digits=1),
                         _exact(g["circular"]), mean_std(g["zero_fill"]), mean_std(g["pairs"]),
                         f"{g['macs'].iloc[0] / 1e6:.2f}M"])
    n = int(df["n_train"].max())
    return (table(["design (n_train = " + f"{n:,})", "test accuracy %", "circular-shift consistency",
                   "zero-fill shift consistency", "pair consistency (zero fill)", "MACs"], rows)
            + "\n\nMean ± std over seeds. Circular: dx and dy sweeps of −8..8 px with wrap-around; zero fill: the "
              "same shifts on the black canvas, where content leaves the frame beyond 6 px; pairs: two random shifts "
              "of up to 8 px on the black canvas, compared with each other (Zhang 2019).\n" + run_line(ref, STUDY))


SHIFT_MEASURES = (("circular", "circular"), ("zero fill", "zero_fill"), ("pairs", "pairs"),
                  ("accuracy", "test_accuracy"))


def _paired_cell(low: pd.Series, high: pd.Series) -> str:
    """The paired difference ``high - low``, or a plain 0 where both are exact by construction
    (an interval of +0.0 to +0.0 would read as a measured tie)."""
    if _all_exact(_measured(low)) and _all_exact(_measured(high)):
        return "0 (both exactly 1.000)"
    return diff_cell(diff(low, high))


def shifts_paired(ref: Path) -> str:
    df = _largest(per_run(ref))
    lines = []
    for model in SHIFT_MODELS[1:]:
        cells = [f"{label} {_paired_cell(_pick(df, PLAIN, 'none', v), _pick(df, model, 'none', v))}"
                 for label, v in SHIFT_MEASURES]
        lines.append(f"- `{DESIGNS[model]}` − `max`, points: " + "; ".join(cells))
    for model in SHIFT_MODELS:
        cells = [f"{label} {_paired_cell(_pick(df, model, 'none', v), _pick(df, model, 'shift', v))}"
                 for label, v in SHIFT_MEASURES]
        lines.append(f"- shift augmentation, `{DESIGNS[model]}`: " + "; ".join(cells))
    return "\n".join(lines)


# ---------------------------------------------------------------- rotations

ROTATION_DESIGNS = [(PLAIN, "none"), (PLAIN, "rotate"), (P4, "none"), (P4, "rotate")]


def rotations(ref: Path) -> str:
    df = _largest(per_run(ref))
    rows = []
    for model, aug in ROTATION_DESIGNS:
        g = df[(df["model"] == model) & (df["augmentation"] == aug)]
        if g.empty:
            continue
        rows.append([f"`{_name(model, aug)}`", f"{int(g['params'].iloc[0]):,}", f"{g['macs'].iloc[0] / 1e6:.1f}M",
                     mean_std(g["test_accuracy"], scale=100, digits=1),
                     mean_std(g["rotated_accuracy"], scale=100, digits=1), _exact(g["quarter"]),
                     mean_std(g["rotation"])])
    n = int(df["n_train"].max())
    return (table([f"design (n_train = {n:,})", "params", "MACs", "test accuracy % (upright)",
                   "rotated accuracy % (24 angles)", "quarter-turn consistency", "consistency, 15° steps"], rows)
            + "\n\nMean ± std over seeds; matched parameters (the p4 CNN has half the channels, so its group "
              "convolution holds the plain block's weights and costs 4× its MACs).")


def rotations_paired(ref: Path) -> str:
    df = _largest(per_run(ref))
    pairs = [((PLAIN, "none"), (PLAIN, "rotate"), "rotation augmentation on the plain CNN"),
             ((PLAIN, "none"), (P4, "none"), "p4 − plain, no augmentation"),
             ((PLAIN, "rotate"), (P4, "rotate"), "p4 − plain, both with rotation augmentation"),
             ((PLAIN, "rotate"), (P4, "none"), "built in (p4) − learned (plain + rotate)")]
    lines = []
    for low, high, label in pairs:
        cells = [f"{name} {diff_cell(diff(_pick(df, *low, v), _pick(df, *high, v)))}"
                 for name, v in (("rotated accuracy", "rotated_accuracy"), ("consistency", "rotation"),
                                 ("upright accuracy", "test_accuracy"))]
        lines.append(f"- {label}, points: " + "; ".join(cells))
    return "\n".join(lines)


# ---------------------------------------------------------------- data cost

DATA_PAIRS = [  # (design, reference, accuracy column, what the accuracy is)
    # the same training (rotation augmentation), differing only in the built-in quarter turns
    ((P4, "rotate"), (PLAIN, "rotate"), "rotated_accuracy", "rotated accuracy"),
    (("cnn_aps", "none"), (PLAIN, "none"), "test_accuracy", "test accuracy"),
]


def target_for(curves: pd.DataFrame) -> float:
    """The target both curves reach inside the measured range: the lower of their mean accuracies
    at the largest size, rounded down to a whole percent, less one point."""
    top = curves[curves["n_fit"] == curves.groupby(["model", "augmentation"])["n_fit"].transform("max")]
    lowest = top.groupby(["model", "augmentation"])["value"].mean().min()
    return (math.floor(100 * lowest) - 1) / 100


def data_ratio(df: pd.DataFrame, design, reference, value: str) -> tuple[dict, float]:
    """(efficiency row of ``design`` against ``reference`` on ``value``, the target), from the
    :func:`per_run` table ``df``."""
    from invariance.curves import efficiency_between, fit_curves

    keep = ((df["model"] == design[0]) & (df["augmentation"] == design[1])) | \
           ((df["model"] == reference[0]) & (df["augmentation"] == reference[1]))
    curves = df[keep].assign(value=df[value])
    target = target_for(curves)
    fits = {(f.model, f.augmentation): f for f in fit_curves(curves, n_boot=200, seed=0, value="value")}
    return efficiency_between(fits[design], fits[reference], target=target), target


def data_cost(ref: Path) -> str:
    df = per_run(ref)
    lines = []
    for design, reference, value, what in DATA_PAIRS:
        row, target = data_ratio(df, design, reference, value)
        lines.append(f"- {what}, target {100 * target:.0f}%: " + (row["efficiency_summary"] or row["efficiency_note"]))
    sizes = ", ".join(f"{int(n):,}" for n in sorted(df["n_train"].unique()))
    return ("\n".join(lines) + f"\n\nPower-law fits of error against the images trained on (n_train = {sizes}), "
            "seed-cluster bootstrap intervals (200 replicates); the target of each comparison is the lower of the "
            "two curves' mean accuracies at the largest size, rounded down to a whole percent, less one point, "
            "so both reach it inside the measured range.")


# ---------------------------------------------------------------- the figure's table

def tradeoff_table(ref: Path) -> pd.DataFrame:
    """One row per design against the plain CNN without augmentation (``plot_tradeoff``'s input):
    shift designs on circular consistency and test accuracy, rotation designs on rotation
    consistency and rotated accuracy; data ratios where the study measured learning curves."""
    from invariance.plots.tradeoff import TRADEOFF_COLUMNS

    everything = per_run(ref)
    df = _largest(everything)
    ratios = {}
    for design, reference, value, _ in DATA_PAIRS:
        row, _target = data_ratio(everything, design, reference, value)
        ratios[design] = (row["efficiency_ratio"], row["efficiency_ratio_lo"], row["efficiency_ratio_hi"],
                          _name(*reference))
    designs = [(m, a, "shifts", "circular", "test_accuracy") for m in SHIFT_MODELS for a in ("none", "shift")] + \
              [(m, a, "rotations", "rotation", "rotated_accuracy") for m, a in ROTATION_DESIGNS]
    rows = []
    for model, aug, kind, consistency, accuracy in designs:
        if (model, aug) == (PLAIN, "none") or df[(df["model"] == model) & (df["augmentation"] == aug)].empty:
            continue
        gain = diff(_pick(df, PLAIN, "none", consistency), _pick(df, model, aug, consistency))
        acc = diff(_pick(df, PLAIN, "none", accuracy), _pick(df, model, aug, accuracy))
        lever = "augmentation" if model == PLAIN else ("both" if aug != "none" else "architecture")
        ratio = ratios.get((model, aug), (math.nan,) * 3 + ("",))
        rows.append([_name(model, aug), lever, kind, *(100 * np.array([gain.estimate, gain.low, gain.high])),
                     *(100 * np.array([acc.estimate, acc.low, acc.high])), *ratio])
    return pd.DataFrame(rows, columns=list(TRADEOFF_COLUMNS))


# ---------------------------------------------------------------- verdict

def verdict(ref: Path) -> str:
    df = per_run(ref)
    exact = (f"APS with circular padding and a GAP head: circular-shift consistency "
             + _exactness(df[df["model"] == "cnn_aps"]["circular"])
             + "; p4 CNN: quarter-turn consistency " + _exactness(df[df["model"] == P4]["quarter"]) + ".")
    top = _largest(df)
    # Cohen & Welling 2016 (rotated MNIST, both trained on rotated images): P4CNN 2.28% test error
    # against 5.03% for the plain CNN, so the paper's direction is p4 above plain
    matched = diff(_pick(top, PLAIN, "rotate", "rotated_accuracy"), _pick(top, P4, "rotate", "rotated_accuracy"))
    built = diff(_pick(top, PLAIN, "rotate", "rotated_accuracy"), _pick(top, P4, "none", "rotated_accuracy"))
    word = ("not testable (no interval)" if not built.has_interval else
            ("higher" if built.sign > 0 else "lower") if built.detected else "no detectable difference")
    return (f"**Verdict:** {exact} Rotated accuracy, p4 − plain, both trained with rotation augmentation "
            f"(Cohen & Welling's direction: p4 higher): **{_c.verdict(matched, +1)}** ({diff_cell(matched)}). "
            f"Built in (p4, no augmentation) − learned (plain + rotate): **{word}** ({diff_cell(built)})."
            + _unconverged(ref))


def _exactness(values: pd.Series) -> str:
    """Whether every run's consistency is 1 to float precision; a design with no measured run
    is said to be unmeasured, not inexact."""
    x = _measured(values)
    if x.empty:
        return f"**not measured** (0 of {len(values)} runs)"
    if not _all_exact(x):
        return f"**not exact** (min {x.min():.4f}, {len(x)} of {len(values)} runs measured)"
    if len(x) < len(values):
        return f"**1.000 in every measured run** ({len(x)} of {len(values)} runs)"
    return f"**1.000 in every run** ({len(x)} runs)"


def _unconverged(ref: Path) -> str:
    """A warning when some runs did not converge (stopped at the cap, or mid-decay): the comparisons above
    then involve under-trained models, and must say so."""
    runs = runs_of(ref, STUDY)
    if "converged" not in runs:
        return " *Convergence was not recorded for these runs.*"
    ok = _c.converged_mask(runs)
    if ok.all():
        return ""
    late = runs[~ok].groupby(["model", "augmentation"]).size()
    names = ", ".join(f"`{m}` {a} ({k})" for (m, a), k in late.items())
    return (f" *{int((~ok).sum())} of {len(runs)} runs did not converge ({names}): "
            "comparisons involving them are with under-trained models.*")


TABLES = {
    "exact_invariance_shifts": shifts,
    "exact_invariance_shifts_paired": shifts_paired,
    "exact_invariance_rotations": rotations,
    "exact_invariance_rotations_paired": rotations_paired,
    "exact_invariance_data": data_cost,
    "exact_invariance_verdict": verdict,
}
"""Block name -> renderer(reference folder) -> Markdown."""
