"""Augmentation: typed specs, seeded sampling, and two execution paths.

* :mod:`~invariance.augment.spec`: :class:`AugmentationSpec` (none, geometric ranges, or
  an albumentations list), :func:`resolve_augmentation`, :func:`execution_path`.
* :mod:`~invariance.augment.catalog`: the albumentations transforms, checked by introspection.
* :mod:`~invariance.augment.text`: the CLI string grammar (``geometric:shift=4,...``).
* :mod:`~invariance.augment.labels`: :func:`augmentation_label`, one short label per spec.
* :mod:`~invariance.augment.sampling`: drawing transform points (numpy and device twins).
* :mod:`~invariance.augment.device`: :class:`RandomAffine`, augmentation inside the
  compiled training step.
* :mod:`~invariance.augment.albu`: :class:`AlbumentationsBatches`, host-side augmentation
  in worker threads.

Both paths apply the one transform of :mod:`invariance.transforms`. The spec modules do
not import keras; the two path modules are loaded on first use.
"""
from __future__ import annotations

import importlib

from invariance.augment.catalog import albumentations_names
from invariance.augment.labels import augmentation_label
from invariance.augment.sampling import point_ranges, sample_points, sample_points_tensor
from invariance.augment.spec import (
    AUTO_PATH,
    NONE,
    AlbumentationsTransform,
    AugmentationSpec,
    GeometricSpec,
    execution_path,
    parse_augment_string,
    resolve_augmentation,
)
from invariance.seeding import derive_seed

_LAZY = {
    "RandomAffine": "invariance.augment.device",
    "with_augmentation": "invariance.augment.device",
    "AlbumentationsBatches": "invariance.augment.albu",
    "make_compose": "invariance.augment.albu",
    "geometric_affine": "invariance.augment.albu",
}

__all__ = [
    "AUTO_PATH", "NONE", "AlbumentationsTransform", "AugmentationSpec", "GeometricSpec", "albumentations_names",
    "augmentation_label", "derive_seed", "execution_path", "parse_augment_string", "point_ranges",
    "resolve_augmentation", "sample_points", "sample_points_tensor", *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'invariance.augment' has no attribute {name!r}")
