"""Each table figure on small synthetic tables: axes, titles, labels with units, colours, errors.

Table-driven: a new ``plot_*`` function in :mod:`invariance.plots` fails
``test_every_plot_function_has_a_case`` until it gets a case here (or in test_plots_images).
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

import invariance.plots as P
import invariance.plots.style as style
from invariance.plots import MissingDataError
from plot_tables import GEOM, make_tables

IMAGE_PLOTS = {"plot_filter_grid", "plot_model_filters", "plot_example_strip"}  # tests/test_plots_images.py


@pytest.fixture(autouse=True)
def _few_resamples(monkeypatch):
    monkeypatch.setattr(style, "N_BOOT", 20)  # the CI's accuracy is not under test; speed is


@pytest.fixture(scope="module")
def t():
    runs, inv, lc, cv = make_tables(models=("cnn_nopool", "cnn_pool", "mlp"), seeds=(0, 1), n_trains=(500, 2000, 8000))
    pal = P.model_palette(runs["model"])
    return SimpleNamespace(runs=runs, inv=inv, lc=lc, cv=cv, pal=pal, designs=_designs())


def _designs() -> pd.DataFrame:
    """Designs against a plain CNN: gains and accuracy changes in points, data ratios (NaN: no curve)."""
    nan = float("nan")
    rows = [("blur", "architecture", "shifts", 5.0, 3.0, 7.0, 0.3, -0.2, 0.8, nan, nan, nan, ""),
            ("aps", "architecture", "shifts", 12.0, 11.0, 13.0, -0.4, -1.0, 0.2, 0.9, 0.7, 1.2, "cnn"),
            ("max + shift", "augmentation", "shifts", 9.0, 7.5, 10.5, -1.5, -2.5, -0.5, nan, nan, nan, ""),
            ("p4", "architecture", "rotations", 40.0, 38.0, 42.0, 20.0, 18.0, 22.0, 0.5, 0.3, 0.8, "cnn"),
            ("max + rotate", "augmentation", "rotations", 35.0, 33.0, 37.0, 15.0, 13.0, 17.0, 1.0, 1.0, 1.0, "cnn"),
            ("p4 + rotate", "both", "rotations", 41.0, nan, nan, 21.0, nan, nan, nan, nan, nan, "")]
    return pd.DataFrame(rows, columns=list(P.TRADEOFF_COLUMNS))


def _labels(fig: Figure) -> str:
    parts = [fig._suptitle.get_text() if fig._suptitle else ""]
    for ax in fig.axes:
        parts += [ax.get_xlabel(), ax.get_ylabel(), ax.get_title()]
    return " | ".join(parts)


def _line_colours(fig: Figure) -> set[str]:
    out = set()
    for ax in fig.axes:
        for line in ax.get_lines():
            if len(line.get_xdata()) > 2 or line.get_marker() not in ("None", None, ""):
                out.add(to_hex(line.get_color()))
    return out


# name -> (call, number of visible data axes, substrings that must appear in labels/titles)
CASES = {
    "plot_invariance_curves": (lambda t: P.plot_invariance_curves(t.inv, palette=t.pal), 6,
                               ["horizontal shift dx (px)", "rotation angle (degrees)", "scale (×)", "accuracy",
                                "consistency", "n_train = 8,000", "band: range of 2 seeds"]),
    "plot_translation_map": (lambda t: P.plot_translation_map(t.inv, palette=t.pal), 6 + 1,
                             ["horizontal shift dx (px)", "vertical shift dy (px)", "cnn_pool", "mlp",
                              "consistency"]),
    "plot_radial_curve": (lambda t: P.plot_radial_curve(t.inv, palette=t.pal), 1,
                          ["shift magnitude |(dx, dy)| (px)", "consistency"]),
    "plot_engstrom": (lambda t: P.plot_engstrom(t.inv, palette=t.pal, k=10), 2,
                      ["accuracy", "augmentation: none", f"augmentation: {GEOM[:16]}"]),
    "plot_equivariance": (lambda t: P.plot_equivariance(t.inv, palette=t.pal), 3,
                          ["layer (input → output)", "equivariance error", "cnn_pool"]),
    "plot_learning_curves": (lambda t: P.plot_learning_curves(t.lc, t.cv, palette=t.pal), 2,
                             ["training images n (log scale)", "test accuracy", "generalisation gap",
                              "power-law fit"]),
    "plot_cost": (lambda t: P.plot_cost(t.runs, t.inv, palette=t.pal), 2,
                  ["parameters (log scale)", "test accuracy", "mean consistency"]),
    "plot_tradeoff": (lambda t: P.plot_tradeoff(t.designs, baseline="cnn", target="80% accuracy"), 4,
                      ["consistency gained (points)", "accuracy change (points)",
                       "data needed, log scale\n(× that of cnn)", "Shifts: what it costs in data",
                       "Rotations: what it costs in accuracy", "against cnn", "(to 80% accuracy)"]),
}


def test_every_plot_function_has_a_case():
    plots = {name for name in P.__all__ if name.startswith("plot_")}
    assert plots - IMAGE_PLOTS == set(CASES), "add a case for each new plot function"


@pytest.mark.parametrize("name", sorted(CASES))
def test_figure_axes_and_labels(t, name):
    call, n_axes, texts = CASES[name]
    fig = call(t)
    assert isinstance(fig, Figure)
    visible = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    assert len(visible) == n_axes
    labels = _labels(fig)
    for text in texts:
        assert text in labels, f"{text!r} missing from {labels!r}"
    assert fig._suptitle is not None and fig._suptitle.get_text()


@pytest.mark.parametrize("name", ["plot_invariance_curves", "plot_radial_curve", "plot_learning_curves"])
def test_models_keep_their_colour_across_figures(t, name):
    call = CASES[name][0]
    full = _line_colours(call(t))
    assert full == {t.pal[m] for m in ("cnn_nopool", "cnn_pool", "mlp")}
    # the same study palette on a table without cnn_nopool: the others keep their colours
    keep = lambda df: df[df["model"] != "cnn_nopool"]  # noqa: E731
    part = SimpleNamespace(runs=keep(t.runs), inv=keep(t.inv), lc=keep(t.lc), cv=keep(t.cv), pal=t.pal)
    assert _line_colours(call(part)) == {t.pal["cnn_pool"], t.pal["mlp"]}


def test_translation_map_panels_share_one_colour_scale(t):
    fig = P.plot_translation_map(t.inv, palette=t.pal)
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    meshes = [c for ax in panels for c in ax.collections]
    assert len(meshes) == 6
    limits = {(m.norm.vmin, m.norm.vmax) for m in meshes}
    assert len(limits) == 1
    assert [ax.get_title() for ax in fig.axes[:3]] == ["cnn_nopool", "cnn_pool", "mlp"]
    assert to_hex(fig.axes[1].title.get_color()) == t.pal["cnn_pool"]
    # dy grows downwards, as on screen
    lo, hi = fig.axes[0].get_ylim()
    assert lo > hi


def test_translation_map_one_augmentation_and_embedding_cosine(t):
    fig = P.plot_translation_map(t.inv, metric="embedding_cosine", augmentation="none")
    assert len([ax for ax in fig.axes if ax.collections and ax.get_label() != "<colorbar>"]) == 3
    assert "embedding cosine" in _labels(fig)


def test_radial_curve_averages_each_run_over_equal_shift_magnitude():
    rows = []
    for seed, bump in ((0, 0.0), (1, 0.2)):
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                rows.append(dict(sweep="g", dx=dx, dy=dy, angle=0.0, scale=1.0, metric="consistency",
                                 value=1.0 - 0.1 * (dx * dx + dy * dy) - bump, model="m", augmentation="none",
                                 seed=seed, run_id=f"r{seed}", layer=""))
    fig = P.plot_radial_curve(pd.DataFrame(rows))
    # |d| rounds to 0 (1 point), 1 (4 points: value 0.9) and 1 (sqrt 2 -> 1; value 0.8): mean 0.85 per run
    means = [c for c in fig.axes[0].collections if c.get_offsets().shape[0] == 2]
    assert means, "mean markers per shift"
    offsets = np.asarray(means[0].get_offsets())
    assert offsets[:, 0].tolist() == [0.0, 1.0]
    assert offsets[:, 1] == pytest.approx([0.9, 0.75])


def test_engstrom_bars_show_each_measure(t):
    fig = P.plot_engstrom(t.inv, palette=t.pal, k=10)
    legend = fig.axes[-1].get_legend()
    assert [x.get_text() for x in legend.get_texts()] == ["natural", "random", "worst-of-10", "grid"]
    ticks = fig.axes[0].get_xticklabels()
    assert [x.get_text() for x in ticks] == ["cnn_nopool", "cnn_pool", "mlp"]
    assert to_hex(ticks[2].get_color()) == t.pal["mlp"]


def test_equivariance_panels_follow_network_order(t):
    fig = P.plot_equivariance(t.inv, palette=t.pal)
    pool = next(ax for ax in fig.axes if ax.get_title() == "cnn_pool")
    assert [x.get_text() for x in pool.get_xticklabels()] == ["conv1", "pool1", "conv2", "pool2", "embedding"]


def test_learning_curve_fit_follows_the_power_law(t):
    fig = P.plot_learning_curves(t.lc, t.cv, palette=t.pal)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    row = t.cv[(t.cv.model == "mlp") & (t.cv.augmentation == "none")].iloc[0]
    fits = [line for line in ax.get_lines()
            if len(line.get_xdata()) == 100 and to_hex(line.get_color()) == t.pal["mlp"]]
    n, acc = fits[0].get_xdata(), fits[0].get_ydata()
    assert acc == pytest.approx(1 - (row.a + row.b * n ** (-row.c)))
    assert [x.get_text() for x in ax.get_xticklabels()] == ["500", "2k", "8k"]


def test_learning_curves_without_fits_join_the_means(t):
    fig = P.plot_learning_curves(t.lc)
    assert "power-law" not in fig.axes[0].get_title()


@pytest.mark.parametrize("call, match", [
    (lambda t: P.plot_invariance_curves(t.inv[t.inv.sweep == "clean"]), "no one-axis sweep"),
    (lambda t: P.plot_translation_map(t.inv[t.inv.sweep != "translation_map"]), "no grid over dx and dy"),
    (lambda t: P.plot_engstrom(t.inv[t.inv.sweep == "clean"]), "random-k or grid accuracy"),
    (lambda t: P.plot_equivariance(t.inv[t.inv.sweep != "equivariance"]), "no equivariance_error rows"),
    (lambda t: P.plot_learning_curves(t.lc[t.lc.n_train == 500]), "at least two n_train"),
    (lambda t: P.plot_cost(t.runs, t.inv[t.inv.metric != "mean_consistency"]), "mean_consistency"),
    (lambda t: P.plot_tradeoff(t.designs.assign(gain=float("nan"))), "a consistency gain and an accuracy change"),
    (lambda t: P.plot_tradeoff(t.designs.drop(columns="data_ratio")), "needs columns \\['data_ratio'\\]"),
    (lambda t: P.plot_invariance_curves(t.inv.drop(columns="model")), "needs columns \\['model'\\]"),
    (lambda t: P.plot_invariance_curves(t.inv, n_train=123), "n_train: no rows with n_train=123"),
])
def test_missing_data_is_a_clear_error(t, call, match):
    with pytest.raises(MissingDataError, match=match):
        call(t)


def test_plots_read_back_from_csv(t, tmp_path):
    # CSV turns "" layers into NaN; figures must not care
    t.inv.to_csv(tmp_path / "inv.csv", index=False)
    inv = pd.read_csv(tmp_path / "inv.csv")
    assert isinstance(P.plot_equivariance(inv), Figure)


def test_radial_curve_shows_only_full_rings():
    rows = [dict(sweep="g", dx=dx, dy=dy, angle=0.0, scale=1.0, metric="consistency", value=1.0 - 0.01 * (dx * dx + dy * dy),
                 model="m", augmentation="none", seed=0, run_id="r0", layer="")
            for dx in range(-3, 4) for dy in range(-3, 4)]
    fig = P.plot_radial_curve(pd.DataFrame(rows))
    # the corners of a -3:3 grid reach r = round(sqrt(18)) = 4, a ring the grid covers only in part
    means = [c for c in fig.axes[0].collections if c.get_offsets().shape[0] > 1]
    assert np.asarray(means[0].get_offsets())[:, 0].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert "r ≤ 3 px" in _labels(fig)
    from invariance.plots.translation_maps import half_width

    assert half_width(pd.DataFrame({"dx": [-3, 5], "dy": [-4, 4]})) == 3.0


def test_tradeoff_draws_each_design_once_per_panel_where_measured(t):
    fig = P.plot_tradeoff(t.designs)
    shifts, rotations = fig.axes[0:2], fig.axes[2:4]  # a row per invariance: accuracy, data
    assert [len(ax.containers) for ax in (*shifts, *rotations)] == [3, 1, 3, 2]  # ratios only where measured
    assert shifts[1].get_yscale() == "log" and rotations[1].get_yscale() == "log"
    assert {txt.get_text() for txt in shifts[0].texts} == {"blur", "aps", "max + shift"}
    assert {txt.get_text() for txt in rotations[0].texts} == {"p4", "max + rotate", "p4 + rotate"}


def test_tradeoff_names_the_reference_of_each_data_ratio(t):
    # the rotation designs priced against the plain CNN trained with rotations, not the baseline
    designs = t.designs.assign(data_reference=t.designs["data_reference"].where(
        t.designs["invariance"] == "shifts", "max + rotate"))
    fig = P.plot_tradeoff(designs, baseline="cnn")
    assert fig.axes[1].get_ylabel() == "data needed, log scale\n(× that of cnn)"
    assert fig.axes[3].get_ylabel() == "data needed, log scale\n(× that of max + rotate)"
    mixed = t.designs.assign(data_reference=["", "cnn", "", "cnn", "max", ""])
    fig = P.plot_tradeoff(mixed, baseline="cnn")
    assert fig.axes[3].get_ylabel() == "data needed, log scale\n(× that of the design's reference)"
    assert {txt.get_text() for txt in fig.axes[3].texts} == {"p4 ÷ cnn", "max + rotate ÷ max"}


def test_a_row_without_learning_curves_says_so_and_keeps_a_linear_axis(t):
    designs = t.designs.assign(data_ratio=t.designs["data_ratio"].where(t.designs["invariance"] == "shifts"))
    fig = P.plot_tradeoff(designs)
    assert fig.axes[3].get_yscale() == "linear" and not fig.axes[3].get_yticks().size
    assert fig.axes[3].get_ylabel() == ""
    assert "no learning curves measured" in {txt.get_text() for txt in fig.axes[3].texts}


@pytest.mark.parametrize("lo, hi, ticks", [
    (0.9, 1.6, [1.0, 1.2, 1.4, 1.6]),      # a narrow range gets the fine rung
    (0.3, 1.1, [0.3, 0.5, 0.7, 1.0]),
    (0.2, 6.0, [0.2, 0.5, 1.0, 2.0, 5.0]),
    (0.05, 30.0, [0.1, 1.0, 10.0]),        # past two decades, whole decades
])
def test_ratio_ticks_take_the_coarsest_rung_with_three_ticks(lo, hi, ticks):
    from invariance.plots.tradeoff import ratio_ticks

    assert ratio_ticks(lo, hi) == ticks


@pytest.mark.parametrize("lo, hi, subs", [
    (1e4, 1e6, (1.0, 2.0, 5.0)),    # two decades: 1-2-5
    (3e4, 2e7, (1.0, 3.0)),         # the quickstart's 2.8 decades (cnn_gap 94k to cnn_nopool 6.4M, padded)
    (1e3, 1e7, (1.0,)),             # four decades: whole decades only
])
def test_cost_axis_thins_its_log_ticks_with_the_span(lo, hi, subs):
    from invariance.plots.cost import log_ticks

    assert log_ticks(lo, hi) == subs


def test_a_one_axis_grid_beside_its_sweep_is_titled_by_its_name(t):
    # e.g. the exact-invariance study's dx sweep (wrap-around) and dx_zero_fill grid (black canvas)
    dx = t.inv[t.inv["sweep"] == "dx"].assign(sweep="dx_zero_fill")
    fig = P.plot_invariance_curves(pd.concat([t.inv, dx]), sweeps=["dx", "dx_zero_fill"], palette=t.pal)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["horizontal shift", "horizontal shift (dx_zero_fill)"]
