"""What the report's figures need from a study folder beyond its tables, computed here:
the trained models whose first-layer filters to show, and a few test images of the study's
dataset to transform. :func:`make_figures` gathers them and has :mod:`invariance.plots.study_figures`
draw every figure.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from invariance.errors import InvarianceError
from invariance.plots.study_figures import ExampleImages, FigureInputs, FilterModel, make_study_figures
from invariance.results import StudyTables, load_study_tables

MAX_FILTER_FIGURES = 8
EXAMPLE_IMAGES = 3


def representative_runs(runs: pd.DataFrame, study_dir: Path, *, limit: int = MAX_FILTER_FIGURES,
                        need_model: bool = True) -> dict[str, str]:
    """One completed run per model family (the label before ``[``), with a saved model unless
    ``need_model`` is False.

    Preference: no augmentation, the largest n_train, the plainest label, the smallest seed.

    Returns:
        dict family -> run_id, at most ``limit`` families, sorted by family.
    """
    from invariance.results import run_dir

    done = runs[runs["status"] == "completed"] if "status" in runs.columns else runs
    if done.empty or "run_id" not in done.columns:
        return {}
    done = done.assign(family=done["model"].str.split("[", n=1, regex=False).str[0],
                       _aug=(done["augmentation"] != "none").astype(int), _len=done["model"].str.len(),
                       _n=-done["n_train"].fillna(float("inf")) if "n_train" in done.columns else 0)
    if need_model:
        done = done[[run_dir(study_dir, r).model.is_file() for r in done["run_id"]]]
    out = {}
    for family, group in done.sort_values(["family", "_aug", "_n", "_len", "seed"]).groupby("family", sort=True):
        out[str(family)] = str(group.iloc[0]["run_id"])
        if len(out) == limit:
            break
    return out


def filter_models(tables: StudyTables) -> dict[str, FilterModel]:
    """The saved model of each family's representative run (:func:`representative_runs`), loaded.

    A model that fails to load keeps its place, with the error, so its figure is reported as failed.
    A family none of whose runs kept a model (runs taken from a pack keep their records only) is
    listed with that reason, unless no run kept one (then the figure set says so once).
    """
    saved = representative_runs(tables.runs, tables.study_dir)
    if not saved:
        return {}
    out = {}
    for family, run_id in representative_runs(tables.runs, tables.study_dir, need_model=False).items():
        if family not in saved:
            out[family] = FilterModel(run_id, error=f"no {family} run has a saved model.keras in this folder "
                                                    "(a run taken from a pack brings its records, not its model)")
            continue
        try:
            from invariance.models import load_model

            out[family] = FilterModel(saved[family], model=load_model(tables.run_dir(saved[family]).model))
        except Exception as err:  # noqa: BLE001  one unreadable model must not lose the other figures
            out[family] = FilterModel(saved[family], error=f"failed: {type(err).__name__}: {err}")
    return out


def example_images(tables: StudyTables) -> ExampleImages | str:
    """The first test images of distinct classes of the study's dataset, or why there are none."""
    ref = tables.dataset
    if not ref.name:
        return "study.yaml names no dataset"
    try:
        from invariance.data import load_dataset

        ds = load_dataset(ref.name, data_dir=ref.data_dir, canvas=ref.canvas)
    except (InvarianceError, OSError, ImportError) as err:
        return f"dataset {ref.name!r} is not available here: {err}"
    picked, seen = [], set()
    for i, label in enumerate(np.asarray(ds.y_test)):
        if int(label) not in seen:
            seen.add(int(label))
            picked.append(i)
        if len(picked) == EXAMPLE_IMAGES:
            break
    return ExampleImages(ds.x_test[picked], np.asarray(ds.y_test)[picked], list(ds.class_names))


def figure_inputs(tables: StudyTables) -> FigureInputs:
    """Everything the figures need beyond the tables: models for the filters, images for the examples."""
    from invariance.plots import sweep_example_points

    filters = filter_models(tables)
    inv = tables.invariance
    examples: ExampleImages | str = "the study has no one-axis sweeps"
    if inv is not None and "sweep" in inv.columns and len(inv) and sweep_example_points(inv):
        examples = example_images(tables)
    return FigureInputs(filters=filters, filters_missing="no completed run has a saved model.keras",
                        examples=None if isinstance(examples, str) else examples,
                        examples_missing=examples if isinstance(examples, str) else "")


def make_figures(study: StudyTables | str | os.PathLike) -> dict[str, dict[str, Path]]:
    """Writes every figure a study folder supports (its tables, models and dataset) to ``figures/``.

    Returns:
        dict figure name -> {"png": path, "svg": path}, in report order.

    Raises:
        NotAStudyFolder: if the folder is absent or has no ``runs.csv``.
    """
    tables = study if isinstance(study, StudyTables) else load_study_tables(study)
    return make_study_figures(tables, inputs=figure_inputs(tables))
