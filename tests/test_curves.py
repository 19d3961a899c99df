"""Known-answer tests for the data-hunger curves (invariance.curves)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from invariance.curves import (CURVES_COLUMNS, bootstrap_fit, curves_table, efficiency_between, fit_curves,
                               fit_power_law, format_n, format_ratio, interval, learning_curve_table, power_law,
                               resolve_reference, sample_efficiency_ratio, samples_to_target)
from invariance.errors import InvarianceError, SpecError
from invariance.results import read_table, write_curves

NS = (250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 60000)
TRUE = {"cnn_pool": (0.08, 2.0, 0.45), "mlp": (0.11, 3.0, 0.35), "vit_tiny": (0.16, 4.0, 0.40)}


def closed_form_n(a, b, c, target):
    return (b / ((1 - target) - a)) ** (1 / c)


def synthetic_runs(*, models=TRUE, augmentations=("none",), ns=NS, seeds=(0, 1, 2), noise=0.0, rng_seed=0):
    """A runs table whose test accuracies follow 1 - (a + b*n^-c) (+ seeded noise) in n = n_fit, the
    images trained on; n_train (the subset before a 10% validation split) is n / 0.9."""
    rng = np.random.default_rng(rng_seed)
    rows = []
    for model, (a, b, c) in models.items():
        for aug in augmentations:
            for n in ns:
                for seed in seeds:
                    acc = 1 - float(power_law(n, a, b, c)) + (rng.normal(0, noise) if noise else 0.0)
                    rows.append(dict(run_id=f"{model}-{aug}-{n}-{seed}", model=model, augmentation=aug,
                                     n_train=int(round(n / 0.9)), n_fit=n, seed=seed, status="completed", reason="",
                                     test_accuracy=acc,
                                     train_accuracy=min(1.0, acc + 0.05), params=100, macs=200,
                                     train_seconds=1.0, epochs_run=3))
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# fit_power_law


@pytest.mark.parametrize("a, b, c", [(0.08, 2.0, 0.45), (0.0, 1.5, 0.3), (0.2, 10.0, 0.8), (0.05, 0.5, 0.1),
                                     (0.11, 3.0, 1.5)])
def test_fit_recovers_exact_power_law(a, b, c):
    n = np.array(NS, dtype=float)
    fit = fit_power_law(n, power_law(n, a, b, c))
    assert fit.a == pytest.approx(a, abs=1e-7)
    assert fit.b == pytest.approx(b, rel=1e-6)
    assert fit.c == pytest.approx(c, rel=1e-6)
    assert fit(n) == pytest.approx(power_law(n, a, b, c), abs=1e-9)


def test_fit_recovers_noisy_power_law_loosely():
    runs = synthetic_runs(models={"m": (0.08, 2.0, 0.45)}, seeds=range(5), noise=0.003, rng_seed=1)
    fit = fit_power_law(runs["n_fit"], 1 - runs["test_accuracy"])
    assert fit.a == pytest.approx(0.08, abs=0.01)
    assert fit.c == pytest.approx(0.45, abs=0.08)
    assert fit(60000) == pytest.approx(power_law(60000, 0.08, 2.0, 0.45), abs=0.003)


def test_fitting_all_seed_points_equals_fitting_means_weighted_by_seeds():
    runs = synthetic_runs(models={"m": (0.1, 2.0, 0.4)}, seeds=range(3), noise=0.01, rng_seed=2)
    runs = runs[~((runs["n_fit"] == 500) & (runs["seed"] > 0))]  # unequal seed counts
    all_points = fit_power_law(runs["n_fit"], 1 - runs["test_accuracy"])
    g = runs.assign(err=1 - runs["test_accuracy"]).groupby("n_fit")["err"]
    means = fit_power_law(g.mean().index, g.mean().values, weights=g.count().values)
    assert means == pytest.approx(all_points, rel=1e-5)


def test_fit_is_deterministic():
    runs = synthetic_runs(models={"m": (0.1, 2.0, 0.4)}, noise=0.01)
    first = fit_power_law(runs["n_fit"], 1 - runs["test_accuracy"])
    assert fit_power_law(runs["n_fit"], 1 - runs["test_accuracy"]) == first


def test_fit_keeps_its_bounds():
    n = np.array([100, 1000, 10000.0])
    rising = fit_power_law(n, [0.10, 0.20, 0.30])  # error grows with n: best allowed is flat
    assert rising.b == 0 and rising.a == pytest.approx(0.2)
    assert fit_power_law(n, [1.5, 1.4, 1.3]).a <= 1.0
    assert fit_power_law(n, [0.5, 0.2, 0.01]).a >= 0.0


@pytest.mark.parametrize("n, err, weights, match", [
    ([1000, 1000, 2000, 2000], [0.2, 0.21, 0.15, 0.16], None, "at least 3 distinct n"),
    ([250, 500, 1000], [0.3, 0.2, 0.15], [1, 1, 0], "at least 3 distinct n"),
    ([250, 500], [0.3, 0.2, 0.1], None, "same length"),
    ([250, 500, 1000], [0.3, np.nan, 0.1], None, "err must be finite"),
    ([0, 500, 1000], [0.3, 0.2, 0.1], None, "n must be > 0"),
    ([250, 500, 1000], [0.3, 0.2, 0.1], [1, -1, 1], "weights must be >= 0"),
])
def test_fit_rejects_degenerate_input(n, err, weights, match):
    with pytest.raises(InvarianceError, match=match):
        fit_power_law(n, err, weights=weights)


# ---------------------------------------------------------------------------------------------
# samples_to_target


@pytest.mark.parametrize("a, b, c, target", [(0.08, 2.0, 0.45, 0.85), (0.11, 3.0, 0.35, 0.85),
                                             (0.0, 1.0, 0.5, 0.9), (0.05, 5.0, 0.7, 0.92)])
def test_samples_to_target_matches_closed_form(a, b, c, target):
    t = samples_to_target(a, b, c, target)
    assert t.n == pytest.approx(closed_form_n(a, b, c, target), rel=1e-12)
    assert float(power_law(t.n, a, b, c)) == pytest.approx(1 - target, abs=1e-12)
    assert t.status == "fitted"


def test_samples_to_target_on_a_fitted_exact_curve():
    n = np.array(NS, dtype=float)
    fit = fit_power_law(n, power_law(n, 0.08, 2.0, 0.45))
    t = samples_to_target(*fit, 0.85, n_range=(250, 60000))
    assert t.n == pytest.approx(closed_form_n(0.08, 2.0, 0.45, 0.85), rel=1e-5)
    assert (t.status, t.note) == ("interpolated", "")


def test_samples_to_target_says_when_out_of_range():
    near = samples_to_target(0.11, 3.0, 0.35, 0.83, n_range=(250, 60000))  # n ~ 71,600: within 2x
    assert near.status == "extrapolated" and 60000 < near.n < 120000
    assert "extrapolated beyond the largest measured n=60000" in near.note
    beyond = samples_to_target(0.11, 3.0, 0.35, 0.85, n_range=(250, 60000))  # n ~ 228,000: beyond 2x
    assert beyond.status == "beyond_range" and beyond.n == pytest.approx(closed_form_n(0.11, 3.0, 0.35, 0.85))
    assert beyond.note == (f"not reached within the measured range (the fit suggests ≈ {format_n(beyond.n)}; "
                           f"largest measured n=60,000)")
    edge = closed_form_n(0.11, 3.0, 0.35, 0.85)
    assert samples_to_target(0.11, 3.0, 0.35, 0.85, n_range=(250, edge / 2 + 1)).status == "extrapolated"
    assert samples_to_target(0.11, 3.0, 0.35, 0.85, n_range=(250, edge / 2 - 1)).status == "beyond_range"
    below = samples_to_target(0.02, 1.0, 0.5, 0.85, n_range=(250, 60000))
    assert below.status == "extrapolated" and below.n < 250 and "below the smallest measured n=250" in below.note
    never = samples_to_target(0.16, 4.0, 0.4, 0.85, n_range=(250, 60000))
    assert never.status == "unreachable" and math.isinf(never.n)
    assert never.note.startswith("unreachable: the fitted asymptotic error 0.160")
    assert "target error 0.150" in never.note
    flat = samples_to_target(0.10, 0.0, 0.4, 0.85, n_range=(250, 60000))
    assert flat.n == 0 and flat.status == "extrapolated"
    assert samples_to_target(math.nan, math.nan, math.nan, 0.85).status == "no_fit"


@pytest.mark.parametrize("target", [0, 1, 85, -0.1, "high", None])
def test_samples_to_target_rejects_bad_targets(target):
    with pytest.raises(SpecError, match="^target: must be an accuracy between 0 and 1"):
        samples_to_target(0.1, 1.0, 0.5, target)


# ---------------------------------------------------------------------------------------------
# bootstrap


def one_curve(noise=0.005, seeds=range(3)):
    return synthetic_runs(models={"m": (0.08, 2.0, 0.45)}, seeds=seeds, noise=noise, rng_seed=3)


def test_bootstrap_is_seeded():
    df = one_curve()
    first = bootstrap_fit(df, n_boot=30, seed=7)
    again = bootstrap_fit(df, n_boot=30, seed=7)
    other = bootstrap_fit(df, n_boot=30, seed=8)
    pd.testing.assert_frame_equal(first.samples, again.samples)
    assert first.intervals == again.intervals
    assert first.intervals != other.intervals
    assert first.samples.shape == (30, 3) and list(first.samples.columns) == ["a", "b", "c"]


def test_bootstrap_intervals_cover_the_truth_and_contain_the_point_fit():
    df = one_curve(noise=0.004)
    boot = bootstrap_fit(df, n_boot=100, seed=0)
    lo, hi = boot.intervals["a"]
    assert lo < 0.08 < hi and hi - lo < 0.03
    lo, hi = boot.intervals["c"]
    assert lo < 0.45 < hi
    assert boot.resampled and boot.note == ""


def test_bootstrap_with_one_seed_per_size_has_no_interval():
    boot = bootstrap_fit(one_curve(seeds=[0]), n_boot=5, seed=0)
    assert not boot.resampled
    assert all(math.isnan(v) for pair in boot.intervals.values() for v in pair)
    assert boot.note == "one seed: no bootstrap CI (needs 2+ seeds)"


def test_bootstrap_rejects_mixed_curves_and_too_few_sizes():
    with pytest.raises(InvarianceError, match="one model"):
        bootstrap_fit(synthetic_runs(), n_boot=2)
    with pytest.raises(InvarianceError, match="at least 3 distinct n"):
        bootstrap_fit(synthetic_runs(models={"m": (0.1, 1, 0.5)}, ns=(100, 200)), n_boot=2)


def test_interval_handles_infinite_values():
    assert interval([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == (2.0, 4.0)
    lo, hi = interval([1.0, 2.0, np.inf, np.inf], 0.5)
    assert lo == pytest.approx(1.75) and hi == math.inf
    assert all(math.isnan(v) for v in interval([np.nan, np.nan]))


# ---------------------------------------------------------------------------------------------
# learning_curve_table


def tiny_tables():
    runs = pd.DataFrame([
        dict(run_id="r1", model="mlp", augmentation="none", n_train=500, seed=0, status="completed", reason="",
             test_accuracy=0.80, train_accuracy=0.95, params=10, macs=20, train_seconds=1.5, epochs_run=4),
        dict(run_id="r2", model="cnn_pool", augmentation="none", n_train=1000, seed=1, status="completed",
             reason="", test_accuracy=0.88, train_accuracy=0.90, params=30, macs=40, train_seconds=2.5, epochs_run=4),
        dict(run_id="r3", model="mlp", augmentation="none", n_train=1000, seed=0, status="failed",
             reason="diverged", test_accuracy=np.nan, train_accuracy=np.nan, params=10, macs=20,
             train_seconds=np.nan, epochs_run=1),
        dict(run_id="r4", model="cnn_pool", augmentation="none", n_train=250, seed=0, status="completed",
             reason="", test_accuracy=0.70, train_accuracy=1.00, params=30, macs=40, train_seconds=0.5, epochs_run=9),
    ])
    nan = np.nan

    def row(rid, sweep, metric, value, point=(nan, nan, nan, nan), layer=""):
        r = runs.set_index("run_id").loc[rid]
        return dict(sweep=sweep, dx=point[0], dy=point[1], angle=point[2], scale=point[3], metric=metric,
                    value=value, n=100, layer=layer, run_id=rid, model=r.model, augmentation=r.augmentation,
                    n_train=r.n_train, seed=r.seed)

    inv = pd.DataFrame([
        row("r1", "clean", "accuracy", 0.8, (0, 0, 0, 1)),
        row("r1", "dx", "consistency", 0.5, (1, 0, 0, 1)),
        row("r1", "dx", "mean_consistency", 0.61),
        row("r1", "angle", "mean_consistency", 0.72),
        row("r1", "translation_map", "grid_accuracy", 0.33),
        row("r1", "random_k", "worst_of_k_accuracy", 0.2),
        row("r2", "dx", "mean_consistency", 0.81),
        row("r2", "translation_map", "grid_accuracy", 0.55),
        row("r2", "equivariance", "equivariance_error", 0.1, (1, 0, 0, 1), layer="conv_1"),
        row("r3", "dx", "mean_consistency", 0.99),  # a failed run's rows are ignored
    ])
    return runs, inv


EXPECTED = pd.DataFrame({
    "run_id": ["r1", "r4", "r2"], "model": ["mlp", "cnn_pool", "cnn_pool"], "augmentation": ["none"] * 3,
    "n_train": [500, 250, 1000], "n_fit": [np.nan] * 3, "seed": [0, 0, 1], "test_accuracy": [0.80, 0.70, 0.88],
    "train_accuracy": [0.95, 1.00, 0.90], "generalization_gap": [0.95 - 0.80, 1.00 - 0.70, 0.90 - 0.88],
    "params": [10.0, 30.0, 30.0], "macs": [20.0, 40.0, 40.0], "train_seconds": [1.5, 0.5, 2.5],
    "mean_consistency_dx": [0.61, np.nan, 0.81], "mean_consistency_angle": [0.72, np.nan, np.nan],
    "grid_accuracy_translation_map": [0.33, np.nan, 0.55],
})


def test_learning_curve_table_exact_values():
    runs, inv = tiny_tables()
    table = learning_curve_table(runs, inv)
    pd.testing.assert_frame_equal(table, EXPECTED, check_dtype=False)
    assert table["n_train"].dtype == np.int64


def test_learning_curve_table_joins_on_keys_without_run_id():
    runs, inv = tiny_tables()
    table = learning_curve_table(runs.drop(columns="run_id"), inv.drop(columns="run_id"))
    pd.testing.assert_frame_equal(table.drop(columns="run_id"), EXPECTED.drop(columns="run_id"), check_dtype=False)


def test_learning_curve_table_without_invariance_and_with_missing_columns():
    runs, _ = tiny_tables()
    table = learning_curve_table(runs[["model", "augmentation", "n_train", "seed", "status", "test_accuracy"]])
    assert list(table.columns) == list(EXPECTED.columns[:12])
    assert table["train_accuracy"].isna().all() and len(table) == 3
    with pytest.raises(InvarianceError, match="missing column.*test_accuracy"):
        learning_curve_table(runs.drop(columns="test_accuracy"))


def test_read_table_keeps_labels_as_text(tmp_path):
    pd.DataFrame({"run_id": ["1e5", "007"], "model": ["NA", "None"], "augmentation": ["none", "nan"],
                  "n_train": [1, None]}).to_csv(tmp_path / "t.csv", index=False)
    back = read_table(tmp_path / "t.csv")
    assert back["run_id"].tolist() == ["1e5", "007"]
    assert back["model"].tolist() == ["NA", "None"] and back["augmentation"].tolist() == ["none", "nan"]
    assert back["n_train"].isna().tolist() == [False, True]


# ---------------------------------------------------------------------------------------------
# efficiency ratio and the curves table


def test_efficiency_ratio_of_two_exact_power_laws_is_the_closed_form_ratio():
    runs = synthetic_runs(models={"cnn_pool": TRUE["cnn_pool"], "mlp": TRUE["mlp"]}, seeds=(0, 1))
    fits = fit_curves(learning_curve_table(runs), n_boot=10, seed=0)
    ratios = sample_efficiency_ratio(fits, reference_model="cnn_pool", target=0.83).set_index("model")
    expected = closed_form_n(*TRUE["mlp"], 0.83) / closed_form_n(*TRUE["cnn_pool"], 0.83)
    assert ratios.loc["mlp", "efficiency_ratio"] == pytest.approx(expected, rel=1e-4)
    # Exact data: every bootstrap replicate is the same curve, so the CI collapses onto the ratio.
    assert ratios.loc["mlp", "efficiency_ratio_lo"] == pytest.approx(expected, rel=1e-4)
    assert ratios.loc["mlp", "efficiency_ratio_hi"] == pytest.approx(expected, rel=1e-4)
    assert ratios.loc["cnn_pool", "efficiency_ratio"] == 1.0
    r = format_ratio(expected)
    assert ratios.loc["mlp", "efficiency_summary"].startswith(
        f"mlp needs {r}x the data of cnn_pool to reach 83% (95% CI {r}x to {r}x, 2 seeds; mlp: extrapolated beyond "
        f"the largest measured n=60000)")


def test_a_ratio_beyond_twice_the_measured_range_is_excluded_not_quoted():
    runs = synthetic_runs(models={"cnn_pool": TRUE["cnn_pool"], "mlp": TRUE["mlp"]}, seeds=(0, 1))
    curves = curves_table(learning_curve_table(runs), target=0.85, n_boot=10, seed=0).set_index("model")
    mlp = curves.loc["mlp"]
    n = format_n(closed_form_n(*TRUE["mlp"], 0.85))  # ~228,000 > 2 x 60,000
    assert mlp["target_status"] == "beyond_range" and math.isnan(mlp["efficiency_ratio"])
    assert mlp["target_summary"] == f"mlp: 85% not reached within the measured range (the fit suggests ≈ {n})"
    assert mlp["efficiency_summary"] == (f"mlp: no efficiency ratio to cnn_pool at 85%: mlp not reached within the "
                                         f"measured range (the fit suggests ≈ {n})")
    assert mlp["efficiency_note"].startswith("excluded: mlp: not reached within the measured range")
    assert mlp["samples_to_target_hi"] == math.inf  # every replicate is beyond the range too


def test_a_ratio_whose_interval_covers_one_is_no_detectable_difference():
    runs = synthetic_runs(models={"cnn_pool": TRUE["cnn_pool"], "twin": TRUE["cnn_pool"]}, seeds=(0, 1, 2),
                          noise=0.004, rng_seed=4)
    ratios = sample_efficiency_ratio(fit_curves(learning_curve_table(runs), n_boot=50, seed=0),
                                     reference_model="cnn_pool", target=0.85).set_index("model")
    twin = ratios.loc["twin"]
    assert twin["efficiency_ratio_lo"] <= 1 <= twin["efficiency_ratio_hi"]
    assert twin["efficiency_summary"].startswith(
        f"twin and cnn_pool: no detectable difference in the data needed to reach 85% (ratio "
        f"{format_ratio(twin['efficiency_ratio'])}x, 95% CI {format_ratio(twin['efficiency_ratio_lo'])}x to "
        f"{format_ratio(twin['efficiency_ratio_hi'])}x, 3 seeds")


def test_efficiency_ratio_compares_within_augmentation_and_explains_gaps():
    runs = synthetic_runs(augmentations=("none", "geo"), seeds=(0, 1), noise=0.002)
    runs = runs[~((runs["model"] == "cnn_pool") & (runs["augmentation"] == "geo"))]
    fits = fit_curves(learning_curve_table(runs), n_boot=5, seed=0)
    r = sample_efficiency_ratio(fits, reference_model="cnn_pool", target=0.85).set_index(["model", "augmentation"])
    assert r.loc[("mlp", "geo"), "efficiency_note"] == "no cnn_pool curve with augmentation geo"
    assert math.isnan(r.loc[("mlp", "geo"), "efficiency_ratio"])
    assert r.loc[("vit_tiny", "none"), "efficiency_ratio"] == math.inf
    assert r.loc[("vit_tiny", "none"), "efficiency_summary"].startswith(
        "vit_tiny without augmentation does not reach 85% on its fitted curve (asymptotic accuracy 84")
    with pytest.raises(SpecError, match="reference_model: must be one of 'cnn_pool', 'mlp', 'vit_tiny'"):
        sample_efficiency_ratio(fits, reference_model="resnet", target=0.85)


def test_efficiency_between_two_curves_under_different_augmentations():
    # e.g. a p4 CNN without augmentation against a plain CNN with rotation augmentation
    runs = synthetic_runs(models={"cnn_pool": TRUE["cnn_pool"], "mlp": TRUE["mlp"]}, augmentations=("none", "geo"),
                          seeds=(0, 1))
    runs = runs[((runs["model"] == "cnn_pool") & (runs["augmentation"] == "geo"))
                | ((runs["model"] == "mlp") & (runs["augmentation"] == "none"))]
    fits = {(f.model, f.augmentation): f for f in fit_curves(learning_curve_table(runs), n_boot=10, seed=0)}
    row = efficiency_between(fits[("mlp", "none")], fits[("cnn_pool", "geo")], target=0.83)
    expected = closed_form_n(*TRUE["mlp"], 0.83) / closed_form_n(*TRUE["cnn_pool"], 0.83)
    assert row["efficiency_ratio"] == pytest.approx(expected, rel=1e-4)
    assert row["efficiency_ratio_lo"] == pytest.approx(expected, rel=1e-4)  # exact data: the CI collapses
    assert row["efficiency_summary"].startswith(
        f"mlp (none) needs {format_ratio(expected)}x the data of cnn_pool (geo) to reach 83% (95% CI")
    same = efficiency_between(fits[("mlp", "none")], fits[("mlp", "none")], target=0.83)
    assert same["efficiency_ratio"] == pytest.approx(1.0) and "no detectable difference" in same["efficiency_summary"]


@pytest.mark.parametrize("models, given, expected", [
    (["mlp", "cnn_pool", "vit_tiny"], None, "cnn_pool"),
    (["mlp", "cnn_pool[depth=3]", "cnn_pool[depth=2]"], None, "cnn_pool[depth=3]"),
    (["mlp", "vit_tiny"], None, "mlp"),
    (["mlp", "vit_tiny"], "vit_tiny", "vit_tiny"),
    ([], None, None),
])
def test_resolve_reference(models, given, expected):
    assert resolve_reference(models, given) == expected


def test_curves_table_columns_values_and_unfittable_curves():
    runs = synthetic_runs(models={"cnn_pool": TRUE["cnn_pool"], "mlp": TRUE["mlp"]}, seeds=(0, 1))
    few = synthetic_runs(models={"lenet5": (0.1, 1.0, 0.5)}, ns=(1000, 2000), seeds=(0,))
    table = learning_curve_table(pd.concat([runs, few]))  # duplicate index labels on purpose
    curves = curves_table(table, target=0.85, n_boot=10, seed=0).set_index("model")
    assert list(curves.reset_index().columns) == list(CURVES_COLUMNS)
    cnn = curves.loc["cnn_pool"]
    assert (cnn["a"], cnn["b"], cnn["c"]) == pytest.approx(TRUE["cnn_pool"], rel=1e-5)
    assert cnn["err_at_max_n_fit"] == pytest.approx(power_law(60000, *TRUE["cnn_pool"]), abs=1e-8)
    assert cnn["err_at_max_n_observed"] == pytest.approx(power_law(60000, *TRUE["cnn_pool"]), abs=1e-12)
    assert cnn["samples_to_target"] == pytest.approx(closed_form_n(*TRUE["cnn_pool"], 0.85), rel=1e-4)
    assert (cnn["target_status"], cnn["min_n_fit"], cnn["max_n_fit"], cnn["n_runs"], cnn["n_seeds"], cnn["n_column"]) \
        == ("interpolated", 250, 60000, 18, 2, "n_fit")
    n = format_n(cnn["samples_to_target"])
    # Exact data: dropping any one size refits the same curve, so the sensitivity range is one point.
    assert cnn["samples_to_target_loso_min"] == pytest.approx(cnn["samples_to_target"], rel=1e-4)
    assert cnn["samples_to_target_loso_max"] == pytest.approx(cnn["samples_to_target"], rel=1e-4)
    assert cnn["target_summary"] == (f"cnn_pool reaches 85% at ≈{n} training images (95% CI {n} to {n}, 2 seeds; "
                                     f"leave-one-size-out range {n} to {n})")
    lenet = curves.loc["lenet5"]
    assert math.isnan(lenet["a"]) and lenet["target_status"] == "no_fit"
    assert lenet["fit_note"] == "no fit: 2 distinct n_fit (1000, 2000); a power law needs at least 3"
    assert lenet["efficiency_note"] == "no fit for lenet5"


def test_curves_table_is_reproducible_per_curve():
    runs = synthetic_runs(seeds=(0, 1, 2), noise=0.004)
    table = learning_curve_table(runs)
    full = curves_table(table, n_boot=20, seed=5).set_index("model")
    alone = curves_table(table[table["model"] == "mlp"], n_boot=20, seed=5, reference="mlp").set_index("model")
    # A curve's CIs depend on the seed, the study's seeds and its own runs, not on the other curves' values.
    for col in ("a_lo", "a_hi", "c_lo", "samples_to_target_hi"):
        assert full.loc["mlp", col] == alone.loc["mlp", col]


# ---------------------------------------------------------------------------------------------
# write_curves


def write_study(folder: Path, runs: pd.DataFrame, inv: pd.DataFrame | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    runs.to_csv(folder / "runs.csv", index=False)
    if inv is not None:
        inv.to_csv(folder / "invariance.csv", index=False)
    return folder


def test_write_curves_writes_both_tables(tmp_path):
    runs, inv = tiny_tables()
    big = synthetic_runs(seeds=(0, 1), noise=0.003)
    study = write_study(tmp_path / "s", pd.concat([big, runs]), inv)
    lines = []
    lc, curves = write_curves(study, n_boot=10, seed=0, log=lines.append)
    assert sorted(p.name for p in study.iterdir()) == ["curves.csv", "invariance.csv", "learning_curves.csv",
                                                      "runs.csv"]
    pd.testing.assert_frame_equal(read_table(study / "learning_curves.csv"), lc, check_dtype=False)
    back = read_table(study / "curves.csv")
    assert list(back.columns) == list(CURVES_COLUMNS) and len(back) == len(curves) == 3
    assert back["samples_to_target"].tolist() == pytest.approx(curves["samples_to_target"].tolist(), nan_ok=True)
    assert "mean_consistency_dx" in lc.columns and len(lc) == len(big) + 3
    assert any("3 of 3 curves fitted" in line for line in lines)
    again = write_curves(study, n_boot=10, seed=0, log=lines.append)[1]
    pd.testing.assert_frame_equal(again, curves)


def test_write_curves_never_fails_on_thin_data(tmp_path):
    runs = synthetic_runs(ns=(1000,), seeds=(0,))
    lines = []
    lc, curves = write_curves(write_study(tmp_path / "one_n", runs), n_boot=5, log=lines.append)
    assert len(lc) == 3 and curves["a"].isna().all()
    assert (tmp_path / "one_n" / "curves.csv").exists()
    assert any(line.startswith("skipped mlp / none: no fit: 1 distinct n_fit (1000)") for line in lines)

    failed = runs.assign(status="failed")
    lc, curves = write_curves(write_study(tmp_path / "none_done", failed), log=lines.append)
    assert len(lc) == 0 and len(curves) == 0
    assert list(read_table(tmp_path / "none_done" / "curves.csv").columns) == list(CURVES_COLUMNS)
    assert "no completed runs: learning curves not fitted" in lines


def test_write_curves_rejects_bad_input(tmp_path):
    with pytest.raises(InvarianceError, match="does not exist"):
        write_curves(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvarianceError, match="has no runs.csv"):
        write_curves(tmp_path / "empty")
    study = write_study(tmp_path / "s", synthetic_runs(seeds=(0,)))
    with pytest.raises(SpecError, match="^reference: must be one of 'cnn_pool', 'mlp', 'vit_tiny'; received 'x'"):
        write_curves(study, reference="x")
    with pytest.raises(SpecError, match="^n_boot: must be >= 0"):
        write_curves(study, n_boot=-1)
    assert not (study / "curves.csv").exists()


def test_runs_without_a_size_are_kept_in_the_table_but_left_out_of_the_fit(tmp_path):
    runs = synthetic_runs(models={"mlp": TRUE["mlp"]}, seeds=(0, 1)).drop(columns="n_fit")  # an old table
    runs["n_train"] = runs["n_train"].astype("float").where(runs["n_train"] != round(60000 / 0.9))  # null: all
    runs.loc[0, "test_accuracy"] = np.nan
    lc, curves = write_curves(write_study(tmp_path / "s", runs), n_boot=5)
    assert len(lc) == 18 and lc["n_train"].isna().sum() == 2 and lc["n_fit"].isna().all()
    row = curves.iloc[0]
    assert row["n_runs"] == 15 and row["max_n_fit"] == round(32000 / 0.9) and row["n_column"] == "n_train"
    assert row["fit_note"] == ("n_fit not recorded: fitted on n_train (the subset size before the validation split); "
                               "2 run(s) with n_train null (all the data, size not recorded) left out; "
                               "1 run(s) without test_accuracy left out")


def test_curves_are_fitted_on_the_images_trained_on_and_fill_n_fit_from_metrics(tmp_path):
    import json

    runs = synthetic_runs(models={"cnn_pool": TRUE["cnn_pool"]}, seeds=(0, 1))
    study = write_study(tmp_path / "s", runs.drop(columns="n_fit"))
    for r in runs.itertuples():  # runs.csv lacks n_fit; each run's metrics.json has it
        (study / "runs" / r.run_id).mkdir(parents=True)
        (study / "runs" / r.run_id / "metrics.json").write_text(json.dumps({"n_fit": int(r.n_fit)}))
    lc, curves = write_curves(study, n_boot=5)
    assert lc["n_fit"].tolist() == runs["n_fit"].tolist()
    row = curves.iloc[0]
    assert (row["n_column"], row["min_n_fit"], row["max_n_fit"]) == ("n_fit", 250, 60000)
    assert row["samples_to_target"] == pytest.approx(closed_form_n(*TRUE["cnn_pool"], 0.85), rel=1e-4)


# ---------------------------------------------------------------------------------------------
# the seed-cluster bootstrap: known answers


def two_seed_curve():
    """Seed 0's errors lie on 0.1 + 1*n^-0.5, seed 1's on 0.2 + 3*n^-0.5, at every size."""
    rows = []
    for seed, (a, b) in enumerate([(0.1, 1.0), (0.2, 3.0)]):
        for n in (100, 400, 1600, 6400):
            rows.append(dict(model="m", augmentation="none", n_fit=n, n_train=n, seed=seed,
                             test_accuracy=1 - (a + b * n ** -0.5)))
    return pd.DataFrame(rows)


def test_seed_cluster_bootstrap_reproduces_a_hand_computed_interval():
    from invariance.curves import SeedDraws

    # With 2 seeds the replicates are enumerable: {0,0}, {0,1}, {1,0}, {1,1}. A replicate moves a
    # seed's runs at every size together, so {0,0} is seed 0's curve, {1,1} seed 1's and a mixed
    # one the mean curve, a = 0.15. (A within-size resample would mix seeds across sizes.)
    draws = SeedDraws(seeds=(0, 1), picks=np.array([[0, 0], [0, 1], [1, 0], [1, 1]]))
    boot = bootstrap_fit(two_seed_curve(), draws=draws, level=0.5)
    assert boot.samples["a"].to_numpy() == pytest.approx([0.1, 0.15, 0.15, 0.2], abs=1e-7)
    assert boot.samples["b"].to_numpy() == pytest.approx([1.0, 2.0, 2.0, 3.0], rel=1e-5)
    # 50% percentile interval of [0.1, 0.15, 0.15, 0.2]: quantiles 0.25 and 0.75 by linear
    # interpolation at positions 0.75 and 2.25: 0.1 + 0.75*0.05 and 0.15 + 0.25*0.05.
    lo, hi = boot.intervals["a"]
    assert (lo, hi) == pytest.approx((0.1375, 0.1625), abs=1e-7)


def test_seed_draws_are_one_draw_per_replicate_from_the_seeded_rng():
    from invariance.curves import SeedDraws
    from invariance.seeding import make_rng

    draws = SeedDraws.draw([2, 0, 1, 2, 0], n_boot=3, seed=11)
    assert draws.seeds == (0, 1, 2)
    np.testing.assert_array_equal(draws.picks, make_rng(11).integers(0, 3, size=(3, 3)))
    w = draws.weights(np.array([0, 1, 2]))
    np.testing.assert_array_equal(w.sum(axis=1), [3, 3, 3])
    np.testing.assert_array_equal(w[0], [np.sum(draws.picks[0] == i) for i in range(3)])


def test_every_curve_takes_the_same_seeds_in_each_replicate():
    # Two models that differ by a constant per seed: in every replicate both curves saw the
    # same seeds, so their fitted asymptotes differ by exactly the constant, replicate by replicate.
    one = two_seed_curve()
    two = one.assign(model="k", test_accuracy=one["test_accuracy"] - 0.05)
    fits = {f.model: f for f in fit_curves(pd.concat([one, two]), n_boot=40, seed=3)}
    diff = fits["k"].boot.samples["a"] - fits["m"].boot.samples["a"]
    assert diff.to_numpy() == pytest.approx(np.full(40, 0.05), abs=1e-6)


def test_leave_one_size_out_range_is_the_refits_without_each_size():
    runs = synthetic_runs(models={"cnn_pool": TRUE["cnn_pool"]}, ns=(250, 1000, 4000, 16000), seeds=(0, 1),
                          noise=0.004, rng_seed=5)
    table = learning_curve_table(runs)
    row = curves_table(table, n_boot=0).iloc[0]
    by_n = table.assign(err=1 - table["test_accuracy"]).groupby("n_fit")["err"]
    means, counts = by_n.mean(), by_n.count()
    refits = []
    for drop in means.index:
        keep = means.index != drop
        a, b, c = fit_power_law(means.index[keep], means.values[keep], weights=counts.values[keep])
        refits.append(closed_form_n(a, b, c, 0.85))
    assert row["samples_to_target_loso_min"] == pytest.approx(min(refits), rel=1e-9)
    assert row["samples_to_target_loso_max"] == pytest.approx(max(refits), rel=1e-9)
    three = curves_table(table[table["n_fit"] != 16000], n_boot=0).iloc[0]
    assert math.isnan(three["samples_to_target_loso_min"])
    assert three["sensitivity_note"] == "leave-one-size-out needs at least 4 sizes; the curve has 3"


def test_far_extrapolation_is_not_printed_as_a_number():
    # A nearly flat curve (c tiny) crosses 85% only at an absurd n: say so, don't quote it as a finding.
    rows = []
    for model, (a, b, c) in {"ref": (0.05, 2.0, 0.5), "flat": (0.0, 0.5, 0.02)}.items():
        for n in (250, 1000, 4000, 16000):
            for seed in (0, 1):
                acc = 1 - (a + b * n ** (-c))
                rows.append(dict(model=model, augmentation="none", n_train=n, n_fit=n, seed=seed, test_accuracy=acc,
                                 train_accuracy=acc, generalization_gap=0.0, params=1, macs=1, train_seconds=1.0))
    table = curves_table(pd.DataFrame(rows), target=0.85, reference="ref", n_boot=20, seed=0)
    flat = table.set_index("model").loc["flat"]
    assert flat.target_status == "beyond_range"
    assert flat.target_summary == ("flat: 85% not reached within the measured range (the fit suggests over 1,000x "
                                   "the largest measured n)")
    assert flat.efficiency_summary.startswith("flat: no efficiency ratio to ref at 85%: flat not reached within")


@pytest.mark.parametrize("ratio, text", [
    (6.31, "6.3"), (12.4, "12"), (0.523, "0.52"), (1.0, "1.0"), (1.26, "1.3"),
    (1.02, "1.02"), (0.996, "0.996"), (0.97, "0.97"), (1.004, "1.004"), (1.0004, "1.000"),
    (float("inf"), "unbounded"), (float("nan"), "n/a"),
])
def test_format_ratio_never_prints_a_ratio_other_than_1_as_1(ratio, text):
    assert format_ratio(ratio) == text
