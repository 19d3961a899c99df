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
SCHEDULES = ("warmup_cosine", "none", "cosine", "step")


@dataclass(frozen=True)
class TrainSpec:
    """Training hyper-parameters, validated when built.

    Attributes:
        optimizer: ``adam``, ``adamw`` or ``sgd``.
        learning_rate: Initial learning rate, > 0.
        momentum: SGD momentum in [0, 1) (ignored by adam/adamw).
        weight_decay: Decoupled weight decay (adamw, sgd) or L2-style decay (adam) >= 0.
        schedule: ``warmup_cosine`` (the default: linear warm-up from 0 over ``warmup_epochs``,
            then cosine decay to ``lr_floor`` x ``learning_rate`` at the end of the decay horizon,
            then constant; see :mod:`invariance.training.schedule`); ``none``; ``cosine``
            (decays to 0 over all epochs, per step); or ``step`` (multiply by ``gamma`` every
            ``step_size`` epochs). Every schedule is a function of the optimizer step, so a
            resumed run follows it exactly.
        warmup_epochs: Length of the linear warm-up (``warmup_cosine``), in epochs, >= 0.
        decay_steps: Optimizer steps from the first step to the end of the cosine
            (``warmup_cosine``): the decay horizon is ``ceil(decay_steps / steps_per_epoch)``
            epochs, so it scales with the data size; 2000 gives 5 epochs on the 54k
            Fashion-MNIST images left after the validation split at batch 128.
        decay_passes: A cap on the decay horizon in passes over the training subset, or None
            (the default: ``decay_steps`` for every size). With it the horizon is
            ``min(decay_steps, ceil(decay_passes x steps_per_pass))`` steps: a large subset
            still anneals over ``decay_steps``, a small one over this many passes. Without
            augmentation a small subset overfits, and reaches its best validation loss, within
            a few dozen passes; a horizon of thousands of steps then only delays its plateau,
            because early stopping waits for ``stop_after`` of the cosine. Measured for
            cnn_pool on Fashion-MNIST, batch 128, 3 seeds: on 1,000 images ``decay_steps: 5000``
            ran 48 epochs for a best epoch of 2-3, and a ~70-pass horizon (500 steps) gave the
            same test accuracy (paired difference +0.00 points on average, each seed within
            0.5) in 8 epochs, a sixth of the CPU time. With augmentation every pass is new
            data and the best epoch comes later: a 250-pass horizon cost 1.1 (1,000 images)
            and 1.3 (250 images) points on average, one seed of three 4.6 points lower, at a
            fifth to two thirds of the time. So the reference studies, which compare augmented
            with plain training, leave it unset; a quick sweep without augmentation may set it.
        lr_floor: The learning rate after the horizon, as a fraction of ``learning_rate``,
            in [0, 1].
        step_size: Epochs between decays for ``step``.
        gamma: Decay factor for ``step``, in (0, 1].
        batch_size: Images per optimiser step.
        epochs: The cap: the most epochs a run may train, a safety net (``stop_reason: cap``
            when reached). None: twice the decay horizon plus the patience, so it scales
            with n. A cap shorter than the horizon also ends the cosine there.
        early_stopping: Patience in epochs on validation loss, or None for off (on by
            default: the run ends when the validation loss has not improved by more than
            ``min_delta`` for this many epochs, ``stop_reason: plateau``). When on, the run
            ends with the weights of its lowest-validation-loss epoch, whether or not it
            stopped early (``best_epoch`` in metrics.json).
        patience_steps: The least patience in optimizer steps: the patience in epochs is
            ``max(early_stopping, ceil(patience_steps / steps_per_epoch))``, so a small subset
            with a few steps per epoch is not stopped by a few noisy epochs (nor before batch
            norm's running statistics have settled).
        min_delta: The least drop of the validation loss that counts as an improvement, >= 0
            (so the tiny gains at the floor learning rate do not keep a run going).
        stop_after: How far through its cosine (``warmup_cosine``) a run must be before early
            stopping may end it, in [0, 1]: the run stops at a plateau only once it has trained
            past the warm-up and this share of the decay, and then ``patience`` epochs more.
            0.5 (the default): not before the learning rate has fallen to half its peak. At
            the peak, a validation loss that jumps about (as batch norm's running statistics
            make it) is not a plateau: a 40 px GAP CNN with batch norm was stopped at epoch 4
            of a 12-epoch cosine with 0.67 validation accuracy, its best epoch the first.
            Small subsets, whose horizon is long in epochs but short in steps, still stop
            within ``decay_steps`` steps. 0: early stopping watches from the first epoch.
        val_fraction: Share of the training subset held out for validation, in [0, 0.5].
        min_epoch_steps: The fewest optimizer steps in an epoch, >= 1. A subset too small for
            that many batches is passed over several times in one epoch, each pass in its own
            seeded order (:func:`invariance.training.budget.epoch_passes`). 1 (the default):
            an epoch is one pass, as in Keras. A data-hunger study sets it (say 50): with
            250 images and a 5000-step horizon, one-pass epochs of 2 steps mean thousands of
            epochs, and every epoch costs a ``fit`` call, a validation pass and a backup (a
            fixed cost that dwarfs 2 steps of a small model), while the warm-up of one epoch
            would be 2 steps long. Schedules and patience count in steps either way.
        precise_bn: How many training images (all of them when fewer) every batch-norm
            layer's statistics are recomputed over, with the weights fixed, after each epoch's
            last step and so before its validation (:mod:`invariance.training.batch_norm`);
            0 keeps Keras's running averages. With them a 40 px GAP CNN scored 0.63 in
            inference mode where its weights were worth 0.88, and its validation accuracy
            jumped between 0.2 and 0.7 from epoch to epoch. A model without batch norm
            trains the same either way.
    """

    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    learning_rate: float = 3e-3
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: Literal["warmup_cosine", "none", "cosine", "step"] = "warmup_cosine"
    warmup_epochs: float = 1.0
    decay_steps: int = 2000
    decay_passes: float | None = None
    lr_floor: float = 0.02
    step_size: int = 10
    gamma: float = 0.1
    batch_size: int = 128
    epochs: int | None = None
    early_stopping: int | None = 3
    patience_steps: int = 150
    min_delta: float = 1e-3
    stop_after: float = 0.5
    val_fraction: float = 0.1
    min_epoch_steps: int = 1
    precise_bn: int = 4096

    def __post_init__(self):
        if not self.learning_rate > 0 or self.learning_rate > 10:
            raise SpecError("learning_rate", "must be > 0 and <= 10", self.learning_rate)
        if not 0 <= self.momentum < 1:
            raise SpecError("momentum", "must be in [0, 1)", self.momentum)
        in_range("weight_decay", self.weight_decay, 0.0, 1.0)
        in_range("warmup_epochs", self.warmup_epochs, 0.0, 1000.0)
        in_range("decay_steps", self.decay_steps, 1)
        if self.decay_passes is not None:
            in_range("decay_passes", self.decay_passes, 1.0, 100000.0)
        in_range("lr_floor", self.lr_floor, 0.0, 1.0)
        in_range("step_size", self.step_size, 1)
        if not 0 < self.gamma <= 1:
            raise SpecError("gamma", "must be in (0, 1]", self.gamma)
        in_range("batch_size", self.batch_size, 1, 65536)
        if self.epochs is not None:
            in_range("epochs", self.epochs, 1, 100000)
        if self.early_stopping is not None:
            in_range("early_stopping", self.early_stopping, 1)
        in_range("patience_steps", self.patience_steps, 0)
        in_range("min_delta", self.min_delta, 0.0)
        in_range("stop_after", self.stop_after, 0.0, 1.0)
        in_range("val_fraction", self.val_fraction, 0.0, 0.5)
        in_range("min_epoch_steps", self.min_epoch_steps, 1, 100000)
        in_range("precise_bn", self.precise_bn, 0, 10_000_000)
        if self.early_stopping is not None and self.val_fraction == 0:
            raise SpecError("early_stopping", "needs a validation split (val_fraction > 0); set early_stopping: null to train without one", self.early_stopping)


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
