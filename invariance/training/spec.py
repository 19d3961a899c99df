"""TrainSpec: how a model is trained (optimiser, schedule, batches, epochs, stopping).

It says nothing about data size or augmentation; those are separate arguments of
:func:`invariance.training.train`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping

from invariance.config import parse_spec
from invariance.errors import SpecError, in_range

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("none", "cosine", "step")


@dataclass(frozen=True)
class TrainSpec:
    """Training hyper-parameters, validated when built.

    Attributes:
        optimizer: ``adam``, ``adamw`` or ``sgd``.
        learning_rate: Initial learning rate, > 0.
        momentum: SGD momentum in [0, 1) (ignored by adam/adamw).
        weight_decay: Decoupled weight decay (adamw, sgd) or L2-style decay (adam) >= 0.
        schedule: ``none``; ``cosine`` (decays to 0 over all epochs, per step); or ``step``
            (multiply by ``gamma`` every ``step_size`` epochs).
        step_size: Epochs between decays for ``step``.
        gamma: Decay factor for ``step``, in (0, 1].
        batch_size: Images per optimiser step.
        epochs: Maximum number of epochs.
        early_stopping: Patience in epochs on validation loss, or None for off. When on,
            the run ends with the weights of its lowest-validation-loss epoch, whether or
            not it stopped early (``best_epoch`` in metrics.json).
        val_fraction: Share of the training subset held out for validation, in [0, 0.5].
    """

    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: Literal["none", "cosine", "step"] = "none"
    step_size: int = 10
    gamma: float = 0.1
    batch_size: int = 128
    epochs: int = 10
    early_stopping: int | None = None
    val_fraction: float = 0.1

    def __post_init__(self):
        if not self.learning_rate > 0 or self.learning_rate > 10:
            raise SpecError("learning_rate", "must be > 0 and <= 10", self.learning_rate)
        if not 0 <= self.momentum < 1:
            raise SpecError("momentum", "must be in [0, 1)", self.momentum)
        in_range("weight_decay", self.weight_decay, 0.0, 1.0)
        in_range("step_size", self.step_size, 1)
        if not 0 < self.gamma <= 1:
            raise SpecError("gamma", "must be in (0, 1]", self.gamma)
        in_range("batch_size", self.batch_size, 1, 65536)
        in_range("epochs", self.epochs, 1, 100000)
        if self.early_stopping is not None:
            in_range("early_stopping", self.early_stopping, 1)
        in_range("val_fraction", self.val_fraction, 0.0, 0.5)
        if self.early_stopping is not None and self.val_fraction == 0:
            raise SpecError("early_stopping", "needs a validation split (val_fraction > 0)", self.early_stopping)


def resolve_train_spec(obj: Any = None, *, path: str = "train") -> TrainSpec:
    """A :class:`TrainSpec` from None (defaults), a mapping, or a spec.

    Raises:
        SpecError: naming ``path`` and the key, e.g. ``train.batch_size``.
    """
    if obj is None:
        return TrainSpec()
    if isinstance(obj, TrainSpec):
        return obj
    if not isinstance(obj, Mapping):
        raise SpecError(path, "must be a mapping of training options", obj)
    return parse_spec(TrainSpec, obj, path=path)
