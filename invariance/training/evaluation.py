"""Scoring a trained model: exact loss and accuracy in numpy, and a run's ``metrics.json``."""
from __future__ import annotations

import math
import time
from typing import Any

import keras
import numpy as np
import pandas as pd

from invariance.training.run_data import RunArrays, RunSplit

EVAL_BATCH = 512  # inference batch for test/train/val metrics; independent of training batch


def evaluate_arrays(model: keras.Model, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of a logits model, computed in float64 numpy.

    Returns:
        (loss, accuracy); (nan, nan) for empty inputs.
    """
    if len(x) == 0:
        return float("nan"), float("nan")
    logits = predict_logits(model, x).astype(np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = float(-log_probs[np.arange(len(y)), y].mean())
    return loss, float((logits.argmax(axis=1) == y).mean())


def predict_logits(model: keras.Model, x: np.ndarray, *, batch_size: int = EVAL_BATCH) -> np.ndarray:
    """The model's outputs on ``x``, in equal batches of ``batch_size`` (the last one padded).

    ``predict_on_batch`` reuses one compiled function for every batch of every call, where
    ``model.predict`` builds a new input pipeline per call (and, with a short last batch, a
    second trace): for the trainer's three small final passes that was most of their time.

    Returns:
        (len(x), ...) float32 numpy array.
    """
    n = len(x)
    size = min(batch_size, n)
    out = []
    for i in range(0, n, size):
        batch = x[i:i + size]
        if len(batch) < size:  # pad, so every batch has the shape of the first (one trace)
            batch = np.concatenate([batch, np.zeros((size - len(batch),) + batch.shape[1:], batch.dtype)])
        out.append(np.asarray(model.predict_on_batch(batch))[:min(size, n - i)])
    return np.concatenate(out)


def run_metrics(status: str, reason: str | None, history: pd.DataFrame, model: keras.Model, dataset: Any, split: RunSplit,
                 spec: dict, *, path: str, feed: str, seed: int, passes: int = 1) -> dict[str, Any]:
    """``metrics.json`` of the run so far: what it cost and what it was; the scores are None.
    ``passes``: passes over the fit images per epoch (``TrainSpec.min_epoch_steps``)."""
    from invariance.models import model_cost
    from invariance.provenance import provenance

    seconds = float(history["seconds"].sum())
    n_images = passes * len(split.fit_idx) * len(history)
    return {
        "status": status, "reason": reason,
        "test_accuracy": None, "test_loss": None, "train_accuracy": None, "train_loss": None,
        "val_accuracy": None, "val_loss": None,
        **model_cost(model),
        "train_seconds": round(seconds, 3), "metrics_seconds": None,
        "images_per_second": round(n_images / seconds, 1) if seconds > 0 else None,
        "epochs_run": int(len(history)), "best_epoch": None, "epoch_passes": int(passes),
        "n_train": int(len(split.subset)), "n_fit": int(len(split.fit_idx)), "n_val": int(len(split.val_idx)),
        "n_test": int(len(dataset.y_test)),
        "model_label": spec["model_label"], "augmentation_label": spec["augmentation_label"],
        "augmentation_path": path, "feed": feed, "seed": seed,
        **provenance(),
    }


def final_metrics(metrics: dict[str, Any], model: keras.Model, dataset: Any, arrays: RunArrays, split: RunSplit,
                  *, path: str) -> dict[str, Any]:
    """``metrics`` with the finished model's test, train and validation scores (non-finite -> None)."""
    from invariance.data import to_float

    metrics = dict(metrics)
    t0 = time.perf_counter()
    metrics["test_loss"], metrics["test_accuracy"] = evaluate_arrays(model, to_float(dataset.x_test), dataset.y_test)
    fit_x = to_float(dataset.x_train[split.fit_idx]) if path == "albumentations" else arrays.x_fit
    metrics["train_loss"], metrics["train_accuracy"] = evaluate_arrays(model, fit_x, arrays.y_fit)
    metrics["val_loss"], metrics["val_accuracy"] = evaluate_arrays(model, arrays.x_val, arrays.y_val)
    metrics["metrics_seconds"] = round(time.perf_counter() - t0, 3)  # the three passes above
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in metrics.items()}
