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
