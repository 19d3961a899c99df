"""parse_axis and friends: inclusive ranges robust to float rounding, and clear errors."""
import numpy as np
import pytest

from invariance.errors import SpecError
from invariance.harness.axes import MAX_POINTS, check_axis_name, parse_assignments, parse_axis, parse_axis_values


@pytest.mark.parametrize("value, expected", [
    ("-8:8:1", np.arange(-8, 9)),
    ("0.6:1.4:0.1", [0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4]),
    ("-3:3:1.5", [-3, -1.5, 0, 1.5, 3]),
    ("-30:30:2", np.arange(-30, 31, 2)),
    ("0:1:0.3", [0, 0.3, 0.6, 0.9]),          # stop not on the grid: stops before it
    ("8:-8:-4", [8, 4, 0, -4, -8]),           # downwards with a negative step
    ("5:5:1", [5]),
    (" -1 : 1 : 1 ", [-1, 0, 1]),
    ("0.1:0.3:0.1", [0.1, 0.2, 0.3]),         # 0.1 + 2 * 0.1 = 0.30000000000000004
    (3, [3]),
    (2.5, [2.5]),
    ("3", [3]),
    ("-0", [0]),
    ([-2, 0, 2], [-2, 0, 2]),
    ((1, "2"), [1, 2]),
    (np.array([1.0, 2.0]), [1, 2]),
    ("[1, 2, 3]", [1, 2, 3]),
    ("1,2,3", [1, 2, 3]),
])
def test_parse_axis_table(value, expected):
    out = parse_axis(value, field="sweeps.dx")
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.asarray(expected, dtype=np.float64))


def test_ranges_end_exactly_and_have_no_float_noise():
    out = parse_axis("0.6:1.4:0.1", field="s")
    assert len(out) == 9 and out[-1] == 1.4 and out[3] == 0.9
    assert parse_axis("0:0.3:0.1", field="s").tolist() == [0.0, 0.1, 0.2, 0.3]
    assert not np.signbit(parse_axis("-1:0:1", field="s")[-1])  # 0.0, never -0.0


@pytest.mark.parametrize("value, rule", [
    ("1:2:0", "step must not be 0"),
    ("-8:8:-1", "step must be positive"),
    ("8:-8:1", "step must be negative"),
    ("[]", "at least one value"),
    ([], "at least one value"),
    ("a:b:c", "must be a number"),
    ("abc", "must be a number"),
    ([1, "x"], "must be a number"),
    ("1:2", "three parts"),
    ("1:2:3:4", "three parts"),
    ("nan", "finite"),
    (float("inf"), "finite"),
    (True, "must be a number"),
    (None, "must be a number"),
    ({"a": 1}, "must be a number"),
    ("0:10001:1", f"at most {MAX_POINTS}"),
    (list(range(MAX_POINTS + 1)), f"at most {MAX_POINTS}"),
])
def test_parse_axis_errors_name_field_rule_and_value(value, rule):
    with pytest.raises(SpecError) as err:
        parse_axis(value, field="sweeps.dx")
    assert err.value.field == "sweeps.dx"
    assert rule in err.value.rule
    assert "sweeps.dx" in str(err.value) and "received" in str(err.value)


def test_axis_names_and_scale_values():
    assert check_axis_name("angle") == "angle"
    with pytest.raises(SpecError, match="'dx', 'dy', 'angle', 'scale'.*'rotation'"):
        check_axis_name("rotation", field="sweeps.rotation")
    with pytest.raises(SpecError, match="scale values must be > 0"):
        parse_axis_values("scale", "-0.5:1:0.5", field="sweeps.scale")
    np.testing.assert_array_equal(parse_axis_values("scale", "0.5:1:0.5", field="s"), [0.5, 1.0])


@pytest.mark.parametrize("text, expected", [
    ("dx=-3:3:1,dy=-3:3:1", {"dx": "-3:3:1", "dy": "-3:3:1"}),
    ("dx=[1,2,3], angle=5", {"dx": "[1,2,3]", "angle": "5"}),
    ("scale=0.8:1.2:0.1", {"scale": "0.8:1.2:0.1"}),
])
def test_parse_assignments(text, expected):
    assert parse_assignments(text, field="--grid") == expected


@pytest.mark.parametrize("text, rule", [
    ("dx", "axis=values"),
    ("dx=", "axis=values"),
    ("dz=1", "must be one of"),
    ("dx=1,dx=2", "twice"),
])
def test_parse_assignments_errors(text, rule):
    with pytest.raises(SpecError, match=rule):
        parse_assignments(text, field="--grid")
