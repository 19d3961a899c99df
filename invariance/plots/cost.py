"""Cost vs benefit: parameter count against test accuracy and against an invariance score."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextPath
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from invariance.plots import _data, style
from invariance.plots.learning_curves import format_count
from invariance.plots.style import (AXIS_LABELS, METRIC_LABELS, MissingDataError, augmentation_markers,
                                    model_aug_legend, new_figure, palette_for, themed, title_figure)


def log_ticks(lo: float, hi: float) -> tuple[float, ...]:
    """Tick multiples per decade for a log axis from ``lo`` to ``hi``: 1-2-5 over at most two
    decades, 1-3 up to three and a half, whole decades beyond, so that labels such as 100k and
    200k never run into each other on a 6-inch panel."""
    decades = np.log10(hi / lo)
    return (1.0, 2.0, 5.0) if decades <= 2 else (1.0, 3.0) if decades <= 3.5 else (1.0,)


@themed
def plot_cost(runs: pd.DataFrame, table: pd.DataFrame, *, sweeps: Sequence[str] | None = None,
              n_train: int | None = None, palette: Mapping[str, str] | None = None,
              markers: Mapping[str, str] | None = None) -> Figure:
    """Params (log x) vs test accuracy (left) and vs invariance score (right), labelled by model.

    The invariance score of a run is its ``mean_consistency`` averaged over ``sweeps``.
    Points are means over seeds with 95% CI bars (the range of two seeds, none for one); the
    marker is the augmentation.

    Args:
        runs: ``runs.csv`` (run_id, model, augmentation, seed, status, params, test_accuracy).
        table: ``invariance.csv`` harness rows (for the ``mean_consistency`` summaries).
        sweeps: Sweeps in the score; default the one-axis sweeps (dx, angle, ...) that have a
            ``mean_consistency`` row (grids only when there are no such sweeps).
        n_train: The training size to show; default the largest.
        palette: model -> colour.
        markers: augmentation -> marker.

    Returns:
        Figure with two axes sharing the params axis.
    """
    _data.require_columns(runs, ("run_id", "model", "augmentation", "params", "test_accuracy"), table="runs table")
    done = runs[runs["status"].astype(str) == "completed"] if "status" in runs.columns else runs
    done = done.dropna(subset=["params", "test_accuracy"]).astype({"run_id": str, "model": str,
                                                                    "augmentation": str})
    summary = _data.harness_rows(table, metric="mean_consistency")
    if sweeps is None:  # the one-axis sweeps; a study with only grids uses those
        one_axis = _data.point_sweeps(table, dims=1)
        sweeps = one_axis if summary["sweep"].isin(one_axis).any() else list(pd.unique(summary["sweep"]))
    summary = summary[summary["sweep"].isin(list(sweeps))]
    if done.empty or summary.empty:
        raise MissingDataError("cost vs benefit: needs completed runs with params and mean_consistency rows")
    used = list(pd.unique(summary["sweep"]))
    score = summary.astype({"run_id": str}).groupby("run_id")["value"].mean().rename("invariance")
    data = done.join(score, on="run_id")
    data, n = _data.at_n_train(data, n_train)
    models = _data.ordered(data["model"])
    augs = _data.augmentation_order(data["augmentation"])
    palette = palette_for(models, palette)
    markers = markers or augmentation_markers(augs)
    shown = ", ".join(map(str, used)) if len(", ".join(map(str, used))) <= 24 else f"{len(used)} sweeps"
    score_label = f"invariance score\n(mean consistency over {shown})"
    fig, axes = new_figure(1, 2, panel=(6.0, 4.8), sharex=True)
    for ax, column, label in ((axes[0, 0], "test_accuracy", METRIC_LABELS["test_accuracy"]),
                              (axes[0, 1], "invariance", score_label)):
        sns.lineplot(data=data.dropna(subset=[column]), x="params", y=column, hue="model", style="augmentation",
                     hue_order=models, style_order=augs, palette=palette, markers=markers, dashes=False,
                     err_style="bars", errorbar=style.ci95, linewidth=0, markersize=10,
                     err_kws={"capsize": 3}, ax=ax, legend=False)
        ax.set_xscale("log")
        ax.margins(y=0.12)
        # room for labels either side, also when every model has the same size
        lo, hi = float(data["params"].min()), float(data["params"].max())
        pad = max((hi / lo) ** 0.25, 1.6)
        ax.set_xlim(lo / pad, hi * pad)
        ax.autoscale_view(scalex=False)
        ax.xaxis.set_major_locator(LogLocator(subs=log_ticks(lo / pad, hi * pad)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_count(v)))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(AXIS_LABELS["params"])
        ax.set_ylabel(label)
    axes[0, 0].set_title("Accuracy")
    axes[0, 1].set_title("Invariance")
    model_aug_legend(axes[0, 1], models=models, palette=palette, augmentations=augs, markers=markers)
    where = f"n_train = {n:,}; " if n is not None else ""
    title_figure(fig, "Cost vs benefit", f"{where}mean over seeds; {style.band_words(data, kind='bars')}")
    # labels last: they are placed in axes fractions against the final layout
    for ax, column in ((axes[0, 0], "test_accuracy"), (axes[0, 1], "invariance")):
        means = data.groupby(["model", "augmentation"])[[column, "params"]].mean().dropna()
        # one label per model, beside its highest point
        tops = [(model, means.loc[model][column].idxmax()) for model in models
                if model in means.index.get_level_values(0)]
        label_points(ax, [(means.loc[(m, a), "params"], means.loc[(m, a), column], m, palette[m]) for m, a in tops],
                     obstacles=list(zip(means["params"], means[column])))
    return fig


def label_points(ax, points, *, obstacles=(), fontsize: float = 11, gap: float = 0.07) -> None:
    """Labels points so that labels overlap neither one another nor leave the axes.

    Each label tries, in order: right of its point, left of it, then the same a step lower
    or higher, and so on; it takes the first free place. A moved label gets a thin leader line.

    Args:
        ax: Axes whose limits are final.
        points: (x, y, text, colour) in data coordinates.
        obstacles: Further (x, y) data points that labels must not cover (the labelled points
            are obstacles too).
        fontsize: Label font size (points).
        gap: Vertical step and the least vertical distance between labels, in axes fractions.
    """
    to_axes = ax.transScale + ax.transLimits  # data -> axes fraction, whatever the axes position
    ax.figure.draw_without_rendering()  # lay out once, so the axes width is known
    width_pt = max(ax.bbox.width * 72.0 / ax.figure.dpi, 1.0)
    font = FontProperties(size=fontsize, weight="bold")
    placed: list[tuple[float, float, float]] = []  # (x0, x1, y) of labels already placed
    for x, y in [(p[0], p[1]) for p in points] + list(obstacles):
        fx, fy = to_axes.transform((x, y))
        placed.append((fx - 0.02, fx + 0.02, fy))

    def free(x0, x1, y):
        inside = 0.0 <= x0 and x1 <= 1.0 and 0.03 <= y <= 0.97
        return inside and all(x1 < p0 or x0 > p1 or abs(y - py) >= gap for p0, p1, py in placed)

    for x, y, text, colour in sorted(points, key=lambda p: -to_axes.transform((p[0], p[1]))[1]):
        fx, fy = to_axes.transform((x, y))
        w = TextPath((0, 0), text, prop=font).get_extents().width / width_pt
        choice = None
        for step in (0, -1, 1, -2, 2, -3, 3, -4, 4):
            ty = fy + step * gap
            for side in ("right", "left"):
                x0 = fx + 0.035 if side == "right" else fx - 0.035 - w
                if free(x0, x0 + w, ty):
                    choice = (x0, ty, side)
                    break
            if choice:
                break
        if choice is None:  # nowhere free: keep it readable beside the point
            choice = (fx + 0.035, fy, "right")
        x0, ty, side = choice
        placed.append((x0, x0 + w, ty))
        ax.annotate(text, xy=(x, y), xytext=(x0, ty), textcoords="axes fraction", ha="left", va="center",
                    fontsize=fontsize, color=colour, fontweight="bold",
                    arrowprops={"arrowstyle": "-", "color": colour, "lw": 0.8, "shrinkA": 2, "shrinkB": 5}
                    if abs(ty - fy) > gap / 3 else None)
