"""Nested class-balanced subsets, the interleaved order behind them, and validation splits:
exact answers on tiny label arrays plus the properties the ablations rely on."""
from __future__ import annotations

import numpy as np
import pytest

from invariance.data.subsets import class_counts, nested_subset, stratified_order, train_val_split
from invariance.errors import SpecError

BALANCED = np.repeat(np.arange(10), 60)  # 10 classes x 60, sorted by class
UNBALANCED = np.array([0] * 7 + [1] * 4 + [2] * 2 + [3] * 1)


# --- stratified_order -----------------------------------------------------------------------

def test_stratified_order_known_answers():
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2])
    assert stratified_order(y, seed=0).tolist() == [8, 6, 7, 4, 0, 2, 1, 3, 5]
    assert stratified_order(y, seed=1).tolist() == [0, 7, 5, 2, 3, 1, 8, 4, 6]
    y2 = np.array([0, 0, 0, 0, 0, 1, 1, 2])
    order = stratified_order(y2, seed=0)
    assert order.tolist() == [7, 2, 5, 6, 4, 3, 0, 1]
    assert y2[order].tolist() == [2, 0, 1, 1, 0, 0, 0, 0]  # one of each while all last, then the rest


def test_stratified_order_is_an_int64_permutation():
    for labels in (BALANCED, UNBALANCED, np.array([3, 3, 5])):
        order = stratified_order(labels, seed=4)
        assert order.dtype == np.int64
        assert sorted(order.tolist()) == list(range(len(labels)))


@pytest.mark.parametrize("labels", [BALANCED, UNBALANCED], ids=["balanced", "unbalanced"])
def test_every_prefix_is_as_balanced_as_possible(labels):
    order = stratified_order(labels, seed=7)
    totals = np.bincount(labels)
    for n in range(1, len(labels) + 1):
        counts = np.bincount(labels[order[:n]], minlength=len(totals))
        open_ = counts < totals  # classes that still have images left
        if open_.any():
            # a class not yet exhausted never lags a class by more than one image
            assert counts.max() - counts[open_].min() <= 1, (n, counts)


def test_stratified_order_interleaves_full_rounds():
    order = stratified_order(BALANCED, seed=0)
    for r in range(60):
        assert sorted(BALANCED[order[10 * r:10 * (r + 1)]].tolist()) == list(range(10))


def test_stratified_order_is_seeded():
    assert np.array_equal(stratified_order(BALANCED, seed=3), stratified_order(BALANCED, seed=3))
    assert not np.array_equal(stratified_order(BALANCED, seed=3), stratified_order(BALANCED, seed=4))


def test_stratified_order_does_not_depend_on_label_values():
    # relabelling classes (0..9 -> 10..19) keeps the same order: only grouping matters
    assert np.array_equal(stratified_order(BALANCED, seed=2), stratified_order(BALANCED + 10, seed=2))


def test_stratified_order_of_nothing():
    assert stratified_order(np.array([], dtype=np.int64)).tolist() == []


# --- nested_subset ------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [10, 50, 100, 590])
def test_nested_subset_exact_class_counts(n):
    idx = nested_subset(BALANCED, n, seed=0)
    assert idx.dtype == np.int64 and len(idx) == n and len(set(idx.tolist())) == n
    assert class_counts(BALANCED[idx], 10).tolist() == [n // 10] * 10


def test_nested_subset_odd_size_counts_differ_by_one():
    counts = class_counts(BALANCED[nested_subset(BALANCED, 37, seed=5)], 10)
    assert sorted(counts.tolist()) == [3] * 3 + [4] * 7


def test_nested_subsets_nest():
    sizes = [1, 10, 25, 100, 250, 600]
    subsets = [set(nested_subset(BALANCED, n, seed=11).tolist()) for n in sizes]
    for small, large in zip(subsets, subsets[1:]):
        assert small < large


def test_nested_subset_all():
    order = stratified_order(BALANCED, seed=1)
    for n in (None, 600, 10_000):
        idx = nested_subset(BALANCED, n, seed=1)
        assert np.array_equal(idx, order)  # all of them, in the same permuted order


def test_nested_subset_seeds_differ():
    a = set(nested_subset(BALANCED, 100, seed=0).tolist())
    b = set(nested_subset(BALANCED, 100, seed=1).tolist())
    assert a != b


@pytest.mark.parametrize("n", [0, -3, 2.5, True, "10"])
def test_nested_subset_rejects_bad_sizes(n):
    with pytest.raises(SpecError, match="n_train: must be a positive integer or None"):
        nested_subset(BALANCED, n, seed=0)


@pytest.mark.parametrize("labels, words", [
    (np.zeros((3, 2), dtype=int), "1-D integer array"),
    (np.array([0.0, 1.0]), "1-D integer array"),
    (np.array([0, -1]), "must be >= 0"),
])
def test_bad_labels(labels, words):
    with pytest.raises(SpecError, match=words):
        stratified_order(labels)


# --- train_val_split ---------------------------------------------------------------------------

def test_train_val_split_known_answers():
    y = np.array([0, 0, 0, 0, 0, 1, 1, 2])
    train, val = train_val_split(y, val_fraction=0.5, seed=0)
    # 4 of 8 go to validation; per class 2.5, 1, 0.5 -> 3, 1, 0 by largest remainder (ties: lower class)
    assert class_counts(y[val], 3).tolist() == [3, 1, 0]
    assert val.tolist() == [2, 3, 4, 5] and train.tolist() == [0, 1, 6, 7]
    y2 = np.array([0, 0, 0, 1, 1, 1, 1, 1, 1, 1])
    train, val = train_val_split(y2, val_fraction=0.25, seed=0)
    assert val.tolist() == [2, 7]


def test_train_val_split_is_disjoint_complete_and_stratified():
    train, val = train_val_split(BALANCED, val_fraction=0.1, seed=3)
    assert train.dtype == np.int64 and val.dtype == np.int64
    assert not set(train.tolist()) & set(val.tolist())
    assert sorted(train.tolist() + val.tolist()) == list(range(len(BALANCED)))
    assert class_counts(BALANCED[val], 10).tolist() == [6] * 10
    assert class_counts(BALANCED[train], 10).tolist() == [54] * 10
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)


def test_train_val_split_total_is_rounded_fraction():
    for frac in (0.05, 0.2, 0.33, 0.5):
        _, val = train_val_split(UNBALANCED, val_fraction=frac, seed=0)
        assert len(val) == round(frac * len(UNBALANCED))


def test_train_val_split_seeds_and_zero_fraction():
    _, a = train_val_split(BALANCED, val_fraction=0.2, seed=0)
    _, b = train_val_split(BALANCED, val_fraction=0.2, seed=1)
    _, c = train_val_split(BALANCED, val_fraction=0.2, seed=0)
    assert not np.array_equal(a, b) and np.array_equal(a, c)
    train, val = train_val_split(BALANCED, val_fraction=0.0, seed=0)
    assert len(val) == 0 and len(train) == len(BALANCED)


@pytest.mark.parametrize("frac", [-0.1, 1.0, 1.5, "0.1", None, True])
def test_train_val_split_rejects_bad_fractions(frac):
    with pytest.raises(SpecError, match=r"val_fraction: must be a number in \[0, 1\)"):
        train_val_split(BALANCED, val_fraction=frac, seed=0)


def test_subset_then_split_carves_validation_from_the_subset_only():
    idx = nested_subset(BALANCED, 200, seed=0)
    train, val = train_val_split(BALANCED[idx], val_fraction=0.1, seed=0)
    assert class_counts(BALANCED[idx[val]], 10).tolist() == [2] * 10
    assert set(idx[val].tolist()) <= set(idx.tolist())
