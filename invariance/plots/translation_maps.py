"""Translation-sensitivity maps (dx x dy heatmaps) and their radial curves (Kauderer-Abrams 2017)."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from invariance.plots import _data, style
from invariance.plots.style import (AXIS_LABELS, METRIC_LABELS, MissingDataError, dashes_for, model_aug_legend,
                                    new_figure, palette_for, themed, title_figure, wrap_label)


def _grid_rows(table: pd.DataFrame, grid: str | None, metric: str, n_train: int | None):
    _data.require_columns(table, ("model", "augmentation", "dx", "dy"), table="invariance table")
    grids = [g for g in _data.point_sweeps(table, dims=2)
             if set(_data.varying_axes(table[table["sweep"] == g])) == {"dx", "dy"}]
    if grid is None:
        if not grids:
            raise MissingDataError("translation map: the table has no grid over dx and dy")
        grid = grids[0]
    rows = _data.harness_rows(table, sweep=grid, metric=metric).dropna(subset=["value", "dx", "dy"])
    if rows.empty:
        raise MissingDataError(f"translation map: no rows for grid {grid!r} and metric {metric!r}")
    rows, n = _data.at_n_train(rows, n_train)
    return rows, grid, n


@themed
def plot_translation_map(table: pd.DataFrame, *, grid: str | None = None, metric: str = "consistency",
                         augmentation: str | None = None, n_train: int | None = None, cmap: str = "viridis",
                         palette: Mapping[str, str] | None = None) -> Figure:
    """A dx x dy heatmap of a metric, the mean over seeds, one panel per model.

    Every panel shares one colour scale (the range over all panels) and one colour bar.
    With several augmentations there is one row of panels per augmentation.

    Args:
        table: Harness rows with model, augmentation, seed (``invariance.csv``).
        grid: Grid name; default the first grid over dx and dy in the table.
        metric: ``consistency``, ``embedding_cosine``, ``accuracy``...
        augmentation: Show only this augmentation; default all, one row each.
        n_train: The training size to show; default the largest.
        cmap: Colour map.
        palette: model -> colour; titles are drawn in the model's colour.

    Returns:
        Figure with a (n_augmentations, n_models) grid of heatmaps plus a colour bar.
    """
    rows, grid, n = _grid_rows(table, grid, metric, n_train)
    if augmentation is not None:
        rows = rows[rows["augmentation"] == augmentation]
        if rows.empty:
            raise MissingDataError(f"augmentation: no rows for {augmentation!r}")
    models = _data.ordered(rows["model"])
    augs = _data.augmentation_order(rows["augmentation"])
    palette = palette_for(models, palette)
    # mean over seeds per point: the only aggregation; a heatmap cannot show a band
    means = rows.groupby(["augmentation", "model", "dy", "dx"])["value"].mean()
    vmin, vmax = float(means.min()), float(means.max())
    if vmin == vmax:
        vmin, vmax = vmin - 0.5, vmax + 0.5
    side = 3.3
    fig, axes = new_figure(len(augs), len(models), panel=(side, side + 0.35), sharex=True, sharey=True)
    mappable = None
    for i, aug in enumerate(augs):
        for j, model in enumerate(models):
            ax = axes[i, j]
            try:
                cell = means.loc[(aug, model)].unstack("dx").sort_index().sort_index(axis=1)
            except KeyError:
                ax.set_axis_off()
                continue
            y_edges = _edges(cell.index.to_numpy(float))
            mappable = ax.pcolormesh(_edges(cell.columns.to_numpy(float)), y_edges, cell.to_numpy(), cmap=cmap,
                                     vmin=vmin, vmax=vmax, shading="flat")
            ax.set_aspect("equal")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
            ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
            # dy > 0 moves content down, as on screen; set, not toggled: the axes share y
            ax.set_ylim(y_edges.max(), y_edges.min())
            ax.grid(False)
            ax.axhline(0, color="white", lw=0.6, alpha=0.6)
            ax.axvline(0, color="white", lw=0.6, alpha=0.6)
            if i == 0:
                ax.set_title(wrap_label(model, 18), color=palette[model])
            ax.set_xlabel(AXIS_LABELS["dx"] if i == len(augs) - 1 else "")
            ax.set_ylabel(AXIS_LABELS["dy"] if j == 0 else "")
        if len(augs) > 1:
            axes[i, 0].annotate(wrap_label(f"augmentation: {aug}", 22), xy=(-0.45, 0.5), xycoords="axes fraction",
                                rotation=90, ha="center", va="center", fontsize=12, fontweight="bold")
    if mappable is not None:
        fig.colorbar(mappable, ax=axes, shrink=0.85, label=METRIC_LABELS.get(metric, metric), pad=0.02)
    where = f", n_train = {n:,}" if n is not None else ""
    title_figure(fig, f"Translation sensitivity: {METRIC_LABELS.get(metric, metric).split(' (')[0]}",
                 f"grid {grid!r}, mean over seeds{where}")
    return fig


def half_width(rows: pd.DataFrame) -> float:
    """The largest shift magnitude whose ring lies wholly inside a dx x dy grid.

    The smallest reach of the grid from the origin along its four half-axes:
    ``min(max dx, -min dx, max dy, -min dy)``; 6 for ``dx, dy = -6:6:1``, 3 for a grid
    over ``-3:5`` by ``-4:4``.
    """
    dx, dy = rows["dx"].astype(float), rows["dy"].astype(float)
    return float(max(0.0, min(dx.max(), -dx.min(), dy.max(), -dy.min())))


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges for cell centres (the grid may be uneven)."""
    if len(centres) == 1:
        return np.array([centres[0] - 0.5, centres[0] + 0.5])
    mid = (centres[1:] + centres[:-1]) / 2
    return np.concatenate([[centres[0] - (mid[0] - centres[0])], mid, [centres[-1] + (centres[-1] - mid[-1])]])


@themed
def plot_radial_curve(table: pd.DataFrame, *, grid: str | None = None, metric: str = "consistency",
                      n_train: int | None = None, palette: Mapping[str, str] | None = None,
                      dashes: Mapping[str, Any] | None = None) -> Figure:
    """A metric vs shift magnitude ``r = round(sqrt(dx^2 + dy^2))``, from a dx x dy grid.

    Only full rings are shown: ``r <= `` the grid's half-width (:func:`half_width`, 6 for a
    ``-6:6:1`` grid). Beyond it a ring holds only the grid's corners, the diagonal shifts, so
    its mean would describe a different, harder set of shifts than the rings inside.
    Each run's points with the same ``r`` are averaged, then the band is a 95% CI over
    seeds, so every seed counts once per magnitude.

    Returns:
        Figure with one axes.
    """
    rows, grid, n = _grid_rows(table, grid, metric, n_train)
    limit = half_width(rows)
    rows = rows.assign(shift=np.round(np.hypot(rows["dx"], rows["dy"])))
    rows = rows[rows["shift"] <= limit + 1e-9]
    keys = [c for c in ("model", "augmentation", "seed", "run_id") if c in rows.columns]
    per_run = rows.groupby(keys + ["shift"], dropna=False)["value"].mean().reset_index()
    models = _data.ordered(per_run["model"])
    augs = _data.augmentation_order(per_run["augmentation"])
    palette = palette_for(models, palette)
    dashes = dashes_for(augs, dashes)
    fig, axes = new_figure(1, 1, panel=(10.0, 5.0))
    ax = axes[0, 0]
    sns.lineplot(data=per_run, x="shift", y="value", hue="model", style="augmentation", hue_order=models,
                 style_order=augs, palette=palette, dashes=dashes, markers=False, errorbar=style.ci95, ax=ax,
                 legend=False)
    sns.scatterplot(data=per_run.groupby(["model", "augmentation", "shift"])["value"].mean().reset_index(),
                    x="shift", y="value", hue="model", hue_order=models, palette=palette, ax=ax, legend=False,
                    s=28, zorder=3)
    ax.set_xlabel(AXIS_LABELS["shift"])
    ax.set_ylabel(METRIC_LABELS.get(metric, metric))
    where = f", n_train = {n:,}" if n is not None else ""
    short = METRIC_LABELS.get(metric, metric).split(" (")[0]
    title_figure(fig, f"{short[0].upper() + short[1:]} vs shift magnitude",
                 f"grid {grid!r}, full rings only (r ≤ {limit:g} px){where}; {style.band_words(per_run)}")
    model_aug_legend(axes[0, -1], models=models, palette=palette, augmentations=augs, dashes=dashes)
    return fig
