"""Random shift pairs: Zhang (2019)'s consistency, two random shifts of the same image.

Zhang ("Making Convolutional Networks Shift-Invariant Again", ICML 2019) measures how often
a classifier gives the same top-1 class to two randomly shifted copies of one image (on
ImageNet: two random 224-px crops of the same 256-px image). The harness's ``consistency``
compares each transform against the *untransformed* image; this module measures the paper's
version, where neither copy is the original.

Each image gets ``pairs`` pairs of integer shifts ``(dx1, dy1), (dx2, dy2)``, every component
drawn uniformly from ``{-max_shift, ..., max_shift}`` with ``make_rng(seed, SHIFT_PAIRS)`` of
:mod:`invariance.seeding` (a stream of its own, so the draws do not repeat those of random-k
with the same seed). The copies are moved with the shared transform (integer shifts move pixels exactly):

* ``fill: wrap`` (the default) is a circular shift: no content is lost, so a model that only
  looks at the mean intensity is exactly consistent (the known answer of the tests).
* ``fill: constant`` moves the image on a black canvas (pad-and-crop windows): content that
  leaves the frame is lost, as in the paper's crops.

Rows (``sweep = "shift_pairs"``, point columns NaN, ``n`` = images):

* ``pair_consistency``: the fraction of pairs whose two top-1 classes agree.
* ``pair_accuracy``: the accuracy over all shifted copies (the paper's accuracy beside it).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from invariance.errors import SpecError, in_range
from invariance.seeding import SHIFT_PAIRS, make_rng
from invariance.transforms import check_fill

SWEEP = "shift_pairs"
METRICS = ("pair_consistency", "pair_accuracy")
STREAM = SHIFT_PAIRS
"""Key of the draws' stream (:data:`invariance.seeding.SHIFT_PAIRS`), apart from random-k's bare seed."""


@dataclass(frozen=True)
class ShiftPairsSpec:
    """Two random integer shifts per image, ``pairs`` times (Zhang 2019's consistency).

    Attributes:
        max_shift: Each of dx, dy of each copy is uniform in ``{-max_shift, ..., max_shift}`` px.
        pairs: Pairs drawn per image.
        fill: ``wrap`` (circular shifts) or ``constant`` (black canvas), or any harness fill.
    """

    max_shift: int = 4
    pairs: int = 1
    fill: str = "wrap"

    def __post_init__(self):
        for name in ("max_shift", "pairs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise SpecError(name, "must be an integer", value)
        in_range("max_shift", self.max_shift, 1, 1000)
        in_range("pairs", self.pairs, 1, 1000)
        check_fill(self.fill)

    def points(self, n_images: int, seed: int) -> np.ndarray:
        """The shifts as harness points.

        Returns:
            float64 (n_images, pairs, 2, 4): per image and pair, the two points
            ``(dx, dy, 0, 1)``.
        """
        rng = make_rng(seed, STREAM)
        shifts = rng.integers(-self.max_shift, self.max_shift + 1, size=(n_images, self.pairs, 2, 2))
        out = np.zeros((n_images, self.pairs, 2, 4))
        out[..., :2] = shifts
        out[..., 3] = 1.0
        return out


def resolve_shift_pairs(obj, *, field: str = "shift_pairs") -> ShiftPairsSpec | None:
    """``None``, an int (max_shift), ``{max_shift, pairs, fill}`` or a :class:`ShiftPairsSpec`."""
    from invariance.config import parse_spec

    if obj is None or isinstance(obj, ShiftPairsSpec):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, bool):
        obj = {"max_shift": int(obj)}
    return parse_spec(ShiftPairsSpec, obj, path=field)


def pair_metrics(top1: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """The two summaries from the copies' top-1 classes.

    Args:
        top1: int (N, pairs, 2), the top-1 class of each shifted copy.
        labels: int (N,).

    Returns:
        ``{"pair_consistency": float, "pair_accuracy": float}``.
    """
    top1 = np.asarray(top1)
    return {"pair_consistency": float(np.mean(top1[..., 0] == top1[..., 1])),
            "pair_accuracy": float(np.mean(top1 == np.asarray(labels)[:, None, None]))}
