"""Known answers for paired differences and their intervals."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from invariance.analysis.paired import Difference, difference, t_interval


def test_paired_t_interval_known_answer():
    a = pd.Series({0: 0.80, 1: 0.82, 2: 0.81})
    b = pd.Series({0: 0.81, 1: 0.84, 2: 0.81})
    d = difference(a, b)
    diffs = np.array([0.01, 0.02, 0.0])
    half = stats.t.ppf(0.975, 2) * diffs.std(ddof=1) / math.sqrt(3)
    assert d.paired and d.n == 3
    assert d.estimate == pytest.approx(0.01)
    assert (d.low, d.high) == pytest.approx((0.01 - half, 0.01 + half))
    assert not d.detected and d.sign == 0  # 0.01 ± 0.0248 covers 0


def test_pairs_only_common_seeds():
    a = {0: 1.0, 1: 2.0, 2: 3.0, 7: 100.0}
    b = {0: 2.0, 1: 3.0, 2: 4.5, 9: -100.0}
    d = difference(a, b)
    assert d.n == 3 and d.estimate == pytest.approx(1.5 / 3 + 1.0 * 2 / 3)


def test_detected_when_interval_excludes_zero():
    d = difference({0: 0.5, 1: 0.6, 2: 0.7}, {0: 0.6, 1: 0.71, 2: 0.79})
    assert d.detected and d.sign == 1 and d.low > 0


def test_identical_differences_give_zero_width():
    d = difference({0: 0.5, 1: 0.6}, {0: 0.7, 1: 0.8})
    assert (d.low, d.high) == pytest.approx((0.2, 0.2)) and d.detected


def test_single_seed_has_no_interval_and_no_verdict():
    d = difference({0: 0.5}, {0: 0.9})
    assert d.estimate == pytest.approx(0.4) and not d.has_interval and not d.detected
    assert "no interval" in d.text()


def test_unpaired_welch():
    a, b = [1.0, 2.0, 3.0], [2.0, 4.0, 6.0, 8.0]
    d = difference(dict(enumerate(a)), {10 + i: v for i, v in enumerate(b)})
    res = stats.ttest_ind(b, a, equal_var=False)
    ci = res.confidence_interval(0.95)
    assert not d.paired and (d.low, d.high) == pytest.approx((ci.low, ci.high))


def test_missing_values_dropped():
    d = difference({0: 1.0, 1: None, 2: 2.0}, {0: 2.0, 1: 5.0, 2: float("nan")})
    assert d.n == 1 and not d.has_interval


def test_text_format():
    d = Difference(0.009, -0.009, 0.026, 3)
    assert d.text(scale=100, unit=" points", digits=1, label="blur − max") == \
        "blur − max: +0.9 points, 95% CI −0.9 to +2.6, 3 seeds"


def test_t_interval_needs_two():
    assert all(math.isnan(v) for v in t_interval([1.0]))
