"""Cells of the README's generated tables: reading a reference folder, mean ± std over seeds,
differences paired by seed with their 95% interval, and the verdict rule.

Used by ``scripts/readme_tables.py`` (which loads this file by path).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

NOT_RECORDED = "not recorded"


# ---------------------------------------------------------------- reading

def read(ref: Path, study: str, name: str) -> pd.DataFrame:
    path = ref / study / name
    if not path.is_file():
        raise FileNotFoundError(f"table needs {path}; export the study with scripts/export_reference.py")
    return pd.read_csv(path)


def runs(ref: Path, study: str) -> pd.DataFrame:
    """The completed runs of ``runs.csv``, their ``stop_reason`` and ``converged`` read under
    today's rule (:func:`todays_stops`)."""
    df = read(ref, study, "runs.csv")
    df = df[df["status"] == "completed"] if "status" in df else df
    return todays_stops(df, ref / study / "study.yaml")


STOP_COLUMNS = ("stop_reason", "epochs_run", "best_epoch", "n_fit")


def todays_stops(df: pd.DataFrame, study_yaml: Path) -> pd.DataFrame:
    """``df`` with each recorded plateau re-read by
    :func:`invariance.training.stopping.stop_under_todays_rule`, with the train spec of the
    study's resolved ``study.yaml``: a reference trained before ``mid_decay`` existed shows its
    noisy mid-decay stops as not converged, like a run trained today. ``recorded_stop_reason``
    keeps what was recorded. Unchanged when the columns, the file or a single train spec are
    missing (a study whose ``train`` is a grid)."""
    import yaml

    from invariance.errors import InvarianceError
    from invariance.training.spec import resolve_train_spec
    from invariance.training.stopping import stop_under_todays_rule

    if df.empty or not set(STOP_COLUMNS) <= set(df.columns) or not study_yaml.is_file():
        return df
    train = (yaml.safe_load(study_yaml.read_text()) or {}).get("train")
    if not isinstance(train, dict) or any(isinstance(v, (list, dict)) for v in train.values()):
        return df
    try:
        spec = resolve_train_spec(train)
    except InvarianceError:  # a train section of options that no longer exist: as recorded
        return df
    df = df.copy()
    df["recorded_stop_reason"] = df["stop_reason"]
    for i, row in df.iterrows():
        if row["stop_reason"] == "plateau" and all(pd.notna(row[c]) for c in STOP_COLUMNS):
            today = stop_under_todays_rule(spec, n_fit=int(row["n_fit"]), epochs_run=int(row["epochs_run"]),
                                           best_epoch=int(row["best_epoch"]), stop_reason="plateau")
            df.at[i, "stop_reason"], df.at[i, "converged"] = today["stop_reason"], today["converged"]
    return df


def measured(ref: Path, study: str, sweep: str, metric: str) -> pd.DataFrame:
    """Per-run summary values of ``invariance.csv`` (no transform point; clean accuracy included)."""
    inv = read(ref, study, "invariance.csv")
    rows = inv[(inv["sweep"] == sweep) & (inv["metric"] == metric)]
    if sweep != "clean":
        rows = rows[rows["dx"].isna()]
    return rows[["model", "augmentation", "n_train", "seed", "value"]]


def grid_mean(ref: Path, study: str, sweep: str, metric: str) -> pd.DataFrame:
    """Per-run mean of a per-point metric over a sweep's points, the identity left out (it
    measures nothing); empty when the metric was not measured."""
    inv = read(ref, study, "invariance.csv")
    rows = inv[(inv["sweep"] == sweep) & (inv["metric"] == metric) & inv["dx"].notna()]
    moved = ~((rows["dx"] == 0) & (rows["dy"] == 0) & (rows["angle"] == 0) & (rows["scale"] == 1))
    keys = ["model", "augmentation", "n_train", "seed"]
    return rows[moved].groupby(keys, sort=False)["value"].mean().reset_index()


def by_seed(df: pd.DataFrame, value: str = "value", **where) -> pd.Series:
    """``value`` indexed by seed, for the rows matching ``where`` (column=value)."""
    for col, v in where.items():
        df = df[df[col] == v]
    return df.set_index("seed")[value]


# ---------------------------------------------------------------- formatting

def num(v: float, digits: int, *, sign: bool = False) -> str:
    return (f"{v:+.{digits}f}" if sign else f"{v:.{digits}f}").replace("-", "−")


def mean_std(values, *, scale: float = 1.0, digits: int = 3, seeds: bool = False) -> str:
    """``0.855 ± 0.003`` over seeds (one value: the value; none: —), optionally ``(n)``."""
    x = pd.to_numeric(pd.Series(values), errors="coerce").dropna().to_numpy() * scale
    if len(x) == 0:
        return "—"
    cell = num(x.mean(), digits) + (f" ± {num(x.std(ddof=1), digits)}" if len(x) > 1 else "")
    return cell + (f" ({len(x)})" if seeds else "")


def diff(a: pd.Series, b: pd.Series):
    """``b − a`` paired by seed (the one home of the statistics)."""
    from invariance.analysis.paired import difference

    return difference(a, b)


def diff_cell(d, *, scale: float = 100.0, digits: int = 1, unit: str = "seed") -> str:
    """``+0.85 (95% CI −0.9 to +2.6, 3 seeds)``."""
    if not np.isfinite(d.estimate):
        return "—"
    seeds = f"{d.n} {unit}{'s' if d.n != 1 else ''}"
    if not d.has_interval:
        return f"{num(d.estimate * scale, digits, sign=True)} (no interval, {seeds})"
    return (f"{num(d.estimate * scale, digits, sign=True)} (95% CI {num(d.low * scale, digits, sign=True)} "
            f"to {num(d.high * scale, digits, sign=True)}, {seeds})")


def verdict(d, direction: int) -> str:
    """The paper's direction (+1 / −1) against the interval of ``d``."""
    if not d.has_interval:
        return "not testable (no interval)"
    if d.detected and d.sign == direction:
        return "reproduced"
    if d.detected:
        return "opposite to the paper"
    return "no detectable difference"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _span(values: pd.Series, label: str) -> str:
    lo, hi = int(values.min()), int(values.max())
    return f"{label} {lo}" + (f"–{hi}" if hi != lo else "")


def converged_mask(df: pd.DataFrame) -> pd.Series:
    """Which runs reached their validation plateau. The column round-trips CSV as bools,
    strings or floats depending on the pandas version and missing values, so parse it once here."""
    return df["converged"].astype(str).str.lower().isin(["true", "1", "1.0"])


def convergence(df: pd.DataFrame) -> str:
    """``epochs run 3–9; best epoch 2–6; converged 6/6``; what a reference did not record reads
    "not recorded" (references made before training recorded convergence)."""
    parts = []
    for column, label in (("epochs_run", "epochs run"), ("best_epoch", "best epoch")):
        if column in df and df[column].notna().any():
            parts.append(_span(df[column].dropna(), label))
        elif column == "epochs_run":
            parts.append(f"{label}: {NOT_RECORDED}")
    if "converged" in df and df["converged"].notna().any():
        ok = converged_mask(df)
        parts.append(f"converged {int(ok.sum())}/{len(df)}")
    else:
        parts.append(f"converged: {NOT_RECORDED}")
    return "; ".join(parts)


def _manifest(ref: Path, study: str) -> dict:
    manifest = ref / study / "manifest.json"
    return json.loads(manifest.read_text()) if manifest.is_file() else {}


def _sha(ref: Path, study: str) -> str | None:
    return _manifest(ref, study).get("provenance", {}).get("git_sha")


def _run_shas(ref: Path, study: str) -> list[str]:
    """The commits the runs were trained at (several when the study was carried between
    sessions: the export's ``runs_provenance``), else the manifest's one."""
    shas = (_manifest(ref, study).get("runs_provenance") or {}).get("git_shas")
    if shas:
        return list(shas)
    sha = _sha(ref, study)
    return [sha] if sha else []


def predates_rules(ref: Path, study: str, df: pd.DataFrame | None = None) -> bool:
    """True for a reference folder made before the current rules: from a dirty tree (or with no
    recorded commit), or without recorded convergence. ``df``: its runs table, if already read."""
    df = runs(ref, study) if df is None else df
    shas = _run_shas(ref, study)
    return (not shas or any(s.endswith("+dirty") for s in shas)
            or not ("converged" in df and df["converged"].notna().any()))


def run_line(ref: Path, study: str) -> str:
    """Runs, seeds, convergence, summed training time (and CPU time, when the export recorded
    it) and the git SHAs of one reference folder."""
    df = runs(ref, study)
    seeds = ", ".join(str(int(s)) for s in sorted(df["seed"].unique()))
    shas = _run_shas(ref, study)
    sha = ", ".join(s[:10] + ("+dirty" if s.endswith("+dirty") else "") for s in shas) if shas else NOT_RECORDED
    minutes = df["train_seconds"].sum() / 60 if "train_seconds" in df else float("nan")
    cpu = (_manifest(ref, study).get("runs_provenance") or {}).get("train_cpu_seconds")
    if cpu:
        minutes_text = f"training time {minutes:.1f} min in all ({cpu / 3600:.1f} CPU-hours)"
    else:
        minutes_text = f"training time {minutes:.1f} min in all"
    old = predates_rules(ref, study, df)
    note = (" **This folder predates the current rules** (made from a dirty tree, without recorded "
            "convergence); its re-run is pending." if old else "")
    return (f"<small>`results/reference/{study}/`: {len(df)} runs, seeds {seeds}; {convergence(df)}; "
            f"{minutes_text}; git {sha}.</small>{note}")


def points(v: float, digits: int = 1) -> str:
    return num(100 * v, digits)
