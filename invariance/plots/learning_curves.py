"""Learning curves: test accuracy vs training-set size with the fitted power law, and the gap."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from invariance.plots import _data, style
from invariance.plots.style import (AXIS_LABELS, METRIC_LABELS, MissingDataError, augmentation_markers, dashes_for,
                                    linestyle, new_figure, palette_for, themed, title_figure, wrap_label)


def format_count(n: float) -> str:
    """``250``, ``1k``, ``2.5k``, ``60k``, ``1.2M``: short tick labels for sample counts."""
    n = float(n)
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(n) >= div:
            return f"{n / div:.3g}{suffix}"
    return f"{n:.0f}"


def _log_n_axis(ax, values) -> None:
    ax.set_xscale("log")
    ticks = sorted({float(v) for v in values})
    if len(ticks) > 10:  # keep labels from colliding: every other size
        ticks = ticks[::2]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_count(v)))
    ax.xaxis.set_minor_locator(NullLocator())


@themed
def plot_learning_curves(table: pd.DataFrame, curves: pd.DataFrame | None = None, *,
                         palette: Mapping[str, str] | None = None,
                         dashes: Mapping[str, Any] | None = None) -> Figure:
    """Test accuracy vs n_train (log x) with the fitted power law, and the generalisation gap.

    Points are means over seeds with 95% CI bars; the lines are the fits
    ``accuracy = 1 - (a + b * n^-c)`` from ``curves.csv`` over the measured range (curves
    without a fit are joined point to point, thinner). A dotted line marks the target accuracy.

    Args:
        table: The learning-curve table (model, augmentation, n_train, seed, test_accuracy,
            generalization_gap).
        curves: ``curves.csv`` rows (model, augmentation, a, b, c, target_accuracy), or None.
        palette: model -> colour.
        dashes: augmentation -> seaborn dash code (the fitted lines' style).

    Returns:
        Figure with two axes: accuracy (left) and generalisation gap (right).
    """
    _data.require_columns(table, ("model", "augmentation", "n_train", "seed", "test_accuracy"),
                          table="learning-curve table")
    # The fits are in images trained on (n_fit); draw the points on the same axis.
    x = "n_fit" if "n_fit" in table.columns and pd.to_numeric(table["n_fit"], errors="coerce").notna().any() \
        else "n_train"
    data = table.dropna(subset=[x, "test_accuracy"]).astype({"model": str, "augmentation": str})
    if data[x].nunique() < 2:
        raise MissingDataError(f"learning curves: need at least two {x} values; received "
                               f"{sorted(data[x].unique().tolist())}")
    models = _data.ordered(data["model"])
    augs = _data.augmentation_order(data["augmentation"])
    palette = palette_for(models, palette)
    dashes = dashes_for(augs, dashes)
    markers = augmentation_markers(augs)
    has_gap = "generalization_gap" in data.columns and data["generalization_gap"].notna().any()
    fig, axes = new_figure(1, 2 if has_gap else 1, panel=(6.4, 4.9))
    ax = axes[0, 0]
    sns.lineplot(data=data, x=x, y="test_accuracy", hue="model", style="augmentation", hue_order=models,
                 style_order=augs, palette=palette, markers=markers, dashes=False, err_style="bars",
                 errorbar=style.ci95, linewidth=0, markersize=8, err_kws={"capsize": 3},
                 ax=ax, legend=False)
    fitted = _fit_lines(ax, data, curves, palette, dashes, x)
    for (model, aug), group in data.groupby(["model", "augmentation"]):
        if (model, aug) not in fitted:
            means = group.groupby(x)["test_accuracy"].mean()
            ax.plot(means.index, means.to_numpy(), color=palette[model], lw=1.2, alpha=0.7,
                    linestyle=linestyle(dashes[aug]))
    target = _target(curves)
    if target is not None:
        ax.axhline(target, color="0.35", lw=1.2, linestyle=":", zorder=0)
        ax.annotate(f"target {target:.0%}", xy=(0.01, target), xycoords=("axes fraction", "data"), ha="left",
                    va="bottom", fontsize=11, color="0.3")
    _log_n_axis(ax, data[x])
    ax.set_xlabel(AXIS_LABELS[x])
    ax.set_ylabel(METRIC_LABELS["test_accuracy"])
    ax.set_title("Test accuracy" + (" and power-law fit" if fitted else ""))
    if has_gap:
        gx = axes[0, 1]
        sns.lineplot(data=data, x=x, y="generalization_gap", hue="model", style="augmentation",
                     hue_order=models, style_order=augs, palette=palette, dashes=dashes, markers=markers,
                     errorbar=style.ci95, markersize=7, ax=gx, legend=False)
        gx.axhline(0, color="0.55", lw=1, zorder=0)
        _log_n_axis(gx, data[x])
        gx.set_xlabel(AXIS_LABELS[x])
        gx.set_ylabel(METRIC_LABELS["generalization_gap"])
        gx.set_title("Overfitting")
    _legend(axes[0, -1], models, augs, palette, dashes, markers, fitted=bool(fitted))
    title_figure(fig, "Data hunger", f"mean over seeds; {style.band_words(data, kind='bars')}")
    return fig


def _fit_lines(ax, data, curves, palette, dashes, x: str = "n_train") -> set[tuple[str, str]]:
    """Draws each fitted curve over its measured n range; returns the (model, aug) drawn."""
    if curves is None or not {"model", "augmentation", "a", "b", "c"} <= set(curves.columns):
        return set()
    drawn = set()
    spans = data.groupby(["model", "augmentation"])[x].agg(["min", "max"])
    for row in curves.astype({"model": str, "augmentation": str}).itertuples(index=False):
        a, b, c = (pd.to_numeric(getattr(row, k), errors="coerce") for k in ("a", "b", "c"))
        key = (row.model, row.augmentation)
        if key not in spans.index or not np.all(np.isfinite([a, b, c])) or row.model not in palette:
            continue
        lo, hi = spans.loc[key]
        n = np.geomspace(lo, hi, 100)
        ax.plot(n, 1.0 - (a + b * n ** (-c)), color=palette[row.model], lw=2,
                linestyle=linestyle(dashes.get(row.augmentation, "")), alpha=0.9)
        drawn.add(key)
    return drawn


def _target(curves) -> float | None:
    if curves is None or "target_accuracy" not in curves.columns:
        return None
    values = pd.to_numeric(curves["target_accuracy"], errors="coerce").dropna().unique()
    return float(values[0]) if len(values) == 1 else None


def _legend(ax, models, augs, palette, dashes, markers, *, fitted: bool) -> None:
    from matplotlib.lines import Line2D

    handles, labels = [Line2D([], [], linestyle="none")], ["model"]
    handles += [Line2D([], [], color=palette[m], lw=3) for m in models]
    labels += [wrap_label(m) for m in models]
    handles.append(Line2D([], [], linestyle="none"))
    labels.append("augmentation")
    handles += [Line2D([], [], color="0.3", lw=2, marker=markers[a], markersize=8, linestyle=linestyle(dashes[a]))
                for a in augs]
    labels += [wrap_label(a) for a in augs]
    if fitted:
        handles += [Line2D([], [], linestyle="none"), Line2D([], [], color="0.3", marker="o", linestyle="none"),
                    Line2D([], [], color="0.3", lw=2)]
        labels += ["left panel", "measured (95% CI)", "fit: 1 − (a + b·n^−c)"]
    legend = ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.03, 1.0), borderaxespad=0,
                       frameon=False, handlelength=2.6)
    for text in legend.get_texts():
        if text.get_text() in ("model", "augmentation", "left panel"):
            text.set_fontweight("bold")
