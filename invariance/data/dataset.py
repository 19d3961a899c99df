"""The in-memory dataset: uint8 NHWC images, int64 labels, and where they came from."""
from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

from invariance.data.npz import _Shown, describe as _describe
from invariance.errors import SpecError


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test image-classification dataset.

    Arrays are read-only (a loaded dataset is cached and shared within a process); copy
    before changing them. Images stay uint8 here; models get :func:`to_float` of them.

    Attributes:
        name: The name it was loaded by, e.g. ``"fashion_mnist"`` or ``"npz:my.npz"``.
        x_train: uint8 array, shape (N_train, H, W, C).
        y_train: int64 array, shape (N_train,), values in 0..num_classes-1.
        x_test: uint8 array, shape (N_test, H, W, C).
        y_test: int64 array, shape (N_test,).
        class_names: One name per class.
        source: Where the data was found (a path, or how it was obtained).
        canvas: The S of the S×S zero-padded canvas, or None when not padded.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str
    canvas: int | None = None

    def __post_init__(self):
        for key in ("x_train", "x_test"):
            x = getattr(self, key)
            if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 4:
                raise SpecError(key, "must be a uint8 array of shape (N, H, W, C)", _describe(x))
        for key in ("y_train", "y_test"):
            y = getattr(self, key)
            if not isinstance(y, np.ndarray) or y.dtype != np.int64 or y.ndim != 1:
                raise SpecError(key, "must be an int64 array of shape (N,)", _describe(y))
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise SpecError("x_test", f"must have the image shape of x_train {self.x_train.shape[1:]}",
                            _describe(self.x_test))
        for x_key, y_key in (("x_train", "y_train"), ("x_test", "y_test")):
            if len(getattr(self, x_key)) != len(getattr(self, y_key)):
                raise SpecError(y_key, f"must have one label per image in {x_key} ({len(getattr(self, x_key))})",
                                _describe(getattr(self, y_key)))
        if not isinstance(self.class_names, tuple) or len(self.class_names) < 2:
            raise SpecError("class_names", "must be a tuple of at least 2 names", self.class_names)
        k = len(self.class_names)
        for key in ("y_train", "y_test"):
            y = getattr(self, key)
            if len(y) and (y.min() < 0 or y.max() >= k):
                raise SpecError(key, f"labels must lie in 0..{k - 1} (one per class name)",
                                _Shown(f"labels in {int(y.min())}..{int(y.max())}"))

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """(H, W, C) of every image."""
        return tuple(int(s) for s in self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        """The number of classes, len(class_names)."""
        return len(self.class_names)

    def fingerprint(self) -> str:
        """A stable hex digest of the name, canvas and all four arrays (cached).

        Two datasets with the same fingerprint hold the same bytes, so a study's run ids
        (which include it) change whenever the data does.
        """
        cached = self.__dict__.get("_fingerprint")
        if cached is None:
            h = hashlib.sha256()
            h.update(f"invariance.Dataset/1|{self.name}|{self.canvas}|".encode())
            for key in ("x_train", "y_train", "x_test", "y_test"):
                a = np.ascontiguousarray(getattr(self, key))
                h.update(f"{key}|{a.dtype.str}|{a.shape}|".encode())
                h.update(memoryview(a).cast("B"))
            cached = h.hexdigest()
            # frozen dataclass: write the cache straight into the instance dict
            self.__dict__["_fingerprint"] = cached
        return cached

    def subset(self, n: int | None, *, seed: int) -> "Dataset":
        """The same dataset with a class-balanced, nested training subset of size ``n``.

        The test set is unchanged. See :func:`invariance.data.subsets.nested_subset`.
        """
        from invariance.data.subsets import nested_subset

        idx = nested_subset(self.y_train, n, seed=seed)
        if len(idx) == len(self.y_train):
            return self
        return dataclasses.replace(self, x_train=_readonly(self.x_train[idx]), y_train=_readonly(self.y_train[idx]))

    def summary(self) -> dict:
        """Name, source, sizes, image shape and classes, as plain values."""
        return {
            "name": self.name,
            "source": self.source,
            "n_train": int(len(self.y_train)),
            "n_test": int(len(self.y_test)),
            "image_shape": list(self.image_shape),
            "num_classes": self.num_classes,
            "canvas": self.canvas,
        }

    def __repr__(self) -> str:
        return (f"Dataset(name={self.name!r}, train={self.x_train.shape}, test={self.x_test.shape}, "
                f"classes={self.num_classes}, canvas={self.canvas}, source={self.source!r})")


def pad_to_canvas(x: np.ndarray, size: int) -> np.ndarray:
    """Zero-pads NHWC (or NHW) images to ``size``×``size``, centred: the black canvas.

    When the margin is odd, the extra pixel goes to the bottom and the right, so the
    image's top-left lands at ``((size - H) // 2, (size - W) // 2)``.

    Args:
        x: Images of shape (N, H, W, C) or (N, H, W).
        size: The canvas side S; must be >= H and >= W.

    Returns:
        A new array of shape (N, S, S, C) (or (N, S, S)), same dtype, zeros around ``x``.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise SpecError("canvas", "must be an integer (the canvas side in pixels)", size)
    if x.ndim not in (3, 4):
        raise SpecError("images", "must have shape (N, H, W, C) or (N, H, W)", _describe(x))
    h, w = x.shape[1], x.shape[2]
    if size < max(h, w):
        raise SpecError("canvas", f"must be >= the image size {h}x{w}", size)
    top, left = (size - h) // 2, (size - w) // 2
    out = np.zeros((x.shape[0], size, size) + x.shape[3:], dtype=x.dtype)
    out[:, top:top + h, left:left + w] = x
    return out


def to_float(x: np.ndarray) -> np.ndarray:
    """uint8 images -> float32 in [0, 1] (x / 255); float input is returned as float32.

    Returns:
        float32 array of the same shape.
    """
    x = np.asarray(x)
    if x.dtype == np.uint8:
        return x.astype(np.float32) / np.float32(255.0)
    if np.issubdtype(x.dtype, np.floating):
        return x.astype(np.float32, copy=False)
    raise SpecError("images", "must be uint8 (0..255) or float in [0, 1]", _describe(x))


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


__all__ = ["Dataset", "pad_to_canvas", "to_float"]
