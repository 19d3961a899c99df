"""kill -9 at a random moment, rerun the same study: the same tables as an uninterrupted run.

The interrupted study runs as a real `invariance run` subprocess, killed with SIGKILL at a
random moment after its first run has finished; the rerun is the same study with the same
executor (run in this process, through the function the command calls), and the tables must
be equal to the last bit.
"""
import json
import random
import signal
import subprocess
import sys
import time

import pandas as pd

from invariance.study import run_study, study_status
from invariance.yaml_io import dump_yaml
from study_helpers import read_tables, tiny_study

STUDY = tiny_study("resume", models=[{"preset": "mlp", "hidden": [16]},
                                     {"preset": "cnn_pool", "channels": 4, "dense_units": 16}],
                   n_train=[200, 300], seeds=[0])


def _finished_runs(study_dir):
    return sorted(p.parent.name for p in study_dir.glob("runs/*/status.json"))


def test_kill_9_then_rerun_matches_an_uninterrupted_run(tmp_path, monkeypatch):
    study_file = tmp_path / "resume.yaml"
    study_file.write_text(dump_yaml(STUDY))
    victim_dir = tmp_path / "killed" / "resume"
    cmd = [sys.executable, "-c", "from invariance.cli import main; main()", "run", str(study_file),
           "--out", str(tmp_path / "killed"), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        while not _finished_runs(victim_dir):
            assert proc.poll() is None, f"the study ended before it could be killed: {proc.stderr.read()}"
            assert time.monotonic() < deadline, "no run finished in time"
            time.sleep(0.05)
        delay = random.uniform(0.0, 3.0)
        print(f"killing {delay:.2f} s after the first run finished")  # shown on failure, to reproduce it
        time.sleep(delay)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finished_before = _finished_runs(victim_dir)
    trained_before = {p: p.stat().st_mtime_ns for p in victim_dir.glob("runs/*/metrics.json")}
    assert (victim_dir / ".lock").exists(), "a killed driver leaves its lock behind"

    # Whatever the moment, every file there is complete (atomic writes).
    for path in victim_dir.rglob("*.json"):
        if not path.name.startswith("."):
            json.loads(path.read_text())
    for path in victim_dir.rglob("*.csv"):
        if not path.name.startswith("."):
            pd.read_csv(path)

    status = study_status(victim_dir)
    assert status["completed"] + status["failed"] == len(finished_before) and status["pending"] == 4 - len(
        finished_before)

    import invariance.study.runner as runner

    monkeypatch.setattr(runner, "_call_report", lambda study_dir: False)  # the report has its own tests
    resumed = run_study(STUDY, out_dir=tmp_path / "killed", progress=False)
    assert resumed.ok and resumed.ran == 4 - len(finished_before) and resumed.skipped == len(finished_before)
    # Runs that had finished training were not trained again.
    for path, mtime in trained_before.items():
        if path.parent.name in finished_before or (path.parent / "model.keras").exists():
            assert path.stat().st_mtime_ns == mtime, f"{path.parent.name} was trained twice"
    assert not (victim_dir / ".lock").exists()
    assert not list(victim_dir.rglob(".*.tmp*"))

    reference = run_study(STUDY, out_dir=tmp_path / "reference", progress=False, post=False)
    assert reference.ok
    for got, want in zip(read_tables(victim_dir), read_tables(tmp_path / "reference" / "resume")):
        pd.testing.assert_frame_equal(got, want)
    # Two n_train sizes: the curves module ran at the end.
    assert (victim_dir / "learning_curves.csv").is_file() and (victim_dir / "curves.csv").is_file()
