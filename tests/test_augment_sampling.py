"""Point sampling, apart from application: ranges, seeding, and the device twin."""
import keras
import numpy as np
import pytest

from invariance.augment import derive_seed, point_ranges, resolve_augmentation, sample_points, sample_points_tensor
from invariance.errors import SpecError

SPEC = resolve_augmentation({"shift": 4, "rotate": 20, "scale": [0.8, 1.2]}).geometric


def test_point_ranges_in_absolute_units():
    np.testing.assert_array_equal(point_ranges(SPEC, height=28, width=28),
                                  [[-4, 4], [-4, 4], [-20, 20], [0.8, 1.2]])
    frac = resolve_augmentation({"shift": 0.25}).geometric
    # dx is a fraction of the width, dy of the height
    np.testing.assert_array_equal(point_ranges(frac, height=20, width=40)[:2], [[-10, 10], [-5, 5]])


def test_samples_lie_in_the_box_and_cover_it():
    pts = sample_points(0, 4000, SPEC, height=28, width=28)
    assert pts.shape == (4000, 4) and pts.dtype == np.float64
    box = point_ranges(SPEC, height=28, width=28)
    assert np.all(pts >= box[:, 0]) and np.all(pts <= box[:, 1])
    np.testing.assert_allclose(pts.mean(0), box.mean(1), atol=0.05 * (box[:, 1] - box[:, 0]).max())
    np.testing.assert_allclose(pts.min(0), box[:, 0], atol=0.02 * 40)
    assert abs(np.corrcoef(pts[:, 0], pts[:, 1])[0, 1]) < 0.1  # dx and dy independent


def test_numpy_sampling_is_seeded():
    a = sample_points(7, 10, SPEC)
    np.testing.assert_array_equal(a, sample_points(np.random.default_rng(7), 10, SPEC))
    assert not np.array_equal(a, sample_points(8, 10, SPEC))


def test_degenerate_box_gives_the_point():
    spec = resolve_augmentation({"shift": [2, 2], "rotate": [-30, -30], "scale": [1.5, 1.5]}).geometric
    np.testing.assert_array_equal(sample_points(0, 3, spec), [[2, 2, -30, 1.5]] * 3)


def test_device_twin_is_seeded_and_in_the_box():
    box = point_ranges(SPEC, height=28, width=28)
    a = keras.ops.convert_to_numpy(sample_points_tensor(keras.random.SeedGenerator(3), 500, box))
    b = keras.ops.convert_to_numpy(sample_points_tensor(keras.random.SeedGenerator(3), 500, box))
    c = keras.ops.convert_to_numpy(sample_points_tensor(keras.random.SeedGenerator(4), 500, box))
    assert a.shape == (500, 4) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.all(a >= box[:, 0] - 1e-6) and np.all(a <= box[:, 1] + 1e-6)


def test_fractional_shift_needs_the_size():
    with pytest.raises(SpecError, match="height and width are needed"):
        sample_points(0, 2, resolve_augmentation({"shift": 0.1}).geometric)


def test_bad_box_is_rejected():
    with pytest.raises(SpecError, match="ranges"):
        sample_points(0, 2, [[1, 0], [0, 0], [0, 0], [1, 1]])


def test_derive_seed_depends_on_every_key():
    seeds = {derive_seed(0, e, b) for e in range(5) for b in range(5)}
    assert len(seeds) == 25
    assert derive_seed(1, 2, 3) == derive_seed(1, 2, 3) != derive_seed(2, 2, 3)
    assert 0 <= derive_seed(2**40, 1) < 2**31


ZHANG = resolve_augmentation({"shift": 4, "shift_mode": "integer", "p": 0.5}).geometric


def test_integer_shifts_are_whole_pixels_each_equally_likely():
    pts = sample_points(0, 18000, resolve_augmentation({"shift": 4, "shift_mode": "integer"}).geometric)
    for axis in (0, 1):
        values, counts = np.unique(pts[:, axis], return_counts=True)
        np.testing.assert_array_equal(values, np.arange(-4, 5))  # both ends included
        np.testing.assert_allclose(counts / len(pts), 1 / 9, atol=0.01)
    np.testing.assert_array_equal(pts[:, 2:], [[0, 1]] * len(pts))


def test_integer_mode_keeps_the_continuous_stream_of_the_other_axes():
    cont = resolve_augmentation({"shift": 3, "rotate": 10}).geometric
    integ = resolve_augmentation({"shift": 3, "rotate": 10, "shift_mode": "integer"}).geometric
    a, b = sample_points(5, 50, cont), sample_points(5, 50, integ)
    np.testing.assert_array_equal(a[:, 2:], b[:, 2:])
    np.testing.assert_array_equal(b[:, :2], np.minimum(np.floor((a[:, :2] + 3) / 6 * 7) - 3, 3))


def test_probability_leaves_the_rest_unchanged():
    pts = sample_points(1, 20000, ZHANG)
    identity = np.all(pts == [0, 0, 0, 1], axis=1)
    # 1/2 untouched, plus the 1/81 of the transformed ones that drew (0, 0)
    np.testing.assert_allclose(identity.mean(), 0.5 + 0.5 / 81, atol=0.01)
    assert np.all(np.isin(pts[:, :2], np.arange(-4, 5)))


def test_p_one_draws_what_it_always_drew():
    spec = resolve_augmentation({"shift": 4, "rotate": 20}).geometric
    np.testing.assert_array_equal(sample_points(3, 40, spec),
                                  np.random.default_rng(3).uniform([-4, -4, -20, 1], [4, 4, 20, 1], size=(40, 4)))


def test_device_twin_integer_and_probability():
    pts = keras.ops.convert_to_numpy(sample_points_tensor(keras.random.SeedGenerator(1), 9000, ZHANG,
                                                          height=36, width=36))
    assert np.all(np.isin(pts[:, :2], np.arange(-4, 5)))
    assert set(np.unique(pts[:, 0])) == set(range(-4, 5))
    identity = np.all(pts == [0, 0, 0, 1], axis=1)
    np.testing.assert_allclose(identity.mean(), 0.5 + 0.5 / 81, atol=0.02)


@pytest.mark.parametrize("bad, field", [
    ({"shift": 4, "shift_mode": "round"}, "shift_mode"),
    ({"shift": 4, "p": 1.5}, "p"),
    ({"shift": [1.2, 1.8], "shift_mode": "integer"}, "shift"),
])
def test_bad_draw_options_name_the_field(bad, field):
    with pytest.raises(SpecError, match=rf"\b{field}\b"):
        resolve_augmentation(bad)
