"""Rotated datasets: every test (and optionally train) image turned by a seeded uniform angle.

The rotated-MNIST benchmark of Cohen & Welling (2016), for Fashion-MNIST. Each image is first
put on a black canvas large enough for its whole frame to turn without losing a corner
(side ``ceil(H * sqrt(2))``, 40 px for 28 px images), then rotated about the canvas centre
by an angle drawn uniformly from [0, 360) degrees, with the convention's rotation
(:func:`invariance.transforms.apply`: counter-clockwise, bilinear, zero fill), and rounded
back to uint8.

The angles come from ``numpy.random.default_rng(seed)``, one stream per split (train seed
0, test seed 1), so the variant is the same data on every machine and in every run of a
study; the model seeds of a study do not change it.

Registered variants (each reads its base dataset's files):

* ``fashion_mnist_rot``: train and test rotated, as rotated MNIST;
* ``fashion_mnist_rot_test``: upright training images, rotated test images (how much
  rotation invariance a model learns or has built in);
* ``fashion_mnist_mini_rot``, ``fashion_mnist_mini_rot_test``: the same on the bundled set.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from invariance.data.dataset import pad_to_canvas
from invariance.data.sources import DATASETS, register_dataset
from invariance.errors import SpecError

TRAIN_SEED = 0
TEST_SEED = 1
CHUNK = 4096  # images per transform call: bounds the float32 working memory


def rotation_canvas(height: int, width: int) -> int:
    """The smallest square canvas on which an H x W frame turns by any angle uncut."""
    return int(math.ceil(math.hypot(height, width) - 1e-9))


def uniform_angles(n: int, *, seed: int) -> np.ndarray:
    """``n`` angles in degrees, uniform on [0, 360), from ``default_rng(seed)``. float64 (n,)."""
    return np.random.default_rng(seed).uniform(0.0, 360.0, size=n)


def rotate_images(x: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Rotates uint8 NHWC images counter-clockwise by ``angles`` (degrees), bilinear, zero fill.

    Returns:
        uint8 array of the same shape, rounded to the nearest level.
    """
    from keras import ops

    from invariance.transforms import apply

    out = np.empty_like(x)
    points = np.zeros((len(x), 4))
    points[:, 2] = angles
    points[:, 3] = 1.0
    for start in range(0, len(x), CHUNK):
        stop = start + CHUNK
        chunk = x[start:stop].astype(np.float32)
        turned = ops.convert_to_numpy(apply(chunk, points[start:stop], fill="constant", interpolation="bilinear"))
        out[start:stop] = np.clip(np.rint(turned), 0, 255).astype(x.dtype)
    return out


def rotated_split(x: np.ndarray, *, seed: int, canvas: int) -> np.ndarray:
    """Pads ``x`` to ``canvas`` (centred, zeros), then rotates each image by a uniform angle."""
    return rotate_images(pad_to_canvas(x, canvas), uniform_angles(len(x), seed=seed))


def _rotator(*, train: bool):
    def derive(x_train: np.ndarray, x_test: np.ndarray, canvas: int | None):
        need = rotation_canvas(*x_test.shape[1:3])
        if canvas is None:
            canvas = need
        elif canvas < need:
            raise SpecError("canvas", f"must be >= {need} for a rotated dataset of {x_test.shape[1]}x"
                            f"{x_test.shape[2]} images (so that no corner is cut), or null for {need}", canvas)
        x_test = rotated_split(x_test, seed=TEST_SEED, canvas=canvas)
        x_train = rotated_split(x_train, seed=TRAIN_SEED, canvas=canvas) if train else pad_to_canvas(x_train, canvas)
        return x_train, x_test, canvas

    return derive


def register_rotated(base: str, *, train: bool) -> str:
    """Registers ``{base}_rot`` (``train=True``) or ``{base}_rot_test`` as a variant of ``base``.

    Returns:
        The variant's name.
    """
    source = DATASETS[base]
    name = f"{base}_rot" if train else f"{base}_rot_test"
    what = "train and test images" if train else "test images (training images upright)"
    register_dataset(dataclasses.replace(
        source, name=name, derive=_rotator(train=train),
        how_to_get=f"A rotated variant of {base!r} ({what} turned by seeded uniform angles on a black "
                   f"canvas); it needs {base!r}. {source.how_to_get}"))
    return name


for _base in ("fashion_mnist", "fashion_mnist_mini"):
    for _train in (True, False):
        register_rotated(_base, train=_train)
del _base, _train
