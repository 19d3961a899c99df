"""Housekeeping of a study folder: its stored study and manifest, ``--fresh``, and leftovers.

Every file is written atomically (a temporary file renamed into place), so ``kill -9`` at any
moment leaves either the old or the new version; what a killed process leaves behind (its
temporary files, ``--fresh`` trash) is deleted by the next run, under the study's lock.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from invariance.io import write_json, write_text
import invariance.results.layout as L
from invariance.study.context import RunContext
from invariance.study.expand import RunSpec
from invariance.study.schema import StudySpec, study_to_dict

_TRASH_PREFIX = ".trash-"


def write_study_file(study_dir: Path, study: StudySpec) -> None:
    """Writes the resolved study as ``study.yaml``: `invariance run` on it redoes nothing that finished."""
    from invariance.yaml_io import dump_yaml

    header = (f"# The resolved study {study.name!r}: defaults filled in and --set overrides applied.\n"
              f"# `invariance run` on this file redoes nothing that finished.\n")
    write_text(study_dir / L.STUDY_FILE, header + dump_yaml(study_to_dict(study)))


def new_manifest(study: StudySpec, context: RunContext, runs: list[RunSpec], *, started: str, executor: str,
                 jobs: int) -> dict[str, Any]:
    """The manifest of a study that started at ``started``: provenance, dataset, evaluation set and run ids."""
    from invariance.provenance import provenance

    dataset = context.dataset
    summary = dataset.summary() if hasattr(dataset, "summary") else {"name": dataset.name}
    return {"study": study.name, "started": started, "finished": None, "wall_seconds": None,
            "provenance": provenance(), "executor": {"name": executor, "jobs": jobs},
            "dataset": {**summary, "fingerprint": dataset.fingerprint()},
            "evaluation": {"samples": int(len(context.y_eval)), "images": context.description,
                           "eval_hash": context.eval_hash},
            "counts": {"total": len(runs)}, "runs": [r.run_id for r in runs]}


def write_manifest(study_dir: Path, manifest: dict[str, Any]) -> None:
    write_json(study_dir / L.MANIFEST_FILE, manifest)


def clear_study_dir(study_dir: Path) -> None:
    """Removes everything of a study folder but its lock (for ``--fresh``).

    Everything is first renamed into one ``.trash-*`` folder (atomic), then deleted, so an
    interruption leaves either the old results or none, never a mix; leftover trash is
    deleted by the next run.
    """
    trash = study_dir / f"{_TRASH_PREFIX}{os.getpid()}-{time.time_ns()}"
    trash.mkdir()
    for item in study_dir.iterdir():
        if item.name in (L.LOCK_FILE, trash.name) or item.name.startswith(_TRASH_PREFIX):
            continue
        os.replace(item, trash / item.name)
    shutil.rmtree(trash, ignore_errors=True)


def remove_leftovers(study_dir: Path) -> None:
    """Deletes what a killed process left: ``--fresh`` trash and atomic writes' temporary files.

    Called under the lock, so no other process is writing here.
    """
    for item in study_dir.glob(f"{_TRASH_PREFIX}*"):
        shutil.rmtree(item, ignore_errors=True)
    for item in study_dir.rglob(".*.tmp*"):
        if item.is_file():
            item.unlink(missing_ok=True)
