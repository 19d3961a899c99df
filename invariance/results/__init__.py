"""The results folder: one owner for a study folder's layout, tables and per-run records.

- :mod:`~invariance.results.layout`: file names and the table columns.
- :mod:`~invariance.results.tables`: the one CSV reader and the one atomic CSV writer.
- :mod:`~invariance.results.loader`: reading a study folder back (:func:`load_study_tables`).
- :mod:`~invariance.results.records`: a finished run's record, and its state.
- :mod:`~invariance.results.study_tables`: ``runs.csv`` and ``invariance.csv`` from the records.
- :mod:`~invariance.results.curve_files`: ``learning_curves.csv`` and ``curves.csv``.

A run folder's files themselves are :class:`invariance.training.RunDir`'s.
"""
from invariance.results.curve_files import write_curves
from invariance.results.layout import (CURVES_FILE, FIGURES_DIR, FIGURES_INDEX, HARNESS_COLUMNS, INVARIANCE_FILE,
                                       KEY_COLUMNS, LEARNING_CURVES_FILE, MANIFEST_FILE, REPORT_HTML, REPORT_MD,
                                       RUN_COLUMNS, RUNS_DIR, RUNS_FILE, STUDY_FILE, TEXT_COLUMNS, run_dir)
from invariance.results.loader import (DatasetRef, NotAStudyFolder, StudyTables, check_study_dir,
                                       load_study_tables, read_figure_index)
from invariance.results.records import read_run, record_result, run_row, run_state
from invariance.results.study_tables import write_study_tables
from invariance.results.tables import read_table, write_table

__all__ = [
    "CURVES_FILE", "DatasetRef", "FIGURES_DIR", "FIGURES_INDEX", "HARNESS_COLUMNS", "INVARIANCE_FILE",
    "KEY_COLUMNS", "LEARNING_CURVES_FILE", "MANIFEST_FILE", "NotAStudyFolder", "REPORT_HTML", "REPORT_MD",
    "RUNS_DIR", "RUNS_FILE", "RUN_COLUMNS", "STUDY_FILE", "StudyTables", "TEXT_COLUMNS", "check_study_dir",
    "load_study_tables", "read_figure_index", "read_run", "read_table", "record_result", "run_dir", "run_row",
    "run_state", "write_curves", "write_study_tables", "write_table",
]
