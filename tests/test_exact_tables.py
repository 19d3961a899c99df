"""scripts/exact_tables.py: the exact-invariance study's README blocks, on a synthetic reference
with known answers (exact power laws, so the data ratios have closed forms)."""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pandas as pd
import pytest
from exact_reference import APS, MAX, ONLY_AT_16K, P4, SIZES, err, write_exact_reference

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "exact_tables.py"


@pytest.fixture(scope="module")
def exact():
    spec = importlib.util.spec_from_file_location("exact_tables", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    return write_exact_reference(tmp_path_factory.mktemp("reference"))


def test_per_run_measures(exact, ref):
    df = exact.per_run(ref).set_index(["model", "augmentation", "n_train", "seed"])
    row = df.loc[(P4, "none", 16000, 0)]
    assert row["quarter"] == 1.0 and row["rotation"] == 0.70 and row["circular"] == 0.90
    assert row["rotated_accuracy"] == pytest.approx(1 - err((0.40, 6.0, 0.5), 14400))
    assert df.loc[(P4, "rotate", 500, 2), "rotated_accuracy"] == pytest.approx(1 - err((0.15, 5.0, 0.5), 450))
    assert df.loc[(MAX, "shift", 16000, 1), "circular"] == pytest.approx(0.90)
    assert df.loc[(MAX, "shift", 16000, 1), "zero_fill"] == pytest.approx(0.88)
    assert len(df) == 3 * (4 * len(SIZES) + len(ONLY_AT_16K))


def test_shift_table_marks_exact_invariance_and_pairs_designs_with_max(exact, ref):
    text = exact.shifts(ref)
    assert "| `aps` | " in text and "**1.000 exactly** (3 runs)" in text
    assert "| `max` | 86.7 ± 0.0 | 0.800 ± 0.000 | 0.780 ± 0.000 | 0.900 ± 0.000 | 7.84M |" in text
    paired = exact.shifts_paired(ref)
    assert ("- `aps` − `max`, points: circular +20.0 (95% CI +20.0 to +20.0, 3 seeds); zero fill +18.0 (95% CI +18.0 "
            "to +18.0, 3 seeds); pairs +5.0") in paired
    assert "- shift augmentation, `max`: circular +10.0 (95% CI +10.0 to +10.0, 3 seeds)" in paired
    assert "- shift augmentation, `aps`: circular 0 (both exactly 1.000); zero fill" in paired  # not a measured tie


def test_rotation_table_and_the_built_in_against_learned_difference(exact, ref):
    text = exact.rotations(ref)
    assert "| `p4` | 24,000 | 30.4M |" in text and "**1.000 exactly** (3 runs)" in text
    paired = exact.rotations_paired(ref)
    matched = 100 * (err((0.15, 10.0, 0.5), 14400) - err((0.15, 5.0, 0.5), 14400))
    assert f"- p4 − plain, both with rotation augmentation, points: rotated accuracy +{matched:.1f}" in paired
    built = 100 * (err((0.15, 10.0, 0.5), 14400) - err((0.40, 6.0, 0.5), 14400))
    assert f"- built in (p4) − learned (plain + rotate), points: rotated accuracy −{abs(built):.1f}" in paired


def test_data_ratios_are_the_closed_form_inside_the_measured_range(exact, ref):
    # rotated error, both with rotation augmentation: p4 0.15 + 5/sqrt(n), plain 0.15 + 10/sqrt(n):
    # p4 needs (5/10)^2 = 0.25x the data
    df = exact.per_run(ref)
    row, target = exact.data_ratio(df, (P4, "rotate"), (MAX, "rotate"), "rotated_accuracy")
    assert target == 0.75  # plain + rotate reaches 76.7% at n_fit 14,400: floor -> 76, less a point
    assert row["efficiency_ratio"] == pytest.approx(0.25, rel=1e-3)
    assert row["efficiency_ratio_lo"] == pytest.approx(0.25, rel=1e-3)  # exact curves: the CI collapses
    assert row["efficiency_summary"].startswith(
        f"{P4} needs 0.25x the data of {MAX} to reach 75% with augmentation rotate (95% CI 0.25x to 0.25x, 3 seeds)")
    row, target = exact.data_ratio(df, (APS, "none"), (MAX, "none"), "test_accuracy")
    assert target == 0.85 and row["efficiency_ratio"] == pytest.approx(1.21, rel=1e-3)
    text = exact.data_cost(ref)
    assert "- rotated accuracy, target 75%: " in text and "- test accuracy, target 85%: " in text


def test_verdict_says_exact_and_the_direction_with_its_interval(exact, ref):
    text = exact.verdict(ref)
    assert "circular-shift consistency **1.000 in every run** (15 runs)" in text
    assert "quarter-turn consistency **1.000 in every run** (15 runs)" in text
    assert "Built in (p4, no augmentation) − learned (plain + rotate): **lower**" in text
    assert ("p4 − plain, both trained with rotation augmentation (Cohen & Welling's direction: p4 higher): "
            "**reproduced** (+4.2 (95% CI +4.2 to +4.2, 3 seeds))") in text


def test_verdict_names_the_runs_that_stopped_before_their_plateau(exact, ref, tmp_path):
    assert "under-trained" not in exact.verdict(ref)  # every synthetic run converged
    copy = tmp_path / "exact_invariance"
    copy.mkdir()
    for f in ("invariance.csv", "manifest.json"):
        (copy / f).write_bytes((ref / "exact_invariance" / f).read_bytes())
    runs = pd.read_csv(ref / "exact_invariance" / "runs.csv")
    runs.loc[(runs["model"] == P4) & (runs["n_train"] == 16000) & (runs["augmentation"] == "none"), "converged"] = False
    runs.to_csv(copy / "runs.csv", index=False)
    assert exact.verdict(tmp_path).endswith(
        f"*3 of {len(runs)} runs did not converge (`{P4}` none (3)): "
        "comparisons involving them are with under-trained models.*")


def test_verdict_without_the_exact_designs_claims_nothing(exact, ref, tmp_path):
    """A reference holding only the plain CNN (as a part of the study would) must not read as
    'not exact' or as 'no detectable difference'."""
    copy = tmp_path / "exact_invariance"
    copy.mkdir()
    (copy / "manifest.json").write_bytes((ref / "exact_invariance" / "manifest.json").read_bytes())
    for f in ("runs.csv", "invariance.csv"):
        df = pd.read_csv(ref / "exact_invariance" / f)
        df[df["model"] == MAX].to_csv(copy / f, index=False)
    text = exact.verdict(tmp_path)
    assert "circular-shift consistency **not measured** (0 of 0 runs)" in text
    assert "quarter-turn consistency **not measured** (0 of 0 runs)" in text
    assert "not exact" not in text and "no detectable difference" not in text
    assert text.count("**not testable (no interval)**") == 2


@pytest.mark.parametrize("values, text", [
    ([1.0, 1.0, 1.0], "**1.000 in every run** (3 runs)"),
    ([1.0, 1.0, float("nan")], "**1.000 in every measured run** (2 of 3 runs)"),
    ([1.0, 0.99, float("nan")], "**not exact** (min 0.9900, 2 of 3 runs measured)"),
    ([], "**not measured** (0 of 0 runs)"),
])
def test_exactness_wording(exact, values, text):
    assert exact._exactness(pd.Series(values, dtype=float)) == text


def test_tradeoff_table_feeds_the_figure(exact, ref):
    from invariance.plots import plot_tradeoff

    df = exact.tradeoff_table(ref).set_index("design")
    assert df.loc["aps", "gain"] == pytest.approx(20.0) and df.loc["aps", "kind"] == "architecture"
    assert df.loc["max + rotate", "kind"] == "augmentation" and df.loc["p4 + rotate", "kind"] == "both"
    assert df.loc["p4 + rotate", "data_ratio"] == pytest.approx(0.25, rel=1e-3)
    # each ratio names its reference: the rotation designs are priced against the same training
    assert df.loc["p4 + rotate", "data_reference"] == "max + rotate" and df.loc["aps", "data_reference"] == "max"
    assert df.loc["blur", "data_reference"] == ""
    assert math.isnan(df.loc["p4", "data_ratio"])  # measured at 16000 only
    assert math.isnan(df.loc["blur", "data_ratio"])
    assert "max" not in df.index  # the baseline
    assert plot_tradeoff(df.reset_index(), baseline="max").axes


def test_export_draws_the_tradeoff_figure(ref, tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("export_reference", SCRIPT.parent / "export_reference.py")
    export = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(export)
    monkeypatch.setattr(export, "tree_changes", lambda: [])  # the tests' tree may have uncommitted edits
    out = export.export(ref / "exact_invariance", tmp_path / "reference")
    assert (out / "figures" / "tradeoff.png").stat().st_size > 10_000


def test_study_labels_map_onto_the_designs_the_tables_know(exact):
    import yaml

    study = yaml.safe_load((SCRIPT.parents[1] / "studies" / "exact_invariance.yaml").read_text())
    labels = {e["model"] for e in study["exclude"]}
    assert labels <= set(exact.DESIGNS)
