"""The lecture's claims: known verdicts on small synthetic per-run tables."""
from __future__ import annotations

import pandas as pd
import pytest

from invariance.report.claims import CLAIMS, lecture_claims, verdict
from invariance.analysis.paired import Difference

PARAMS = {"cnn_pool": 421_642, "cnn_gap": 94_000, "cnn_nopool": 6_442_762, "mlp": 235_146}


def table(consistency: dict, *, train=None, test=None, augmentations=("none",), seeds=(0, 1, 2)):
    """One row per (model, augmentation, seed); consistency[(model, aug)] = per-seed values."""
    rows = []
    for (model, aug), values in consistency.items():
        for seed, v in zip(seeds, values):
            rows.append({"model": model, "augmentation": aug, "seed": seed, "n_train": 1000,
                         "mean_consistency_dx": v, "params": PARAMS[model],
                         "test_accuracy": (test or {}).get(model, 0.85),
                         "train_accuracy": (train or {}).get(model, 0.90)})
    return pd.DataFrame(rows)


CASES = {
    "global_pooling": (table({("cnn_pool", "none"): [0.60, 0.62, 0.61], ("cnn_gap", "none"): [0.80, 0.81, 0.83]}),
                       "Global pooling makes a CNN more shift-consistent than a flatten head: shown "
                       "(cnn_gap − cnn_pool, mean shift consistency: +20.3 points"),
    "pooling": (table({("cnn_pool", "none"): [0.60, 0.62, 0.61], ("cnn_nopool", "none"): [0.61, 0.60, 0.62]}),
                "Pooling cuts parameters (cnn_nopool has 15.3× the parameters of cnn_pool) and buys some shift "
                "invariance: not shown by this run (cnn_pool − cnn_nopool, mean shift consistency: +0.0 points"),
    "fully_connected": (table({("cnn_pool", "none"): [0.6] * 3, ("mlp", "none"): [0.5] * 3},
                              train={"mlp": 0.99, "cnn_pool": 0.90}, test={"mlp": 0.80, "cnn_pool": 0.85}),
                        "Fully connected layers on images overfit more than convolutions (train − test gap): shown "
                        "(mlp − cnn_pool, train − test accuracy gap: +14.0 points"),
    "parameters_per_point": (table({("cnn_pool", "none"): [0.6] * 3, ("mlp", "none"): [0.5] * 3}),
                             "cnn_pool spends the most parameters per point of test accuracy (4,960), mlp the "
                             "fewest (2,766)"),
    "augmentation_vs_architecture": (
        table({("cnn_pool", "none"): [0.60, 0.62, 0.61], ("cnn_pool", "geo"): [0.90, 0.93, 0.91],
               ("mlp", "none"): [0.50, 0.53, 0.51], ("mlp", "geo"): [0.85, 0.86, 0.88]}),
        "Augmentation (geo) raises shift consistency more than any architecture lever: shown"),
}


def test_every_claim_has_a_case():
    assert set(CASES) == set(CLAIMS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_claim_sentence(name):
    data, start = CASES[name]
    sentence = CLAIMS[name](data)
    assert sentence is not None and sentence.startswith(start), sentence
    assert "seeds" in sentence or name == "parameters_per_point"


def test_claims_need_their_models():
    only_mlp = table({("mlp", "none"): [0.5, 0.5, 0.5]})
    assert all(CLAIMS[n](only_mlp) is None for n in ("global_pooling", "pooling", "fully_connected"))
    assert lecture_claims(only_mlp) == []


def test_unconverged_design_is_named_in_the_verdict():
    data = CASES["global_pooling"][0].assign(converged=True, stop_reason="plateau")
    data.loc[data["model"] == "cnn_gap", ["converged", "stop_reason"]] = [False, "cap"]
    assert "cnn_gap stopped at the cap before converging (3 of 3 seeds); this verdict measures the budget" \
        in CLAIMS["global_pooling"](data)


@pytest.mark.parametrize("d, positive, word", [
    (Difference(0.1, 0.05, 0.15, 3), True, "shown"),
    (Difference(0.1, 0.05, 0.15, 3), False, "contradicted"),
    (Difference(0.1, -0.05, 0.25, 3), True, "not shown by this run"),
    (Difference(0.1, float("nan"), float("nan"), 1), True, "not shown by this run"),
])
def test_verdict(d, positive, word):
    assert verdict(d, positive=positive) == word
