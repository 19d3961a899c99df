"""How an epoch's images reach ``model.fit``: from host arrays, or sliced on the device.

* ``host``: numpy arrays, which Keras slices per batch and copies to the device (on
  TensorFlow through ``tf.data``). The TensorFlow default: its input pipeline is fast on
  a CPU, where host and device are one.
* ``device``: the run's images go to the device once; each epoch is one gather there (the
  epoch's seeded order) and each batch a slice of it, so no image crosses from the host
  per batch (:class:`DeviceBatches`). The JAX default: Keras' JAX trainer otherwise copies
  every batch from numpy.

Both feed the same batches in the same order, so a run's results do not depend on the
feed. ``INVARIANCE_FEED=host|device`` overrides the choice (for benchmarks).
"""
from __future__ import annotations

import math
import os
from typing import Any

import keras
import numpy as np

from invariance.errors import one_of

FEEDS = ("host", "device")


def default_feed(*, augmentation_path: str = "none") -> str:
    """``"device"`` on the JAX backend, else ``"host"``; ``INVARIANCE_FEED`` wins.

    The albumentations path always feeds from the host: it augments numpy batches there.
    """
    if augmentation_path == "albumentations":
        return "host"
    forced = os.environ.get("INVARIANCE_FEED")
    if forced:
        one_of("INVARIANCE_FEED", forced, FEEDS)
        return forced
    return "device" if keras.backend.backend() == "jax" else "host"


def to_device(*arrays: np.ndarray) -> tuple[Any, ...]:
    """Copies arrays to the backend's default device once (a tensor each)."""
    return tuple(keras.ops.convert_to_tensor(a) for a in arrays)


class DeviceBatches(keras.utils.PyDataset):
    """One epoch of ``(images, labels)`` batches taken on the device from device tensors.

    Args:
        x: Device tensor (N, ...) of images (from :func:`to_device`).
        y: Device tensor (N,) of labels.
        batch_size: Images per batch; the last batch holds the rest.
        order: (N,) int permutation: the epoch's sample order, or None for the stored order.
    """

    def __init__(self, x: Any, y: Any, *, batch_size: int, order: np.ndarray | None = None):
        super().__init__(workers=1, use_multiprocessing=False)  # batches come from this thread
        if order is not None:  # one gather per epoch, on the device
            index = keras.ops.convert_to_tensor(np.asarray(order, dtype=np.int32))
            x, y = keras.ops.take(x, index, axis=0), keras.ops.take(y, index, axis=0)
        self.x, self.y = x, y
        self.n = int(x.shape[0])
        self.batch_size = int(batch_size)
        self._rest = tuple(int(d) for d in x.shape[1:])

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """Batch ``index``: (images (B, ...), labels (B,)), slices of the device tensors."""
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        start = index * self.batch_size
        size = min(self.batch_size, self.n - start)
        # A dynamic slice: one compiled kernel for every start, not one per batch position.
        return (keras.ops.slice(self.x, (start,) + (0,) * len(self._rest), (size,) + self._rest),
                keras.ops.slice(self.y, (start,), (size,)))
