"""Data-hunger curves: learning-curve fits, samples to a target accuracy, efficiency ratios.

Pure functions over a study's results tables (``runs.csv``, ``invariance.csv``):

- :func:`learning_curve_table`: one row per completed run, with invariance summaries.
- :func:`fit_power_law`: ``err(n) = a + b * n**(-c)`` (Hestness et al. 2017; Hoiem et al. 2021).
- :func:`bootstrap_fit`: CIs by resampling seeds within each n.
- :func:`samples_to_target`: the n at which the fitted curve reaches a target accuracy.
- :func:`sample_efficiency_ratio`: n_model / n_reference to reach the target, with a CI.
- :func:`curves_table`: all of it, one row per (model, augmentation).
- :func:`write_curves`: reads a study folder, writes ``learning_curves.csv`` and ``curves.csv``.
"""
from invariance.curves.bootstrap import BootstrapFit, SizeMeans, bootstrap_fit, interval, size_means
from invariance.curves.powerlaw import PowerLaw, TargetSize, fit_power_law, power_law, samples_to_target
from invariance.curves.summary import (CURVES_COLUMNS, CurveFit, curves_table, fit_curves, format_n,
                                       format_ratio, resolve_reference, sample_efficiency_ratio,
                                       target_sizes)
from invariance.curves.table import learning_curve_table, read_table
from invariance.curves.write import CURVES_FILE, LEARNING_CURVES_FILE, read_study_tables, write_curves

__all__ = [
    "BootstrapFit", "CURVES_COLUMNS", "CURVES_FILE", "CurveFit", "LEARNING_CURVES_FILE", "PowerLaw",
    "SizeMeans", "TargetSize", "bootstrap_fit", "curves_table", "fit_curves", "fit_power_law",
    "format_n", "format_ratio", "interval", "learning_curve_table", "power_law", "read_study_tables",
    "read_table", "resolve_reference", "sample_efficiency_ratio", "samples_to_target", "size_means",
    "target_sizes", "write_curves",
]
