"""Effect sizes: exact answers on tiny tables."""
import math

import numpy as np
import pandas as pd
import pytest

from invariance.analysis import factor_effect, factor_effects
from invariance.analysis.effects import cohens_d
from invariance.errors import SpecError


def _table():
    # consistency = 0.5 + 0.2 [aug] + 0.05 [pool] + 0.01 * seed: additive, so every pair's
    # difference is exactly the factor's coefficient.
    rows = []
    for model, pool in (("base", 0.05), ("nopool", 0.0)):
        for aug, gain in (("none", 0.0), ("shift", 0.2)):
            for seed in (0, 1, 2):
                rows.append({"model": model, "augmentation": aug, "seed": seed,
                             "consistency": 0.5 + gain + pool + 0.01 * seed})
    return pd.DataFrame(rows)


def test_paired_effects_recover_the_coefficients():
    out = factor_effects(_table(), {
        "pooling": {"column": "model", "low": "nopool", "high": "base"},
        "augmentation": {"column": "augmentation", "low": "none", "high": "shift"},
    }, value="consistency", match=("model", "augmentation", "seed"))
    pool, aug = out.iloc[0], out.iloc[1]
    assert pool["diff"] == pytest.approx(0.05) and aug["diff"] == pytest.approx(0.2)
    assert pool["diff_std"] == pytest.approx(0.0, abs=1e-12) and aug["diff_std"] == pytest.approx(0.0, abs=1e-12)
    assert pool["n_pairs"] == 6 and aug["n_pairs"] == 6
    assert aug["mean_high"] - aug["mean_low"] == pytest.approx(0.2)
    assert abs(aug["cohens_d"]) > abs(pool["cohens_d"]) > 0


def test_cohens_d_known_answer():
    # groups [0, 2] and [2, 4]: means 1 and 3, both variances 2 -> d = 2 / sqrt(2)
    assert cohens_d([0, 2], [2, 4]) == pytest.approx(math.sqrt(2))
    assert math.isnan(cohens_d([1, 1], [1, 1]))
    assert math.isnan(cohens_d([1], [2]))


def test_paired_std_over_replicates():
    t = pd.DataFrame({"m": ["a", "a", "b", "b"], "seed": [0, 1, 0, 1], "v": [0.0, 1.0, 1.0, 3.0]})
    e = factor_effect(t, factor="f", column="m", low="a", high="b", value="v", match=("seed",))
    assert e.diff == pytest.approx(1.5)  # differences 1 and 2
    assert e.diff_std == pytest.approx(np.std([1.0, 2.0], ddof=1))
    unpaired = factor_effect(t, factor="f", column="m", low="a", high="b", value="v")
    assert unpaired.diff == pytest.approx(1.5) and unpaired.n_pairs == 0 and math.isnan(unpaired.diff_std)


def test_bad_levels_and_columns_fail_clearly():
    with pytest.raises(SpecError, match="level not found"):
        factor_effect(_table(), factor="f", column="model", low="nope", high="base", value="consistency")
    with pytest.raises(SpecError, match="must name a column"):
        factor_effect(_table(), factor="f", column="modle", low="a", high="b", value="consistency")
