"""A run's optimiser and learning-rate schedule, from its TrainSpec."""
from __future__ import annotations

from typing import Any

import keras

from invariance.training.spec import TrainSpec


def make_optimizer(spec: TrainSpec, *, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """The optimiser with its learning-rate schedule (per-step, so resumes are exact)."""
    lr: Any = spec.learning_rate
    if spec.schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(spec.learning_rate, decay_steps=spec.epochs * steps_per_epoch)
    elif spec.schedule == "step":
        lr = keras.optimizers.schedules.ExponentialDecay(spec.learning_rate, decay_steps=spec.step_size * steps_per_epoch,
                                                         decay_rate=spec.gamma, staircase=True)
    decay = spec.weight_decay or None
    if spec.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=spec.momentum, weight_decay=decay)
    if spec.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=spec.weight_decay)
    return keras.optimizers.Adam(lr, weight_decay=decay)
