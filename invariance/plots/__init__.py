"""Figures that tell the invariance story. Every function takes tables (or a model / arrays)
and returns a :class:`matplotlib.figure.Figure`; none changes pyplot state or the backend."""
from __future__ import annotations

import importlib

_LAZY = {
    "DPI": "style", "AXIS_LABELS": "style", "METRIC_LABELS": "style", "MissingDataError": "style",
    "model_palette": "style", "augmentation_dashes": "style", "augmentation_markers": "style",
    "save_figure": "style", "theme": "style",
    "plot_invariance_curves": "invariance_curves",
    "plot_translation_map": "translation_maps", "plot_radial_curve": "translation_maps",
    "plot_engstrom": "engstrom",
    "plot_equivariance": "equivariance",
    "plot_learning_curves": "learning_curves",
    "plot_cost": "cost",
    "plot_tradeoff": "tradeoff", "TRADEOFF_COLUMNS": "tradeoff",
    "first_layer_filters": "filters", "patch_embedding_pca": "filters", "plot_filter_grid": "filters",
    "plot_model_filters": "filters",
    "plot_example_strip": "examples", "sweep_example_points": "examples", "format_point": "examples",
    "make_study_figures": "study_figures",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    # Lazy, so `import invariance.plots.style` does not pull in seaborn, keras and every figure.
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
