"""invariance.study.progress: the line each finished run prints, and the quiet log."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from invariance.curves.run_summary import consistency_sweeps, mean_consistency
from invariance.study.progress import StudyProgress, run_line

KEY = {"model": "cnn_pool", "augmentation": "none", "n_train": 200, "seed": 0}


def _rows(**by_sweep: float) -> pd.DataFrame:
    """Harness rows: one summary row per sweep, plus a point row and a per-layer row that never count."""
    rows = [{"sweep": s, "dx": np.nan, "dy": np.nan, "angle": np.nan, "scale": np.nan, "metric": "mean_consistency",
             "value": v, "n": 10, "layer": np.nan} for s, v in by_sweep.items()]
    rows.append({"sweep": "dx", "dx": 1.0, "dy": 0.0, "angle": 0.0, "scale": 1.0, "metric": "consistency",
                 "value": 0.0, "n": 10, "layer": np.nan})
    rows.append({"sweep": "dx", "dx": np.nan, "dy": np.nan, "angle": np.nan, "scale": np.nan,
                 "metric": "mean_consistency", "value": 0.0, "n": 10, "layer": "conv_1"})
    return pd.DataFrame(rows)


def test_the_score_names_the_sweeps_it_averages():
    rows = _rows(dx=0.9, angle=0.3, dy=float("nan"))
    assert consistency_sweeps(rows) == ["dx", "angle"]  # a NaN summary is left out of the mean too
    assert mean_consistency(rows) == pytest.approx(0.6)
    assert consistency_sweeps(None) == [] and np.isnan(mean_consistency(None))


@pytest.mark.parametrize("result, line", [
    ({**KEY, "status": "completed", "test_accuracy": 0.712, "mean_consistency": 0.6, "seconds": 12.34,
      "rows": _rows(dx=0.9, angle=0.3)},
     "done cnn_pool | none | n=200 | seed 0 | test acc 0.712 | consistency 0.600 (mean of dx, angle) | 12.3 s"),
    ({**KEY, "status": "completed", "test_accuracy": 0.712, "mean_consistency": 0.9, "rows": _rows(dx=0.9)},
     "done cnn_pool | none | n=200 | seed 0 | test acc 0.712 | consistency 0.900 (dx)"),
    ({**KEY, "n_train": None, "status": "completed", "test_accuracy": 0.5, "mean_consistency": 0.25},
     "done cnn_pool | none | n=all | seed 0 | test acc 0.500 | consistency 0.250"),
    ({**KEY, "status": "completed", "test_accuracy": 0.5, "mean_consistency": float("nan"), "rows": _rows()},
     "done cnn_pool | none | n=200 | seed 0 | test acc 0.500 | consistency -"),
    ({**KEY, "status": "failed", "reason": "train: diverged", "seconds": 1.0},
     "FAILED cnn_pool | none | n=200 | seed 0 | train: diverged | 1.0 s"),
    ({**KEY, "status": "failed"}, "FAILED cnn_pool | none | n=200 | seed 0 | unknown reason"),
])
def test_run_line(result, line):
    assert run_line(result) == line


def test_quiet_progress_logs_plain_lines_with_the_counts():
    stream = io.StringIO()
    with StudyProgress(total=3, already_done=1, quiet=True, title="demo", stream=stream) as progress:
        progress.run_finished({**KEY, "status": "failed", "reason": "boom"})
    lines = stream.getvalue().splitlines()
    assert lines[0] == "demo: 3 runs, 1 already finished, 2 to run"
    assert lines[1] == "[2/3] FAILED cnn_pool | none | n=200 | seed 0 | boom"
    assert lines[2].startswith("demo: 2/3 finished, 1 failed, ")
