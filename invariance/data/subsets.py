"""Seeded, class-balanced index sets for data-size ablations and validation splits.

Pure numpy. Every function takes its seed as an argument and returns int64 indices into
the label array it was given, so the same seed always gives the same indices.
"""
from __future__ import annotations

import numpy as np

from invariance.errors import SpecError
from invariance.seeding import make_rng


def stratified_order(labels, *, seed: int = 0) -> np.ndarray:
    """A fixed class-interleaved permutation whose every prefix is as balanced as possible.

    Each class's indices are shuffled; then the order takes one index from every class
    that still has some, round after round, in a class order shuffled afresh each round
    (so no class is always first). Any prefix of length n therefore holds ``n // K`` or
    ``n // K + 1`` images of each class that still has images left.

    Args:
        labels: Integer class labels, shape (N,).
        seed: Seed of ``invariance.seeding.make_rng`` (``np.random.default_rng``).

    Returns:
        int64 array of shape (N,): a permutation of ``0..N-1``.
    """
    labels = _check_labels(labels)
    rng = make_rng(seed)
    classes, inverse = np.unique(labels, return_inverse=True)
    rank = np.empty(len(labels), dtype=np.int64)  # the round in which an index is taken
    for c in range(len(classes)):
        members = np.flatnonzero(inverse == c)
        rank[members[rng.permutation(len(members))]] = np.arange(len(members))
    rounds = int(rank.max()) + 1 if len(labels) else 0
    # slot[r, c]: where class c comes within round r
    slot = np.argsort(rng.random((rounds, len(classes))), axis=1).argsort(axis=1)
    within = slot[rank, inverse]
    return np.lexsort((within, rank)).astype(np.int64)


def nested_subset(labels, n: int | None, *, seed: int) -> np.ndarray:
    """A class-balanced training subset of size ``n``; smaller subsets nest in larger ones.

    ``nested_subset(y, n, seed=s)`` is the first ``n`` entries of
    ``stratified_order(y, seed=s)``, so for ``n < m`` it is a prefix of (hence a subset of)
    ``nested_subset(y, m, seed=s)``: growing the data only ever adds images.

    Args:
        labels: Integer class labels, shape (N,).
        n: Subset size; None or ``n >= N`` gives all N indices (in the same permuted order).
        seed: Seed of the permutation.

    Returns:
        int64 array of shape (min(n, N),).
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise SpecError("n_train", "must be a positive integer or None (all)", n)
    order = stratified_order(labels, seed=seed)
    return order if n is None else order[:n]


def train_val_split(labels, *, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Splits indices into train and validation parts, stratified by class.

    Each class gives ``val_fraction`` of its images to validation; the per-class counts are
    rounded by largest remainder so that the total is ``round(val_fraction * N)``.

    Args:
        labels: Integer class labels, shape (N,) (the training labels: never carve
            validation from test).
        val_fraction: In [0, 1); 0 gives an empty validation part.
        seed: Seed of which images go to validation.

    Returns:
        (train_idx, val_idx): disjoint sorted int64 arrays whose union is ``0..N-1``.
    """
    labels = _check_labels(labels)
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float, np.floating)) \
            or not 0 <= val_fraction < 1:
        raise SpecError("val_fraction", "must be a number in [0, 1)", val_fraction)
    n = len(labels)
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    total = int(round(val_fraction * n))
    exact = counts * val_fraction
    take = np.floor(exact).astype(np.int64)
    short = total - int(take.sum())
    if short > 0:
        # largest remainder first; ties go to the lower class label (stable sort)
        take[np.argsort(-(exact - take), kind="stable")[:short]] += 1
    rng = make_rng(seed)
    val_parts = []
    for c in range(len(classes)):
        members = np.flatnonzero(inverse == c)
        val_parts.append(members[rng.permutation(len(members))[:take[c]]])
    val_idx = np.sort(np.concatenate(val_parts)) if val_parts else np.empty(0, dtype=np.int64)
    mask = np.ones(n, dtype=bool)
    mask[val_idx] = False
    return np.flatnonzero(mask).astype(np.int64), val_idx.astype(np.int64)


def class_counts(labels, num_classes: int | None = None) -> np.ndarray:
    """Images per class: int64 array of shape (num_classes,)."""
    labels = _check_labels(labels)
    return np.bincount(labels, minlength=num_classes or 0).astype(np.int64)


def _check_labels(labels) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or not (np.issubdtype(labels.dtype, np.integer) or labels.size == 0):
        raise SpecError("labels", "must be a 1-D integer array", f"{labels.dtype} array of shape {labels.shape}")
    if labels.size and labels.min() < 0:
        raise SpecError("labels", "must be >= 0", int(labels.min()))
    return labels.astype(np.int64, copy=False)
