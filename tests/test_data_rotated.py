"""Rotated datasets: seeded uniform angles, the convention's rotation on an uncut canvas."""
from __future__ import annotations

import numpy as np
import pytest

from invariance.data import DATASETS, dataset_status, load_dataset
from invariance.data.rotated import (TEST_SEED, TRAIN_SEED, rotate_images, rotated_split, rotation_canvas,
                                     uniform_angles)
from invariance.errors import SpecError
from invariance.study.schema import check_dataset


def test_canvas_fits_the_turned_frame():
    assert rotation_canvas(28, 28) == 40  # 28 * sqrt(2) = 39.6
    assert rotation_canvas(32, 32) == 46
    assert rotation_canvas(3, 4) == 5


def test_angles_are_seeded_and_uniform():
    a = uniform_angles(20000, seed=3)
    np.testing.assert_array_equal(a, uniform_angles(20000, seed=3))
    assert not np.array_equal(a, uniform_angles(20000, seed=4))
    assert a.min() >= 0 and a.max() < 360
    counts, _ = np.histogram(a, bins=4, range=(0, 360))
    assert np.all(np.abs(counts - 5000) < 300)


def test_quarter_turns_are_the_conventions_exact_permutations():
    x = np.random.default_rng(0).integers(0, 256, (3, 8, 8, 1), dtype=np.uint8)
    np.testing.assert_array_equal(rotate_images(x, np.zeros(3)), x)
    # +90 degrees is counter-clockwise on screen: np.rot90 on the (H, W) axes.
    np.testing.assert_array_equal(rotate_images(x, np.full(3, 90.0)), np.rot90(x, 1, axes=(1, 2)))
    np.testing.assert_array_equal(rotate_images(x, np.array([180.0, 270.0, -90.0])),
                                  np.stack([np.rot90(x[0], 2), np.rot90(x[1], 3), np.rot90(x[2], 3)]))


def test_no_corner_is_cut():
    # A frame full of 255 turned by 45 degrees on the 40 px canvas keeps (up to bilinear
    # rounding at its edges) all its mass; on its own 28 px canvas it would lose ~40%.
    x = np.full((1, 28, 28, 1), 255, np.uint8)
    out = rotated_split(x, seed=0, canvas=40)
    assert out.shape == (1, 40, 40, 1)
    assert abs(int(out.astype(np.int64).sum()) - 255 * 28 * 28) < 0.02 * 255 * 28 * 28


def test_rotated_test_variant_of_the_bundled_set():
    base = load_dataset("fashion_mnist_mini", canvas=40)
    rot = load_dataset("fashion_mnist_mini_rot_test")
    assert rot.canvas == 40 and rot.image_shape == (40, 40, 1)
    np.testing.assert_array_equal(rot.x_train, base.x_train)       # training images upright
    np.testing.assert_array_equal(rot.y_test, base.y_test)
    angles = uniform_angles(len(base.x_test), seed=TEST_SEED)
    np.testing.assert_array_equal(rot.x_test[:5], rotate_images(base.x_test[:5], angles[:5]))
    assert rot.fingerprint() != base.fingerprint()
    mass = base.x_test.astype(np.int64).sum(axis=(1, 2, 3))
    turned = rot.x_test.astype(np.int64).sum(axis=(1, 2, 3))
    assert np.all(np.abs(turned - mass) <= 0.02 * mass + 255)


def test_rotated_variant_turns_both_splits():
    rot = load_dataset("fashion_mnist_mini_rot", canvas=44)
    base = load_dataset("fashion_mnist_mini", canvas=44)
    angles = uniform_angles(len(base.x_train), seed=TRAIN_SEED)
    np.testing.assert_array_equal(rot.x_train[:3], rotate_images(base.x_train[:3], angles[:3]))
    assert rot.x_test.shape == (1000, 44, 44, 1)


def test_too_small_a_canvas_is_a_clear_error():
    with pytest.raises(SpecError) as info:
        load_dataset("fashion_mnist_mini_rot", canvas=36)
    assert info.value.field == "canvas" and ">= 40" in str(info.value) and "36" in str(info.value)


VARIANTS = ("fashion_mnist_rot", "fashion_mnist_rot_test", "fashion_mnist_mini_rot", "fashion_mnist_mini_rot_test")


def test_variants_are_registered_listed_and_accepted_by_studies():
    assert {n for n, s in DATASETS.items() if s.derive is not None} == set(VARIANTS)
    for name in VARIANTS:
        assert DATASETS[name].derive is not None
        assert check_dataset(name) == name
    rows = {row["name"]: row for row in dataset_status()}
    assert rows["fashion_mnist_mini_rot"]["available"] and rows["fashion_mnist_mini_rot"]["n_test"] == 1000
