"""Invariance metrics: pure numpy functions over model outputs, labels and embeddings.

Two layers, so that the harness and these summaries can never disagree:

* per-sample kernels (``correct``, ``agreement``, ``kl_divergence``, ``cosine_similarity``,
  ``normalized_distance``) return one value per (image, transform) pair; the harness
  streams them batch by batch and averages them per transform point;
* summaries (the :data:`METRICS` registry) take whole arrays and return one float.

"Outputs" are logits by default; pass ``from_logits=False`` for models that end in a
softmax. Nothing here draws random numbers: :func:`mean_pairwise_distance` subsamples by
taking the first rows, never at random.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

METRICS_VERSION = 2
"""Bumped whenever a metric's definition changes (2: ``mean_consistency`` leaves out the identity
point; ``consistency_correct`` added). Part of a study's ``eval_hash``, so a resumed study
evaluates its earlier runs again instead of mixing two definitions in one table."""

PROBABILITY_FLOOR = 1e-12
"""Probabilities are floored here before the log, so KL stays finite when p(Tx) is 0."""

PAIRWISE_SAMPLES = 2000
"""``mean_pairwise_distance`` uses at most this many (the first) embeddings."""


# --------------------------------------------------------------------------- kernels

def log_probabilities(outputs: Any, *, from_logits: bool = True) -> np.ndarray:
    """Log-softmax of logits, or the log of (floored, renormalised) probabilities.

    Args:
        outputs: Array (..., C).
        from_logits: False when ``outputs`` already are probabilities.

    Returns:
        float64 array (..., C) of finite log-probabilities.
    """
    z = np.asarray(outputs, dtype=np.float64)
    if not from_logits:
        z = np.log(np.maximum(z, PROBABILITY_FLOOR))
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def top1(outputs: Any) -> np.ndarray:
    """Index of the largest output (ties: the first), shape (...,)."""
    return np.asarray(outputs).argmax(axis=-1)


def correct(outputs: Any, labels: Any) -> np.ndarray:
    """Whether the top-1 class equals the label; bool array of shape (...,)."""
    return top1(outputs) == np.asarray(labels)


def agreement(outputs: Any, reference: Any) -> np.ndarray:
    """Whether the top-1 class equals the top-1 class of ``reference``; bool (...,)."""
    return top1(outputs) == top1(reference)


def kl_divergence(reference_logp: Any, logp: Any) -> np.ndarray:
    """KL(p_ref || p) per sample from log-probabilities (see :func:`log_probabilities`).

    Returns:
        float64 array (...,), >= 0 (rounding below 0 is clipped).
    """
    ref = np.asarray(reference_logp, dtype=np.float64)
    out = np.sum(np.exp(ref) * (ref - np.asarray(logp, dtype=np.float64)), axis=-1)
    return np.maximum(out, 0.0)


def _flat(a: Any) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(a.shape[0], -1) if a.ndim > 1 else a.reshape(1, -1)


def cosine_similarity(a: Any, b: Any) -> np.ndarray:
    """Cosine similarity of matching rows, features flattened.

    A zero vector has no direction: two zero vectors count as identical (1.0) and one zero
    vector against a non-zero one as unrelated (0.0), so dead ReLU embeddings give no NaN.

    Args:
        a, b: Arrays (N, ...) of the same shape.

    Returns:
        float64 array (N,) in [-1, 1].
    """
    a, b = _flat(a), _flat(b)
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    dot = np.sum(a * b, axis=1)
    both = (na > 0) & (nb > 0)
    out = np.where(both, dot / np.where(both, na * nb, 1.0), np.where((na == 0) & (nb == 0), 1.0, 0.0))
    return np.clip(out, -1.0, 1.0)


def normalized_distance(a: Any, b: Any, scale: float) -> np.ndarray:
    """L2 distance of matching rows divided by ``scale`` (NaN when ``scale`` is 0 or NaN).

    Returns:
        float64 array (N,).
    """
    d = np.linalg.norm(_flat(a) - _flat(b), axis=1)
    if not np.isfinite(scale) or scale <= 0:
        return np.full(d.shape, np.nan)
    return d / scale


def mean_pairwise_distance(embeddings: Any, *, max_samples: int = PAIRWISE_SAMPLES) -> float:
    """Mean Euclidean distance over all unordered pairs i < j of the first ``max_samples`` rows.

    This is the normaliser of ``embedding_distance`` (Kauderer-Abrams 2017). It is exact
    over the first ``max_samples`` embeddings (all of them when there are fewer): no random
    subsample, so the same inputs always give the same number. The harness passes the
    evaluation set in its fixed stratified order, so that prefix is class-balanced.
    Computed in float64 from the Gram matrix, in row blocks.

    Returns:
        The mean distance, or NaN with fewer than two rows.
    """
    e = _flat(embeddings)[:max_samples]
    n = len(e)
    if n < 2:
        return float("nan")
    sq = np.sum(e * e, axis=1)
    total = 0.0
    for start in range(0, n, 512):
        block = e[start:start + 512]
        d2 = sq[start:start + 512, None] + sq[None, :] - 2.0 * block @ e.T
        dist = np.sqrt(np.maximum(d2, 0.0))
        rows = np.arange(start, start + len(block))[:, None]
        total += dist[rows < np.arange(n)[None, :]].sum()  # strictly upper triangle
    return float(total / (n * (n - 1) / 2))


def tracked_probability(logp: Any, classes: Any) -> np.ndarray:
    """Probability of a given class per sample: ``exp(logp[i, classes[i]])``; shape (N,)."""
    logp = np.asarray(logp, dtype=np.float64)
    return np.exp(np.take_along_axis(logp, np.asarray(classes)[:, None], axis=-1)[:, 0])


def flips(top1_sequence: Any) -> np.ndarray:
    """Whether the top-1 class changes between consecutive steps; (N, S + 1) -> bool (N, S)."""
    t = np.asarray(top1_sequence)
    return t[:, 1:] != t[:, :-1]


def abs_changes(sequence: Any) -> np.ndarray:
    """Absolute change between consecutive steps; float (N, S + 1) -> float64 (N, S)."""
    return np.abs(np.diff(np.asarray(sequence, dtype=np.float64), axis=1))


# --------------------------------------------------------------------------- summaries

def accuracy(outputs: Any, labels: Any) -> float:
    """Fraction of samples whose top-1 class is the label.

    Args:
        outputs: (N, C) logits or probabilities.
        labels: (N,) int labels.
    """
    return float(np.mean(correct(outputs, labels)))


def consistency(outputs: Any, clean_outputs: Any) -> float:
    """Fraction of images whose top-1 on Tx equals the top-1 on x (Zhang 2019's agreement).

    Args:
        outputs: (N, C) outputs on the transformed images.
        clean_outputs: (N, C) outputs on the untransformed images.
    """
    return float(np.mean(agreement(outputs, clean_outputs)))


def consistency_correct(outputs: Any, clean_outputs: Any, labels: Any) -> float:
    """Consistency over the images the model classifies correctly untransformed.

    The fraction of those images whose top-1 on Tx is still their (correct) clean top-1.
    Plain consistency counts an image that is wrong on x and stays equally wrong on Tx as
    invariant; restricted to correct images, two models of different accuracy are compared
    on images each of them recognises.

    Args:
        outputs: (N, C) outputs on the transformed images.
        clean_outputs: (N, C) outputs on the untransformed images.
        labels: (N,) int labels.

    Returns:
        The fraction, or NaN when no image is correct untransformed.
    """
    ok = correct(clean_outputs, labels)
    if not ok.any():
        return float("nan")
    return float(np.mean(agreement(np.asarray(outputs)[ok], np.asarray(clean_outputs)[ok])))


def kl(outputs: Any, clean_outputs: Any, *, from_logits: bool = True) -> float:
    """Mean KL(p(x) || p(Tx)) of the softmax outputs, in nats.

    Args:
        outputs: (N, C) outputs on Tx.
        clean_outputs: (N, C) outputs on x.
        from_logits: False when both are probabilities.
    """
    ref = log_probabilities(clean_outputs, from_logits=from_logits)
    return float(np.mean(kl_divergence(ref, log_probabilities(outputs, from_logits=from_logits))))


def embedding_cosine(embeddings: Any, clean_embeddings: Any) -> float:
    """Mean cosine similarity of penultimate activations, Tx vs x (see :func:`cosine_similarity`)."""
    return float(np.mean(cosine_similarity(embeddings, clean_embeddings)))


def embedding_distance(embeddings: Any, clean_embeddings: Any, *, scale: float | None = None) -> float:
    """Kauderer-Abrams (2017)'s normalised Euclidean distance of the penultimate features.

    Precisely: the mean over images of ``||e(Tx_i) - e(x_i)||_2 / s``, where ``e`` is the
    embedding (flattened; the harness takes the layer named ``embedding``, else the input of
    the last Dense layer: the penultimate representation) and ``s`` is the mean Euclidean
    distance between the clean embeddings of two *different* evaluation images (all pairs
    i < j of the first :data:`PAIRWISE_SAMPLES`, see :func:`mean_pairwise_distance`). So 0
    means the shift leaves the features unchanged and 1 means it moves them as far as
    swapping in another test image does on average; the normaliser makes the number
    comparable across networks whose features differ in scale and dimension. Not bounded
    by 1. ``s`` comes from the clean pass only, so it is one number per evaluation, the
    same for every transform point.

    Args:
        embeddings: (N, D) embeddings of the transformed images.
        clean_embeddings: (N, D) embeddings of the untransformed images.
        scale: The normaliser; by default :func:`mean_pairwise_distance` of ``clean_embeddings``.
    """
    if scale is None:
        scale = mean_pairwise_distance(clean_embeddings)
    return float(np.mean(normalized_distance(embeddings, clean_embeddings, scale)))


def flip_rate(walk_outputs: Any) -> float:
    """P(top-1 changes between consecutive steps) of walks (Azulay & Weiss 2019).

    Args:
        walk_outputs: (N, S + 1, C) outputs along each image's walk, step 0 untransformed.
    """
    return float(np.mean(flips(top1(walk_outputs))))


def mac(walk_outputs: Any, *, from_logits: bool = True) -> float:
    """Mean absolute change of the top-class probability between consecutive walk steps.

    The tracked class is each image's top-1 class at step 0 (the untransformed image), so
    one class's probability is followed along the whole walk.

    Args:
        walk_outputs: (N, S + 1, C) outputs along each image's walk.
        from_logits: False when the outputs are probabilities.
    """
    logp = log_probabilities(walk_outputs, from_logits=from_logits)
    cls = top1(np.asarray(walk_outputs)[:, 0])
    p = np.exp(np.take_along_axis(logp, cls[:, None, None], axis=-1)[..., 0])
    return float(np.mean(abs_changes(p)))


def grid_accuracy(grid_outputs: Any, labels: Any) -> float:
    """Fraction of images correct at every grid point (Engstrom et al. 2019).

    Args:
        grid_outputs: (N, T, C) outputs at each of T grid points.
        labels: (N,) labels.
    """
    return float(np.mean(np.all(correct(grid_outputs, np.asarray(labels)[:, None]), axis=1)))


def worst_of_k_accuracy(draw_outputs: Any, labels: Any) -> float:
    """Fraction of images correct at all k random draws ("correct at all k").

    Engstrom et al. (2019) score, per image, the single draw of highest loss. That is not
    the same: an image can be right at its highest-loss draw (the label wins with a low
    probability) and wrong at another draw (the label a close runner-up, lower loss). This
    metric is never higher than the highest-loss draw's accuracy and needs no loss.

    Args:
        draw_outputs: (N, k, C) outputs on k random transforms per image.
        labels: (N,) labels.
    """
    return grid_accuracy(draw_outputs, labels)


def random_accuracy(draw_outputs: Any, labels: Any) -> float:
    """Accuracy averaged over all N * k random draws (the expected random-transform accuracy).

    Args:
        draw_outputs: (N, k, C) outputs.
        labels: (N,) labels.
    """
    return float(np.mean(correct(draw_outputs, np.asarray(labels)[:, None])))


METRICS: dict[str, Callable[..., float]] = {
    "accuracy": accuracy,
    "consistency": consistency,
    "consistency_correct": consistency_correct,
    "kl": kl,
    "embedding_cosine": embedding_cosine,
    "embedding_distance": embedding_distance,
    "flip_rate": flip_rate,
    "mac": mac,
    "grid_accuracy": grid_accuracy,
    "worst_of_k_accuracy": worst_of_k_accuracy,
    "random_accuracy": random_accuracy,
}
"""Every summary metric by name (the harness's row names)."""

POINT_METRICS = ("accuracy", "consistency", "consistency_correct", "kl", "embedding_cosine", "embedding_distance")
"""Metrics computed per transform point; the ``metrics=`` argument of ``evaluate`` picks from these."""

EMBEDDING_METRICS = ("embedding_cosine", "embedding_distance")
