"""The invariance harness: controlled shift, rotation and scale sweeps and grids, with exact
metrics, on any Keras classifier.

Main entry point: :func:`evaluate`, which returns a tidy table with columns ``sweep, dx, dy,
angle, scale, metric, value, n, layer`` (row conventions in :mod:`invariance.harness.evaluation`).
"""
from invariance.lazy import lazy_exports

# public name -> the module that defines it (loaded on first use: most of the harness needs keras)
_EXPORTS = {
    "MAX_POINTS": "invariance.harness.axes",
    "check_axis_name": "invariance.harness.axes",
    "parse_assignments": "invariance.harness.axes",
    "parse_axis": "invariance.harness.axes",
    "parse_axis_values": "invariance.harness.axes",
    "COLUMNS": "invariance.harness.columns",
    "cumulative_strides": "invariance.harness.equivariance",
    "equivariance_error": "invariance.harness.equivariance",
    "equivariance_layers": "invariance.harness.equivariance",
    "DEFAULT_BATCH_SIZE": "invariance.harness.evaluation",
    "evaluate": "invariance.harness.evaluation",
    "Inference": "invariance.harness.inference",
    "find_embedding": "invariance.harness.inference",
    "INPUT_RANGES": "invariance.harness.input_range",
    "chance_warning": "invariance.harness.input_range",
    "detect_input_range": "invariance.harness.input_range",
    "resolve_input_range": "invariance.harness.input_range",
    "check_model_fits": "invariance.harness.inputs",
    "evaluation_set": "invariance.harness.inputs",
    "prepare_inputs": "invariance.harness.inputs",
    "METRICS": "invariance.harness.metrics",
    "POINT_METRICS": "invariance.harness.metrics",
    "diagonal_walk": "invariance.harness.points",
    "grid_points": "invariance.harness.points",
    "parse_limits": "invariance.harness.points",
    "random_points": "invariance.harness.points",
    "sweep_points": "invariance.harness.points",
    "EvaluationSpec": "invariance.harness.specs",
    "Grid": "invariance.harness.specs",
    "RandomKSpec": "invariance.harness.specs",
    "Sweep": "invariance.harness.specs",
    "WalkSpec": "invariance.harness.specs",
    "random_k_count": "invariance.harness.specs",
    "resolve_grids": "invariance.harness.specs",
    "resolve_metrics": "invariance.harness.specs",
    "resolve_random_k": "invariance.harness.specs",
    "resolve_sweeps": "invariance.harness.specs",
    "resolve_walk": "invariance.harness.specs",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
