"""The columns of the harness's tidy table, shared by every part that writes rows.

One row per (sweep, point, metric[, layer]); the row conventions are in
:mod:`invariance.harness.evaluation`.
"""
from __future__ import annotations

COLUMNS = ("sweep", "dx", "dy", "angle", "scale", "metric", "value", "n", "layer")
"""Column order of :func:`invariance.harness.evaluate` and of the equivariance rows."""
