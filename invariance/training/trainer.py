"""``train``: one seeded, resumable training run of a zoo model on a dataset.

What a run does, in order:

1. Resolves every input (model, train and augmentation specs, subset) so bad input fails
   before anything is written.
2. If ``out_dir`` already holds this run finished, returns the stored result.
3. Takes the nested class-balanced subset of ``n_train`` training images, carves the
   validation split from it, builds a fresh model, and trains epoch by epoch.
4. Writes ``model.keras``, ``history.csv``, ``metrics.json`` and ``spec.json``
   (see :mod:`invariance.training.run_dir`).

Determinism: ``keras.utils.set_random_seed(seed)``, TensorFlow op determinism, and every
random choice derived from ``(seed, what, epoch)``: the epoch's sample order, the
augmentation draws (the device layer's ``SeedGenerator`` and the albumentations batches)
and dropout (every ``SeedGenerator`` state is reset at each epoch start). So the same
seed gives bit-identical weights on CPU, and a run resumed from its backup after
``kill -9`` continues exactly as the uninterrupted run would have. Each epoch is one
``model.fit`` call on that epoch's arrays; compiled step functions are reused between
calls, so this costs the same as one long ``fit``.
"""
from __future__ import annotations

import logging
import math
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from invariance.augment import execution_path, resolve_augmentation
from invariance.augment.labels import augmentation_label
from invariance.config import to_dict
from invariance.errors import InvarianceError, SpecError
from invariance.seeding import check_seed, derive_seed, make_rng
from invariance.training.feed import DeviceBatches, default_feed, to_device
from invariance.training.run_dir import RunDir, history_frame
from invariance.training.spec import TrainSpec, resolve_train_spec

EVAL_BATCH = 512  # inference batch for test/train/val metrics; independent of training batch
# Keys of spec.json that define a run; the rest (labels, resolved path) is for readers.
_SPEC_KEYS = ("model", "dataset", "n_train", "train", "augmentation", "seed")
# Salts that keep the per-purpose seed streams apart.
_ORDER, _STATE, _AUGMENT = 1, 2, 3


class TrainResult:
    """The outcome of :func:`train`.

    Attributes:
        status: ``completed`` or ``failed``.
        reason: Why it failed (None when completed).
        metrics: The metrics dict (as in ``metrics.json``).
        history: Per-epoch table (as in ``history.csv``).
        run_dir: The run directory, or None when trained without ``out_dir``.
        model: The trained ``keras.Model`` (logits); loaded from ``model.keras`` on first
            access when the result came from disk; None for a failed run.
    """

    def __init__(self, status: str, reason: str | None, model: keras.Model | None, metrics: dict,
                 history: pd.DataFrame, run_dir: Path | None):
        self.status, self.reason, self.metrics, self.history = status, reason, metrics, history
        self.run_dir = run_dir
        self._model = model

    @property
    def model(self) -> keras.Model | None:
        if self._model is None and self.run_dir is not None and (self.run_dir / "model.keras").is_file():
            from invariance.models import load_model

            self._model = load_model(self.run_dir / "model.keras")
        return self._model

    @property
    def completed(self) -> bool:
        return self.status == "completed"

    def __repr__(self) -> str:
        acc = self.metrics.get("test_accuracy")
        return (f"TrainResult(status={self.status!r}, test_accuracy={acc}, epochs_run="
                f"{self.metrics.get('epochs_run')}, run_dir={str(self.run_dir) if self.run_dir else None!r})")


def enable_determinism(seed: int) -> None:
    """Seeds Python, numpy and the backend, and asks TensorFlow for deterministic ops.

    Keras has no public switch for op determinism, and this package never imports
    tensorflow itself; when the backend is TensorFlow, keras has already loaded it, so the
    loaded module's ``enable_op_determinism`` is called (``TF_DETERMINISTIC_OPS`` is also
    set for any TensorFlow started later).
    """
    set_random_seed(int(seed))
    os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
    tf = sys.modules.get("tensorflow")
    if keras.backend.backend() == "tensorflow" and tf is not None:
        tf.config.experimental.enable_op_determinism()


def set_random_seed(seed: int) -> None:
    """``keras.utils.set_random_seed``, without importing TensorFlow into a JAX or torch process.

    Keras seeds TensorFlow whenever it is installed, which on another backend imports it
    (~5 s on a 2-core CPU, and a second framework on a GPU); that seed matters only to
    TensorFlow code, and this package runs none on another backend. So there, the same
    state is set without it: Python's and numpy's seeds, and keras's global seed (read by
    ``keras.random`` calls that get no seed), plus torch's on the torch backend.
    """
    if keras.backend.backend() == "tensorflow" or "tensorflow" in sys.modules:
        keras.utils.set_random_seed(seed)
        return
    try:  # what keras.utils.set_random_seed stores (keras 3), minus tf.random.set_seed
        from keras.src.backend.common import global_state
        from keras.src.random import seed_generator
        from keras.src.utils.rng_utils import GLOBAL_RANDOM_SEED
    except ImportError:  # a keras that moved them: seed as keras does
        keras.utils.set_random_seed(seed)
        return
    global_state.set_global_attribute(GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
    random.seed(seed)
    np.random.seed(seed)
    if keras.backend.backend() == "torch":
        import torch

        torch.manual_seed(seed)


class _NoRetracingWarning(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warning.

    Every run builds a fresh model with fresh step functions, so a process that trains
    many runs (a study) retraces by design; the warning would only alarm users.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def _quiet_retracing() -> None:
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _NoRetracingWarning) for f in logger.filters):
        logger.addFilter(_NoRetracingWarning())


def make_optimizer(spec: TrainSpec, *, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """The optimiser with its learning-rate schedule (per-step, so resumes are exact)."""
    lr: Any = spec.learning_rate
    if spec.schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(spec.learning_rate, decay_steps=spec.epochs * steps_per_epoch)
    elif spec.schedule == "step":
        lr = keras.optimizers.schedules.ExponentialDecay(spec.learning_rate, decay_steps=spec.step_size * steps_per_epoch,
                                                         decay_rate=spec.gamma, staircase=True)
    decay = spec.weight_decay or None
    if spec.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=spec.momentum, weight_decay=decay)
    if spec.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, weight_decay=spec.weight_decay)
    return keras.optimizers.Adam(lr, weight_decay=decay)


def reseed_generators(model: keras.Model, seed: int, epoch: int) -> None:
    """Resets every ``SeedGenerator`` state in ``model`` from (seed, epoch).

    Keras does not save these states with the weights, so without this a resumed run
    would draw other dropout masks and augmentations than an uninterrupted one.
    """
    states = [v for v in model.variables if v.name == "seed_generator_state"]
    for i, v in enumerate(states):
        v.assign(keras.ops.convert_to_tensor([derive_seed(seed, _STATE, epoch, i), 0], dtype=v.dtype))


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


class _Divergence(keras.callbacks.TerminateOnNaN):
    """Keras' TerminateOnNaN that also remembers where the loss stopped being finite."""

    def __init__(self):
        super().__init__()
        self.batch: int | None = None
        self.value: float | None = None

    def on_batch_end(self, batch, logs=None):
        # Quiet: the run's reason says it, so no "Invalid loss" print as in the parent.
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            if self.batch is None:
                self.batch, self.value = batch, float(loss)
            self.model.stop_training = True


class _Progress(keras.callbacks.ProgbarLogger):
    """Keras' progress bar, counting epochs over the whole run rather than one fit call."""

    def __init__(self, epochs: int, verbose: int):
        super().__init__()
        self._total, self._verbose = epochs, verbose

    def set_params(self, params):
        super().set_params(params)
        self.epochs, self.verbose = self._total, self._verbose


def resolve_run(model_spec: Any, dataset: Any, *, n_train: int | None = None, train: Any = None,
                augmentation: Any = None, seed: int = 0) -> dict:
    """The fully resolved inputs of a run, as written to ``spec.json``.

    Raises:
        SpecError: for any bad input, before anything is trained or written.
    """
    from invariance.data.subsets import nested_subset
    from invariance.models import model_label, resolve_model_spec

    seed = check_seed(seed)
    mspec = resolve_model_spec(model_spec, path="model")
    tspec = resolve_train_spec(train)
    aspec = resolve_augmentation(augmentation)
    nested_subset(dataset.y_train[:1], n_train, seed=seed)  # validates n_train
    return {
        "model": to_dict(mspec),
        "dataset": {"name": dataset.name, "fingerprint": dataset.fingerprint(), "canvas": dataset.canvas,
                    "image_shape": list(dataset.image_shape), "num_classes": dataset.num_classes},
        "n_train": None if n_train is None else int(n_train),
        "train": to_dict(tspec),
        "augmentation": to_dict(aspec),
        "seed": seed,
        "model_label": model_label(mspec),
        "augmentation_label": augmentation_label(aspec),
        "augmentation_path": execution_path(aspec),
    }


def train(model_spec: Any, dataset: Any, *, n_train: int | None = None, train: Any = None,
          augmentation: Any = None, seed: int = 0, out_dir: str | os.PathLike | None = None,
          verbose: int = 1) -> TrainResult:
    """Trains a fresh zoo model on a nested subset of a dataset.

    Args:
        model_spec: Anything :func:`invariance.models.resolve_model_spec` accepts
            (``"cnn_pool"``, ``{preset: cnn_pool, depth: 3}``, a typed spec).
        dataset: An :class:`invariance.data.Dataset`.
        n_train: Size of the class-balanced training subset (``nested_subset``) before
            the validation split is carved from it; None for all training images.
        train: A :class:`TrainSpec`, a mapping of its fields, or None for defaults.
        augmentation: Anything :func:`invariance.augment.resolve_augmentation` accepts.
        seed: Seeds the subset, the split, the initial weights, the data order and the
            augmentation.
        out_dir: The run directory. A finished run there is returned as stored, an
            interrupted one resumes; None trains in memory only.
        verbose: 0 silent, 1 a progress bar per epoch, 2 one line per epoch.

    Returns:
        A :class:`TrainResult`. Divergence (a non-finite loss) gives status ``failed``
        with the reason; it is never raised.

    Raises:
        SpecError: for bad input (before anything is written).
        InvarianceError: if ``out_dir`` holds a different run.
    """
    from invariance.data import to_float
    from invariance.data.subsets import nested_subset, train_val_split
    from invariance.models import build_model, model_cost
    from invariance.provenance import provenance

    spec = resolve_run(model_spec, dataset, n_train=n_train, train=train, augmentation=augmentation, seed=seed)
    seed = spec["seed"]
    tspec = resolve_train_spec(spec["train"])
    aspec = resolve_augmentation(spec["augmentation"])
    path = spec["augmentation_path"]
    if aspec.kind == "albumentations":
        _check_albumentations_shape(aspec, dataset)

    subset = nested_subset(dataset.y_train, n_train, seed=seed)
    fit_part, val_part = train_val_split(dataset.y_train[subset], val_fraction=tspec.val_fraction, seed=seed)
    fit_idx, val_idx = subset[fit_part], subset[val_part]
    if tspec.early_stopping and len(val_idx) == 0:
        raise SpecError("train.early_stopping", f"needs validation images, but {len(subset)} training images x "
                        f"val_fraction {tspec.val_fraction} leaves none", tspec.early_stopping)

    run = RunDir(out_dir) if out_dir is not None else None
    if run is not None:
        stored = run.read_spec()
        if stored is not None and {k: stored.get(k) for k in _SPEC_KEYS} != {k: spec[k] for k in _SPEC_KEYS}:
            raise InvarianceError(f"out_dir: {run.path} holds a different run (its spec.json differs); "
                                  "use another folder or delete it")
        finished = run.finished()
        if finished is not None:
            return TrainResult(finished["status"], finished.get("reason"), None, finished, run.read_history(),
                               run.path)
        run.write_spec(spec)
        run.write_status("running")

    # --- data ------------------------------------------------------------------------
    y_fit = dataset.y_train[fit_idx]
    x_val, y_val = to_float(dataset.x_train[val_idx]), dataset.y_train[val_idx]
    if path == "albumentations":
        x_fit = np.ascontiguousarray(dataset.x_train[fit_idx])  # uint8; converted per batch after augmenting
    else:
        x_fit = to_float(dataset.x_train[fit_idx])
    steps = math.ceil(len(fit_idx) / tspec.batch_size)

    # --- model -----------------------------------------------------------------------
    enable_determinism(seed)
    _quiet_retracing()
    model = build_model(spec["model"], dataset.image_shape, dataset.num_classes, seed=seed)
    augmenter = None
    if path == "device":
        from invariance.augment.device import RandomAffine

        h, w = dataset.image_shape[:2]
        augmenter = RandomAffine.from_spec(aspec.geometric, height=h, width=w, seed=derive_seed(seed, _AUGMENT),
                                           name="augment")
    inputs = keras.Input(shape=dataset.image_shape, name="images")
    train_model = keras.Model(inputs, model(augmenter(inputs) if augmenter else inputs), name="training")
    train_model.compile(optimizer=make_optimizer(tspec, steps_per_epoch=steps),
                        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])

    # --- resume ----------------------------------------------------------------------
    rows: list[dict] = []
    best = {"epoch": None, "val_loss": None, "wait": 0} if tspec.early_stopping else None
    state = run.load_backup(train_model) if run is not None else None
    start = 0
    if state is not None:
        start = int(state["epoch"])
        rows = run.read_history().iloc[:start].to_dict("records")
        best = state.get("best") if best is not None else None
        if verbose:
            print(f"Resuming {run.path} after epoch {start}/{tspec.epochs}", flush=True)
    best_weights = None  # in memory when the best epoch happened in this process

    # --- epochs ----------------------------------------------------------------------
    guard = _Divergence()
    callbacks: list[keras.callbacks.Callback] = [guard]
    if verbose:
        callbacks.append(_Progress(tspec.epochs, verbose))
    feed = default_feed(augmentation_path=path)
    if feed == "device":  # the images go to the device once per run (see invariance.training.feed)
        fit_tensors = to_device(x_fit, y_fit)
        validation = (DeviceBatches(*to_device(x_val, y_val), batch_size=max(tspec.batch_size, EVAL_BATCH))
                      if len(val_idx) else None)
        validation_batch = None
    else:
        validation = (x_val, y_val) if len(val_idx) else None
        validation_batch = max(tspec.batch_size, EVAL_BATCH)
    status, reason = "completed", None
    for epoch in range(start, tspec.epochs):
        if best is not None and best["wait"] >= tspec.early_stopping:
            break  # checked first, so a run resumed after it stopped early does not go on
        t0, c0 = time.perf_counter(), time.process_time()
        order = make_rng(derive_seed(seed, _ORDER, epoch)).permutation(len(fit_idx))
        reseed_generators(train_model, seed, epoch)
        if path == "albumentations":
            from invariance.augment.albu import AlbumentationsBatches

            data = {"x": AlbumentationsBatches(x_fit, y_fit, spec=aspec, batch_size=tspec.batch_size, seed=seed,
                                               epoch=epoch, order=order, workers=min(2, os.cpu_count() or 1))}
        elif feed == "device":
            data = {"x": DeviceBatches(*fit_tensors, batch_size=tspec.batch_size, order=order)}
        else:
            data = {"x": x_fit[order], "y": y_fit[order], "batch_size": tspec.batch_size}
        # shuffle=False: `order` is the epoch's seeded order (Keras would reshuffle the batches
        # of a PyDataset with Python's global random state, which a resumed run does not share).
        fit = train_model.fit(**data, epochs=epoch + 1, initial_epoch=epoch, validation_data=validation,
                              validation_batch_size=validation_batch, shuffle=False, verbose=0,
                              callbacks=callbacks)
        logs = {k: float(v[-1]) for k, v in fit.history.items()}
        row = {"epoch": epoch + 1, "loss": logs.get("loss"), "accuracy": logs.get("accuracy"),
               "val_loss": logs.get("val_loss"), "val_accuracy": logs.get("val_accuracy"),
               "learning_rate": float(keras.ops.convert_to_numpy(train_model.optimizer.learning_rate)),
               "seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0}
        rows.append(row)
        if guard.batch is not None or not all(math.isfinite(v) for v in logs.values()):
            status = "failed"
            if guard.batch is not None:
                reason = (f"diverged: the training loss became {guard.value} in epoch {epoch + 1}, batch "
                          f"{guard.batch + 1}; try a lower learning_rate")
            else:
                bad = next(k for k, v in logs.items() if not math.isfinite(v))
                reason = f"diverged: {bad} became {logs[bad]} in epoch {epoch + 1}; try a lower learning_rate"
            break
        improved = False
        if best is not None:
            if best["val_loss"] is None or row["val_loss"] < best["val_loss"]:
                best.update(epoch=epoch + 1, val_loss=row["val_loss"], wait=0)
                best_weights, improved = model.get_weights(), True
            else:
                best["wait"] += 1
        last = epoch + 1 == tspec.epochs or (best is not None and best["wait"] >= tspec.early_stopping)
        if run is not None and not last:
            # No backup after the last epoch: the run's files follow at once, and a run killed
            # before them redoes that one epoch (identically) from the previous backup.
            run.write_history(history_frame(rows))
            run.save_backup(train_model, epoch=epoch + 1, best=best, best_model=model if improved else None)

    # --- results ---------------------------------------------------------------------
    history = history_frame(rows)
    seconds = float(history["seconds"].sum())
    n_images = len(fit_idx) * len(history)
    metrics: dict[str, Any] = {
        "status": status, "reason": reason,
        "test_accuracy": None, "test_loss": None, "train_accuracy": None, "train_loss": None,
        "val_accuracy": None, "val_loss": None,
        **model_cost(model),
        "train_seconds": round(seconds, 3), "metrics_seconds": None,
        "images_per_second": round(n_images / seconds, 1) if seconds > 0 else None,
        "epochs_run": int(len(history)), "best_epoch": None,
        "n_train": int(len(subset)), "n_fit": int(len(fit_idx)), "n_val": int(len(val_idx)),
        "n_test": int(len(dataset.y_test)),
        "model_label": spec["model_label"], "augmentation_label": spec["augmentation_label"],
        "augmentation_path": path, "feed": feed, "seed": seed,
        **provenance(),
    }
    if status == "completed":
        if best is not None and best["epoch"] is not None:
            metrics["best_epoch"] = int(best["epoch"])
            if best_weights is not None:
                model.set_weights(best_weights)
            elif run is not None:  # the best epoch came before a resume
                run.load_best(model, run.read_state())
        t0 = time.perf_counter()
        metrics["test_loss"], metrics["test_accuracy"] = evaluate_arrays(model, to_float(dataset.x_test),
                                                                         dataset.y_test)
        fit_x = to_float(dataset.x_train[fit_idx]) if path == "albumentations" else x_fit
        metrics["train_loss"], metrics["train_accuracy"] = evaluate_arrays(model, fit_x, y_fit)
        metrics["val_loss"], metrics["val_accuracy"] = evaluate_arrays(model, x_val, y_val)
        metrics["metrics_seconds"] = round(time.perf_counter() - t0, 3)  # the three passes above
        metrics = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in metrics.items()}
    else:
        model = None
    if run is not None:
        run.write_history(history)
        if model is not None:
            from invariance.io import write_with

            write_with(run.model, model.save)
        run.write_metrics(metrics)
        run.write_status(status)
        run.clear_backup()
    if verbose and status == "failed":
        print(f"Run failed: {reason}", flush=True)
    return TrainResult(status, reason, model, metrics, history, run.path if run is not None else None)


def _check_albumentations_shape(aspec: Any, dataset: Any) -> None:
    """Runs the transform list once on a training image: shape changes fail up front."""
    from invariance.augment.albu import augment_batch, make_compose

    augment_batch(make_compose(aspec, seed=0), dataset.x_train[:1])
