"""Every metric exact on hand-made inputs. Adding a metric without a case here fails a test."""
import math

import numpy as np
import pytest

from invariance.harness import metrics as M

LN2, LN3 = math.log(2.0), math.log(3.0)

# Logits chosen so that softmax probabilities are simple: [0, 0] -> (1/2, 1/2), [ln 3, 0] -> (3/4, 1/4).
CLEAN = np.array([[LN3, 0.0], [0.0, 0.0], [0.0, 5.0], [2.0, 1.0]])
MOVED = np.array([[0.0, 0.0], [0.0, LN3], [1.0, 6.0], [1.0, 2.0]])
LABELS = np.array([0, 1, 0, 1])
KL_ROW0 = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)   # KL((3/4,1/4) || (1/2,1/2))
KL_ROW1 = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)     # KL((1/2,1/2) || (1/4,3/4))
S = 1.0 / (1.0 + math.exp(-1.0))                                       # sigmoid(1)
KL_ROW3 = S * math.log(S / (1 - S)) + (1 - S) * math.log((1 - S) / S)  # swapped two-class distribution

EMB_CLEAN = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0]])
EMB_MOVED = np.array([[0.0, 1.0], [0.0, 5.0], [3.0, 4.0]])
PAIRWISE = (math.sqrt(5) + math.sqrt(20) + math.sqrt(13)) / 3           # pairs (0,1), (0,2), (1,2)

# Walks (N=2 images, 3 steps, 2 classes); probabilities of class 0 along each walk:
WALK = np.array([[[LN3, 0.0], [0.0, 0.0], [0.0, LN3]],     # 3/4, 1/2, 1/4 (tracked class 0)
                 [[0.0, LN3], [0.0, LN3], [0.0, LN3]]])    # top-1 1 throughout, p = 3/4 constant
# Grids / draws: N=3 images, T=2 points, 2 classes.
GRID = np.array([[[1.0, 0.0], [1.0, 0.0]],     # label 0: correct, correct
                 [[0.0, 1.0], [1.0, 0.0]],     # label 1: correct, wrong
                 [[1.0, 0.0], [1.0, 0.0]]])    # label 1: wrong, wrong
GRID_LABELS = np.array([0, 1, 1])

CASES = {
    "accuracy": [((MOVED, LABELS), {}, 0.75), ((CLEAN, LABELS), {}, 0.25)],
    "consistency": [((MOVED, CLEAN), {}, 0.5), ((CLEAN, CLEAN), {}, 1.0)],
    # only image 0 is correct untransformed, and it keeps its class; with labels = the clean
    # top-1 every image counts and the answer is plain consistency
    "consistency_correct": [((MOVED, CLEAN, LABELS), {}, 1.0), ((MOVED, CLEAN, np.array([0, 0, 1, 0])), {}, 0.5)],
    "kl": [((MOVED, CLEAN), {}, (KL_ROW0 + KL_ROW1 + 0.0 + KL_ROW3) / 4),
           ((CLEAN, CLEAN), {}, 0.0),
           ((np.array([[0.5, 0.5]]), np.array([[0.75, 0.25]])), {"from_logits": False}, KL_ROW0)],
    "embedding_cosine": [((EMB_MOVED, EMB_CLEAN), {}, (0.0 + 1.0 + 1.0) / 3)],
    "embedding_distance": [((EMB_MOVED, EMB_CLEAN), {}, (math.sqrt(2) + 3 + 0) / 3 / PAIRWISE),
                           ((EMB_MOVED, EMB_CLEAN), {"scale": 2.0}, (math.sqrt(2) + 3 + 0) / 3 / 2)],
    "flip_rate": [((WALK,), {}, 1 / 4)],  # image 0 flips once at its 2nd step (tie -> class 0 first)
    "mac": [((WALK,), {}, (0.25 + 0.25 + 0 + 0) / 4)],
    "grid_accuracy": [((GRID, GRID_LABELS), {}, 1 / 3)],
    "worst_of_k_accuracy": [((GRID, GRID_LABELS), {}, 1 / 3)],
    "random_accuracy": [((GRID, GRID_LABELS), {}, 3 / 6)],
}


def test_every_metric_has_a_case():
    assert set(CASES) == set(M.METRICS), "add a known-answer case for each new metric"
    assert set(M.POINT_METRICS) <= set(M.METRICS)


@pytest.mark.parametrize("name, args, kwargs, expected",
                         [(n, a, k, e) for n, cases in CASES.items() for a, k, e in cases])
def test_metric_known_answers(name, args, kwargs, expected):
    value = M.METRICS[name](*args, **kwargs)
    assert isinstance(value, float)
    assert value == pytest.approx(expected, abs=1e-12)


def test_kl_is_finite_and_nonnegative_with_zero_probabilities():
    p = np.array([[1.0, 0.0], [0.5, 0.5]])
    q = np.array([[0.0, 1.0], [0.5, 0.5]])
    value = M.kl(q, p, from_logits=False)  # KL(p || q) with p(0)=1 where q(0)=0
    assert math.isfinite(value) and value > 10
    big = np.array([[1000.0, -1000.0]])
    assert math.isfinite(M.kl(-big, big))
    assert M.kl_divergence(M.log_probabilities(big), M.log_probabilities(big)).tolist() == [0.0]


def test_cosine_zero_vector_conventions():
    a = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    b = np.array([[0.0, 0.0], [1.0, 0.0], [-2.0, -2.0]])
    np.testing.assert_allclose(M.cosine_similarity(a, b), [1.0, 0.0, -1.0])
    # feature maps are flattened
    assert M.cosine_similarity(np.ones((2, 3, 3, 4)), np.ones((2, 3, 3, 4))).shape == (2,)


def test_mean_pairwise_distance_exact_and_deterministic_prefix():
    e = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])
    assert M.mean_pairwise_distance(e) == pytest.approx((5 + 10 + 5) / 3)
    assert M.mean_pairwise_distance(e, max_samples=2) == pytest.approx(5.0)  # the first rows, no random pick
    assert math.isnan(M.mean_pairwise_distance(e[:1]))
    rng = np.random.default_rng(0)
    big = rng.normal(size=(700, 5))  # crosses the 512-row block
    direct = np.mean([np.linalg.norm(big[i] - big[j]) for i in range(700) for j in range(i + 1, 700)])
    assert M.mean_pairwise_distance(big) == pytest.approx(direct, rel=1e-9)
    assert math.isnan(M.embedding_distance(np.ones((2, 2)), np.ones((2, 2))))  # all-equal embeddings: undefined


def test_logits_and_probabilities_agree():
    rng = np.random.default_rng(1)
    z1, z2 = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    p1, p2 = (np.exp(z) / np.exp(z).sum(1, keepdims=True) for z in (z1, z2))
    assert M.kl(z2, z1) == pytest.approx(M.kl(p2, p1, from_logits=False), rel=1e-9)
    w = rng.normal(size=(3, 5, 4))
    pw = np.exp(w) / np.exp(w).sum(-1, keepdims=True)
    assert M.mac(w) == pytest.approx(M.mac(pw, from_logits=False), rel=1e-9)
