"""Every benchmark script starts and explains itself (no timings here: those are the scripts' job)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_every_benchmark_script_answers_help():
    scripts = sorted(BENCHMARKS.glob("*.py"))
    assert {"run_all.py", "study_overhead.py", "scaling.py", "packing.py"} <= {s.name for s in scripts}
    # All at once: most of each start is importing the backend.
    procs = {s.name: subprocess.Popen([sys.executable, str(s), "--help"], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for s in scripts}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, f"{name}: {err[-1500:]}"
        assert "usage:" in out.lower(), name


def test_run_all_knows_every_benchmark_it_lists():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import run_all
    finally:
        sys.path.remove(str(BENCHMARKS))
    for name in run_all.GOALS:
        assert (BENCHMARKS / f"{name}.py").is_file(), name


def test_gpu_scripts_are_valid_bash():
    for script in ("run_gpu.sh", "prepare.sh"):
        proc = subprocess.run(["bash", "-n", str(BENCHMARKS / "gpu" / script)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def test_time_to_accuracy_on_tiny_data():
    """One epoch of a small CNN on 100 images: the per-epoch test scores and the summary."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import time_to_accuracy as tta
    finally:
        sys.path.remove(str(BENCHMARKS))
    from invariance.data import load_dataset
    from invariance.training import TrainSpec

    data = load_dataset("fashion_mnist_mini")
    model = {"preset": "cnn_gap", "channels": 4}
    row = tta.one_run(data, model, 0, targets=[0.0, 1.01], n_train=100, to_plateau=True,
                      spec=TrainSpec(epochs=2, batch_size=32), verbose=0)
    assert len(row["test_accuracy_by_epoch"]) == len(row["seconds_by_epoch"]) == row["epochs_run"] == 2
    assert row["epochs_to_0.0"] == 1 and row["epochs_to_1.01"] is None
    assert row["stop_reason"] == "cap" and row["converged"] is False
    row["model"] = "tiny"
    summary = tta.summarise([row], [0.0, 1.01])["tiny"]
    assert summary["epochs_to_0.0"]["median"] == 1 and summary["epochs_to_1.01"]["reached"] == 0
