"""A run's epoch plan: the learning-rate warm-up and decay horizon, and the epoch cap, from n.

The default recipe (``schedule: warmup_cosine``) warms the learning rate up linearly from 0
over ``warmup_epochs``, decays it along a cosine to ``lr_floor x learning_rate`` at the end
of the *decay horizon*, and then holds it there; early stopping on the validation loss ends
the run (``stop_reason: plateau``). The horizon is a number of optimizer steps
(``decay_steps``), so in epochs it scales with the data size like a step budget:

    horizon_epochs = min(max(ceil(decay_steps / steps_per_epoch), ceil(warmup_epochs) + 1), cap)

With ``decay_passes`` the horizon is at most that many passes over the subset,
``min(decay_steps, ceil(decay_passes x steps_per_pass))`` steps, where an epoch of ``passes``
passes (``min_epoch_steps``) has ``steps_per_epoch / passes`` steps per pass: a small subset
anneals in passes, a large one in ``decay_steps``.

A large subset anneals within the horizon and then plateaus at the floor; a small one
overfits and plateaus long before its horizon ends. The cap (``epochs``) is a safety net:
by default ``2 x horizon_epochs + patience``, so it also scales with n. The patience is
``early_stopping`` epochs but at least ``patience_steps`` optimizer steps: with a few steps per
epoch, three epochs are too few to tell a plateau from noise. Early stopping may end a
run only from ``earliest_stop_epochs`` on: past the warm-up and ``stop_after`` of the decay,
plus the patience, so a plateau is looked for only once the learning rate has come down.

Pure arithmetic, no keras: the optimizer (:mod:`invariance.training.optimizer`) and the
trainer both read the plan, and it is known before the optimizer is built.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from invariance.training.spec import TrainSpec


@dataclass(frozen=True)
class EpochPlan:
    """Where a run's schedule turns and where it must stop, in steps and epochs.

    Attributes:
        steps_per_epoch: Optimizer steps per epoch.
        warmup_steps: Steps of the linear warm-up (``warmup_cosine``; else 0).
        decay_steps: Steps of the cosine after the warm-up (``warmup_cosine``; else 0).
        horizon_epochs: Epochs until the learning rate reaches its floor.
        max_epochs: The cap.
        patience_epochs: Early stopping's patience in epochs (None: off), at least
            ``patience_steps`` optimizer steps.
        earliest_stop_epochs: The fewest epochs after which early stopping may end the run
            (``stop_after`` of the cosine, plus the patience; 0 for the other schedules).
    """

    steps_per_epoch: int
    warmup_steps: int
    decay_steps: int
    horizon_epochs: int
    max_epochs: int
    patience_epochs: int | None = None
    earliest_stop_epochs: int = 0


def epoch_plan(spec: TrainSpec, *, steps_per_epoch: int, passes: int = 1) -> EpochPlan:
    """The plan of a run of ``spec`` with ``steps_per_epoch`` optimizer steps per epoch, each
    epoch ``passes`` passes over the training subset (:func:`invariance.training.budget.epoch_passes`)."""
    spe = int(steps_per_epoch)
    horizon = max(math.ceil(horizon_steps(spec, steps_per_pass=spe / max(1, int(passes))) / spe),
                  math.ceil(spec.warmup_epochs) + 1)
    if spec.epochs is not None:
        horizon = min(horizon, spec.epochs)
    patience = (None if spec.early_stopping is None else
                max(spec.early_stopping, math.ceil(spec.patience_steps / spe)))
    cap = spec.epochs if spec.epochs is not None else 2 * horizon + (patience or 0)
    if spec.schedule != "warmup_cosine":
        return EpochPlan(spe, 0, 0, horizon, cap, patience)
    total = horizon * spe
    # At least one decay step, so a one-epoch horizon still ends at the floor.
    warmup = min(int(round(spec.warmup_epochs * spe)), total - 1)
    watch = math.ceil((warmup + spec.stop_after * (total - warmup)) / spe)
    earliest = min(watch + (patience or 0), cap) if spec.stop_after > 0 else 0
    return EpochPlan(spe, warmup, total - warmup, horizon, cap, patience, earliest)


def horizon_steps(spec: TrainSpec, *, steps_per_pass: float) -> int:
    """The decay horizon in optimizer steps, before rounding up to whole epochs:
    ``decay_steps``, or fewer when ``decay_passes`` passes of ``steps_per_pass`` are fewer."""
    if spec.decay_passes is None:
        return spec.decay_steps
    return max(1, min(spec.decay_steps, math.ceil(spec.decay_passes * steps_per_pass)))


def expected_epochs(spec: TrainSpec, *, steps_per_epoch: int, passes: int = 1) -> int:
    """The epochs a run of ``spec`` is expected to train, for cost estimates.

    An explicit cap counts in full (early stopping only shortens a run); with the default
    cap, a run that anneals stops about ``patience`` epochs after its horizon, so that is
    the estimate (a small subset usually plateaus sooner).
    """
    plan = epoch_plan(spec, steps_per_epoch=steps_per_epoch, passes=passes)
    if spec.epochs is not None:
        return plan.max_epochs
    return min(plan.horizon_epochs + (plan.patience_epochs or 0), plan.max_epochs)


def learning_rate_at(spec: TrainSpec, plan: EpochPlan, step: int) -> float:
    """The ``warmup_cosine`` learning rate before optimizer step ``step`` (0-based), in plain
    floats: the formula the keras schedule of :func:`invariance.training.optimizer.make_optimizer`
    follows, for reading and for known-answer tests."""
    peak = spec.learning_rate
    if step < plan.warmup_steps:
        return peak * step / plan.warmup_steps
    done = min(step - plan.warmup_steps, plan.decay_steps) / plan.decay_steps
    return peak * (spec.lr_floor + (1 - spec.lr_floor) * 0.5 * (1 + math.cos(math.pi * done)))
