"""Studies: a YAML file in, tidy results out.

``load_study`` validates a study file (grids, ranges, every model, augmentation and train
setting) before anything runs; ``expand_runs`` turns it into runs with stable ids;
``run_study`` trains and evaluates them, resumably, into ``results/<name>/``; and
``study_status`` counts what is done. See :mod:`invariance.study.schema` for the file format,
:mod:`invariance.study.expand` for its grids and :mod:`invariance.results` for the results layout.
"""
from invariance.lazy import lazy_exports

# public name -> the module that defines it (loaded on first use: the runner pulls in the
# results layer, pandas and scipy, which a bad study file's error must not wait for)
_EXPORTS = {
    "ExecutionSpec": "invariance.study.schema",
    "StudySpec": "invariance.study.schema",
    "RunSpec": "invariance.study.expand",
    "expand_runs": "invariance.study.expand",
    "run_id": "invariance.study.expand",
    "load_study": "invariance.study.loader",
    "StudySummary": "invariance.study.runner",
    "run_study": "invariance.study.runner",
    "study_status": "invariance.study.status",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
