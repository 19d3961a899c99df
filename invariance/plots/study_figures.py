"""Every figure a study's tables support, written to ``<study>/figures/<name>.png/.svg``.

A figure the data cannot support (no grid, one n_train, no saved models, no dataset) is skipped
with its reason; ``figures/index.json`` lists what was made (with titles and captions, for the
report) and what was skipped and why.
"""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterator

import pandas as pd

from invariance.errors import InvarianceError
from invariance.io import read_json, write_json
from invariance.plots import _data
from invariance.plots.style import MissingDataError, augmentation_dashes, model_palette, save_figure

FIGURES_DIR = "figures"
INDEX = "index.json"
MAX_FILTER_FIGURES = 8
EXAMPLE_IMAGES = 3
_TEXT_COLUMNS = ("run_id", "model", "augmentation", "status", "reason", "sweep", "metric", "layer")


@dataclasses.dataclass
class StudyTables:
    """A study folder's tables, read once (None where a file is absent).

    Attributes:
        study_dir: The folder. runs: ``runs.csv``. invariance: ``invariance.csv``.
        learning_curves: ``learning_curves.csv``. curves: ``curves.csv``.
        study: The resolved ``study.yaml`` as a dict. manifest: ``manifest.json``.
    """

    study_dir: Path
    runs: pd.DataFrame
    invariance: pd.DataFrame | None
    learning_curves: pd.DataFrame | None
    curves: pd.DataFrame | None
    study: dict
    manifest: dict

    @property
    def completed(self) -> pd.DataFrame:
        """Runs with status ``completed``."""
        return self.runs[self.runs["status"] == "completed"] if "status" in self.runs.columns else self.runs


def read_table(path: str | os.PathLike) -> pd.DataFrame | None:
    """Reads a study CSV keeping labels such as ``none`` or ``NA`` as text; None if absent or empty."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        header = pd.read_csv(path, nrows=0).columns
    except pd.errors.EmptyDataError:
        return None
    table = pd.read_csv(path, dtype={c: str for c in _TEXT_COLUMNS if c in header}, keep_default_na=False,
                        na_values=[""])
    if "layer" in table.columns:
        table["layer"] = table["layer"].fillna("")
    if "reason" in table.columns:
        table["reason"] = table["reason"].fillna("")
    return table


def load_study_tables(study_dir: str | os.PathLike) -> StudyTables:
    """Reads a study folder.

    Raises:
        InvarianceError: if the folder or its ``runs.csv`` is missing.
    """
    from invariance.yaml_io import load_yaml

    study_dir = Path(study_dir)
    if not study_dir.is_dir():
        raise InvarianceError(f"study_dir: must be a study results folder; received {str(study_dir)!r} "
                              "(no such folder)")
    runs = read_table(study_dir / "runs.csv")
    if runs is None:
        raise InvarianceError(f"study_dir: must contain runs.csv (run `invariance run STUDY.yaml` first); "
                              f"received {str(study_dir)!r}")
    study = load_yaml(study_dir / "study.yaml") if (study_dir / "study.yaml").is_file() else {}
    manifest = read_json(study_dir / "manifest.json") if (study_dir / "manifest.json").is_file() else {}
    return StudyTables(study_dir=study_dir, runs=runs, invariance=read_table(study_dir / "invariance.csv"),
                       learning_curves=read_table(study_dir / "learning_curves.csv"),
                       curves=read_table(study_dir / "curves.csv"), study=study or {}, manifest=manifest or {})


@dataclasses.dataclass(frozen=True)
class Planned:
    """One figure to make: its file name, title and caption, and how to draw it."""

    name: str
    title: str
    caption: str
    draw: Callable[[], Any]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-") or "x"


def plan_figures(tables: StudyTables) -> Iterator[Planned]:
    """The figures a study could have, in report order (each may still turn out unsupported)."""
    from invariance import plots as P

    inv = tables.invariance if tables.invariance is not None else pd.DataFrame(
        columns=["sweep", "metric", "value", "model", "augmentation"])
    pal = model_palette(tables.runs["model"]) if "model" in tables.runs.columns else {}
    dashes = augmentation_dashes(tables.runs["augmentation"]) if "augmentation" in tables.runs.columns else {}
    metrics_present = set(inv["metric"]) if "metric" in inv.columns else set()
    evaluate = tables.study.get("evaluate") or {}

    yield Planned("invariance_curves", "Invariance curves",
                  "Accuracy and consistency (the share of test images whose top-1 class is unchanged) as each "
                  "image is shifted, rotated or scaled. Colour: model; line style: augmentation; band: 95% CI "
                  "over seeds.",
                  lambda: P.plot_invariance_curves(inv, palette=pal, dashes=dashes))
    extra = [m for m in ("kl", "embedding_cosine") if m in metrics_present]
    if extra:
        yield Planned("divergence_curves", "How far outputs and embeddings move",
                      "KL divergence of the transformed image's prediction from the clean one, and the cosine "
                      "similarity of the penultimate embeddings, along each sweep.",
                      lambda: P.plot_invariance_curves(inv, metrics=extra, palette=pal, dashes=dashes,
                                                       title="Output and embedding drift"))
    grids = [g for g in (_data.point_sweeps(inv, dims=2) if "sweep" in inv.columns else [])
             if set(_data.varying_axes(inv[inv["sweep"] == g])) == {"dx", "dy"}]
    for grid in grids:
        for metric in [m for m in ("consistency", "embedding_cosine") if m in metrics_present]:
            suffix = "" if metric == "consistency" else f"_{metric}"
            yield Planned(f"translation_map_{_slug(grid)}{suffix}", f"Translation-sensitivity map ({metric})",
                          f"Mean {metric.replace('_', ' ')} over seeds for every shift (dx, dy) of grid "
                          f"{grid!r}; one panel per model, one shared colour scale. Bright = insensitive.",
                          lambda grid=grid, metric=metric: P.plot_translation_map(inv, grid=grid, metric=metric,
                                                                                  palette=pal))
        yield Planned(f"radial_{_slug(grid)}", "Radial sensitivity",
                      f"Consistency vs shift magnitude, averaging grid {grid!r} over equal rounded "
                      "|(dx, dy)| within each run; band: 95% CI over seeds.",
                      lambda grid=grid: P.plot_radial_curve(inv, grid=grid, palette=pal, dashes=dashes))
    from invariance.harness.specs import random_k_count  # the harness (and keras) only when planning

    k = random_k_count(evaluate.get("random_k"))
    yield Planned("engstrom", "Spatial robustness (Engstrom et al. 2019)",
                  "Accuracy on clean images (natural), under one random transform per image (random), under "
                  "the worst of k random transforms (worst-of-k) and under the worst point of each grid (grid).",
                  lambda: P.plot_engstrom(inv, k=k, palette=pal))
    yield Planned("equivariance", "Feature-map equivariance per layer",
                  "How far each layer's feature map is from shifting along with the input (0 = perfectly "
                  "equivariant). The layer where the error jumps is where equivariance breaks.",
                  lambda: P.plot_equivariance(inv, palette=pal, dashes=dashes))
    lc = _learning_table(tables)
    if lc is not None:
        yield Planned("learning_curves", "Learning curves",
                      "Test accuracy vs training-set size (log scale), mean over seeds with 95% CI, with the "
                      "fitted power law err(n) = a + b·n^(−c); right: the train − test accuracy gap.",
                      lambda: P.plot_learning_curves(lc, tables.curves, palette=pal, dashes=dashes))
    yield Planned("cost", "Cost vs benefit",
                  "Parameters (log scale) against test accuracy and against the invariance score (mean "
                  "consistency averaged over the sweeps); mean over seeds with 95% CI.",
                  lambda: P.plot_cost(tables.runs, inv, palette=pal))
    yield from _plan_filters(tables)
    yield from _plan_examples(tables, inv, evaluate)


def _learning_table(tables: StudyTables) -> pd.DataFrame | None:
    if tables.learning_curves is not None and len(tables.learning_curves):
        return tables.learning_curves
    done = tables.completed
    if "n_train" not in done.columns or done["n_train"].nunique() < 2:
        return None
    lc = done.copy()
    if {"train_accuracy", "test_accuracy"} <= set(lc.columns):
        lc["generalization_gap"] = lc["train_accuracy"] - lc["test_accuracy"]
    return lc


def representative_runs(runs: pd.DataFrame, study_dir: Path, *, limit: int = MAX_FILTER_FIGURES) -> dict[str, str]:
    """One completed run with a saved model per model family (the label before ``[``).

    Preference: no augmentation, the largest n_train, the plainest label, the smallest seed.

    Returns:
        dict family -> run_id, at most ``limit`` families, sorted by family.
    """
    done = runs[runs["status"] == "completed"] if "status" in runs.columns else runs
    if done.empty or "run_id" not in done.columns:
        return {}
    done = done.assign(family=done["model"].str.split("[", n=1, regex=False).str[0],
                       _aug=(done["augmentation"] != "none").astype(int), _len=done["model"].str.len(),
                       _n=-done["n_train"].fillna(float("inf")) if "n_train" in done.columns else 0)
    done = done[[(study_dir / "runs" / str(r) / "model.keras").is_file() for r in done["run_id"]]]
    out = {}
    for family, group in done.sort_values(["family", "_aug", "_n", "_len", "seed"]).groupby("family", sort=True):
        out[str(family)] = str(group.iloc[0]["run_id"])
        if len(out) == limit:
            break
    return out


def _plan_filters(tables: StudyTables) -> Iterator[Planned]:
    reps = representative_runs(tables.runs, tables.study_dir)
    if not reps:
        yield Planned("filters", "First-layer filters", "", _raise("no completed run has a saved model.keras"))
        return
    for family, run_id in reps.items():
        row = tables.runs[tables.runs["run_id"] == run_id].iloc[0]

        def draw(run_id=run_id):
            from invariance.models import load_model
            from invariance.plots import plot_model_filters

            return plot_model_filters(load_model(tables.study_dir / "runs" / run_id / "model.keras"))

        yield Planned(f"filters_{_slug(family)}", f"First-layer filters: {family}",
                      f"Run {run_id} ({row['model']}, augmentation {row['augmentation']}, n_train "
                      f"{_fmt_n(row.get('n_train'))}, seed {row.get('seed')}). Each filter is scaled to its own "
                      "range; for a ViT, the right half shows the principal components of the patch filters.",
                      draw)


def _fmt_n(n) -> str:
    try:
        return f"{int(n):,}"
    except (TypeError, ValueError):
        return "all"


def _plan_examples(tables: StudyTables, inv: pd.DataFrame, evaluate: dict) -> Iterator[Planned]:
    from invariance import plots as P

    points = P.sweep_example_points(inv) if "sweep" in inv.columns and len(inv) else {}
    if not points:
        yield Planned("examples", "Example transforms", "", _raise("the study has no one-axis sweeps"))
        return
    images: dict[str, Any] = {}

    def load():
        if not images:
            images.update(_example_images(tables.study))
        if "error" in images:
            raise MissingDataError(images["error"])
        return images

    fill = evaluate.get("fill", "constant")
    interpolation = evaluate.get("interpolation", "bilinear")
    for sweep, pts in points.items():
        def draw(sweep=sweep, pts=pts):
            data = load()
            return P.plot_example_strip(data["x"], pts, labels=data["y"], class_names=data["names"], fill=fill,
                                        interpolation=interpolation, title=f"The {sweep} sweep on test images")
        yield Planned(f"examples_{_slug(sweep)}", f"What the {sweep} sweep does",
                      f"A few test images under points of the {sweep!r} sweep (fill {fill!r}, {interpolation} "
                      "interpolation), exactly as the harness transforms them.", draw)


def _example_images(study: dict) -> dict[str, Any]:
    """First test images of distinct classes of the study's dataset, or an error message."""
    import numpy as np

    name = study.get("dataset")
    if not name:
        return {"error": "study.yaml names no dataset"}
    try:
        from invariance.data import load_dataset

        ds = load_dataset(name, data_dir=study.get("data_dir"), canvas=study.get("canvas"))
    except (InvarianceError, OSError, ImportError) as err:
        return {"error": f"dataset {name!r} is not available here: {err}"}
    picked, seen = [], set()
    for i, label in enumerate(np.asarray(ds.y_test)):
        if int(label) not in seen:
            seen.add(int(label))
            picked.append(i)
        if len(picked) == EXAMPLE_IMAGES:
            break
    return {"x": ds.x_test[picked], "y": np.asarray(ds.y_test)[picked], "names": list(ds.class_names)}


def _raise(reason: str) -> Callable[[], Any]:
    def draw():
        raise MissingDataError(reason)

    return draw


def make_study_figures(study_dir: str | os.PathLike, *,
                       tables: StudyTables | None = None) -> dict[str, dict[str, Path]]:
    """Writes every figure the study's data supports to ``<study_dir>/figures/``.

    Figures that the data cannot support are skipped; so is one whose drawing fails (the error
    is recorded, the other figures are still made). ``figures/index.json`` lists both, with
    titles, captions and reasons.

    Args:
        study_dir: The study results folder (with ``runs.csv``).
        tables: The folder's tables if already read.

    Returns:
        dict figure name -> {"png": path, "svg": path}, in report order.
    """
    tables = tables or load_study_tables(study_dir)
    out_dir = tables.study_dir / FIGURES_DIR
    made: dict[str, dict[str, Path]] = {}
    index: dict[str, list] = {"figures": [], "skipped": []}
    for plan in plan_figures(tables):
        try:
            fig = plan.draw()
            paths = save_figure(fig, out_dir / plan.name)
        except MissingDataError as err:
            index["skipped"].append({"name": plan.name, "reason": str(err)})
            continue
        except Exception as err:  # noqa: BLE001  one failing figure must not lose the others
            index["skipped"].append({"name": plan.name, "reason": f"failed: {type(err).__name__}: {err}"})
            continue
        made[plan.name] = paths
        index["figures"].append({"name": plan.name, "title": plan.title, "caption": plan.caption,
                                 **{fmt: p.name for fmt, p in paths.items()}})
    write_json(out_dir / INDEX, index)
    return made


def read_index(study_dir: str | os.PathLike) -> dict[str, list]:
    """``figures/index.json`` of a study ({"figures": [], "skipped": []} when absent)."""
    path = Path(study_dir) / FIGURES_DIR / INDEX
    return read_json(path) if path.is_file() else {"figures": [], "skipped": []}
