"""The layout of a study results folder: its file names and table columns, written down once.

Layout of ``<out_dir>/<name>/``::

    study.yaml        the resolved study (defaults filled in, --set applied); loads back as is
    manifest.json     provenance (versions, backend, device, git SHA), start/end, dataset, counts, run ids
    .lock             the pid of the process running the study (see invariance.study.lock)
    runs/<run_id>/    one run folder (:class:`invariance.training.RunDir` owns every file in it)
    runs.csv          one row per finished run (:data:`RUN_COLUMNS`)
    invariance.csv    the harness rows of every completed run, the run's key columns in front
                      (:data:`KEY_COLUMNS` + :data:`HARNESS_COLUMNS`)
    learning_curves.csv, curves.csv   the learning curves (when the study varies n_train)
    figures/          the figures, with figures/index.json listing what was made and skipped
    report.html, report.md            the report
"""
from __future__ import annotations

import os
from pathlib import Path

from invariance.harness import COLUMNS as HARNESS_COLUMNS
from invariance.training.run_dir import RunDir

STUDY_FILE = "study.yaml"
MANIFEST_FILE = "manifest.json"
LOCK_FILE = ".lock"
RUNS_DIR = "runs"
RUNS_FILE = "runs.csv"
INVARIANCE_FILE = "invariance.csv"
LEARNING_CURVES_FILE = "learning_curves.csv"
CURVES_FILE = "curves.csv"
FIGURES_DIR = "figures"
FIGURES_INDEX = "index.json"
REPORT_HTML = "report.html"
REPORT_MD = "report.md"

KEY_COLUMNS = ("run_id", "model", "augmentation", "n_train", "seed")
"""What identifies a run; in front of every row of ``invariance.csv``."""
METRIC_COLUMNS = ("test_accuracy", "train_accuracy", "val_accuracy", "params", "macs", "train_seconds",
                  "epochs_run", "best_epoch", "stop_reason", "converged", "n_fit")
"""What ``runs.csv`` takes from the trainer's ``metrics.json``: ``n_fit`` is the images a run
trained on (its ``n_train`` subset less the validation split); ``stop_reason`` is ``plateau``,
``mid_decay``, ``cap`` or ``diverged`` and ``converged`` is true only for ``plateau`` (see
:mod:`invariance.training.stopping`); the accuracies are those of the kept (best) weights."""
RUN_COLUMNS = KEY_COLUMNS + ("status", "reason") + METRIC_COLUMNS
"""Columns of ``runs.csv``, in order."""
INT_COLUMNS = ("n_train", "seed", "params", "macs", "epochs_run", "best_epoch", "n_fit")
"""Columns of the study tables that hold integers (nullable: a failed run may lack them)."""
TEXT_COLUMNS = ("run_id", "model", "augmentation", "status", "reason", "stop_reason", "sweep", "metric", "layer")
"""Columns read back as text, even when a value looks like a number or like ``NA``/``none``."""

__all__ = ["CURVES_FILE", "FIGURES_DIR", "FIGURES_INDEX", "HARNESS_COLUMNS", "INT_COLUMNS", "INVARIANCE_FILE",
           "KEY_COLUMNS", "LEARNING_CURVES_FILE", "LOCK_FILE", "MANIFEST_FILE", "METRIC_COLUMNS", "REPORT_HTML",
           "REPORT_MD", "RUNS_DIR", "RUNS_FILE", "RUN_COLUMNS", "STUDY_FILE", "TEXT_COLUMNS", "run_dir"]


def run_dir(study_dir: str | os.PathLike, run_id: str) -> RunDir:
    """The folder of one run of a study."""
    return RunDir(Path(study_dir) / RUNS_DIR / str(run_id))
