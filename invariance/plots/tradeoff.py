"""What invariance costs: consistency gained against accuracy and data, one point per design.

Each design (an architectural lever, an augmentation, or both) is set against a baseline (the
plain model without augmentation): x is the consistency it gains; y is the accuracy it gains
or loses (left panel) and the data it needs to reach a target, as a multiple of the
baseline's (right panel, log scale). Every value is a difference (or ratio) paired by seed,
drawn with its 95% interval as bars. Which consistency and which accuracy a design is judged
on (for shifts, say, circular-shift consistency and clean accuracy; for rotations, rotation
consistency and accuracy on rotated images) is the caller's choice, and the input says it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from invariance.plots import _data
from invariance.plots.cost import label_points
from invariance.plots.style import MissingDataError, model_palette, new_figure, themed, title_figure

TRADEOFF_COLUMNS = ("design", "kind", "invariance", "gain", "gain_lo", "gain_hi", "accuracy", "accuracy_lo",
                    "accuracy_hi", "data_ratio", "data_ratio_lo", "data_ratio_hi")
"""One row per design. ``kind``: ``architecture``, ``augmentation`` or ``both``; ``invariance``:
what the consistency measures (e.g. ``shifts``, ``rotations``); ``gain`` and ``accuracy``
(points, differences against the baseline) with their interval; ``data_ratio``: the data the
design needs ÷ the baseline's, NaN where its learning curve was not measured."""
KIND_MARKERS = {"architecture": "o", "augmentation": "s", "both": "D"}


@themed
def plot_tradeoff(designs: pd.DataFrame, *, baseline: str = "the baseline", target: str = "") -> Figure:
    """Consistency gained (x) against accuracy change (left) and data needed (right).

    Args:
        designs: :data:`TRADEOFF_COLUMNS`; gains and accuracy changes in points.
        baseline: How to name the baseline in the axis labels.
        target: What the data ratio is measured to (e.g. ``"80% accuracy"``), for its label.

    Returns:
        A figure with two panels sharing the x axis.

    Raises:
        MissingDataError: when no design has a gain and an accuracy change.
    """
    _data.require_columns(designs, TRADEOFF_COLUMNS, table="designs table")
    shown = designs.dropna(subset=["gain", "accuracy"])
    if shown.empty:
        raise MissingDataError("tradeoff: needs designs with a consistency gain and an accuracy change")
    palette = model_palette(shown["invariance"])
    fig, axes = new_figure(1, 2, panel=(5.6, 4.6), sharex=True)
    left, right = axes[0, 0], axes[0, 1]
    for ax, column, log in ((left, "accuracy", False), (right, "data_ratio", True)):
        rows = shown.dropna(subset=[column])
        for r in rows.itertuples():
            colour = palette[r.invariance]
            y, lo, hi = getattr(r, column), getattr(r, f"{column}_lo"), getattr(r, f"{column}_hi")
            ax.errorbar(r.gain, y, xerr=_bar(r.gain, r.gain_lo, r.gain_hi), yerr=_bar(y, lo, hi),
                        fmt=KIND_MARKERS.get(r.kind, "o"), color=colour, markersize=9, capsize=3, linewidth=1.2)
        ax.axhline(1.0 if log else 0.0, color="0.5", linewidth=0.8, linestyle="--")
        ax.axvline(0.0, color="0.5", linewidth=0.8, linestyle="--")
        if log:
            ax.set_yscale("log")
        ax.margins(x=0.15, y=0.15)
        if rows.empty:
            ax.text(0.5, 0.5, "no learning curves measured", transform=ax.transAxes, ha="center", color="0.4")
    for ax in (left, right):
        ax.set_xlabel("consistency gained (points)")
    left.set_ylabel("accuracy change (points)")
    right.set_ylabel("data needed (× baseline, log scale)")
    right.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    right.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}×" if round(v, 6) in (0.5, 2, 5) else ""))
    left.set_title("What it costs in accuracy")
    right.set_title("What it costs in data" + (f"\n(to {target})" if target else ""))
    handles = [Line2D([], [], color=palette[i], marker="o", linestyle="", label=str(i)) for i in palette]
    handles += [Line2D([], [], color="0.3", marker=m, linestyle="", label=k) for k, m in KIND_MARKERS.items()
                if k in set(shown["kind"])]
    right.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    title_figure(fig, "Invariance gained against its cost",
                 f"against {baseline}; 95% CIs paired by seed")
    for ax, column in ((left, "accuracy"), (right, "data_ratio")):
        rows = shown.dropna(subset=[column])
        label_points(ax, [(r.gain, getattr(r, column), str(r.design), palette[r.invariance])
                          for r in rows.itertuples()], fontsize=9)
    return fig


def _bar(value: float, lo: float, hi: float):
    """Asymmetric error bar ``[[below], [above]]``, or None without an interval."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    return [[max(value - lo, 0.0)], [max(hi - value, 0.0)]]
