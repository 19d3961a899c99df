"""A step budget: how many epochs a run trains so that every data size sees similar steps.

In a data-size ablation a fixed epoch count gives the smallest subsets a few dozen
optimizer steps and the largest thousands, so small-n runs would be under-trained rather
than data-starved. Fixing the number of optimizer steps instead (Hestness et al. 2017 train
every size to convergence) keeps the comparison about data. A floor keeps large sets from
being cut to a fraction of an epoch and a cap keeps tiny sets from running thousands of
epochs; early stopping on the validation split still ends a run sooner.
"""
from __future__ import annotations

import math

from invariance.errors import SpecError


def epoch_passes(n_examples: int, *, batch_size: int, min_steps: int = 1) -> int:
    """Passes over ``n_examples`` in one epoch: the fewest that make ``min_steps`` optimizer
    steps (``TrainSpec.min_epoch_steps``); 1 whenever one pass makes that many."""
    _positive_int("n_examples", n_examples)
    _positive_int("batch_size", batch_size)
    _positive_int("min_steps", min_steps)
    return max(1, math.ceil(min_steps * batch_size / n_examples))


def steps_per_epoch(n_examples: int, *, batch_size: int, min_steps: int = 1) -> int:
    """Optimizer steps in one epoch over ``n_examples``: its :func:`epoch_passes` passes, batched
    as one sequence (the last partial batch counts)."""
    passes = epoch_passes(n_examples, batch_size=batch_size, min_steps=min_steps)
    return math.ceil(passes * n_examples / batch_size)


def epochs_for(n_train: int, *, batch_size: int, target_steps: int, min_epochs: int = 1,
               max_epochs: int | None = None, min_steps: int = 1) -> int:
    """Epochs that give about ``target_steps`` optimizer steps on ``n_train`` examples.

    ``epochs = clamp(ceil(target_steps / steps_per_epoch), min_epochs, max_epochs)``

    Args:
        n_train: Examples the model trains on per epoch: the training subset *after* the
            validation split has been carved out of it.
        batch_size: Examples per optimizer step.
        target_steps: Total optimizer steps wanted (``train.steps``).
        min_epochs: Floor (``train.min_epochs``), >= 1.
        max_epochs: Cap (``train.max_epochs``), or None for no cap.
        min_steps: The fewest steps in an epoch (``train.min_epoch_steps``).

    Returns:
        The number of epochs, an int >= 1.

    Raises:
        SpecError: If an argument is not a positive integer, or ``min_epochs > max_epochs``.
    """
    _positive_int("n_train", n_train)
    per_epoch = steps_per_epoch(n_train, batch_size=batch_size, min_steps=min_steps)
    _positive_int("target_steps", target_steps)
    _positive_int("min_epochs", min_epochs)
    if max_epochs is not None:
        _positive_int("max_epochs", max_epochs)
        if max_epochs < min_epochs:
            raise SpecError("max_epochs", f"must be >= min_epochs ({min_epochs})", max_epochs)
    epochs = max(math.ceil(target_steps / per_epoch), min_epochs)
    return epochs if max_epochs is None else min(epochs, max_epochs)


def _positive_int(field: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError(field, "must be a positive integer", value)
