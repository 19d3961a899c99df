"""Loading a study results folder: its tables, its stored study and manifest, read once.

:func:`load_study_tables` is the one way to read a study folder back; a folder it cannot read
raises :class:`NotAStudyFolder`, a typed error callers may re-word for their own argument name.
The folder's ``evaluate:`` settings come back as the harness's typed, resolved
:class:`~invariance.harness.EvaluationSpec`, so no reader repeats its defaults.
"""
from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path
from typing import Any

import pandas as pd

from invariance.errors import InvarianceError
from invariance.io import read_json
import invariance.results.layout as L
from invariance.results.tables import read_table
from invariance.training.run_dir import RunDir


class NotAStudyFolder(InvarianceError):
    """A path that is not a study results folder (absent, or without a file it must hold).

    Args:
        study_dir: The path received.
        missing: The file it lacks (e.g. ``runs.csv``), or None when the folder itself is absent.
        field: The name of the argument, for the message (``study_dir``, ``RESULTS_DIR``, ...).
    """

    def __init__(self, study_dir: str | os.PathLike, missing: str | None = None, *, field: str = "study_dir"):
        self.study_dir, self.missing, self.field = Path(study_dir), missing, field
        if missing is None:
            rule, why = "must be a study results folder (the folder `invariance run` writes, e.g. results/<name>)", \
                "it does not exist"
        else:
            rule = f"must contain {missing} (`invariance run STUDY.yaml` writes it"
            rule += ", once a run finishes)" if missing == L.RUNS_FILE else ")"
            why = f"it has no {missing}"
        super().__init__(f"{field}: {rule}; received {str(study_dir)!r}, which is not a study results folder: {why}")

    def for_field(self, field: str) -> "NotAStudyFolder":
        """The same error, naming the argument ``field``."""
        return NotAStudyFolder(self.study_dir, self.missing, field=field)


def check_study_dir(study_dir: str | os.PathLike, *, needs: tuple[str, ...] = ()) -> Path:
    """``study_dir`` as a Path, if it is a folder holding every file in ``needs``.

    Raises:
        NotAStudyFolder: otherwise.
    """
    study_dir = Path(study_dir)
    if not study_dir.is_dir():
        raise NotAStudyFolder(study_dir)
    for name in needs:
        if not (study_dir / name).is_file():
            raise NotAStudyFolder(study_dir, name)
    return study_dir


@dataclasses.dataclass(frozen=True)
class DatasetRef:
    """Where a study's data comes from, as its ``study.yaml`` says (nothing is loaded)."""

    name: str | None
    data_dir: str | None = None
    canvas: int | None = None


@dataclasses.dataclass
class StudyTables:
    """A study folder's tables, read once (None where a file is absent or empty).

    Attributes:
        study_dir: The folder. runs: ``runs.csv``. invariance: ``invariance.csv``.
        learning_curves: ``learning_curves.csv``. curves: ``curves.csv``.
        study: The stored ``study.yaml`` as a dict ({} when absent). manifest: ``manifest.json``.
    """

    study_dir: Path
    runs: pd.DataFrame
    invariance: pd.DataFrame | None = None
    learning_curves: pd.DataFrame | None = None
    curves: pd.DataFrame | None = None
    study: dict = dataclasses.field(default_factory=dict)
    manifest: dict = dataclasses.field(default_factory=dict)

    @property
    def name(self) -> str:
        """The study's name: from study.yaml, else the manifest, else the folder's name."""
        return str(self.study.get("name") or self.manifest.get("study") or self.study_dir.name)

    @property
    def completed(self) -> pd.DataFrame:
        """Runs with status ``completed``."""
        return self.runs[self.runs["status"] == "completed"] if "status" in self.runs.columns else self.runs

    @functools.cached_property
    def evaluation(self):
        """The study's ``evaluate:`` section as a resolved :class:`~invariance.harness.EvaluationSpec`
        (the harness's defaults where the stored study has none)."""
        from invariance.config import parse_spec
        from invariance.harness import EvaluationSpec

        return parse_spec(EvaluationSpec, self.study.get("evaluate") or {}, path="evaluate")

    @property
    def random_k(self) -> int | None:
        """Draws per image of the study's random-k evaluation, or None when it has none."""
        spec = self.evaluation.random_k
        return None if spec is None else int(spec.k)

    @functools.cached_property
    def num_classes(self) -> int | None:
        """The dataset's number of classes, as the first run that recorded it says (None if none did)."""
        for run_id in self.runs.get("run_id", pd.Series(dtype=str)).astype(str):
            spec = self.run_dir(run_id).read_spec() or {}
            n = (spec.get("dataset") or {}).get("num_classes")
            if n:
                return int(n)
        return None

    @property
    def dataset(self) -> DatasetRef:
        """The study's dataset reference (name, data_dir, canvas)."""
        return DatasetRef(self.study.get("dataset"), self.study.get("data_dir"), self.study.get("canvas"))

    def run_dir(self, run_id: str) -> RunDir:
        """The folder of one of the study's runs."""
        return L.run_dir(self.study_dir, run_id)

    def study_yaml(self) -> str | None:
        """The stored ``study.yaml`` as written, or None when there is none."""
        path = self.study_dir / L.STUDY_FILE
        return path.read_text(encoding="utf-8") if path.is_file() else None


def load_study_tables(study_dir: str | os.PathLike) -> StudyTables:
    """Reads a study folder: its tables, ``study.yaml`` and ``manifest.json``.

    Raises:
        NotAStudyFolder: if the folder is absent or has no (or an empty) ``runs.csv``.
    """
    from invariance.yaml_io import load_yaml

    study_dir = check_study_dir(study_dir)
    runs = read_table(study_dir / L.RUNS_FILE)
    if runs is None:
        raise NotAStudyFolder(study_dir, L.RUNS_FILE)
    study = load_yaml(study_dir / L.STUDY_FILE) if (study_dir / L.STUDY_FILE).is_file() else {}
    manifest = read_json(study_dir / L.MANIFEST_FILE) if (study_dir / L.MANIFEST_FILE).is_file() else {}
    return StudyTables(study_dir=study_dir, runs=runs, invariance=read_table(study_dir / L.INVARIANCE_FILE),
                       learning_curves=read_table(study_dir / L.LEARNING_CURVES_FILE),
                       curves=read_table(study_dir / L.CURVES_FILE), study=study or {}, manifest=manifest or {})


def read_figure_index(study_dir: str | os.PathLike) -> dict[str, list[Any]]:
    """``figures/index.json`` of a study ({"figures": [], "skipped": []} when absent)."""
    path = Path(study_dir) / L.FIGURES_DIR / L.FIGURES_INDEX
    return read_json(path) if path.is_file() else {"figures": [], "skipped": []}
