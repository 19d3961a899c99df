"""Studies: a YAML file in, tidy results out.

``load_study`` validates a study file (grids, ranges, every model, augmentation and train
setting) before anything runs; ``expand_runs`` turns it into runs with stable ids;
``run_study`` trains and evaluates them, resumably, into ``results/<name>/``; and
``study_status`` counts what is done. See :mod:`invariance.study.schema` for the file format,
:mod:`invariance.study.expand` for its grids and :mod:`invariance.results` for the results layout.
"""
from invariance.study.expand import RunSpec, expand_runs, run_id
from invariance.study.loader import load_study
from invariance.study.runner import StudySummary, run_study
from invariance.study.status import study_status
from invariance.study.schema import ExecutionSpec, StudySpec

__all__ = ["ExecutionSpec", "RunSpec", "StudySpec", "StudySummary", "expand_runs", "load_study",
           "run_id", "run_study", "study_status"]
