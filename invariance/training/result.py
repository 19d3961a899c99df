"""The outcome of one training run, as :func:`invariance.training.train` returns it."""
from __future__ import annotations

from pathlib import Path

import keras
import pandas as pd


class TrainResult:
    """The outcome of :func:`train`.

    Attributes:
        status: ``completed`` or ``failed``.
        reason: Why it failed (None when completed).
        metrics: The metrics dict (as in ``metrics.json``).
        history: Per-epoch table (as in ``history.csv``).
        run_dir: The run directory, or None when trained without ``out_dir``.
        model: The trained ``keras.Model`` (logits); loaded from ``model.keras`` on first
            access when the result came from disk; None for a failed run.
    """

    def __init__(self, status: str, reason: str | None, model: keras.Model | None, metrics: dict,
                 history: pd.DataFrame, run_dir: Path | None):
        self.status, self.reason, self.metrics, self.history = status, reason, metrics, history
        self.run_dir = run_dir
        self._model = model

    @property
    def model(self) -> keras.Model | None:
        if self._model is None and self.run_dir is not None and (self.run_dir / "model.keras").is_file():
            from invariance.models import load_model

            self._model = load_model(self.run_dir / "model.keras")
        return self._model

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    def __repr__(self) -> str:
        acc = self.metrics.get("test_accuracy")
        return (f"TrainResult(status={self.status!r}, test_accuracy={acc}, epochs_run="
                f"{self.metrics.get('epochs_run')}, run_dir={str(self.run_dir) if self.run_dir else None!r})")
