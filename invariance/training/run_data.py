"""The images of one run: its nested subset, the validation split carved from it, and the arrays."""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from invariance.errors import SpecError
from invariance.training.spec import TrainSpec


@dataclasses.dataclass(frozen=True)
class RunSplit:
    """The run's class-balanced subset of the training images, as fit and validation indices."""

    subset: np.ndarray
    fit_idx: np.ndarray
    val_idx: np.ndarray


def split_run(dataset: Any, n_train: int | None, tspec: TrainSpec, *, seed: int) -> RunSplit:
    from invariance.data.subsets import nested_subset, train_val_split

    subset = nested_subset(dataset.y_train, n_train, seed=seed)
    fit_part, val_part = train_val_split(dataset.y_train[subset], val_fraction=tspec.val_fraction, seed=seed)
    fit_idx, val_idx = subset[fit_part], subset[val_part]
    if tspec.early_stopping and len(val_idx) == 0:
        raise SpecError("train.early_stopping", f"needs validation images, but {len(subset)} training images x "
                        f"val_fraction {tspec.val_fraction} leaves none", tspec.early_stopping)
    return RunSplit(subset, fit_idx, val_idx)


@dataclasses.dataclass(frozen=True)
class RunArrays:
    """The images the run fits and validates on; ``x_fit`` stays uint8 on the albumentations
    path (converted per batch, after augmenting), float32 in [0, 1] otherwise."""

    x_fit: np.ndarray
    y_fit: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray

    @classmethod
    def of(cls, dataset: Any, split: RunSplit, *, path: str) -> RunArrays:
        from invariance.data import to_float

        y_fit = dataset.y_train[split.fit_idx]
        x_val, y_val = to_float(dataset.x_train[split.val_idx]), dataset.y_train[split.val_idx]
        if path == "albumentations":
            x_fit = np.ascontiguousarray(dataset.x_train[split.fit_idx])
        else:
            x_fit = to_float(dataset.x_train[split.fit_idx])
        return cls(x_fit, y_fit, x_val, y_val)
