"""The ``albumentations`` path: augmentation on the host, overlapped with training.

A :class:`AlbumentationsBatches` is a ``keras.utils.PyDataset`` for one epoch. Worker
threads build and augment batches while the model trains on earlier ones. Each batch
reseeds its own ``A.Compose`` from (seed, epoch, batch index), so the result does not
depend on which thread ran it or on how many workers there are, and a resumed run sees
the same batches as an uninterrupted one.

Geometric ranges become one ``A.Affine`` in the shared convention (checked against
:mod:`invariance.transforms` in the tests). Differences from the ``device`` path:
albumentations rounds translations to whole pixels (pixel ranges are rounded to
integers and shifts drawn as integers; fractional ``translate_percent`` shifts are
rounded after scaling), and it warps uint8 images, so values are quantised to 1/255.
"""
from __future__ import annotations

import threading
from typing import Any

import keras
import numpy as np

from invariance.augment.spec import AugmentationSpec, GeometricSpec, resolve_augmentation
from invariance.data import to_float
from invariance.errors import InvarianceError
from invariance.seeding import derive_seed

_CV2_INTERPOLATION = {"bilinear": "INTER_LINEAR", "nearest": "INTER_NEAREST"}
_CV2_BORDER = {"constant": "BORDER_CONSTANT", "wrap": "BORDER_WRAP", "reflect": "BORDER_REFLECT",
               "nearest": "BORDER_REPLICATE"}


def geometric_affine(spec: GeometricSpec) -> Any:
    """An ``A.Affine`` that draws from the ranges of ``spec``, applied with probability ``spec.p``.

    ``keep_ratio`` keeps one scale for both axes and ``balanced_scale=False`` draws it
    uniformly in the range, as the device path does. Pixel shifts are whole pixels here
    whatever ``shift_mode`` says (albumentations draws ``translate_px`` as integers).
    """
    import albumentations as A
    import cv2

    lo, hi = spec.shift
    if spec.shift_is_fraction:
        translate = {"translate_percent": {"x": (lo, hi), "y": (lo, hi)}}
    else:
        r = (int(round(lo)), int(round(hi)))
        translate = {"translate_px": {"x": r, "y": r}}
    return A.Affine(**translate, rotate=spec.rotate, scale=spec.scale, keep_ratio=True, balanced_scale=False,
                    interpolation=getattr(cv2, _CV2_INTERPOLATION[spec.interpolation]),
                    border_mode=getattr(cv2, _CV2_BORDER[spec.fill]), fill=0, p=spec.p)


def build_transforms(spec: Any) -> list[Any]:
    """Fresh albumentations transform instances for a spec (each thread needs its own).

    Returns:
        A list of transforms; empty for ``none``.
    """
    spec = resolve_augmentation(spec)
    if spec.kind == "geometric":
        return [geometric_affine(spec.geometric)]
    return [t.build() for t in spec.albumentations]


def make_compose(spec: Any, *, seed: int | None = None) -> Any:
    """A seeded ``A.Compose`` of the spec's transforms."""
    import albumentations as A

    return A.Compose(build_transforms(spec), seed=seed)


def augment_batch(compose: Any, images: np.ndarray) -> np.ndarray:
    """Runs ``compose`` on each image of a uint8 NHWC batch, in order.

    Returns:
        uint8 array of the same shape.

    Raises:
        InvarianceError: a transform changed the image shape (e.g. a crop to another size).
    """
    out = np.empty_like(images)
    for i, img in enumerate(images):
        res = compose(image=img)["image"]
        if res.ndim == 2:
            res = res[:, :, None]
        if res.shape != img.shape:
            raise InvarianceError(f"augmentation.albumentations: the transforms must keep the image shape "
                                  f"{img.shape}; they produced {res.shape}")
        out[i] = res
    return out


class AlbumentationsBatches(keras.utils.PyDataset):
    """One epoch of augmented batches, float32 in [0, 1], built in worker threads.

    Args:
        x: uint8 images (N, H, W, C).
        y: labels (N,).
        spec: The augmentation (geometric or albumentations kind).
        batch_size: Batch size; the last batch may be smaller.
        seed: The run's seed.
        epoch: The epoch index (part of every batch's seed).
        order: The epoch's sample order (indices into x); default ``arange(N)``.
        workers: Worker threads (0 runs in the training thread).
        max_queue_size: Batches prepared ahead.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, *, spec: Any, batch_size: int, seed: int, epoch: int = 0,
                 order: np.ndarray | None = None, workers: int = 2, max_queue_size: int = 8):
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=max_queue_size)
        if x.dtype != np.uint8:
            raise InvarianceError(f"AlbumentationsBatches: images must be uint8; received {x.dtype}")
        self.x, self.y = x, y
        self.spec = resolve_augmentation(spec)
        self.batch_size = int(batch_size)
        self.seed, self.epoch = int(seed), int(epoch)
        self.order = np.arange(len(x)) if order is None else np.asarray(order)
        self._local = threading.local()

    def __len__(self) -> int:
        return -(-len(self.order) // self.batch_size)

    def _compose(self):
        compose = getattr(self._local, "compose", None)
        if compose is None:
            compose = self._local.compose = make_compose(self.spec)
        return compose

    def __getitem__(self, index: int):
        idx = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        compose = self._compose()
        compose.set_random_seed(derive_seed(self.seed, self.epoch, index))
        images = augment_batch(compose, self.x[idx])
        return to_float(images), self.y[idx]
