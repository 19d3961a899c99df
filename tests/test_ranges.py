"""invariance.ranges: the one grammar of numbers, values and bounds, with exact known answers."""
import math

import numpy as np
import pytest

from invariance import ranges
from invariance.errors import SpecError
from invariance.ranges import (MAX_POINTS, match_bounds_text, parse_bounds, parse_number, parse_values, stepped_range,
                               symmetric)

NUMBERS = [
    (3, 3.0), (2.5, 2.5), ("3", 3.0), (" -1.5 ", -1.5), ("1e-3", 0.001), ("+4", 4.0), ("-0", 0.0),
    (np.float32(0.5), 0.5), (np.int64(7), 7.0),
]


@pytest.mark.parametrize("raw, expected", NUMBERS)
def test_parse_number(raw, expected):
    out = parse_number(raw, field="f")
    assert out == expected and isinstance(out, float)
    assert not (out == 0 and math.copysign(1.0, out) < 0)  # never -0.0


@pytest.mark.parametrize("raw, rule", [
    (True, "must be a number"), (None, "must be a number"), ("x", "must be a number"), ([1], "must be a number"),
    ("nan", "finite"), (float("inf"), "finite"), ("-inf", "finite"),
])
def test_parse_number_errors(raw, rule):
    with pytest.raises(SpecError) as err:
        parse_number(raw, field="f")
    assert err.value.field == "f" and rule in err.value.rule


VALUES = [
    ("-2:2:1", [-2, -1, 0, 1, 2]),
    ("0.6:1.4:0.2", [0.6, 0.8, 1.0, 1.2, 1.4]),
    ("0.1:0.3:0.1", [0.1, 0.2, 0.3]),
    ("8:-8:-8", [8, 0, -8]),
    ("0:1:0.4", [0, 0.4, 0.8]),
    ("5:5:1", [5]),
    ("[1, 2]", [1, 2]),
    ("1,2", [1, 2]),
    ("4", [4]),
    (4, [4]),
    ([0.5, "1"], [0.5, 1]),
    (np.array([3.0]), [3]),
]


@pytest.mark.parametrize("value, expected", VALUES)
def test_parse_values(value, expected):
    out = parse_values(value, field="v")
    assert out.dtype == np.float64 and out.tolist() == [float(e) for e in expected]


@pytest.mark.parametrize("value, rule", [
    ("1:2", "three parts"), ("1:2:0", "must not be 0"), ("2:1:1", "must be negative"), ("[]", "at least one"),
    ("a", "must be a number"), ({}, "must be a number"), (False, "must be a number"),
    ("0:10000:1", f"at most {MAX_POINTS}"),
])
def test_parse_values_errors(value, rule):
    with pytest.raises(SpecError) as err:
        parse_values(value, field="v")
    assert err.value.field == "v" and rule in err.value.rule


def test_values_respect_a_smaller_limit_and_never_hold_negative_zero():
    with pytest.raises(SpecError, match="at most 3"):
        parse_values("0:3:1", field="v", max_points=3)
    assert stepped_range(-1, 0, 0.5, field="v") == [-1.0, -0.5, 0.0]
    assert not np.signbit(stepped_range(-1, 0, 1, field="v")[-1])


BOUNDS_TEXT = [
    ("0.8:1.25", (0.8, 1.25)), ("0.9-1.1", (0.9, 1.1)), ("-2-3", (-2.0, 3.0)), ("-3--1", (-3.0, -1.0)),
    ("1..2", (1.0, 2.0)), (" 1 : 2 ", (1.0, 2.0)), ("2e-1-3e-1", (0.2, 0.3)),
    ("1e-3", None), ("-2", None), ("4", None), ("wrap", None), ("1:2:3", None), ("", None),
]


@pytest.mark.parametrize("text, expected", BOUNDS_TEXT)
def test_match_bounds_text(text, expected):
    assert match_bounds_text(text) == expected


# The single-number rule, written once: L means [c - L, c + L], c = 1 for a scale, L < 1 there.
SYMMETRIC = [
    (3, False, (-3.0, 3.0)), (0, False, (0.0, 0.0)), (0.5, False, (-0.5, 0.5)),
    (0.2, True, (0.8, 1.2)), (0, True, (1.0, 1.0)), (0.25, True, (0.75, 1.25)),
]


@pytest.mark.parametrize("half, scale, expected", SYMMETRIC)
def test_symmetric(half, scale, expected):
    out = symmetric(half, field="f", scale=scale)
    assert out == expected
    assert not (out[0] == 0 and np.signbit(out[0]))  # never -0.0


@pytest.mark.parametrize("half, scale, fragment", [
    (-1, False, ">= 0"), (1, True, "[1 - s, 1 + s]"), (1.5, True, "> 0"), (-0.1, True, "[0, 1)"),
])
def test_symmetric_errors(half, scale, fragment):
    with pytest.raises(SpecError) as err:
        symmetric(half, field="f", scale=scale)
    assert fragment in err.value.rule


BOUNDS = [
    (3, False, (-3.0, 3.0)), ("30", False, (-30.0, 30.0)), ([-1, 2], False, (-1.0, 2.0)),
    ((2, 2), False, (2.0, 2.0)), ("0.8:1.25", True, (0.8, 1.25)), ("0.9-1.1", True, (0.9, 1.1)),
    (0.2, True, (0.8, 1.2)), ([0.5, "2"], True, (0.5, 2.0)), (np.array([1.0, 2.0]), False, (1.0, 2.0)),
]


@pytest.mark.parametrize("raw, scale, expected", BOUNDS)
def test_parse_bounds(raw, scale, expected):
    assert parse_bounds(raw, field="f", scale=scale) == expected


@pytest.mark.parametrize("raw, scale, fragment", [
    (-1, False, ">= 0"), ([2, 1], False, "low must be <= high"), ([3, 1], False, "min <= max"),
    ("3:1", False, "low must be <= high"), ([1, 2, 3], False, "pair"), ("x", False, "number L"),
    (1.5, True, "> 0"), ([0, 1.2], True, "0 < min"), ("-1:1", True, "0 < min"), (True, False, "number L"),
    ([1, float("nan")], False, "finite"),
])
def test_parse_bounds_errors(raw, scale, fragment):
    with pytest.raises(SpecError) as err:
        parse_bounds(raw, field="f", scale=scale)
    assert err.value.field == "f" and fragment in err.value.rule
    assert "received" in str(err.value)


def test_every_public_function_has_a_table():
    tested = {"parse_number", "parse_values", "stepped_range", "match_bounds_text", "symmetric", "parse_bounds"}
    public = {n for n, v in vars(ranges).items() if callable(v) and not n.startswith("_")
              and getattr(v, "__module__", "") == "invariance.ranges"}
    assert public == tested
