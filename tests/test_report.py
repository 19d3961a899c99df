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


def _hand_tables(hand=HAND):
    runs, inv = [], []
    for (model, aug), seeds in hand.items():
        for seed, (acc, cons, worst) in enumerate(seeds):
            rid = f"{model}-{aug}-{seed}"
            runs.append(dict(run_id=rid, model=model, augmentation=aug, n_train=100, seed=seed, status="completed",
                             reason="", test_accuracy=acc, train_accuracy=acc + 0.05, params=1000))
            base = dict(run_id=rid, model=model, augmentation=aug, n_train=100, seed=seed, layer="",
                        dx=np.nan, dy=np.nan, angle=np.nan, scale=np.nan, n=10)
            inv.append({**base, "sweep": "dx", "metric": "mean_consistency", "value": cons})
            # clean accuracy on the evaluation images: 0.01 below the full test set's
            inv.append({**base, "sweep": "clean", "dx": 0, "dy": 0, "angle": 0, "scale": 1, "metric": "accuracy",
                        "value": acc - 0.01})
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
        "The highest test accuracy is not separable between A without augmentation (0.910 ± 0.014), A with geo "
        "(0.905 ± 0.000), B without augmentation (0.800 ± 0.000) (first two: no detectable difference (A/none − "
        "A/geo: +0.5 points, 95% CI −12.2 to +13.2, 2 seeds)).",
        "The lowest test accuracy is not separable between B with geo (0.710 ± 0.014), B without augmentation "
        "(0.800 ± 0.000) (first two: no detectable difference (B/geo − B/none: −9.0 points, 95% CI −21.7 to "
        "+3.7, 2 seeds))."]
    assert F.architecture_findings(table, "dx") == [
        "Without augmentation, A has the highest mean horizontal-shift consistency (0.41 ± 0.01, 2 seeds), separable "
        "from the runner-up B (A − B: +0.21, 95% CI +0.08 to +0.34, 2 seeds); accuracy on the evaluation images: no "
        "detectable difference (A − B: +11.0 points, 95% CI −1.7 to +23.7, 2 seeds)."]
    assert F.lever_findings(table, "dx") == [
        "Along dx, augmentation geo changed mean horizontal-shift consistency on average over 2 models (+0.16, 95% CI "
        "+0.03 to +0.29, 2 seeds), and the spread between architectures without augmentation is A − B (+0.21, 95% CI "
        "+0.08 to +0.34, 2 seeds): augmentation moves it less than the choice of architecture (|augmentation| − "
        "architecture: −0.05, 95% CI −0.05 to −0.05, 2 seeds)."]
    assert F.augmentation_findings(table, "dx") == [
        "Augmentation geo made no detectable difference to A's mean horizontal-shift consistency (0.41 to 0.63; "
        "with − without: +0.22, 95% CI −0.03 to +0.47, 2 seeds); accuracy on the evaluation images: no detectable "
        "difference (with − without: −0.5 points, 95% CI −13.2 to +12.2, 2 seeds).",
        "Augmentation geo raised B's mean horizontal-shift consistency from 0.20 to 0.30 (with − without: +0.10, "
        "95% CI +0.10 to +0.10, 2 seeds); accuracy on the evaluation images: no detectable difference (with − "
        "without: −9.0 points, 95% CI −21.7 to +3.7, 2 seeds)."]
    # The drop is clean accuracy minus worst-of-k, both on the evaluation images (0.900, not the
    # full test set's 0.910).
    assert F.robustness_findings(table, k=10) == [
        "Under the worst-of-10 attack without augmentation, on the evaluation images, A loses the most accuracy "
        "(0.900 → 0.500), more than B (0.790 → 0.600; drop A − B: +21.0 points, 95% CI +8.3 to +33.7, 2 seeds)."]
    assert F.failure_findings(runs) == [
        "1 of 9 runs failed; they are listed with their reasons under Failed runs."]
    assert F.unconverged_findings(runs) == []  # no converged column: not recorded, not flagged


def test_key_findings_groups_and_orders_sentences():
    runs, inv = _hand_tables()
    curves = pd.DataFrame({"model": ["A"], "augmentation": ["none"],
                           "target_summary": ["A reaches 85% at ≈3,200 training images (95% CI 2,100 to 4,400, "
                                              "2 seeds)"], "efficiency_summary": [""]})
    learning = pd.DataFrame({"model": ["A", "A", "B", "B"], "augmentation": ["none"] * 4, "n_train": [10, 10, 10, 10],
                             "seed": [0, 1, 0, 1], "generalization_gap": [0.1, 0.3, 0.05, 0.05]})
    learning = pd.concat([learning, learning.assign(n_train=100)])
    groups = F.key_findings(runs.assign(converged=[True] * 7 + [False, None]), inv, curves=curves, learning=learning,
                            k=10)
    assert [h for h, _ in groups] == ["Unconverged runs", "The lecture's claims", "Accuracy", "Horizontal shift (dx)", "Spatial robustness",
                                      "Data hunger", "Failures"]
    assert dict(groups)["Unconverged runs"] == [
        "1 of 8 completed runs stopped before converging: B with geo (1 of 2 seeds: 1). Every comparison that "
        "involves them measures the training budget, not the design, and says so."]
    assert len(dict(groups)["Horizontal shift (dx)"]) == 1 + 1 + 2
    assert dict(groups)["Data hunger"] == [
        "A reaches 85% at ≈3,200 training images (95% CI 2,100 to 4,400, 2 seeds).",
        "With the fewest training images (10), the largest train − test accuracy gap is not separable between A "
        "(0.200 ± 0.141), B (0.050 ± 0.000) (first two: no detectable difference (A − B: +15.0 points, 95% CI "
        "−112.1 to +142.1, 2 seeds))."]


def test_data_hunger_sentences_flag_curves_with_unconverged_runs():
    curves = pd.DataFrame({"model": ["A", "B"], "augmentation": ["none"] * 2, "reference": ["A"] * 2,
                           "target_summary": ["A reaches 85% at ≈3,200 training images", "B reaches 85% at ≈9,000 "
                                              "training images"],
                           "efficiency_summary": ["", "B needs 2.8x the data of A to reach 85%"]})
    runs = pd.DataFrame({"run_id": list("abcd"), "model": ["A", "A", "B", "B"], "augmentation": ["none"] * 4,
                         "n_train": [100, 1000] * 2, "seed": [0] * 4, "status": ["completed"] * 4,
                         "test_accuracy": [0.8, 0.9, 0.7, 0.85], "converged": ["True", "True", "True", "False"],
                         "stop_reason": ["plateau", "plateau", "plateau", "cap"]})
    assert F.learning_curve_findings(curves, runs=F.per_run_table(runs)) == [
        "A reaches 85% at ≈3,200 training images.",
        "B reaches 85% at ≈9,000 training images; B stopped at the cap before converging (1 of 2 runs); this "
        "estimate measures the budget.",
        "B needs 2.8x the data of A to reach 85%; B stopped at the cap before converging (1 of 2 runs); this "
        "comparison measures the budget."]
    assert F.learning_curve_findings(curves, runs=F.per_run_table(runs.drop(columns="converged")))[1] == \
        "B reaches 85% at ≈9,000 training images."


def per_seed_table(a_values, b_values, *, converged_b=None):
    rows = []
    for model, vals in (("A", a_values), ("B", b_values)):
        for seed, v in enumerate(vals):
            row = dict(run_id=f"{model}{seed}", model=model, augmentation="none", n_train=100, seed=seed,
                       status="completed", reason="", test_accuracy=v, train_accuracy=v)
            if converged_b is not None:
                row["converged"] = converged_b[seed] if model == "B" else True
                row["stop_reason"] = "cap" if model == "B" and not converged_b[seed] else "plateau"
            rows.append(row)
    return pd.DataFrame(rows)


def test_a_difference_smaller_than_the_seed_noise_is_no_detectable_difference():
    # B − A per seed: +0.02, −0.01, +0.005; the seeds scatter by ~0.05, so nothing is decided.
    runs = per_seed_table([0.85, 0.90, 0.80], [0.87, 0.89, 0.805])
    table = F.per_run_table(runs)
    d = F.compare(table, "test_accuracy", ("A", "none"), ("B", "none"))
    assert d.n == 3 and not d.detected
    assert F.accuracy_findings(table) == [
        # by hand: mean +0.005, sd 0.015, t(0.975, 2) = 4.303: half-width 0.0373
        "The highest test accuracy is not separable between B (0.855 ± 0.044), A (0.850 ± 0.050) (first two: no "
        "detectable difference (B − A: +0.5 points, 95% CI −3.2 to +4.2, 3 seeds))."]
    # The same spread between seeds with a consistent per-seed lead is separable.
    runs = per_seed_table([0.85, 0.90, 0.80], [0.86, 0.91, 0.81])
    assert F.accuracy_findings(F.per_run_table(runs))[0].startswith(
        "B has the highest test accuracy (0.860 ± 0.050, 3 seeds), separable from the runner-up A (B − A: +1.0 "
        "points, 95% CI +1.0 to +1.0, 3 seeds)")


def test_a_tie_is_cited_by_the_pair_that_cannot_be_told_apart():
    # Lowest by mean: A (0.62), then B (0.67), then C (0.70). B − A is +0.05 on every seed, so B is
    # separable; C − A scatters (−0.10, +0.28, +0.06), so C is not. The tie must be cited by A − C.
    rows = []
    for model, vals in (("A", [0.60, 0.62, 0.64]), ("B", [0.65, 0.67, 0.69]), ("C", [0.50, 0.90, 0.70])):
        rows += [dict(run_id=f"{model}{seed}", model=model, augmentation="none", n_train=100, seed=seed,
                      status="completed", reason="", test_accuracy=v, train_accuracy=v) for seed, v in enumerate(vals)]
    table = F.per_run_table(pd.DataFrame(rows))
    # by hand: A − C per seed +0.10, −0.28, −0.06: mean −0.08, sd 0.1908, half-width 4.303 × 0.1908/√3 = 0.474
    assert F.accuracy_findings(table)[1] == (
        "The lowest test accuracy is not separable between A (0.620 ± 0.020), C (0.700 ± 0.200) (no detectable "
        "difference (A − C: −8.0 points, 95% CI −55.4 to +39.4, 3 seeds)), although B (0.670 ± 0.020), nearer by "
        "mean, is separable (A − B: −5.0 points, 95% CI −5.0 to −5.0, 3 seeds).")


def test_a_tied_largest_drop_is_cited_by_the_pair_that_cannot_be_told_apart():
    # drops (clean on the evaluation images − worst-of-10): A 0.39, 0.41, 0.43; B 0.34, 0.36,
    # 0.38 (A − B: +0.05 on every seed, separable); C 0.49, 0.09, 0.29 (A − C scatters).
    hand = {("A", "none"): [(0.90, 0.4, 0.50), (0.92, 0.4, 0.50), (0.94, 0.4, 0.50)],
            ("B", "none"): [(0.90, 0.4, 0.55), (0.92, 0.4, 0.55), (0.94, 0.4, 0.55)],
            ("C", "none"): [(0.90, 0.4, 0.40), (0.90, 0.4, 0.80), (0.90, 0.4, 0.60)]}
    runs, inv = _hand_tables(hand)
    table = F.per_run_table(runs, inv)
    [sentence] = F.robustness_findings(table, k=10)
    assert "the largest accuracy loss is not separable between A (0.910 → 0.500), C (0.890 → 0.600) " \
           "(no detectable difference (drop A − C: " in sentence
    assert "although B (0.910 → 0.550), nearer by mean, is separable (drop A − B: +5.0 points, 95% CI +5.0 " \
           "to +5.0, 3 seeds)." in sentence


def test_a_budget_stopped_run_is_flagged_in_every_comparison_with_it():
    runs = per_seed_table([0.85, 0.90, 0.80], [0.70, 0.74, 0.66], converged_b=[False, False, True])
    sentence = F.accuracy_findings(F.per_run_table(runs))[0]
    assert sentence.startswith("A has the highest test accuracy (0.850 ± 0.050, 3 seeds), separable from the "
                               "runner-up B (A − B: +15.0 points")
    assert sentence.endswith("; B stopped at the cap before converging (2 of 3 seeds); this comparison measures "
                             "the budget.")
    assert F.unconverged_findings(runs) == [
        "2 of 6 completed runs stopped before converging: B (2 of 3 seeds: 0, 1; stopped by cap). Every comparison "
        "that involves them measures the training budget, not the design, and says so."]
    as_text = runs.assign(converged=runs["converged"].map({True: "True", False: "False"}))  # as read from CSV
    assert F.accuracy_findings(F.per_run_table(as_text))[0] == sentence


def test_findings_only_compare_runs_at_the_largest_n_train():
    runs, inv = _hand_tables()
    small = runs.assign(n_train=10, run_id=runs["run_id"] + "-small", test_accuracy=0.99)
    table = F.per_run_table(pd.concat([runs, small]), inv)
    assert "0.910" in F.accuracy_findings(table)[0] and "0.99" not in " ".join(F.accuracy_findings(table))


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
    assert "cnn_pool has the highest mean horizontal-shift consistency" in html or \
        "the highest mean horizontal-shift consistency is not separable between" in html
    assert "95% CI" in html and "seeds" in html


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
                                             "'tmap' (0.41 ± 0.01, 2 seeds)")
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


def test_curves_table_never_quotes_a_target_beyond_twice_the_measured_range():
    from invariance.report.tables import curves_table

    curves = pd.DataFrame({"model": ["ref", "m"], "augmentation": ["none"] * 2, "n_seeds": [3, 3], "a": [0.1] * 2,
                           "b": [1.0] * 2, "c": [0.5] * 2, "target_accuracy": [0.85] * 2, "max_n_fit": [16000] * 2,
                           "samples_to_target": [3000.0, 54000.0], "target_status": ["interpolated", "beyond_range"],
                           "samples_to_target_loso_min": [2800.0, 20000.0],
                           "samples_to_target_loso_max": [3300.0, 40000.0],
                           "efficiency_ratio": [1.0, np.nan], "efficiency_note": ["reference", "excluded: m: ..."]})
    ref, m = curves_table(curves).to_dict("records")
    assert (ref["samples to 85%"], ref["leave-one-size-out"], ref["data vs reference"]) == \
        ("3,000", "2,800 to 3,300", "reference")
    assert m["samples to 85%"] == "not reached (the fit suggests ≈ 54,000)"
    assert (m["leave-one-size-out"], m["data vs reference"], m["seeds"]) == ("20,000 to beyond range", "excluded", "3")


def test_chance_level_runs_are_listed_first():
    from invariance.report.findings import key_findings

    runs = pd.DataFrame({"run_id": ["a", "b", "c"], "model": ["m1", "m2", "m2"], "augmentation": "none",
                         "n_train": 100, "seed": [0, 0, 1], "status": "completed",
                         "test_accuracy": [0.85, 0.11, 0.80]})
    groups = dict(key_findings(runs, num_classes=10))
    assert list(dict(key_findings(runs, num_classes=10)))[0] == "Chance-level runs"
    (sentence,) = groups["Chance-level runs"]
    assert sentence.startswith("1 of 3 completed runs are at chance level") and "m2, seed 0" in sentence
    assert "Chance-level runs" not in dict(key_findings(runs))  # unknown number of classes: no check
