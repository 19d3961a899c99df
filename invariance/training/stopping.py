"""Why a run stopped, and early stopping's bookkeeping on the validation loss.

A run ends for one of three reasons, recorded in ``metrics.json`` and ``runs.csv``:

* ``plateau``: the validation loss did not improve by more than ``min_delta`` for
  ``early_stopping`` epochs in a row: the run converged (``converged: true``);
* ``cap``: it reached the epoch cap (``TrainSpec.epochs``, or the plan's default cap)
  while still improving, or without early stopping: it may not have converged;
* ``diverged``: the loss became non-finite (the run ``failed``).
"""
from __future__ import annotations

PLATEAU, CAP, DIVERGED = "plateau", "cap", "diverged"
STOP_REASONS = (PLATEAU, CAP, DIVERGED)


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
                earliest: int = 0) -> dict:
    """``stop_reason`` and ``converged`` of a run that ended with ``status`` and ``best`` after
    ``epochs_done`` epochs (a plateau counts only from ``earliest`` epochs on)."""
    if status != "completed":
        return {"stop_reason": DIVERGED, "converged": False}
    reason = PLATEAU if plateaued(best, patience, epochs_done=epochs_done, earliest=earliest) else CAP
    return {"stop_reason": reason, "converged": reason == PLATEAU}
