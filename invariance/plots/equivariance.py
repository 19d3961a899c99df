"""Feature-map equivariance error through the network: where shift equivariance breaks."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from invariance.plots import _data, style
from invariance.plots.style import (METRIC_LABELS, MissingDataError, dashes_for, linestyle, new_figure, palette_for,
                                    themed, title_figure, wrap_label)


@themed
def plot_equivariance(table: pd.DataFrame, *, n_train: int | None = None, palette: Mapping[str, str] | None = None,
                      dashes: Mapping[str, Any] | None = None, max_cols: int = 3) -> Figure:
    """Equivariance error per layer, one panel per model (its layers differ from the others').

    Layers run left to right in network order (the harness's row order). Within a panel the
    shade of the model's colour is the shift (darker = larger) and the line style is the
    augmentation; the band is a 95% CI over seeds.

    Args:
        table: Harness rows with model, augmentation, seed (``invariance.csv``); uses the
            rows with ``sweep == "equivariance"``.
        n_train: The training size to show; default the largest.
        palette: model -> colour.
        dashes: augmentation -> seaborn dash code.
        max_cols: Panels per row.

    Returns:
        Figure with one axes per model (spare grid cells hidden).
    """
    _data.require_columns(table, ("model", "augmentation", "layer"), table="invariance table")
    rows = _data.harness_rows(table, sweep="equivariance", metric="equivariance_error").dropna(subset=["value"])
    if rows.empty:
        raise MissingDataError("equivariance: the table has no equivariance_error rows")
    rows, n = _data.at_n_train(rows, n_train)
    dx, dy = rows["dx"].fillna(0.0), rows["dy"].fillna(0.0)
    rows = rows.assign(shift=[f"({a:g}, {b:g})" for a, b in zip(dx, dy)], magnitude=np.hypot(dx, dy))
    shifts = list(rows.sort_values("magnitude")["shift"].drop_duplicates())  # small to large
    models = _data.ordered(rows["model"])
    augs = _data.augmentation_order(rows["augmentation"])
    palette = palette_for(models, palette)
    dashes = dashes_for(augs, dashes)
    ncols = min(max_cols, len(models))
    nrows = int(np.ceil(len(models) / ncols))
    fig, axes = new_figure(nrows, ncols, panel=(5.0, 4.2), sharey=True)
    for idx, model in enumerate(models):
        ax = axes.flat[idx]
        sub = rows[rows["model"] == model]
        layers = list(pd.unique(sub["layer"]))
        sub = sub.assign(layer_index=sub["layer"].map({name: i for i, name in enumerate(layers)}))
        shades = dict(zip(shifts, sns.light_palette(palette[model], n_colors=len(shifts) + 1)[1:]))
        sns.lineplot(data=sub, x="layer_index", y="value", hue="shift", style="augmentation", hue_order=shifts,
                     style_order=augs, palette=shades, dashes=dashes, marker="o", errorbar=style.ci95, ax=ax,
                     legend=False)
        ax.set_xticks(range(len(layers)), [wrap_label(x, 14) for x in layers], rotation=35, ha="right",
                      rotation_mode="anchor")
        ax.set_title(wrap_label(model, 30), color=palette[model])
        ax.set_xlabel("layer (input → output)")
        ax.set_ylabel(METRIC_LABELS["equivariance_error"] if idx % ncols == 0 else "")
    # after every panel is drawn: on shared axes an early limit would freeze the others
    axes.flat[0].set_ylim(bottom=0)
    spare = list(axes.flat[len(models):])
    for ax in spare:
        ax.set_axis_off()
    grey = dict(zip(shifts, sns.light_palette("0.2", n_colors=len(shifts) + 1)[1:]))
    if spare:  # the legend fills an empty grid cell
        _key(spare[0], shifts, grey, augs, dashes, loc="center", bbox_to_anchor=None)
    else:
        _key(axes[0, -1], shifts, grey, augs, dashes, loc="upper left", bbox_to_anchor=(1.03, 1.0))
    where = f"n_train = {n:,}; " if n is not None else ""
    title_figure(fig, "Where shift equivariance breaks", f"{where}{style.band_words(rows)}")
    return fig


def _key(ax, shifts, shades, augs, dashes, **where) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], linestyle="none")]
    labels = ["shift (darker = larger)"]
    handles += [Line2D([], [], color=shades[s], lw=2.5, marker="o") for s in shifts]
    labels += [f"(dx, dy) = {s} px" for s in shifts]
    handles += [Line2D([], [], linestyle="none")]
    labels += ["augmentation"]
    handles += [Line2D([], [], color="0.35", lw=2, linestyle=linestyle(dashes[a])) for a in augs]
    labels += [wrap_label(a) for a in augs]
    legend = ax.legend(handles, labels, frameon=False, borderaxespad=0, handlelength=2.6, **where)
    for text in legend.get_texts():
        if text.get_text() in ("shift (darker = larger)", "augmentation"):
            text.set_fontweight("bold")
