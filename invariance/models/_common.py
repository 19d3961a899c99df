"""Pieces shared by the zoo's builders: seeds, input checks and the classifier head."""
from __future__ import annotations

from typing import Sequence

import keras
import numpy as np

from invariance import seeding
from invariance.errors import SpecError

#: Batch norm's running-statistics momentum (keras' default is 0.99). At 0.99 the statistics
#: need several hundred steps to settle, so a small subset with a few steps per epoch was
#: validated (and early-stopped) on unsettled statistics: cnn_gap read chance-level accuracy
#: on 1,000 images. 0.9 settles within a few dozen steps (PyTorch's default).
BN_MOMENTUM = 0.9


class SeedStream(seeding.SeedStream):
    """Distinct, reproducible integer seeds for the initializers of one model.

    Keras initializers given the same integer seed return the same values, so every layer
    needs its own seed. They are drawn in layer-creation order from ``make_rng(seed)``
    (:class:`invariance.seeding.SeedStream`): the same model seed gives the same weights,
    with no global state touched. With ``seed=None`` every initializer is left unseeded.
    """
    def glorot(self) -> keras.initializers.Initializer:
        return keras.initializers.GlorotUniform(seed=self())

    def normal(self, stddev: float) -> keras.initializers.Initializer:
        return keras.initializers.RandomNormal(stddev=stddev, seed=self())


def check_input_shape(input_shape: Sequence[int]) -> tuple[int, int, int]:
    """Returns ``input_shape`` as (H, W, C) ints; raises SpecError if it is not one."""
    try:
        shape = tuple(input_shape)
    except TypeError:
        shape = None
    if (shape is None or len(shape) != 3
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in shape)):
        raise SpecError("input_shape", "must be (height, width, channels) with positive integers", input_shape)
    return tuple(int(v) for v in shape)


def check_num_classes(num_classes: int) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise SpecError("num_classes", "must be an integer >= 2", num_classes)
    return int(num_classes)


def check_seed(seed: int | None) -> int | None:
    return seeding.check_seed(seed, optional=True)


def classifier_head(x, *, hidden: Sequence[int], activation: str, batch_norm: bool, dropout: float,
                    num_classes: int, seeds: SeedStream, prefix: str):
    """Hidden dense layers, dropout and the ``logits`` layer.

    The last hidden layer (its activation) is named ``embedding``; with no hidden layers the
    caller must already have named the layer producing ``x`` ``embedding``. Dropout, when
    used, sits between ``embedding`` and ``logits`` (identity at inference).

    Returns:
        The logits tensor, shape (N, num_classes), float32.
    """
    for i, units in enumerate(hidden, 1):
        last = i == len(hidden)
        if batch_norm:
            x = keras.layers.Dense(units, use_bias=False, kernel_initializer=seeds.glorot(),
                                   name=f"{prefix}dense{i}")(x)
            x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{prefix}bn{i}")(x)
            x = keras.layers.Activation(activation, name="embedding" if last else f"{prefix}act{i}")(x)
        else:
            x = keras.layers.Dense(units, activation=activation, kernel_initializer=seeds.glorot(),
                                   name="embedding" if last else f"{prefix}dense{i}")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, seed=seeds(), name="head_dropout")(x)
    # float32 logits keep the loss stable under a mixed-precision policy.
    return keras.layers.Dense(num_classes, kernel_initializer=seeds.glorot(), dtype="float32",
                              name="logits")(x)
