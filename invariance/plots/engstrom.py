"""Engstrom et al. (2019) summary: natural, random, worst-of-k and grid accuracy per model."""
from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from invariance.plots import _data, style
from invariance.plots.style import MissingDataError, new_figure, palette_for, themed, title_figure, wrap_label

# (sweep, metric) -> bar label; grid accuracy is added per grid below.
_MEASURES = (("clean", "accuracy", "natural"), ("random_k", "random_accuracy", "random"),
             ("random_k", "worst_of_k_accuracy", "worst-of-{k}"))
_COLOURS = ["#4c72b0", "#8fb1d9", "#dd8452", "#c44e52", "#937860", "#da8bc3"]


@themed
def plot_engstrom(table: pd.DataFrame, *, grids: Sequence[str] | None = None, k: int | None = None,
                  n_train: int | None = None, palette: Mapping[str, str] | None = None) -> Figure:
    """Grouped bars of natural, random, worst-of-k and grid accuracy, one panel per augmentation.

    Bars are means over seeds with a 95% CI; model names are drawn in the model's colour.

    Args:
        table: Harness rows with model, augmentation, seed (``invariance.csv``).
        grids: Grids whose ``grid_accuracy`` to show; default every grid in the table.
        k: The number of random transforms behind worst-of-k, for the label (``worst-of-10``).
        n_train: The training size to show; default the largest.
        palette: model -> colour.

    Returns:
        Figure with one axes per augmentation.
    """
    _data.require_columns(table, ("model", "augmentation"), table="invariance table")
    rows = _data.harness_rows(table)
    if grids is None:
        grids = list(pd.unique(rows.loc[rows["metric"] == "grid_accuracy", "sweep"]))
    measures = [(s, m, label.format(k=k if k else "k")) for s, m, label in _MEASURES]
    measures += [(g, "grid_accuracy", "grid" if len(grids) == 1 else f"grid {g}") for g in grids]
    parts = []
    for sweep, metric, label in measures:
        part = rows[(rows["sweep"] == sweep) & (rows["metric"] == metric)]
        if not part.empty:
            parts.append(part.assign(measure=label))
    # natural accuracy alone is no robustness summary
    if len(parts) < 2:
        raise MissingDataError("Engstrom summary: needs random-k or grid accuracy rows besides clean accuracy")
    data, n = _data.at_n_train(pd.concat(parts, ignore_index=True), n_train)
    order = [label for _, _, label in measures if label in set(data["measure"])]
    models = _data.ordered(data["model"])
    augs = _data.augmentation_order(data["augmentation"])
    palette = palette_for(models, palette)
    fig, axes = new_figure(1, len(augs), panel=(max(4.5, 1.25 * len(models) + 1.5), 4.6), sharey=True)
    for j, aug in enumerate(augs):
        ax = axes[0, j]
        sns.barplot(data=data[data["augmentation"] == aug], x="model", y="value", hue="measure", order=models,
                    hue_order=order, palette=_COLOURS[: len(order)], errorbar=style.ci95,
                    capsize=0.1, err_kws={"linewidth": 1.2}, ax=ax, legend=j == len(augs) - 1)
        ax.set_title(wrap_label(f"augmentation: {aug}", 40))
        ax.set_xlabel("")
        ax.set_ylabel("accuracy" if j == 0 else "")
        ax.set_ylim(0, 1.0)
        ax.set_xticks(range(len(models)), [wrap_label(m, 12) for m in models])
        for tick, model in zip(ax.get_xticklabels(), models):
            tick.set_color(palette[model])
            tick.set_fontweight("bold")
        ax.grid(axis="x", visible=False)
    axes[0, -1].legend(title="measure", loc="upper left", bbox_to_anchor=(1.03, 1.0), borderaxespad=0,
                       frameon=False)
    where = f"n_train = {n:,}; " if n is not None else ""
    title_figure(fig, "Spatial robustness", f"{where}bars: mean, whiskers: 95% CI over seeds")
    return fig
