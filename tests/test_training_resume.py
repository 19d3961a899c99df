"""A run killed with SIGKILL mid-training resumes from its last finished epoch, exactly."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd

from invariance.data import load_dataset
from invariance.training import train

CONFIG = dict(model={"preset": "cnn_pool", "channels": 4, "dense_units": 16}, n_train=160,
              train={"epochs": 5, "batch_size": 32, "early_stopping": 4},
              augmentation={"shift": 2, "rotate": 10, "path": "device"}, seed=4)

SCRIPT = textwrap.dedent(f"""
    import sys
    from invariance.data import load_dataset
    from invariance.training import train
    config = {CONFIG!r}
    train(config.pop("model"), load_dataset("fashion_mnist_mini"), out_dir=sys.argv[1], verbose=2, **config)
""")


def _run(out_dir, verbose=0):
    config = dict(CONFIG)
    return train(config.pop("model"), load_dataset("fashion_mnist_mini"), out_dir=out_dir, verbose=verbose, **config)


def _kill_after_epoch(out_dir, epoch, script, timeout=120.0):
    proc = subprocess.Popen([sys.executable, str(script), str(out_dir)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    state = out_dir / "backup" / "state.json"
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if state.is_file() and json.loads(state.read_text())["epoch"] >= epoch:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return
            time.sleep(0.02)
        raise AssertionError(f"the run ended or stalled before epoch {epoch}: {proc.stderr.read()[-2000:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigkill_then_rerun_continues_and_matches_an_uninterrupted_run(tmp_path, capsys):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    out = tmp_path / "killed"
    _kill_after_epoch(out, 2, script)

    assert not (out / "metrics.json").exists()
    assert (out / "status").read_text().strip() == "running"
    done = json.loads((out / "backup" / "state.json").read_text())["epoch"]
    before = pd.read_csv(out / "history.csv").iloc[:done]
    assert done < CONFIG["train"]["epochs"]

    resumed = _run(out, verbose=1)
    assert f"after epoch {done}/" in capsys.readouterr().out
    assert resumed.status == "completed" and not (out / "backup").exists()
    history = pd.read_csv(out / "history.csv")
    assert list(history["epoch"]) == list(range(1, len(history) + 1))  # no epoch repeated or lost
    pd.testing.assert_frame_equal(history.iloc[:done], before)  # finished epochs were not rerun

    reference = _run(tmp_path / "straight")
    pd.testing.assert_frame_equal(history.drop(columns=["seconds", "cpu_seconds"]), reference.history.drop(columns=["seconds", "cpu_seconds"]))
    for key in ("test_accuracy", "test_loss", "train_loss", "val_loss", "epochs_run", "best_epoch"):
        assert resumed.metrics[key] == reference.metrics[key], key
    for a, b in zip(resumed.model.get_weights(), reference.model.get_weights()):
        np.testing.assert_array_equal(a, b)
