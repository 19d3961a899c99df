"""The study look: palettes, dashes, label wrapping, and save_figure (PNG >= 150 dpi + SVG, atomic)."""
from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import pandas as pd
import pytest
from matplotlib.figure import Figure

from invariance.plots import style


def test_model_palette_is_deterministic_from_sorted_labels():
    a = style.model_palette(["mlp", "cnn_pool", "cnn_nopool", "mlp"])
    b = style.model_palette(["cnn_nopool", "mlp", "cnn_pool"])
    assert a == b
    assert list(a) == ["cnn_nopool", "cnn_pool", "mlp"]
    assert len(set(a.values())) == 3


def test_model_palette_many_models_stays_distinct():
    pal = style.model_palette([f"m{i:02d}" for i in range(14)])
    assert len(set(pal.values())) == 14


def test_model_palette_first_five_colours_are_far_apart():
    # The quickstart has four models and most studies five or fewer: no two of them may share a
    # hue (seaborn's orange and vermilion, 50 apart in RGB, read as one colour in thin lines).
    import itertools

    colours = list(style.model_palette([f"m{i}" for i in range(5)]).values())
    rgb = [tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in colours]
    closest = min(sum((x - y) ** 2 for x, y in zip(a, b)) ** 0.5 for a, b in itertools.combinations(rgb, 2))
    assert closest > 60, f"two of the first five model colours are {closest:.0f} apart in RGB"


def test_partial_palette_is_completed_without_changing_given_colours():
    given = {"cnn_pool": "#ff0000"}
    out = style.palette_for(["cnn_pool", "mlp"], given)
    assert out["cnn_pool"] == "#ff0000" and out["mlp"] != "#ff0000"


def test_augmentation_dashes_none_is_solid_and_others_distinct():
    dashes = style.augmentation_dashes(["geometric[shift=4]", "none", "albumentations[x]"])
    assert dashes["none"] == ""
    assert dashes["albumentations[x]"] != "" and dashes["geometric[shift=4]"] != ""
    assert dashes["albumentations[x]"] != dashes["geometric[shift=4]"]
    assert style.linestyle("") == "-"
    assert style.linestyle((5, 2)) == (0, (5, 2))
    markers = style.augmentation_markers(["geometric", "none"])
    assert markers["none"] == "o" and markers["geometric"] != "o"


def test_wrap_label_breaks_long_augmentation_labels_at_commas():
    label = "geometric[shift=4,rotate=20,scale=0.8-1.2]"
    wrapped = style.wrap_label(label)
    assert "\n" in wrapped and wrapped.replace("\n", "") == label
    assert style.wrap_label("none") == "none"


def _png_dpi(path) -> float:
    data = path.read_bytes()
    i = data.index(b"pHYs")
    ppm_x = struct.unpack(">I", data[i + 4:i + 8])[0]
    return ppm_x * 0.0254


def test_save_figure_writes_png_at_150_dpi_and_svg(tmp_path):
    fig = Figure(figsize=(4, 3))
    fig.subplots().plot([0, 1], [1, 0])
    paths = style.save_figure(fig, tmp_path / "sub" / "fig")
    assert set(paths) == {"png", "svg"}
    png, svg = paths["png"], paths["svg"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _png_dpi(png) == pytest.approx(150, abs=1)
    width, height = struct.unpack(">II", png.read_bytes()[16:24])
    assert (width, height) == (600, 450)
    assert ET.parse(svg).getroot().tag.endswith("svg")
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["fig.png", "fig.svg"]  # no temp files left
    # no dates in the files: the same figure gives the same bytes
    again = style.save_figure(fig, tmp_path / "again")
    assert again["svg"].read_bytes() == svg.read_bytes()


def test_save_figure_refuses_low_dpi(tmp_path):
    with pytest.raises(ValueError, match="dpi: must be >= 150"):
        style.save_figure(Figure(), tmp_path / "x", dpi=72)


def test_theme_does_not_leak_rc_params():
    import matplotlib as mpl

    before = mpl.rcParams["font.size"]
    with style.theme():
        assert mpl.rcParams["font.size"] == 13
    assert mpl.rcParams["font.size"] == before


def test_plotting_never_switches_the_users_backend(tmp_path, monkeypatch):
    import matplotlib
    import pandas as pd

    import invariance.plots as P

    def forbidden(*args, **kwargs):
        raise AssertionError("the plots must not switch the matplotlib backend")

    monkeypatch.setattr(matplotlib, "use", forbidden)
    if "matplotlib.pyplot" in __import__("sys").modules:
        monkeypatch.setattr(__import__("matplotlib.pyplot").pyplot, "switch_backend", forbidden)
    before = matplotlib.rcParams._get_backend_or_none()
    table = pd.DataFrame({"model": ["a", "a"], "augmentation": ["none", "none"], "n_train": [10, 20],
                          "seed": [0, 0], "test_accuracy": [0.5, 0.6]})
    style.save_figure(P.plot_learning_curves(table), tmp_path / "f")
    assert matplotlib.rcParams._get_backend_or_none() == before
    assert (tmp_path / "f.png").exists()


def test_ci95_matches_seaborns_bootstrap_ci():
    from seaborn._statistics import EstimateAggregator

    values = [0.61, 0.64, 0.70, 0.58, 0.66]
    seaborn_ci = EstimateAggregator("mean", ("ci", 95), n_boot=20000, seed=0)(
        __import__("pandas").DataFrame({"y": values}), "y")
    low, high = style.ci95(values)
    assert low == pytest.approx(seaborn_ci["ymin"], abs=0.004)
    assert high == pytest.approx(seaborn_ci["ymax"], abs=0.004)
    assert style.ci95(values) == (low, high)  # seeded
    assert style.ci95([0.5]) == (0.5, 0.5)
    assert style.ci95([0.5, float("nan"), 0.5]) == (0.5, 0.5)


def test_title_figure_breaks_a_long_title_on_narrow_figures():
    wide, narrow = Figure(figsize=(16, 3)), Figure(figsize=(5, 3))
    for fig in (wide, narrow):
        style.title_figure(fig, "Where shift equivariance breaks", "n_train = 1,200; band: 95% CI over seeds")
    assert "\n" not in wide._suptitle.get_text()
    assert narrow._suptitle.get_text() == ("Where shift equivariance breaks\n"
                                           "(n_train = 1,200; band: 95% CI over seeds)")


@pytest.mark.parametrize("kind, seeds, words", [
    ("band", [0], "no band: 1 seed per curve"),
    ("band", [0, 1], "band: range of 2 seeds"),
    ("band", [0, 1, 2], "band: 95% bootstrap CI over 3 seeds"),
    ("bars", [0], "no bars: 1 seed per point"),
    ("bars", [0, 1], "bars: range of 2 seeds"),
    ("bars", [0, 1, 2], "bars: 95% bootstrap CI over 3 seeds"),
])
def test_band_words_say_what_the_band_is(kind, seeds, words):
    table = pd.DataFrame({"model": "m", "augmentation": "none", "seed": seeds, "value": 0.5})
    assert style.band_words(table, kind=kind) == words


def test_band_words_with_uneven_seeds():
    table = pd.DataFrame({"model": ["a", "a", "a", "b", "b"], "augmentation": "none", "seed": [0, 1, 2, 0, 1]})
    assert style.band_words(table) == "band: 95% bootstrap CI over 2–3 seeds"


def test_two_seed_band_is_their_range():
    assert style.ci95([0.2, 0.6]) == pytest.approx((0.2, 0.6))
