"""Copies a study's compact outputs to results/reference/<name>/ (tables, figures, report; no models).

    python scripts/export_reference.py results/zhang2019 [--out results/reference] [--max-mb 2]
    python scripts/export_reference.py results/data_hunger_cpu --as data_hunger

Copied: runs.csv, invariance.csv (when under --max-mb; otherwise its summary rows and the
per-point rows averaged over seeds, as invariance_points.csv), learning_curves.csv, curves.csv,
study.yaml, manifest.json, figures/*.png (SVG/PDF only with --svg), report.md and report.html
(when under --max-mb). Written besides:

* summary.csv: every summary metric (clean accuracy, grid/random/worst-of-k accuracy, mean
  consistency, flip rate, MAC, pair consistency ...) per model and augmentation, with the mean,
  the std (ddof=1) and a 95% t-interval half-width over seeds;
* effects.csv for a study whose name is in EFFECTS: factor effect sizes
  (invariance.analysis.factor_effects) on the grid's mean consistency.

Only clean results are exported: the export refuses (exit 2, nothing written) when any tracked
file of the checkout has uncommitted changes (``git status --porcelain --untracked-files=no``,
the same rule that makes a manifest's SHA ``+dirty``: the summaries are computed by code in
this tree), and when the study's ``manifest.json`` or any run's ``metrics.json`` has a git
SHA that is missing or ends in ``+dirty`` (the runs were made from uncommitted code). Commit,
re-run the study from the clean checkout (``--fresh``) and export again. It refuses, too, a study
that has not run all the runs its manifest plans: a reference is a finished study (carry an
unfinished one with ``invariance pack``), and a study of PER_RUN_ROWS whose invariance.csv is over
--max-mb (its tables need every run's rows, not the seed means). The new folder is written
beside the old one and swapped in only when complete: an export that fails half-way leaves the
previous reference as it was.
"""
from __future__ import annotations

import argparse
import math
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

RUN_KEYS = ["model", "augmentation", "n_train", "seed"]
TABLES = ("runs.csv", "learning_curves.csv", "curves.csv", "study.yaml", "manifest.json")

# The factors of the Kauderer-Abrams study, one at a time around the base model, each paired
# over the other design columns.
EFFECTS = {
    "kauderer2017": {
        "sweep": "translation_map",
        "factors": {
            "pooling (none -> 2x2 max)": {"column": "model", "low": "nopool", "high": "base"},
            "filter size (5x5 -> 3x3)": {"column": "model", "low": "k5", "high": "base"},
            "depth (3 -> 2 blocks)": {"column": "model", "low": "depth3", "high": "base"},
            "augmentation (none -> shift)": {"column": "augmentation", "low": "none", "high": "shift"},
        },
        "match": ["model", "augmentation", "seed"],
    },
}


def summary_table(inv: pd.DataFrame) -> pd.DataFrame:
    """Summary rows (no transform point) plus clean accuracy, as mean/std/CI over seeds.

    Returns:
        DataFrame with columns model, augmentation, n_train, sweep, metric, mean, std, ci95, seeds.
    """
    from scipy import stats

    point_free = inv[inv["dx"].isna() & inv["dy"].isna() & inv["angle"].isna()]
    clean = inv[inv["sweep"] == "clean"]
    rows = pd.concat([clean, point_free[point_free["sweep"] != "equivariance"]])
    keys = ["model", "augmentation", "n_train", "sweep", "metric"]
    g = rows.groupby(keys, sort=False)["value"]
    out = g.agg(mean="mean", std="std", seeds="count").reset_index()
    t = np.array([stats.t.ppf(0.975, n - 1) if n > 1 else np.nan for n in out["seeds"]])
    out["ci95"] = t * out["std"] / np.sqrt(out["seeds"])
    return out[keys + ["mean", "std", "ci95", "seeds"]]


def point_table(inv: pd.DataFrame) -> pd.DataFrame:
    """Per-point rows averaged over seeds (for a compact invariance.csv stand-in)."""
    points = inv[~inv["dx"].isna()]
    keys = ["model", "augmentation", "n_train", "sweep", "dx", "dy", "angle", "scale", "metric", "layer"]
    return points.groupby(keys, sort=False, dropna=False)["value"].agg(["mean", "std", "count"]).reset_index()


def effects_table(name: str, inv: pd.DataFrame) -> pd.DataFrame | None:
    from invariance.analysis import factor_effects

    cfg = EFFECTS.get(name)
    if cfg is None:
        return None
    per_run = inv[(inv["sweep"] == cfg["sweep"]) & (inv["metric"] == "mean_consistency")]
    return factor_effects(per_run, cfg["factors"], value="value", match=cfg["match"])


def walk_figure(inv: pd.DataFrame, path: Path) -> bool:
    """Bars of the walk metrics (flip rate, MAC) per model and augmentation, mean ± 95% CI over
    seeds (the fixed-seed bootstrap of the package's figures, so an export draws the same figure
    every time); the study plots have no walk figure. Returns False when there are no walk rows."""
    walk = inv[inv["sweep"] == "walk"]
    if walk.empty:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    from invariance.plots.style import ci95

    titles = {"flip_rate": "P(top-1 changes) per 1-px diagonal step", "mac": "mean |change| of top-class probability"}
    metrics = [m for m in ("flip_rate", "mac") if m in set(walk["metric"])]
    fig, axes = plt.subplots(1, len(metrics), figsize=(6 * len(metrics), 4.5), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        sns.barplot(data=walk[walk["metric"] == metric], x="model", y="value", hue="augmentation",
                    errorbar=ci95, ax=ax)
        ax.set_title(titles[metric], fontsize=12)
        ax.set_xlabel("model")
        ax.set_ylabel(metric.replace("_", " "))
    fig.suptitle("1-px diagonal walks (bars: mean over seeds, whiskers: 95% bootstrap CI)", fontsize=13)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return True


# Published rows drawn beside a study's test accuracies: (low, high or None, label).
ACCURACY_REFERENCES = {
    "fashion_mnist_benchmark": [(0.876, 0.932, "benchmark: small CNNs 0.876-0.932"),
                                (0.90, None, "benchmark: MLP about 0.90")],
}


def accuracy_figure(runs: pd.DataFrame, path: Path, references) -> None:
    """Test accuracy per model (bars: mean over seeds; dots: each seed) beside published rows.

    Dots rather than an interval: a benchmark of 2 seeds has no interval worth drawing, and
    the dots show the spread as it is.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    done = runs[runs["status"] == "completed"]
    fig, ax = plt.subplots(figsize=(8.5, 4.8))
    for low, high, label in references:  # behind the bars
        if high is None:
            ax.axhline(low, color="#c44e52", linestyle="--", label=label, zorder=3)
        else:
            ax.axhspan(low, high, color="#dd8452", alpha=0.25, label=label, zorder=0)
    sns.barplot(data=done, x="model", y="test_accuracy", errorbar=None, color="#4c72b0", ax=ax, zorder=2)
    sns.stripplot(data=done, x="model", y="test_accuracy", color="black", size=4, jitter=False, ax=ax, zorder=4)
    lows = [r[0] for r in references] + [float(done["test_accuracy"].min())]
    ax.set_ylim(min(lows) - 0.05, 1.0)
    ax.tick_params(axis="x", labelrotation=30)
    ax.set_xlabel("model (preset)")
    ax.set_ylabel("test accuracy (all test images)")
    per_model = done.groupby("model")["seed"].nunique()
    seeds = f"{per_model.min()}" if per_model.min() == per_model.max() else f"{per_model.min()}-{per_model.max()}"
    ax.set_title(f"Test accuracy vs the published rows (bars: mean over seeds; dots: each seed, {seeds} per model)",
                 fontsize=11)
    ax.legend(loc="lower right", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


class NotExportable(Exception):
    """The study cannot be a reference as it stands; nothing was exported."""


class DirtyTree(NotExportable):
    """The checkout or the study's recorded provenance is not clean."""


class Unfinished(NotExportable):
    """Some of the runs the study's manifest plans have not run."""


class TooLarge(NotExportable):
    """The study's tables need its per-run invariance rows, which are over the size limit."""


# Studies whose README tables and figures read every run's invariance rows (per-run quarter
# turns, rotated accuracy): the seed-averaged invariance_points.csv written in place of a large
# invariance.csv cannot serve them.
PER_RUN_ROWS = {"exact_invariance": "scripts/exact_tables.py reads every run's rows"}


def check_size(study_dir: Path, max_mb: float) -> None:
    """Raises TooLarge when ``study_dir`` is in :data:`PER_RUN_ROWS` and its invariance.csv is over
    ``max_mb``: exported as seed means, its tables could not be rendered."""
    path = study_dir / "invariance.csv"
    if study_dir.name in PER_RUN_ROWS and path.is_file() and path.stat().st_size > max_mb * 1024 * 1024:
        raise TooLarge(f"{path} is {path.stat().st_size / 2**20:.2f} MiB, over --max-mb {max_mb:g}, and "
                       f"{study_dir.name} needs it whole ({PER_RUN_ROWS[study_dir.name]}); "
                       f"export it with --max-mb {math.ceil(path.stat().st_size / 2**20)}")


def tradeoff_figure(folder: Path, path: Path) -> None:
    """The exact-invariance study's cost figure (invariance.plots.plot_tradeoff) from its
    exported tables, through scripts/exact_tables.py (which also renders its README blocks)."""
    import importlib.util

    from invariance.plots import plot_tradeoff, save_figure

    spec = importlib.util.spec_from_file_location("exact_tables", Path(__file__).resolve().parent / "exact_tables.py")
    exact = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(exact)
    fig = plot_tradeoff(exact.tradeoff_table(folder.parent), baseline="the plain CNN (max pooling, no augmentation)")
    save_figure(fig, path.with_suffix(""), formats=("png",))


def tree_changes() -> list[str] | None:
    """Uncommitted changes to tracked files of this checkout (None: not a git checkout)."""
    from invariance.provenance import uncommitted_changes

    return uncommitted_changes(Path(__file__).resolve().parent)


def _recorded_shas(study_dir: Path) -> dict[str, str | None]:
    """The git SHA of the study's manifest (``provenance.git_sha``) and of every run's
    metrics.json (``git_sha``, at its top level, as the trainer writes it), by file."""
    import json

    files = [study_dir / "manifest.json", *sorted((study_dir / "runs").glob("*/metrics.json"))]
    out = {}
    for path in files:
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            out[str(path.relative_to(study_dir))] = (data["git_sha"] if "git_sha" in data
                                                     else (data.get("provenance") or {}).get("git_sha"))
    return out


def check_clean(study_dir: Path) -> None:
    """Raises DirtyTree unless the checkout is clean and the study's runs came from clean commits."""
    changes = tree_changes()
    if changes is None:
        raise DirtyTree("export needs a git checkout to prove the tree is clean; git status failed here")
    if changes:
        shown = "\n  ".join(changes[:10]) + ("\n  ..." if len(changes) > 10 else "")
        raise DirtyTree(f"the checkout has uncommitted changes to tracked files; commit them first:\n  {shown}")
    shas = _recorded_shas(study_dir)
    if "manifest.json" not in shas:
        raise DirtyTree(f"{study_dir} has no manifest.json: not a finished study")
    bad = {f: sha for f, sha in shas.items() if not sha or sha.endswith("+dirty")}
    if bad:
        listed = "\n  ".join(f"{f}: git_sha {sha!r}" for f, sha in list(bad.items())[:10])
        raise DirtyTree(f"{study_dir} was run from an uncommitted tree (git_sha must be a clean commit, "
                        f"without +dirty); re-run it from a clean checkout:\n  {listed}")
    check_finished(study_dir)


def check_finished(study_dir: Path) -> None:
    """Raises Unfinished when runs.csv lacks some of the runs ``manifest.json`` plans (failed runs
    are in runs.csv: a finished study may hold them, and its tables say so)."""
    import json

    planned = json.loads((study_dir / "manifest.json").read_text()).get("runs")
    if not isinstance(planned, list):  # a hand-made or older manifest: nothing to check against
        return
    have = set(pd.read_csv(study_dir / "runs.csv", usecols=["run_id"], dtype=str)["run_id"])
    missing = [r for r in planned if str(r) not in have]
    if missing:
        raise Unfinished(f"{study_dir} has run {len(planned) - len(missing)} of its {len(planned)} runs; "
                         f"finish it (invariance run resumes it), or carry it to the next session with "
                         f"`invariance pack {study_dir} results/reference/in_progress/{study_dir.name}`")


def _note_runs(study_dir: Path, manifest_path: Path) -> None:
    """Adds to the exported manifest what a study's own manifest cannot say when its runs were
    made over several sessions or machines (``invariance pack`` / ``--resume-from``): every
    commit its runs were trained at, the devices they ran on (a worker of ``--jobs N`` names its
    thread cap), how many runs were carried in, and the training CPU time summed over all runs
    (from each run's history.csv), not only the last session's."""
    import json

    shas, devices, cpu, carried = set(), set(), 0.0, 0
    for run in sorted((study_dir / "runs").glob("*/status.json")):
        folder = run.parent
        metrics = folder / "metrics.json"
        if metrics.is_file():
            data = json.loads(metrics.read_text(encoding="utf-8"))
            shas.add(data.get("git_sha") or (data.get("provenance") or {}).get("git_sha"))
            devices.add(data.get("device"))
        history = folder / "history.csv"
        if history.is_file():
            h = pd.read_csv(history)
            if "cpu_seconds" in h.columns:
                cpu += float(h["cpu_seconds"].sum())
        carried += "carried" in json.loads(run.read_text(encoding="utf-8"))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["runs_provenance"] = {"git_shas": sorted(s for s in shas if s), "devices": sorted(d for d in devices if d),
                                   "carried_runs": carried, "train_cpu_seconds": round(cpu, 1)}
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def export(study_dir: Path, out_root: Path, *, max_mb: float = 2.0, svg: bool = False,
           checked: bool = False, name: str | None = None) -> Path:
    """Copies ``study_dir``'s compact outputs to ``out_root/<name>``; raises NotExportable
    (writing nothing) unless :func:`check_clean` passes (``checked``: the caller already ran it, before
    an earlier export in the same call changed the tree). ``name``: the reference folder's name
    when it is not the study folder's (the README reads ``data_hunger`` from the study
    ``data_hunger_cpu``); the per-study extras (effects, figures) follow it."""
    if not checked:
        check_clean(study_dir)
        check_size(study_dir, max_mb)
    name = name or study_dir.name
    final = out_root / name
    # Written beside the reference and swapped in at the end, so that a failure half-way leaves
    # the previous reference as it was. The staging folder holds a folder of the final name,
    # because the README renderers read a reference by its name (the tradeoff figure does).
    staging = out_root / f".{name}.partial"
    if staging.exists():
        shutil.rmtree(staging)
    out = staging / name
    out.mkdir(parents=True)
    try:
        _write(study_dir, out, name, max_mb=max_mb, svg=svg)
        if final.exists():
            shutil.rmtree(final)
        out.rename(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _write(study_dir: Path, out: Path, name: str, *, max_mb: float, svg: bool) -> None:
    from invariance.results import read_table

    limit = max_mb * 1024 * 1024
    for table in TABLES:
        if (study_dir / table).is_file():
            shutil.copy2(study_dir / table, out / table)
    if (out / "manifest.json").is_file():
        _note_runs(study_dir, out / "manifest.json")
    inv_path = study_dir / "invariance.csv"
    if inv_path.is_file():
        inv = read_table(inv_path)
        if inv_path.stat().st_size <= limit:
            shutil.copy2(inv_path, out / "invariance.csv")
        else:
            point_table(inv).to_csv(out / "invariance_points.csv", index=False)
        summary_table(inv).to_csv(out / "summary.csv", index=False)
        effects = effects_table(name, inv)
        if effects is not None:
            effects.to_csv(out / "effects.csv", index=False)
    figures = study_dir / "figures"
    (out / "figures").mkdir()
    if inv_path.is_file():
        walk_figure(inv, out / "figures" / "walks.png")
    if name in ACCURACY_REFERENCES:
        accuracy_figure(read_table(study_dir / "runs.csv"), out / "figures" / "test_accuracy.png",
                        ACCURACY_REFERENCES[name])
    if name == "exact_invariance":
        tradeoff_figure(out, out / "figures" / "tradeoff.png")
    if figures.is_dir():
        for fig in sorted(figures.iterdir()):
            if fig.suffix == ".png" or (svg and fig.suffix in (".svg", ".pdf")):
                shutil.copy2(fig, out / "figures" / fig.name)
    for report in ("report.md", "report.html"):
        path = study_dir / report
        if path.is_file() and path.stat().st_size <= limit:
            shutil.copy2(path, out / report)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study_dirs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("results/reference"))
    parser.add_argument("--max-mb", type=float, default=2.0)
    parser.add_argument("--svg", action="store_true", help="also copy SVG/PDF figures")
    parser.add_argument("--as", dest="name", metavar="NAME",
                        help="the reference folder's name, when it is not the study folder's (one study only)")
    args = parser.parse_args(argv)
    if args.name is not None and (len(args.study_dirs) != 1 or not re.fullmatch(r"[A-Za-z0-9_-]+", args.name)):
        print("Error: --as names one reference folder (letters, digits, _ and -) for one study folder; received "
              f"{args.name!r} for {len(args.study_dirs)} folder(s)", file=sys.stderr)
        return 2
    for study_dir in args.study_dirs:
        if not (study_dir / "runs.csv").is_file():
            print(f"Error: {study_dir} has no runs.csv (not a study folder)", file=sys.stderr)
            return 2
    try:  # every folder is checked before any is written: the first export dirties the tree
        for study_dir in args.study_dirs:
            check_clean(study_dir)
            check_size(study_dir, args.max_mb)
    except NotExportable as exc:
        print(f"Error: not exported: {exc}", file=sys.stderr)
        return 2
    for study_dir in args.study_dirs:
        out = export(study_dir, args.out, max_mb=args.max_mb, svg=args.svg, checked=True, name=args.name)
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        print(f"{study_dir} -> {out} ({size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
