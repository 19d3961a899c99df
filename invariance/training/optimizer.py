"""A run's optimiser and learning-rate schedule, from its TrainSpec and epoch plan."""
from __future__ import annotations

from typing import Any

import keras

from invariance.training.schedule import EpochPlan
from invariance.training.spec import TrainSpec


def make_optimizer(spec: TrainSpec, plan: EpochPlan) -> keras.optimizers.Optimizer:
    """The optimiser with its learning-rate schedule (per-step, so resumes are exact), turning
    where ``plan`` (:func:`invariance.training.schedule.epoch_plan` of ``spec``) says: the trainer's
    epoch loop reads the same plan, so the two cannot disagree."""
    lr: Any = spec.learning_rate
    spe = plan.steps_per_epoch
    if spec.schedule == "warmup_cosine":
        # keras' CosineDecay: linear from 0 to warmup_target over warmup_steps, then a cosine
        # to alpha x warmup_target over decay_steps, then constant (see schedule.learning_rate_at).
        lr = keras.optimizers.schedules.CosineDecay(0.0, decay_steps=plan.decay_steps, alpha=spec.lr_floor,
                                                    warmup_target=spec.learning_rate,
                                                    warmup_steps=plan.warmup_steps)
    elif spec.schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(spec.learning_rate, decay_steps=plan.max_epochs * spe)
    elif spec.schedule == "step":
        lr = keras.optimizers.schedules.ExponentialDecay(spec.learning_rate, decay_steps=spec.step_size * spe,
                                                         decay_rate=spec.gamma, staircase=True)
    decay = spec.weight_decay or None
    if spec.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=spec.momentum, weight_decay=decay)
    if spec.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=spec.weight_decay)
    return keras.optimizers.Adam(lr, weight_decay=decay)
