"""Why a run stopped, and early stopping's bookkeeping on the validation loss.

A run ends for one of three reasons, recorded in ``metrics.json`` and ``runs.csv``:

* ``plateau``: the validation loss did not improve by more than ``min_delta`` for
  ``early_stopping`` epochs in a row: the run converged (``converged: true``);
* ``mid_decay``: the same, but while the learning rate was still above ``MID_DECAY_LR`` of its
  peak and less than twice the patience after the best epoch: a validation loss that jumps
  about while it is still falling can go ``early_stopping`` epochs without a new best, so this
  is noise ending a run that was improving, not convergence (``converged: false``). Measured:
  a rotation-augmented CNN stopped so at epoch 26 of a 45-epoch cosine (learning rate at 40%
  of its peak) scored 0.722; through its whole cosine, 0.749;
* ``cap``: it reached the epoch cap (``TrainSpec.epochs``, or the plan's default cap)
  while still improving, or without early stopping: it may not have converged;
* ``diverged``: the loss became non-finite (the run ``failed``).
"""
from __future__ import annotations

PLATEAU, MID_DECAY, CAP, DIVERGED = "plateau", "mid_decay", "cap", "diverged"
STOP_REASONS = (PLATEAU, MID_DECAY, CAP, DIVERGED)
MID_DECAY_LR = 0.25
"""A plateau while the learning rate is above this share of its peak, and recent, is ``mid_decay``."""


def new_best() -> dict:
    """Early stopping's state before the first epoch (kept in the run's backup)."""
    return {"epoch": None, "val_loss": None, "wait": 0}


def update_best(best: dict, val_loss: float, epoch: int, *, min_delta: float) -> bool:
    """Records epoch ``epoch`` (1-based) in ``best``; True when it is the new best.

    An epoch is the best when its validation loss is below the best so far by more than
    ``min_delta``; any other epoch adds one to the wait.
    """
    if best["val_loss"] is None or val_loss < best["val_loss"] - min_delta:
        best.update(epoch=epoch, val_loss=val_loss, wait=0)
        return True
    best["wait"] += 1
    return False


def plateaued(best: dict | None, patience: int | None, *, epochs_done: int | None = None,
              earliest: int = 0) -> bool:
    """True when early stopping is on, its patience has run out, and (when ``epochs_done`` is
    given) the run has trained at least ``earliest`` epochs."""
    if epochs_done is not None and epochs_done < earliest:
        return False
    return best is not None and patience is not None and best["wait"] >= patience


def stop_fields(status: str, best: dict | None, *, patience: int | None, epochs_done: int | None = None,
                earliest: int = 0, lr_fraction: float | None = None) -> dict:
    """``stop_reason`` and ``converged`` of a run that ended with ``status`` and ``best`` after
    ``epochs_done`` epochs (a plateau counts only from ``earliest`` epochs on).

    ``lr_fraction``: the learning rate of the last epoch over its peak, for a schedule that
    decays (None: a constant learning rate, where a plateau is a plateau).
    """
    if status != "completed":
        return {"stop_reason": DIVERGED, "converged": False}
    if not plateaued(best, patience, epochs_done=epochs_done, earliest=earliest):
        return {"stop_reason": CAP, "converged": False}
    if lr_fraction is not None and lr_fraction > MID_DECAY_LR and best["wait"] < 2 * patience:
        return {"stop_reason": MID_DECAY, "converged": False}
    return {"stop_reason": PLATEAU, "converged": True}


def stop_under_todays_rule(spec, *, n_fit: int, epochs_run: int, best_epoch: int, stop_reason: str) -> dict:
    """``stop_reason`` and ``converged`` of a finished run under today's rule, from what a study's
    ``runs.csv`` recorded: a plateau recorded before ``mid_decay`` existed is re-read.

    The learning rate at the stop is the ``warmup_cosine`` schedule's after ``epochs_run``
    epochs (as the trainer's history records it); runs of other schedules, and stops other than
    ``plateau``, keep what they recorded.

    Args:
        spec: The run's :class:`~invariance.training.spec.TrainSpec`.
        n_fit: Images it trained on (its subset less the validation split).
        epochs_run: Epochs it trained. best_epoch: The epoch whose weights it kept (1-based).
        stop_reason: As recorded.
    """
    if stop_reason != PLATEAU or spec.schedule != "warmup_cosine" or spec.early_stopping is None:
        return {"stop_reason": stop_reason, "converged": stop_reason == PLATEAU}
    from invariance.training.budget import epoch_passes, steps_per_epoch
    from invariance.training.schedule import epoch_plan, learning_rate_at

    spe = steps_per_epoch(n_fit, batch_size=spec.batch_size, min_steps=spec.min_epoch_steps)
    plan = epoch_plan(spec, steps_per_epoch=spe,
                      passes=epoch_passes(n_fit, batch_size=spec.batch_size, min_steps=spec.min_epoch_steps))
    lr = learning_rate_at(spec, plan, int(epochs_run) * spe) / spec.learning_rate
    return stop_fields("completed", {"wait": int(epochs_run) - int(best_epoch)}, patience=plan.patience_epochs,
                       lr_fraction=lr)
