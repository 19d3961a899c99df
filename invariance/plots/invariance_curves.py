"""Accuracy and consistency along each one-axis sweep (dx, angle, scale), per model and augmentation."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from invariance.plots import _data, style
from invariance.plots.style import (AXIS_LABELS, METRIC_LABELS, MissingDataError, dashes_for, model_aug_legend,
                                    new_figure, palette_for, themed, title_figure)

SWEEP_TITLES = {"dx": "horizontal shift", "dy": "vertical shift", "angle": "rotation", "scale": "scaling"}


@themed
def plot_invariance_curves(table: pd.DataFrame, *, sweeps: Sequence[str] | None = None,
                           metrics: Sequence[str] = ("accuracy", "consistency"), n_train: int | None = None,
                           palette: Mapping[str, str] | None = None, dashes: Mapping[str, Any] | None = None,
                           title: str = "Invariance curves") -> Figure:
    """Metric vs transform along each sweep: one row per metric, one column per sweep.

    Hue is the model, line style the augmentation; the band is a 95% bootstrap CI over seeds.

    Args:
        table: Harness rows with model, augmentation, seed (``invariance.csv``).
        sweeps: One-axis sweep names; default every one-axis sweep in the table.
        metrics: Harness metrics to show, one row each (absent ones are left out).
        n_train: The training size to show; default the largest in the table.
        palette: model -> colour for the whole study (see :func:`model_palette`).
        dashes: augmentation -> seaborn dash code (see :func:`augmentation_dashes`).
        title: Figure title (the n_train and the band's meaning are appended).

    Returns:
        Figure with a (len(metrics), len(sweeps)) grid of axes.
    """
    _data.require_columns(table, ("model", "augmentation", "sweep", "metric", "value"), table="invariance table")
    sweeps = list(sweeps) if sweeps is not None else _data.point_sweeps(table, dims=1)
    rows = _data.harness_rows(table, sweep=sweeps, metric=metrics)
    rows, n = _data.at_n_train(rows, n_train)
    rows = rows.dropna(subset=["value"])
    sweeps = [s for s in sweeps if (rows["sweep"] == s).any()]
    metrics = [m for m in metrics if (rows["metric"] == m).any()]
    if not sweeps or not metrics:
        raise MissingDataError("invariance curves: the table has no one-axis sweep rows for metrics "
                               f"{list(metrics)}")
    models = _data.ordered(rows["model"])
    augs = _data.augmentation_order(rows["augmentation"])
    palette = palette_for(models, palette)
    dashes = dashes_for(augs, dashes)

    fig, axes = new_figure(len(metrics), len(sweeps), panel=(4.8, 3.6), sharey="row")
    for j, sweep in enumerate(sweeps):
        sweep_rows = rows[rows["sweep"] == sweep]
        axis = _data.sweep_axis(sweep_rows, sweep)
        for i, metric in enumerate(metrics):
            ax = axes[i, j]
            sub = sweep_rows[sweep_rows["metric"] == metric]
            if not sub.empty:
                sns.lineplot(data=sub, x=axis, y="value", hue="model", style="augmentation", hue_order=models,
                             style_order=augs, palette=palette, dashes=dashes, errorbar=style.ci95, ax=ax, legend=False)
            ax.axvline(_data.IDENTITY[axis], color="0.55", lw=1, zorder=0)
            if axis in ("dx", "dy"):  # whole pixels
                ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
            ax.set_xlabel(AXIS_LABELS.get(axis, axis) if i == len(metrics) - 1 else "")
            ax.set_ylabel(METRIC_LABELS.get(metric, metric) if j == 0 else "")
            if i == 0:  # a one-axis grid is named by the user; its name tells it from the sweep
                what = SWEEP_TITLES.get(axis, sweep)
                ax.set_title(what if sweep == axis or sweep == what else f"{what} ({sweep})")
    where = f"n_train = {n:,}, " if n is not None else ""
    title_figure(fig, title, f"{where}{style.band_words(rows)}")
    model_aug_legend(axes[0, -1], models=models, palette=palette, augmentations=augs, dashes=dashes)
    return fig
