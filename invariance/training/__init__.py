"""Training: seeded, resumable runs of zoo models, with optional augmentation.

* :class:`TrainSpec` / :func:`resolve_train_spec`: how to train.
* :func:`train` -> :class:`TrainResult`: one run, optionally in a run directory
  (:class:`RunDir`) that makes it resumable and never redone once finished.
"""
from invariance.training.evaluation import evaluate_arrays
from invariance.training.result import TrainResult
from invariance.training.run_dir import HISTORY_COLUMNS, RunDir
from invariance.training.spec import OPTIMIZERS, SCHEDULES, TrainSpec, resolve_train_spec
from invariance.training.trainer import enable_determinism, resolve_run, train

__all__ = [
    "HISTORY_COLUMNS", "OPTIMIZERS", "SCHEDULES", "RunDir", "TrainResult", "TrainSpec", "enable_determinism",
    "evaluate_arrays", "resolve_run", "resolve_train_spec", "train",
]
