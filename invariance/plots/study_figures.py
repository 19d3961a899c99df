"""Every figure a study's tables support, written to ``<study>/figures/<name>.png/.svg``.

Figures are drawn from the tables (:class:`invariance.results.StudyTables`) and from what
the caller computed from the folder beforehand (:class:`FigureInputs`: the trained models whose
filters to show, the test images to transform); nothing here loads a model or a dataset. A
figure the data cannot support (no grid, one n_train, no saved models, no dataset) is skipped
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
from invariance.io import write_json
from invariance.plots import _data
from invariance.plots.style import MissingDataError, augmentation_dashes, band_words, model_palette, save_figure
from invariance.results import FIGURES_DIR, FIGURES_INDEX, StudyTables, load_study_tables


@dataclasses.dataclass(frozen=True)
class FilterModel:
    """A trained model whose first-layer filters to show: the run it comes from, and the model
    (or why it could not be had)."""

    run_id: str
    model: Any = None
    error: str = ""


@dataclasses.dataclass(frozen=True)
class ExampleImages:
    """A few test images (uint8 or float NHWC) with their labels and the dataset's class names."""

    x: Any
    y: Any
    class_names: list[str]


@dataclasses.dataclass(frozen=True)
class FigureInputs:
    """What some figures need beyond the tables, computed by the caller from the study folder.

    Attributes:
        filters: Model family -> the model whose filters to show, in figure order.
        filters_missing: Why there are none (shown when ``filters`` is empty).
        examples: Test images for the example strips, or None.
        examples_missing: Why there are none (shown when ``examples`` is None).
    """

    filters: dict[str, FilterModel] = dataclasses.field(default_factory=dict)
    filters_missing: str = "no trained models were given"
    examples: ExampleImages | None = None
    examples_missing: str = "no test images were given"


@dataclasses.dataclass(frozen=True)
class Planned:
    """One figure to make: its file name, title and caption, and how to draw it."""

    name: str
    title: str
    caption: str
    draw: Callable[[], Any]


# drift metric -> (what moves, what the curve is, the figure title's word)
DRIFT = {"kl": ("outputs", "KL divergence of the transformed image's prediction from the clean one", "output"),
         "embedding_cosine": ("embeddings", "the cosine similarity of the penultimate embeddings", "embedding")}

def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-") or "x"


def plan_figures(tables: StudyTables, inputs: FigureInputs | None = None) -> Iterator[Planned]:
    """The figures a study could have, in report order (each may still turn out unsupported)."""
    from invariance import plots as P

    inv = tables.invariance if tables.invariance is not None else pd.DataFrame(
        columns=["sweep", "metric", "value", "model", "augmentation"])
    pal = model_palette(tables.runs["model"]) if "model" in tables.runs.columns else {}
    dashes = augmentation_dashes(tables.runs["augmentation"]) if "augmentation" in tables.runs.columns else {}
    metrics_present = set(inv["metric"]) if "metric" in inv.columns else set()
    band = band_words(tables.completed)

    yield Planned("invariance_curves", "Invariance curves",
                  "Accuracy and consistency (the share of test images whose top-1 class is unchanged) as each "
                  f"image is shifted, rotated or scaled. Colour: model; line style: augmentation; {band}.",
                  lambda: P.plot_invariance_curves(inv, palette=pal, dashes=dashes))
    extra = [m for m in ("kl", "embedding_cosine") if m in metrics_present]
    if extra:
        # name only what is drawn: a study without an embedding layer has no cosine panel
        moved = " and ".join(DRIFT[m][0] for m in extra)
        caption = " and ".join(DRIFT[m][1] for m in extra)
        yield Planned("divergence_curves", f"How far {moved} move",
                      caption[:1].upper() + caption[1:] + ", along each sweep.",
                      lambda: P.plot_invariance_curves(inv, metrics=extra, palette=pal, dashes=dashes,
                                                       title=" and ".join(DRIFT[m][2] for m in extra).capitalize()
                                                       + " drift"))
    grids = [g for g in (_data.point_sweeps(inv, dims=2) if "sweep" in inv.columns else [])
             if set(_data.varying_axes(inv[inv["sweep"] == g])) == {"dx", "dy"}]
    for grid in grids:
        for metric in [m for m in ("consistency", "embedding_cosine", "embedding_distance") if m in metrics_present]:
            suffix = "" if metric == "consistency" else f"_{metric}"
            reading = "Dark = insensitive" if metric == "embedding_distance" else "Bright = insensitive"
            yield Planned(f"translation_map_{_slug(grid)}{suffix}", f"Translation-sensitivity map ({metric})",
                          f"Mean {metric.replace('_', ' ')} over seeds for every shift (dx, dy) of grid "
                          f"{grid!r}; one panel per model, one shared colour scale. {reading}.",
                          lambda grid=grid, metric=metric: P.plot_translation_map(inv, grid=grid, metric=metric,
                                                                                  palette=pal))
        for metric in [m for m in ("consistency", "embedding_distance") if m in metrics_present]:
            suffix = "" if metric == "consistency" else f"_{metric}"
            what = ("Consistency" if metric == "consistency" else
                    "Kauderer-Abrams' normalised embedding distance (0 = features unchanged, 1 = as far apart as "
                    "two different test images)")
            yield Planned(f"radial_{_slug(grid)}{suffix}", "Radial sensitivity",
                          f"{what} vs shift magnitude, averaging grid {grid!r} over equal rounded |(dx, dy)| "
                          f"within each run; full rings only (up to the grid's half-width); {band}.",
                          lambda grid=grid, metric=metric: P.plot_radial_curve(inv, grid=grid, metric=metric,
                                                                               palette=pal, dashes=dashes))
    k = tables.random_k
    yield Planned("engstrom", "Spatial robustness (Engstrom et al. 2019)",
                  "Accuracy on clean images (natural), under one random transform per image (random), correct "
                  "at all k random transforms (worst-of-k; Engstrom et al. score the single highest-loss draw "
                  "instead) and correct at every point of each grid (grid), all on the same evaluation images.",
                  lambda: P.plot_engstrom(inv, k=k, palette=pal))
    yield Planned("equivariance", "Feature-map equivariance per layer",
                  "How far each layer's feature map is from shifting along with the input (0 = perfectly "
                  "equivariant). The layer where the error jumps is where equivariance breaks.",
                  lambda: P.plot_equivariance(inv, palette=pal, dashes=dashes))
    lc = _learning_table(tables)
    if lc is not None:
        yield Planned("learning_curves", "Learning curves",
                      "Test accuracy vs training-set size (log scale), mean over seeds "
                      f"({band_words(lc, kind='bars')}), with the "
                      "fitted power law err(n) = a + b·n^(−c); right: the train − test accuracy gap.",
                      lambda: P.plot_learning_curves(lc, tables.curves, palette=pal, dashes=dashes))
    yield Planned("cost", "Cost vs benefit",
                  "Parameters (log scale) against test accuracy and against the invariance score (mean "
                  f"consistency averaged over the sweeps); mean over seeds ({band_words(tables.runs, kind='bars')}).",
                  lambda: P.plot_cost(tables.runs, inv, palette=pal))
    inputs = inputs or FigureInputs()
    yield from _plan_filters(tables, inputs)
    yield from _plan_examples(tables, inv, inputs)


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


def _plan_filters(tables: StudyTables, inputs: FigureInputs) -> Iterator[Planned]:
    if not inputs.filters:
        yield Planned("filters", "First-layer filters", "", _raise(inputs.filters_missing))
        return
    for family, source in inputs.filters.items():
        row = tables.runs[tables.runs["run_id"] == source.run_id].iloc[0]

        def draw(source=source):
            from invariance.plots import plot_model_filters

            if source.model is None:
                raise MissingDataError(source.error or f"run {source.run_id}: no model")
            return plot_model_filters(source.model)

        yield Planned(f"filters_{_slug(family)}", f"First-layer filters: {family}",
                      f"Run {source.run_id} ({row['model']}, augmentation {row['augmentation']}, n_train "
                      f"{_fmt_n(row.get('n_train'))}, seed {row.get('seed')}). Each filter is scaled to its own "
                      "range; for a ViT, the right half shows the principal components of the patch filters.",
                      draw)


def _fmt_n(n) -> str:
    try:
        return f"{int(n):,}"
    except (TypeError, ValueError):
        return "all"


def _plan_examples(tables: StudyTables, inv: pd.DataFrame, inputs: FigureInputs) -> Iterator[Planned]:
    from invariance import plots as P

    points = P.sweep_example_points(inv) if "sweep" in inv.columns and len(inv) else {}
    if not points:
        yield Planned("examples", "Example transforms", "", _raise("the study has no one-axis sweeps"))
        return
    try:
        evaluation = tables.evaluation
    except InvarianceError as err:  # a hand-edited study.yaml must not lose the other figures
        yield Planned("examples", "Example transforms", "", _raise(f"study.yaml: {err}"))
        return
    images = inputs.examples
    interpolation = evaluation.interpolation
    own_fill = {t.name: t.fill for t in (*evaluation.resolved_sweeps, *evaluation.resolved_grids) if t.fill}
    for sweep, pts in points.items():
        fill = own_fill.get(sweep, evaluation.fill)

        def draw(sweep=sweep, pts=pts, fill=fill):
            if images is None:
                raise MissingDataError(inputs.examples_missing)
            return P.plot_example_strip(images.x, pts, labels=images.y, class_names=images.class_names, fill=fill,
                                        interpolation=interpolation, title=f"The {sweep} sweep on test images")
        yield Planned(f"examples_{_slug(sweep)}", f"What the {sweep} sweep does",
                      f"A few test images under points of the {sweep!r} sweep (fill {fill!r}, {interpolation} "
                      "interpolation), exactly as the harness transforms them.", draw)


def _raise(reason: str) -> Callable[[], Any]:
    def draw():
        raise MissingDataError(reason)

    return draw


def make_study_figures(study: StudyTables | str | os.PathLike, *,
                       inputs: FigureInputs | None = None) -> dict[str, dict[str, Path]]:
    """Writes every figure the study's data supports to ``<study_dir>/figures/``.

    Figures that the data cannot support are skipped; so is one whose drawing fails (the error
    is recorded, the other figures are still made). ``figures/index.json`` lists both, with
    titles, captions and reasons.

    Args:
        study: The study's tables, or its results folder (with ``runs.csv``).
        inputs: The models and images some figures need (:func:`invariance.report.figures.figure_inputs`
            computes them from the folder); without them, those figures are skipped.

    Returns:
        dict figure name -> {"png": path, "svg": path}, in report order.
    """
    tables = study if isinstance(study, StudyTables) else load_study_tables(study)
    out_dir = tables.study_dir / FIGURES_DIR
    made: dict[str, dict[str, Path]] = {}
    index: dict[str, list] = {"figures": [], "skipped": []}
    for plan in plan_figures(tables, inputs):
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
    write_json(out_dir / FIGURES_INDEX, index)
    return made
