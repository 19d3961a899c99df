"""Transform points: sweeps, grids, random draws and 1-px walks."""
import numpy as np
import pytest

from invariance.errors import SpecError
from invariance.harness.points import diagonal_walk, grid_points, parse_limits, random_points, sweep_points


def test_sweep_points_keep_other_axes_at_identity():
    pts = sweep_points("angle", "-10:10:10")
    np.testing.assert_array_equal(pts, [[0, 0, -10, 1], [0, 0, 0, 1], [0, 0, 10, 1]])
    np.testing.assert_array_equal(sweep_points("scale", [0.5, 2])[:, 3], [0.5, 2])
    assert sweep_points("dy", 2).tolist() == [[0, 2, 0, 1]]


def test_engstrom_grid_has_775_points():
    pts = grid_points({"dx": "-3:3:1.5", "dy": "-3:3:1.5", "angle": "-30:30:2"})
    assert pts.shape == (775, 4)
    assert len(np.unique(pts, axis=0)) == 775
    assert np.all(pts[:, 3] == 1)
    assert [0, 0, 0, 1] in pts.tolist()
    # the last axis varies fastest
    np.testing.assert_array_equal(pts[:2], [[-3, -3, -30, 1], [-3, -3, -28, 1]])


def test_grid_errors():
    with pytest.raises(SpecError, match="grid.dz"):
        grid_points({"dx": 1, "dz": 1})
    with pytest.raises(SpecError, match="non-empty mapping"):
        grid_points({})
    with pytest.raises(SpecError, match="at most"):
        grid_points({"dx": "0:999:1", "dy": "0:999:1", "angle": "0:9:1"})


def test_parse_limits_forms():
    b = parse_limits({"dx": 3, "angle": "30", "scale": 0.2, "dy": [-1, 2]})
    np.testing.assert_allclose(b, [[-3, 3], [-1, 2], [-30, 30], [0.8, 1.2]])
    np.testing.assert_allclose(parse_limits({"scale": "0.8:1.25"})[3], [0.8, 1.25])
    np.testing.assert_allclose(parse_limits({"dx": 1})[3], [1, 1])  # untouched axes stay at identity
    for bad, rule in [({"dx": -1}, ">= 0"), ({"dx": [2, 1]}, "low must be <= high"), ({"scale": 1.5}, "> 0"),
                      ({"dx": "x"}, "number L"), ({"dx": [1, 2, 3]}, "pair"), ({"zoom": 1}, "one of"), ({}, "non-empty")]:
        with pytest.raises(SpecError, match=rule):
            parse_limits(bad)


def test_random_points_are_seeded_inside_limits_and_prefix_stable():
    limits = {"dx": 3, "dy": 3, "angle": 30}
    a = random_points(0, 50, 10, limits)
    assert a.shape == (50, 10, 4)
    np.testing.assert_array_equal(a, random_points(np.random.default_rng(0), 50, 10, limits))
    assert not np.array_equal(a, random_points(1, 50, 10, limits))
    assert np.all(np.abs(a[..., :2]) <= 3) and np.all(np.abs(a[..., 2]) <= 30) and np.all(a[..., 3] == 1)
    # the first images get the same draws whatever the number of images
    np.testing.assert_array_equal(random_points(0, 20, 10, limits), a[:20])
    with pytest.raises(SpecError, match="random_k.k"):
        random_points(0, 5, 0, limits)


def test_diagonal_walk():
    w = diagonal_walk(3)
    np.testing.assert_array_equal(w, [[0, 0, 0, 1], [1, 1, 0, 1], [2, 2, 0, 1], [3, 3, 0, 1]])
    with pytest.raises(SpecError, match="walks.steps"):
        diagonal_walk(0)
