"""The invariance harness: controlled shift, rotation and scale sweeps and grids, with exact
metrics, on any Keras classifier.

Main entry point: :func:`evaluate`, which returns a tidy table with columns ``sweep, dx, dy,
angle, scale, metric, value, n, layer`` (row conventions in :mod:`invariance.harness.evaluate`).
"""
from invariance.harness.axes import MAX_POINTS, check_axis_name, parse_assignments, parse_axis, parse_axis_values
from invariance.harness.columns import COLUMNS
from invariance.harness.equivariance import cumulative_strides, equivariance_error, equivariance_layers
from invariance.harness.evaluate import DEFAULT_BATCH_SIZE, evaluate
from invariance.harness.inference import Inference, find_embedding
from invariance.harness.inputs import check_model_fits, evaluation_set, prepare_inputs
from invariance.harness.metrics import METRICS, POINT_METRICS
from invariance.harness.points import diagonal_walk, grid_points, parse_limits, random_points, sweep_points
from invariance.harness.specs import (EvaluationSpec, Grid, RandomKSpec, Sweep, WalkSpec, random_k_count,
                                      resolve_grids, resolve_metrics, resolve_random_k, resolve_sweeps, resolve_walk)

__all__ = [
    "COLUMNS", "DEFAULT_BATCH_SIZE", "EvaluationSpec", "Grid", "Inference", "MAX_POINTS", "METRICS",
    "POINT_METRICS", "RandomKSpec", "Sweep", "WalkSpec", "check_axis_name", "check_model_fits",
    "cumulative_strides", "diagonal_walk", "equivariance_error", "equivariance_layers", "evaluate",
    "evaluation_set", "find_embedding", "grid_points", "parse_assignments", "parse_axis", "parse_axis_values",
    "parse_limits", "prepare_inputs", "random_k_count", "random_points", "resolve_grids", "resolve_metrics",
    "resolve_random_k", "resolve_sweeps", "resolve_walk", "sweep_points",
]
