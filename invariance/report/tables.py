"""Compact report tables: mean ± std over seeds per model x augmentation, fits, failed runs."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from invariance.curves.powerlaw import MAX_EXTRAPOLATION, not_reached
from invariance.curves.run_summary import sweeps_of
from invariance.report.comparisons import Stat
from invariance.report.findings import CONSISTENCY, GRID, SWEEP_WORDS


def _cell(values, digits: int) -> str:
    stat = Stat.of(values)
    return "–" if not stat.n else stat.text(digits)


def _count(n) -> str:
    try:
        return f"{int(n):,}"
    except (TypeError, ValueError):
        return "–"


def _number(x: float) -> str:
    """Three decimals for ordinary sizes, three significant digits beyond (fits can run wild)."""
    return f"{x:.3f}" if abs(x) < 1000 else f"{x:.3g}"


def summary_table(per_run: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std over seeds of test accuracy and each sweep's mean consistency.

    One row per (model, augmentation[, n_train]) of the per-run table (n_train appears only
    when the study has several sizes).

    Returns:
        DataFrame of display strings: model, augmentation, [n_train,] seeds, test accuracy,
        then ``<sweep> consistency`` per sweep, grid accuracy per grid, the clean accuracy on the
        evaluation images and worst-of-k (both on the harness's images), params.
    """
    if per_run.empty:
        return pd.DataFrame()
    keys = ["model", "augmentation"]
    if "n_train" in per_run.columns and per_run["n_train"].nunique() > 1:
        keys.append("n_train")
    rows = []
    for key, group in per_run.groupby(keys, sort=True):
        row = dict(zip(keys, key))
        if "n_train" in row:
            row["n_train"] = _count(row["n_train"])
        row["seeds"] = str(len(group))
        row["test accuracy"] = _cell(group.get("test_accuracy", []), 3)
        for sweep in sweeps_of(per_run):
            row[f"{SWEEP_WORDS.get(sweep, sweep)} consistency"] = _cell(group[CONSISTENCY + sweep], 2)
        for col in [c for c in per_run.columns if c.startswith(GRID)]:
            row[f"grid accuracy ({col[len(GRID):]})"] = _cell(group[col], 3)
        if "clean_accuracy" in per_run.columns:  # beside worst-of-k: the same evaluation images
            row["accuracy on evaluation images"] = _cell(group["clean_accuracy"], 3)
        if "worst_of_k_accuracy" in per_run.columns:
            row["worst-of-k accuracy"] = _cell(group["worst_of_k_accuracy"], 3)
        if "params" in per_run.columns:
            row["params"] = _count(group["params"].iloc[0])
        rows.append(row)
    return pd.DataFrame(rows)


def curves_table(curves: pd.DataFrame | None) -> pd.DataFrame:
    """The fitted learning curves: a, b, c, samples to the target (images trained on) with
    their intervals, the leave-one-size-out range and the efficiency ratio.

    A samples-to-target beyond twice the largest measured size reads ``not reached (fit ≈ X)``
    and its ratio ``excluded``: such numbers are not estimates.

    Returns:
        DataFrame of display strings (empty when there are no curves).
    """
    if curves is None or curves.empty or not {"model", "augmentation"} <= set(curves.columns):
        return pd.DataFrame()

    def num(row, name):
        value = pd.to_numeric(row.get(name), errors="coerce")
        return value if value is not None and not pd.isna(value) else math.nan

    def interval(row, name, count=False):
        value = num(row, name)
        if not np.isfinite(value):
            return "–"
        lo, hi = num(row, f"{name}_lo"), num(row, f"{name}_hi")
        fmt = _count if count else _number
        text = fmt(value)
        if not (math.isnan(lo) or math.isnan(hi)):
            text += f" [{fmt(lo)}, {fmt(hi) if math.isfinite(hi) else 'beyond range'}]"
        return text

    target = pd.to_numeric(curves.get("target_accuracy"), errors="coerce") if "target_accuracy" in curves else None
    target_name = (f"samples to {float(target.dropna().iloc[0]):.0%}" if target is not None and target.notna().any()
                   else "samples to target")
    rows = []
    for _, row in curves.iterrows():
        out = {"model": str(row["model"]), "augmentation": str(row["augmentation"])}
        if "n_seeds" in curves.columns:
            out["seeds"] = _count(row.get("n_seeds"))
        for name in ("a", "b", "c"):
            out[name] = interval(row, name)
        status = str(row.get("target_status", ""))
        if status == "beyond_range":
            out[target_name] = "not reached " + not_reached(num(row, "samples_to_target"), num(row, "max_n_fit")) \
                .removeprefix("not reached within the measured range ")
        elif status == "unreachable":
            out[target_name] = "unreachable"
        else:
            out[target_name] = interval(row, "samples_to_target", count=True)
        if "samples_to_target_loso_min" in curves.columns:
            lo, hi = num(row, "samples_to_target_loso_min"), num(row, "samples_to_target_loso_max")
            def bound(v):
                if not math.isfinite(v):
                    return "unreachable"
                return "beyond range" if v > MAX_EXTRAPOLATION * num(row, "max_n_fit") else _count(v)

            out["leave-one-size-out"] = "–" if math.isnan(lo) else f"{bound(lo)} to {bound(hi)}"
        if "efficiency_ratio" in curves.columns:
            ratio = num(row, "efficiency_ratio")
            if str(row.get("efficiency_note", "")) == "reference":
                out["data vs reference"] = "reference"
            elif str(row.get("efficiency_note", "")).startswith("excluded"):
                out["data vs reference"] = "excluded"
            else:
                out["data vs reference"] = "–" if not np.isfinite(ratio) else f"{ratio:.2f}×"
        rows.append(out)
    return pd.DataFrame(rows)


def failed_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Failed runs with their reasons.

    Returns:
        DataFrame: run_id, model, augmentation, n_train, seed, reason (empty when none failed).
    """
    if "status" not in runs.columns:
        return pd.DataFrame()
    failed = runs[runs["status"].astype(str) == "failed"]
    cols = [c for c in ("run_id", "model", "augmentation", "n_train", "seed", "reason") if c in failed.columns]
    out = failed[cols].copy()
    if "n_train" in out.columns:
        out["n_train"] = out["n_train"].map(_count)
    if "reason" in out.columns:
        out["reason"] = out["reason"].map(lambda r: r if isinstance(r, str) and r else "(no reason recorded)")
    return out.reset_index(drop=True)


def format_seconds(seconds) -> str:
    """``2 min 30 s``, ``1 h 05 min``, ``12.3 s``; ``–`` when unknown."""
    try:
        s = float(seconds)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(s):
        return "–"
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{int(s // 60)} min {int(round(s % 60)):02d} s"
    return f"{int(s // 3600)} h {int(round((s % 3600) / 60)):02d} min"
