"""Data-hunger curves: learning-curve fits, samples to a target accuracy, efficiency ratios.

Pure functions over a study's results tables (``runs.csv``, ``invariance.csv``):

- :func:`run_summaries`: the per-run summary pivot (mean consistency per sweep, grid accuracy, ...).
- :func:`learning_curve_table`: one row per completed run, with invariance summaries.
- :func:`fit_power_law`: ``err(n) = a + b * n**(-c)`` (Hestness et al. 2017; Hoiem et al. 2021).
- :func:`bootstrap_fit`: CIs by resampling seed clusters (:class:`SeedDraws`), shared by all curves.
- :func:`samples_to_target`: the n at which the fitted curve reaches a target accuracy.
- :func:`sample_efficiency_ratio`: n_model / n_reference to reach the target, with a CI.
- :func:`efficiency_between`: the same ratio for any two curves (e.g. across augmentations).
- :func:`curves_table`: all of it, one row per (model, augmentation).

Reading a study folder and writing ``learning_curves.csv`` and ``curves.csv`` beside its tables
is :func:`invariance.results.write_curves`.
"""
from invariance.curves.bootstrap import BootstrapFit, SeedDraws, SizeMeans, bootstrap_fit, interval, size_means
from invariance.curves.powerlaw import (MAX_EXTRAPOLATION, PowerLaw, TargetSize, fit_power_law, format_n, power_law,
                                        samples_to_target)
from invariance.curves.run_summary import mean_consistency, run_summaries
from invariance.curves.summary import (CURVES_COLUMNS, CurveFit, curves_table, efficiency_between, fit_curves,
                                       format_ratio, resolve_reference, sample_efficiency_ratio,
                                       target_sizes)
from invariance.curves.table import learning_curve_table

__all__ = [
    "BootstrapFit", "CURVES_COLUMNS", "CurveFit", "MAX_EXTRAPOLATION", "PowerLaw", "SeedDraws", "SizeMeans",
    "TargetSize", "bootstrap_fit",
    "curves_table", "efficiency_between", "fit_curves", "fit_power_law", "format_n", "format_ratio", "interval",
    "learning_curve_table", "mean_consistency", "power_law", "resolve_reference", "run_summaries",
    "sample_efficiency_ratio", "samples_to_target", "size_means", "target_sizes",
]
