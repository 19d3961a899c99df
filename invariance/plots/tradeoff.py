"""What invariance costs: consistency gained against accuracy and data, one point per design.

Each design (an architectural lever, an augmentation, or both) is set against a baseline (the
plain model without augmentation): x is the consistency it gains; y is the accuracy it gains
or loses (left panel) and the data it needs to reach a target, as a multiple of the
baseline's (right panel, log scale). Every value is a difference (or ratio) paired by seed,
drawn with its 95% interval as bars. Which consistency and which accuracy a design is judged
on (for shifts, say, circular-shift consistency and clean accuracy; for rotations, rotation
consistency and accuracy on rotated images) is the caller's choice, and the input says it.
Each kind of invariance gets its own row of panels, with its own x scale.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

from invariance.plots import _data
from invariance.plots.cost import label_points
from invariance.plots.style import MissingDataError, model_palette, new_figure, themed, title_figure

TRADEOFF_COLUMNS = ("design", "kind", "invariance", "gain", "gain_lo", "gain_hi", "accuracy", "accuracy_lo",
                    "accuracy_hi", "data_ratio", "data_ratio_lo", "data_ratio_hi", "data_reference")
"""One row per design. ``kind``: ``architecture``, ``augmentation`` or ``both``; ``invariance``:
what the consistency measures (e.g. ``shifts``, ``rotations``); ``gain`` and ``accuracy``
(points, differences against the baseline) with their interval; ``data_ratio``: the data the
design needs ÷ the data ``data_reference`` needs, NaN where its learning curve was not
measured. The reference of a data ratio need not be the baseline: a rotation design trained
with rotation augmentation is best priced against the plain model trained the same way."""
KIND_MARKERS = {"architecture": "o", "augmentation": "s", "both": "D"}


#: Tick multiples per decade for the data-ratio axis, coarsest first (see :func:`ratio_ticks`).
RATIO_TICK_LADDER = ((1.0,), (1.0, 2.0, 5.0), (1.0, 1.5, 2.0, 3.0, 5.0, 7.0),
                     (1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0))


def ratio_ticks(lo: float, hi: float) -> list[float]:
    """Ticks for a log axis of ratios from ``lo`` to ``hi``: the coarsest rung of
    :data:`RATIO_TICK_LADDER` that puts at least 3 ticks inside the range (the finest rung
    otherwise), so that a narrow range such as 1.0x to 1.5x is not left with a single tick.
    (:func:`invariance.plots.cost.log_ticks` does the opposite job: it thins the ticks of
    count axes that span several decades.)"""
    ticks: list[float] = []
    for subs in RATIO_TICK_LADDER:
        ticks = sorted({round(m * 10.0 ** k, 6) for k in range(int(np.floor(np.log10(lo))),
                                                                int(np.floor(np.log10(hi))) + 1)
                        for m in subs if lo <= m * 10.0 ** k <= hi})
        if len(ticks) >= 3:
            break
    return ticks


@themed
def plot_tradeoff(designs: pd.DataFrame, *, baseline: str = "the baseline", target: str = "") -> Figure:
    """Consistency gained (x) against accuracy change (left) and data needed (right), one row
    of panels per kind of invariance.

    Each row has its own x axis: the gains of one invariance (a few points of shift
    consistency, say) would be unreadable on the scale of another's (tens of points of rotation
    consistency).

    Args:
        designs: :data:`TRADEOFF_COLUMNS`; gains and accuracy changes in points.
        baseline: How to name the baseline in the axis labels.
        target: What the data ratio is measured to (e.g. ``"80% accuracy"``), for its label.

    Returns:
        A figure with a row of two panels (sharing the x axis) per ``invariance``, in the order
        the designs first name them.

    Raises:
        MissingDataError: when no design has a gain and an accuracy change.
    """
    _data.require_columns(designs, TRADEOFF_COLUMNS, table="designs table")
    shown = designs.dropna(subset=["gain", "accuracy"])
    if shown.empty:
        raise MissingDataError("tradeoff: needs designs with a consistency gain and an accuracy change")
    kinds = {kind: shown[shown["invariance"] == kind] for kind in dict.fromkeys(shown["invariance"])}
    palette = model_palette(shown["invariance"])
    fig, axes = new_figure(len(kinds), 2, panel=(5.6, 4.2), sharex="row")
    for (left, right), (invariance, here) in zip(axes, kinds.items()):
        for ax, column, log in ((left, "accuracy", False), (right, "data_ratio", True)):
            _draw_panel(ax, here.dropna(subset=[column]), column, log, palette)
        left.set_ylabel("accuracy change (points)")
        if here["data_ratio"].notna().any():
            right.set_ylabel(f"data needed, log scale\n(× {_reference_words(here)})")
        name = str(invariance).capitalize()
        left.set_title(f"{name}: what it costs in accuracy")
        right.set_title(f"{name}: what it costs in data" + (f"\n(to {target})" if target else ""))
    for ax in axes.flat:  # each row has its own x scale, so each says what it is
        ax.set_xlabel("consistency gained (points)")
    handles = [Line2D([], [], color=palette[i], marker="o", linestyle="", label=str(i)) for i in palette]
    handles += [Line2D([], [], color="0.3", marker=m, linestyle="", label=k) for k, m in KIND_MARKERS.items()
                if k in set(shown["kind"])]
    axes[0, 1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    title_figure(fig, "Invariance gained against its cost",
                 f"against {baseline}; 95% CIs paired by seed")
    # labels last: they are placed in axes fractions against the final layout
    for (left, right), here in zip(axes, kinds.values()):
        for ax, column in ((left, "accuracy"), (right, "data_ratio")):
            rows = here.dropna(subset=[column])
            several = column == "data_ratio" and len(_references(rows)) > 1
            label_points(ax, [(r.gain, getattr(r, column),
                               f"{r.design} ÷ {r.data_reference}" if several else str(r.design), palette[r.invariance])
                              for r in rows.itertuples()], obstacles=_bar_points(rows, column), fontsize=9)
    return fig


def _draw_panel(ax, rows: pd.DataFrame, column: str, log: bool, palette: dict[str, str]) -> None:
    for r in rows.itertuples():
        y, lo, hi = getattr(r, column), getattr(r, f"{column}_lo"), getattr(r, f"{column}_hi")
        ax.errorbar(r.gain, y, xerr=_bar(r.gain, r.gain_lo, r.gain_hi), yerr=_bar(y, lo, hi),
                    fmt=KIND_MARKERS.get(r.kind, "o"), color=palette[r.invariance], markersize=9, capsize=3,
                    linewidth=1.2)
    ax.axvline(0.0, color="0.5", linewidth=0.8, linestyle="--")
    ax.margins(x=0.15, y=0.15)
    if rows.empty:
        ax.text(0.5, 0.5, "no learning curves measured", transform=ax.transAxes, ha="center", color="0.4")
        ax.set_yticks([])
        return
    ax.axhline(1.0 if log else 0.0, color="0.5", linewidth=0.8, linestyle="--")
    if not log:
        return
    ax.set_yscale("log")
    values = rows[[column, f"{column}_lo", f"{column}_hi"]].to_numpy(dtype=float)
    values = np.append(values[np.isfinite(values) & (values > 0)], 1.0)
    lo, hi = values.min(), values.max()
    pad = max((hi / lo) ** 0.15, 1.1)
    ax.set_ylim(lo / pad, hi * pad)
    ax.yaxis.set_major_locator(FixedLocator(ratio_ticks(lo / pad, hi * pad)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _references(rows: pd.DataFrame) -> list[str]:
    """The designs that the measured data ratios of ``rows`` are taken against."""
    measured = rows.dropna(subset=["data_ratio"])
    return list(dict.fromkeys(str(ref) for ref in measured["data_reference"] if isinstance(ref, str) and ref))


def _reference_words(rows: pd.DataFrame) -> str:
    refs = _references(rows)
    return f"that of {refs[0]}" if len(refs) == 1 else "that of the design's reference"


def _bar_points(rows: pd.DataFrame, column: str, *, per_bar: int = 9) -> list[tuple[float, float]]:
    """Points along each design's two error bars, for the labels to keep off them."""
    out = []
    for r in rows.itertuples():
        y = getattr(r, column)
        for lo, hi, horizontal in ((r.gain_lo, r.gain_hi, True),
                                   (getattr(r, f"{column}_lo"), getattr(r, f"{column}_hi"), False)):
            if np.isfinite(lo) and np.isfinite(hi):
                out += [(v, y) if horizontal else (r.gain, v) for v in np.linspace(lo, hi, per_bar)]
    return out


def _bar(value: float, lo: float, hi: float):
    """Asymmetric error bar ``[[below], [above]]``, or None without an interval."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return None
    return [[max(value - lo, 0.0)], [max(hi - value, 0.0)]]
