"""The report: exact findings on a hand-made table, every section, images embedded, the CLIs."""
from __future__ import annotations

import base64
import re
import struct

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import invariance.plots as P
import invariance.plots.style as style
from invariance.cli import cli
from invariance.errors import InvarianceError
from invariance.report import findings as F
from invariance.report import write_report
from invariance.report.tables import format_seconds, summary_table
from plot_tables import shared_study, write_study


@pytest.fixture(autouse=True)
def _few_resamples(monkeypatch):
    monkeypatch.setattr(style, "N_BOOT", 20)


# ---------------------------------------------------------------------------------------------
# findings on a hand-made table: exact sentences

# (model, augmentation) -> per seed (test accuracy, mean dx consistency, worst-of-10 accuracy or None)
HAND = {
    ("A", "none"): [(0.90, 0.40, 0.5), (0.92, 0.42, 0.5)],
    ("A", "geo"): [(0.905, 0.60, None), (0.905, 0.66, None)],
    ("B", "none"): [(0.80, 0.20, 0.6), (0.80, 0.20, 0.6)],
    ("B", "geo"): [(0.70, 0.30, None), (0.72, 0.30, None)],
}


def _hand_tables():
    runs, inv = [], []
    for (model, aug), seeds in HAND.items():
        for seed, (acc, cons, worst) in enumerate(seeds):
            rid = f"{model}-{aug}-{seed}"
            runs.append(dict(run_id=rid, model=model, augmentation=aug, n_train=100, seed=seed, status="completed",
                             reason="", test_accuracy=acc, train_accuracy=acc + 0.05, params=1000))
            base = dict(run_id=rid, model=model, augmentation=aug, n_train=100, seed=seed, layer="",
                        dx=np.nan, dy=np.nan, angle=np.nan, scale=np.nan, n=10)
            inv.append({**base, "sweep": "dx", "metric": "mean_consistency", "value": cons})
            if worst is not None:
                inv.append({**base, "sweep": "random_k", "metric": "worst_of_k_accuracy", "value": worst})
    runs.append(dict(run_id="C-none-0", model="C", augmentation="none", n_train=100, seed=0, status="failed",
                     reason="diverged: loss is NaN", test_accuracy=np.nan, train_accuracy=np.nan, params=10))
    return pd.DataFrame(runs), pd.DataFrame(inv)


def test_findings_sentences_are_exact():
    runs, inv = _hand_tables()
    table = F.per_run_table(runs, inv)
    assert len(table) == 8 and "mean_consistency_dx" in table.columns
    assert F.accuracy_findings(table) == [
        "Most accurate: A without augmentation (test accuracy 0.910 ± 0.014, 2 seeds); "
        "least accurate: B with geo (0.710 ± 0.014)."]
    assert F.architecture_findings(table, "dx") == [
        "Without augmentation, A has the highest mean horizontal-shift consistency (0.41 ± 0.01) and B the lowest "
        "(0.20 ± 0.00); their test accuracies are 0.910 ± 0.014 and 0.800 ± 0.000."]
    assert F.lever_findings(table, "dx") == [
        "Along dx, augmentation geo changed mean horizontal-shift consistency by +0.16 on average over 2 models: "
        "less than the spread between architectures without augmentation (0.21)."]
    assert F.augmentation_findings(table, "dx") == [
        "Augmentation geo raised A's mean horizontal-shift consistency from 0.41 to 0.63 (±0.03) at equal accuracy "
        "(0.910 vs 0.905).",
        "Augmentation geo raised B's mean horizontal-shift consistency from 0.20 to 0.30 (±0.00), and test accuracy "
        "went from 0.800 to 0.710."]
    assert F.robustness_findings(table, k=10) == [
        "Under the worst-of-10 attack without augmentation, A loses the most accuracy (0.910 → 0.500) and B the "
        "least (0.800 → 0.600)."]
    assert F.failure_findings(runs) == [
        "1 of 9 runs failed; they are listed with their reasons under Failed runs."]


def test_key_findings_groups_and_orders_sentences():
    runs, inv = _hand_tables()
    curves = pd.DataFrame({"model": ["A"], "augmentation": ["none"],
                           "target_summary": ["A reaches 85% at n~3.2k [2.1k, 4.4k]"], "efficiency_summary": [""]})
    learning = pd.DataFrame({"model": ["A", "A", "B", "B"], "augmentation": ["none"] * 4, "n_train": [10, 10, 10, 10],
                             "seed": [0, 1, 0, 1], "generalization_gap": [0.1, 0.3, 0.05, 0.05]})
    learning = pd.concat([learning, learning.assign(n_train=100)])
    groups = F.key_findings(runs, inv, curves=curves, learning=learning, k=10)
    assert [h for h, _ in groups] == ["Accuracy", "Horizontal shift (dx)", "Spatial robustness", "Data hunger",
                                      "Failures"]
    assert len(dict(groups)["Horizontal shift (dx)"]) == 1 + 1 + 2
    assert dict(groups)["Data hunger"] == [
        "A reaches 85% at n~3.2k [2.1k, 4.4k].",
        "With the fewest training images (10), the train − test accuracy gap is largest for A (0.200 ± 0.141) and "
        "smallest for B (0.050 ± 0.000)."]


def test_equal_accuracy_rule():
    assert F.equal(F.Stat(0.90, 0.01, 3), F.Stat(0.91, 0.0, 3))
    assert not F.equal(F.Stat(0.90, 0.001, 3), F.Stat(0.91, 0.002, 3))
    assert F.equal(F.Stat(0.900, 0.0, 1), F.Stat(0.904, 0.0, 1))  # the 0.005 floor
    assert F.Stat.of([0.5]).text() == "0.50"
    assert F.Stat.of([]).n == 0


def test_findings_only_compare_runs_at_the_largest_n_train():
    runs, inv = _hand_tables()
    small = runs.assign(n_train=10, run_id=runs["run_id"] + "-small", test_accuracy=0.99)
    table = F.per_run_table(pd.concat([runs, small]), inv)
    assert "0.910" in F.accuracy_findings(table)[0]


def test_summary_table_is_mean_and_std_over_seeds():
    runs, inv = _hand_tables()
    table = summary_table(F.per_run_table(runs, inv))
    row = table[(table["model"] == "A") & (table["augmentation"] == "geo")].iloc[0]
    assert row["seeds"] == "2"
    assert row["test accuracy"] == "0.905 ± 0.000"
    assert row["horizontal-shift consistency"] == "0.63 ± 0.04"
    assert row["worst-of-k accuracy"] == "–"


@pytest.mark.parametrize("seconds, text", [(12.34, "12.3 s"), (150, "2 min 30 s"), (3720, "1 h 02 min"),
                                           (None, "–")])
def test_format_seconds(seconds, text):
    assert format_seconds(seconds) == text


# ---------------------------------------------------------------------------------------------
# the report on a tiny study folder

SECTIONS = ("run", "findings", "figures", "summary", "curves", "failed")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    study = shared_study(tmp_path_factory)
    html_path, md_path = study / "report.html", study / "report.md"
    return study, html_path, md_path, html_path.read_text(encoding="utf-8"), md_path.read_text(encoding="utf-8")


def test_report_files_are_written(report):
    study, html_path, md_path, _, _ = report
    assert html_path == study / "report.html" and md_path == study / "report.md"
    assert (study / "figures" / "invariance_curves.png").is_file()


def test_html_has_every_section_and_what_was_run(report):
    _, _, _, html, _ = report
    for section in SECTIONS:
        assert f'<section id="{section}">' in html
    for text in ("Study report: tiny", "fashion_mnist_mini", "cnn_pool, mlp", "Runs</dt><dd>24 in all: 23 completed, "
                 "1 failed, 0 pending", "tensorflow", "cpu (2 cores, x86_64)", "keras 3.15.0",
                 "0123456789abcdef0123456789abcdef01234567", "wall time 2 min 30 s", "Resolved study (study.yaml)",
                 "seeds: [0, 1, 2]"):
        assert text in html, text
    assert "diverged: loss is NaN at epoch 2" in html  # the failed run and its reason
    assert "Without augmentation, cnn_pool has the highest mean horizontal-shift consistency" in html


def test_html_embeds_every_image_as_a_png_data_uri_and_loads_nothing(report):
    study, _, _, html, _ = report
    sources = re.findall(r'<img [^>]*src="([^"]+)"', html)
    assert len(sources) == len(list((study / "figures").glob("*.png"))) >= 10
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert width > 300 and height > 200
    assert not re.search(r'(src|href)="(?!data:|#)', html)  # no external file, URL or font
    assert "<script" not in html and "@import" not in html and "url(" not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html


def test_markdown_has_the_same_sections_and_links_existing_figures(report):
    study, _, _, _, md = report
    for heading in ("## What was run", "## Key findings", "## Figures", "## Summary table", "## Learning-curve fits",
                    "## Failed runs"):
        assert heading in md
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert links and all((study / link).is_file() for link in links)
    assert "| model | augmentation | n_train | seeds | test accuracy |" in md


def test_report_without_curves_or_failures_says_so(tmp_path):
    study = write_study(tmp_path / "s", models=("cnn_pool",), seeds=(0,), curves=False, failed=0)
    (study / "manifest.json").unlink()
    (study / "figures").mkdir()
    (study / "figures" / "index.json").write_text('{"figures": [], "skipped": [{"name": "engstrom", '
                                                  '"reason": "needs random-k rows"}]}')
    html_path, md_path = write_report(study, figures=False)
    html = html_path.read_text()
    assert '<section id="skipped">' in html and "needs random-k rows" in html
    assert "## Figures not made" in md_path.read_text()
    assert '<section id="curves">' not in html
    assert "None: every finished run completed." in html
    assert "<p>No figures.</p>" in html  # figures=False and none made before
    assert "Backend</dt><dd>–" in html


def test_report_on_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(InvarianceError, match="study_dir: must be a study results folder"):
        write_report(tmp_path / "missing")


def test_cli_report_prints_both_paths(report):
    study = report[0]
    result = CliRunner().invoke(cli, ["report", str(study), "--no-figures"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-2:] == [str(study / "report.html"), str(study / "report.md")]


def test_cli_report_error_names_the_argument(tmp_path):
    result = CliRunner().invoke(cli, ["report", str(tmp_path / "nope")])
    assert isinstance(result.exception, InvarianceError)
    assert str(result.exception).startswith("RESULTS_DIR: must be a study results folder")


def test_cli_filters_writes_png_and_svg(tmp_path):
    import keras

    x = keras.Input((8, 8, 1))
    y = keras.layers.Conv2D(4, 3, name="block1_conv1")(x)
    model = keras.Model(x, keras.layers.Dense(2, name="logits")(keras.layers.GlobalAveragePooling2D()(y)))
    model.save(tmp_path / "m.keras")
    out = tmp_path / "f.png"
    result = CliRunner().invoke(cli, ["filters", str(tmp_path / "m.keras"), "--out", str(out), "--pca", "2"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"\x89PNG" and (tmp_path / "f.svg").is_file()
    assert result.output.split() == [str(out), str(tmp_path / "f.svg")]
    bad = CliRunner().invoke(cli, ["filters", str(tmp_path / "m.keras"), "--out", str(tmp_path / "f.jpg")])
    assert "--out: must be a .png path" in str(bad.exception)
    too_many = CliRunner().invoke(cli, ["filters", str(tmp_path / "m.keras"), "--out", str(out), "--pca", "99"])
    assert str(too_many.exception).startswith("--pca: must be between 1 and 4")


def test_grid_consistency_findings_name_the_grid():
    runs, inv = _hand_tables()
    grid = inv[inv["sweep"] == "dx"].assign(sweep="tmap")
    grid_acc = grid.assign(metric="grid_accuracy", value=0.3)
    groups = dict(F.key_findings(runs, pd.concat([inv, grid, grid_acc])))
    assert "Grid tmap" in groups
    assert groups["Grid tmap"][0].startswith("Without augmentation, A has the highest mean consistency over grid "
                                             "'tmap' (0.41 ± 0.01)")
    assert groups["Grid tmap"][1].startswith("Over grid 'tmap', augmentation geo changed")


def test_curves_table_formats_wild_fits_compactly():
    from invariance.report.tables import curves_table

    curves = pd.DataFrame({"model": ["m"], "augmentation": ["none"], "a": [0.1], "a_lo": [0.05], "a_hi": [0.2],
                           "b": [2.4e11], "c": [0.5], "target_accuracy": [0.85], "samples_to_target": [3210.4],
                           "samples_to_target_lo": [2000.0], "samples_to_target_hi": [5000.0]})
    row = curves_table(curves).iloc[0]
    assert row["a"] == "0.100 [0.050, 0.200]"
    assert row["b"] == "2.4e+11"
    assert row["samples to 85%"] == "3,210 [2,000, 5,000]"
