"""Training: seeded, resumable runs of zoo models, with optional augmentation.

* :class:`TrainSpec` / :func:`resolve_train_spec`: how to train.
* :func:`train` -> :class:`TrainResult`: one run, optionally in a run directory
  (:class:`RunDir`) that makes it resumable and never redone once finished.
"""
from invariance.lazy import lazy_exports

# public name -> the module that defines it (loaded on first use: the trainer needs keras)
_EXPORTS = {
    "evaluate_arrays": "invariance.training.evaluation",
    "TrainResult": "invariance.training.result",
    "HISTORY_COLUMNS": "invariance.training.run_dir",
    "RunDir": "invariance.training.run_dir",
    "OPTIMIZERS": "invariance.training.spec",
    "SCHEDULES": "invariance.training.spec",
    "TrainSpec": "invariance.training.spec",
    "resolve_train_spec": "invariance.training.spec",
    "enable_determinism": "invariance.training.trainer",
    "resolve_run": "invariance.training.trainer",
    "train": "invariance.training.trainer",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
