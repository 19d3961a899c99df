"""Shared tiny studies for the study tests (not a test module)."""
from __future__ import annotations

import copy
import re

import pandas as pd

# The deterministic columns of the study tables (times differ from run to run).
RUN_DETERMINISTIC = ["run_id", "model", "augmentation", "n_train", "seed", "status", "test_accuracy",
                     "train_accuracy", "val_accuracy", "params", "macs", "epochs_run", "best_epoch",
                     "stop_reason", "converged"]
INVARIANCE_KEYS = ["run_id", "model", "augmentation", "n_train", "seed", "sweep", "dx", "dy", "angle", "scale",
                   "metric", "n", "layer"]


def tiny_study(name: str = "tiny", **changes) -> dict:
    """A valid study that trains in seconds: 200 images, 1 epoch, 50 eval images, 3-point sweeps."""
    study = {
        "name": name,
        "dataset": "fashion_mnist_mini",
        "models": [{"preset": "cnn_pool", "channels": 4, "dense_units": 16}],
        "augmentation": ["none"],
        "train": {"epochs": 1, "batch_size": 50},
        "n_train": [200],
        "seeds": [0],
        "evaluate": {"samples": 50, "sweeps": {"dx": "-2:2:2", "angle": "-10:10:10"}},
    }
    study.update(copy.deepcopy(changes))
    return study


def set_path(data: dict, path: str, value) -> dict:
    """Returns a deep copy of ``data`` with ``models[1].pooling``-style ``path`` set to ``value``."""
    data = copy.deepcopy(data)
    tokens = [t for t in re.split(r"\.|\[(\d+)\]", path) if t]
    node = data
    for token, nxt in zip(tokens[:-1], tokens[1:]):
        key = int(token) if token.isdigit() else token
        if isinstance(node, dict) and key not in node:
            node[key] = [] if nxt.isdigit() else {}
        node = node[key]
    last = tokens[-1]
    if last.isdigit() and int(last) == len(node):
        node.append(value)
    else:
        node[int(last) if last.isdigit() else last] = value
    return data


def read_tables(study_dir) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The deterministic columns of runs.csv and invariance.csv, as written."""
    runs = pd.read_csv(study_dir / "runs.csv", keep_default_na=False, na_values=[""])
    inv = pd.read_csv(study_dir / "invariance.csv", keep_default_na=False, na_values=[""])
    return runs[RUN_DETERMINISTIC], inv[INVARIANCE_KEYS + ["value"]]
