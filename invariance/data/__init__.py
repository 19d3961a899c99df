"""Datasets: loading (local first, download last), validation, black-canvas padding, subsets.

Main entry points:

- :func:`load_dataset` -> :class:`Dataset` (uint8 NHWC images, int64 labels);
- :func:`to_float` turns uint8 images into the float32 [0, 1] inputs models take;
- :data:`DATASETS`, the registry of named datasets, and :func:`dataset_status`;
- :mod:`invariance.data.subsets` for nested class-balanced subsets and validation splits.
"""
from invariance.data.dataset import Dataset, pad_to_canvas, to_float
from invariance.data.loader import clear_cache, dataset_status, load_dataset
from invariance.data.sources import DATASETS, DatasetSource, Location, locate, register_dataset
from invariance.data.subsets import nested_subset, stratified_order, train_val_split
from invariance.data import rotated  # noqa: F401,E402  (registers the rotated variants)

__all__ = [
    "DATASETS",
    "Dataset",
    "DatasetSource",
    "Location",
    "clear_cache",
    "dataset_status",
    "load_dataset",
    "locate",
    "nested_subset",
    "pad_to_canvas",
    "register_dataset",
    "stratified_order",
    "to_float",
    "train_val_split",
]
