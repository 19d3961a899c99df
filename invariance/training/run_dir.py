"""The run directory: what one training run leaves on disk, and its resume backup.

Layout::

    <run_dir>/
      spec.json      fully resolved inputs (model, dataset + fingerprint, n_train, train,
                     augmentation, seed)
      status         one word: running | completed | failed
      history.csv    per epoch: epoch (1-based), loss, accuracy, val_loss, val_accuracy,
                     learning_rate, seconds (wall), cpu_seconds (process CPU time, all
                     threads: a cost measure that other load on the machine barely moves)
      metrics.json   test/train/val accuracy, cost, timings, status, reason, provenance
      model.keras    the trained zoo model (no augmentation layer, no optimiser)
      backup/        only while training: the last finished epoch, to resume from

and, when the run belongs to a study (:mod:`invariance.study`), the study's files::

      run.json       what the run is (the study's RunSpec), written before it starts
      invariance.csv the harness's rows (written by :mod:`invariance.results.records`)
      error.txt      a failed run's traceback
      status.json    the run's record for the study tables, written last: the study counts the
                     run as finished (completed or failed) exactly when it exists. It holds the
                     sha256 of every artifact (:data:`ARTIFACTS`) as written, so a file that later
                     goes missing or changes (a partial copy between machines, a truncation) is
                     caught and the run redone (:func:`invariance.results.records.verify_run`)

Every file is written atomically (temporary file, then rename), so ``kill -9`` at any
moment leaves either the old or the new version. ``metrics.json`` is written last: a
run is finished exactly when it exists with status ``completed`` or ``failed``.

The backup holds the training model's weights and optimiser state after the last
finished epoch, and, with early stopping, the best epoch's weights. ``backup/state.json``
is the commit point that names them; weights files are written before it and deleted
only once no state refers to them. (Keras' ``BackupAndRestore`` writes its weights and
its epoch counter non-atomically and forgets early-stopping state; this is its
atomic, resumable-early-stopping equivalent.)
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from invariance.io import file_sha256, read_json, write_json, write_text, write_with

ARTIFACTS = ("model.keras", "history.csv", "metrics.json", "spec.json", "invariance.csv")
"""The files a finished run's record vouches for (by sha256), in the order they are written."""
TRAINER_ARTIFACTS = ("model.keras", "history.csv", "metrics.json", "spec.json", "status")
"""The trainer's files: with any of them bad, the run is trained again, not only re-evaluated."""
HISTORY_COLUMNS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate", "seconds",
                   "cpu_seconds")
FINISHED = ("completed", "failed")


class RunDir:
    """Paths and atomic readers/writers for one run directory.

    Args:
        path: The folder (created on first write).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.model = self.path / "model.keras"
        self.history = self.path / "history.csv"
        self.metrics = self.path / "metrics.json"
        self.spec = self.path / "spec.json"
        self.status = self.path / "status"
        self.backup = self.path / "backup"
        self.state = self.backup / "state.json"
        self.run_spec = self.path / "run.json"
        self.table = self.path / "invariance.csv"
        self.error = self.path / "error.txt"
        self.record = self.path / "status.json"

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    # --- plain files -------------------------------------------------------------------

    def read_spec(self) -> dict | None:
        return read_json(self.spec) if self.spec.is_file() else None

    def write_spec(self, spec: dict) -> None:
        write_json(self.spec, spec)

    def read_metrics(self) -> dict | None:
        """The trainer's metrics, or None when absent or unreadable (e.g. truncated by a partial
        copy: the run then counts as unfinished and is trained again, instead of crashing)."""
        if not self.metrics.is_file():
            return None
        try:
            return read_json(self.metrics)
        except (OSError, ValueError):
            return None

    def write_metrics(self, metrics: dict) -> None:
        write_json(self.metrics, metrics)

    def finished(self) -> dict | None:
        """The stored metrics if the run finished (completed or failed), else None."""
        metrics = self.read_metrics()
        return metrics if metrics and metrics.get("status") in FINISHED else None

    def write_status(self, status: str) -> None:
        write_text(self.status, status + "\n")

    def read_status(self) -> str | None:
        """The trainer's one word (running, completed, failed), or None before training starts."""
        return self.status.read_text().strip() if self.status.is_file() else None

    # --- a study's files -----------------------------------------------------------------

    def read_run_spec(self) -> dict | None:
        return read_json(self.run_spec) if self.run_spec.is_file() else None

    def write_run_spec(self, spec: dict) -> None:
        """Writes ``run.json`` unless it is already there (a run is what it was first)."""
        if not self.run_spec.exists():
            write_json(self.run_spec, spec)

    def read_record(self) -> dict | None:
        """The study's record of the run (``status.json``), or None when it has not finished."""
        if not self.record.is_file():
            return None
        try:
            return read_json(self.record)
        except (OSError, ValueError):  # cannot happen with atomic writes; treat as unfinished
            return None

    def write_record(self, record: dict) -> None:
        write_json(self.record, record)

    def checksums(self) -> dict[str, str]:
        """``{file name: sha256}`` of the :data:`ARTIFACTS` present now."""
        return {name: file_sha256(self.path / name) for name in ARTIFACTS if (self.path / name).is_file()}

    def discard(self, names: tuple[str, ...] | list[str]) -> None:
        """Deletes these files of the run (absent ones are skipped), e.g. before a redo."""
        for name in names:
            (self.path / name).unlink(missing_ok=True)

    def write_error(self, text: str) -> None:
        write_text(self.error, text)

    def read_history(self) -> pd.DataFrame:
        """The history table; empty (with its columns) when there is none."""
        if not self.history.is_file():
            return pd.DataFrame(columns=list(HISTORY_COLUMNS))
        return pd.read_csv(self.history)

    def write_history(self, history: pd.DataFrame) -> None:
        write_with(self.history, lambda tmp: history.to_csv(tmp, index=False))

    # --- the resume backup ---------------------------------------------------------------

    def read_state(self) -> dict | None:
        """The backup's state (``epoch`` finished, weights file names), or None."""
        return read_json(self.state) if self.state.is_file() else None

    def save_backup(self, train_model: Any, *, epoch: int, best: dict | None = None,
                    best_model: Any = None) -> None:
        """Saves the training state after ``epoch`` finished epochs.

        Args:
            train_model: The compiled training model (weights and optimiser state).
            epoch: Number of finished epochs.
            best: Early-stopping state ``{epoch, val_loss, wait}`` or None.
            best_model: When given, this epoch is the new best: its weights are kept.
        """
        weights = f"epoch-{epoch:05d}.weights.h5"
        save_weights_atomic(train_model, self.backup / weights)
        state: dict[str, Any] = {"epoch": int(epoch), "weights": weights}
        old = self.read_state() or {}
        if best is not None:
            state["best"] = dict(best)
            if best_model is not None:
                state["best"]["weights"] = f"best-{epoch:05d}.weights.h5"
                save_weights_atomic(best_model, self.backup / state["best"]["weights"])
            else:
                state["best"]["weights"] = (old.get("best") or {}).get("weights")
        write_json(self.state, state)
        keep = {weights, (state.get("best") or {}).get("weights")}
        for f in self.backup.glob("*.weights.h5"):
            if f.name not in keep:
                f.unlink(missing_ok=True)

    def load_backup(self, train_model: Any) -> dict | None:
        """Restores weights and optimiser state into ``train_model``; returns the state."""
        state = self.read_state()
        if state is None:
            return None
        optimizer = getattr(train_model, "optimizer", None)
        if optimizer is not None and not optimizer.built:
            optimizer.build(train_model.trainable_variables)
        train_model.load_weights(self.backup / state["weights"])
        return state

    def load_best(self, model: Any, state: dict | None) -> bool:
        """Loads the best epoch's weights named in ``state`` into ``model``, if any."""
        name = ((state or {}).get("best") or {}).get("weights")
        if not name or not (self.backup / name).is_file():
            return False
        model.load_weights(self.backup / name)
        return True

    def clear_backup(self) -> None:
        if self.backup.is_dir():
            for f in self.backup.iterdir():
                f.unlink(missing_ok=True)
            self.backup.rmdir()


def save_weights_atomic(model: Any, path: Path) -> None:
    """``model.save_weights`` to a temporary ``.weights.h5`` beside ``path``, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")  # keras wants the .weights.h5 ending
    try:
        model.save_weights(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def history_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows of per-epoch numbers as a table with the standard columns first."""
    df = pd.DataFrame(rows)
    for col in HISTORY_COLUMNS:
        if col not in df:
            df[col] = np.nan
    return df[list(HISTORY_COLUMNS) + [c for c in df.columns if c not in HISTORY_COLUMNS]]
