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

import dataclasses
import math
import os
import random
import sys
import time
from typing import Any

import keras
import numpy as np
import pandas as pd

from invariance.augment import execution_path, resolve_augmentation
from invariance.augment.labels import augmentation_label
from invariance.config import to_dict
from invariance.data import to_float
from invariance.errors import InvarianceError, SpecError
from invariance.seeding import check_seed, derive_seed, make_rng
from invariance.training.batch_norm import batch_norm_layers, precise_bn_indices, recalibrate_batch_norm
from invariance.training.budget import epoch_passes, steps_per_epoch
from invariance.training.callbacks import Divergence, EpochEndAfterValidation, EpochProgress, quiet_retracing
from invariance.training.evaluation import EVAL_BATCH, final_metrics, run_metrics
from invariance.training.feed import DeviceBatches, default_feed, to_device
from invariance.training.optimizer import make_optimizer
from invariance.training.result import TrainResult
from invariance.training.run_data import RunArrays, split_run
from invariance.training.run_dir import RunDir, history_frame
from invariance.training.schedule import EpochPlan, epoch_plan
from invariance.training.spec import TrainSpec, resolve_train_spec
from invariance.training.stopping import new_best, plateaued, stop_fields, update_best

# Keys of spec.json that define a run; the rest (labels, resolved path) is for readers.
_SPEC_KEYS = ("model", "dataset", "n_train", "train", "augmentation", "seed")
# Salts that keep the per-purpose seed streams apart.
_ORDER, _STATE, _AUGMENT = 1, 2, 3  # 4: invariance.training.batch_norm


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


def epoch_order(n_fit: int, *, seed: int, epoch: int, passes: int = 1) -> np.ndarray:
    """The images of one epoch, in order: ``passes`` seeded permutations of ``range(n_fit)``,
    one after another (the first is the one-pass epoch's order, so ``passes=1`` is unchanged)."""
    keys = [(epoch,)] + [(epoch, p) for p in range(1, passes)]
    return np.concatenate([make_rng(derive_seed(seed, _ORDER, *k)).permutation(n_fit) for k in keys])


def reseed_generators(model: keras.Model, seed: int, epoch: int) -> None:
    """Resets every ``SeedGenerator`` state in ``model`` from (seed, epoch).

    Keras does not save these states with the weights, so without this a resumed run
    would draw other dropout masks and augmentations than an uninterrupted one.
    """
    states = [v for v in model.variables if v.name == "seed_generator_state"]
    for i, v in enumerate(states):
        v.assign(keras.ops.convert_to_tensor([derive_seed(seed, _STATE, epoch, i), 0], dtype=v.dtype))




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
          verbose: int = 1, callbacks: tuple[keras.callbacks.Callback, ...] = ()) -> TrainResult:
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
        callbacks: Extra Keras callbacks for every epoch's ``fit`` call (each epoch is one
            call), e.g. to score the test set after each epoch; they must not change the
            training, or a resumed run would differ from an uninterrupted one. Their
            ``on_epoch_end`` comes once the epoch is validated, after its batch-norm statistics
            are recomputed, with ``val_loss`` and ``val_accuracy`` in its logs.

    Returns:
        A :class:`TrainResult`. Divergence (a non-finite loss) gives status ``failed``
        with the reason; it is never raised.

    Raises:
        SpecError: for bad input (before anything is written).
        InvarianceError: if ``out_dir`` holds a different run.
    """
    from invariance.models import build_model

    spec = resolve_run(model_spec, dataset, n_train=n_train, train=train, augmentation=augmentation, seed=seed)
    seed = spec["seed"]
    tspec = resolve_train_spec(spec["train"])
    aspec = resolve_augmentation(spec["augmentation"])
    path = spec["augmentation_path"]
    if aspec.kind == "albumentations":
        _check_albumentations_shape(aspec, dataset)
    split = split_run(dataset, n_train, tspec, seed=seed)

    run = RunDir(out_dir) if out_dir is not None else None
    if run is not None:
        finished = _open_run(run, spec)
        if finished is not None:
            return finished

    arrays = RunArrays.of(dataset, split, path=path)
    n_fit = len(split.fit_idx)
    passes = epoch_passes(n_fit, batch_size=tspec.batch_size, min_steps=tspec.min_epoch_steps)
    plan = epoch_plan(tspec, steps_per_epoch=steps_per_epoch(n_fit, batch_size=tspec.batch_size,
                                                             min_steps=tspec.min_epoch_steps), passes=passes)

    enable_determinism(seed)
    quiet_retracing()
    model = build_model(spec["model"], dataset.image_shape, dataset.num_classes, seed=seed)
    train_model = _training_model(model, dataset, aspec, tspec, seed=seed, path=path, plan=plan)

    state = _resume(run, train_model, tspec, plan, verbose=verbose)
    feed = default_feed(augmentation_path=path)
    _fit_epochs(state, model, train_model, arrays, tspec, plan, aspec, seed=seed, path=path, feed=feed, run=run,
                verbose=verbose, extra=list(callbacks), passes=passes)

    history = history_frame(state.rows)
    metrics = run_metrics(state.status, state.reason, history, model, dataset, split, spec, path=path, feed=feed,
                          seed=seed, passes=passes)
    metrics.update(stop_fields(state.status, state.best, patience=plan.patience_epochs, epochs_done=len(history),
                               earliest=plan.earliest_stop_epochs, lr_fraction=_lr_fraction(history, tspec)),
                   max_epochs=plan.max_epochs, horizon_epochs=plan.horizon_epochs)
    if state.status == "completed":
        metrics["best_epoch"] = _restore_best(state, model, run) or int(len(history))
        metrics = final_metrics(metrics, model, dataset, arrays, split, path=path)
    else:
        model = None
    if run is not None:
        _write_results(run, history, model, metrics, state.status)
    if verbose and state.status == "failed":
        print(f"Run failed: {state.reason}", flush=True)
    return TrainResult(state.status, state.reason, model, metrics, history, run.path if run is not None else None)


# ---------------------------------------------------------------------------------------------
# the steps of train(), in order


def _open_run(run: RunDir, spec: dict) -> TrainResult | None:
    """The stored result when ``run`` holds this run finished; else marks it running.

    Raises:
        InvarianceError: if the folder holds a different run.
    """
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
    return None


def _training_model(model: keras.Model, dataset: Any, aspec: Any, tspec: TrainSpec, *, seed: int, path: str,
                    plan: EpochPlan) -> keras.Model:
    """``model`` behind the device augmentation layer (when the run augments on the device), compiled."""
    augmenter = None
    if path == "device":
        from invariance.augment.device import RandomAffine

        h, w = dataset.image_shape[:2]
        augmenter = RandomAffine.from_spec(aspec.geometric, height=h, width=w, seed=derive_seed(seed, _AUGMENT),
                                           name="augment")
    inputs = keras.Input(shape=dataset.image_shape, name="images")
    train_model = keras.Model(inputs, model(augmenter(inputs) if augmenter else inputs), name="training")
    train_model.compile(optimizer=make_optimizer(tspec, plan),
                        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    return train_model


@dataclasses.dataclass
class _State:
    """Where the epoch loop stands: the history so far, early stopping's bookkeeping, the outcome."""

    rows: list[dict]
    best: dict | None  # {"epoch", "val_loss", "wait"} with early stopping, else None
    start: int = 0
    best_weights: list | None = None  # in memory when the best epoch happened in this process
    status: str = "completed"
    reason: str | None = None


def _resume(run: RunDir | None, train_model: keras.Model, tspec: TrainSpec, plan: EpochPlan, *,
            verbose: int) -> _State:
    """A fresh state, or the one of the run's backup (its weights and optimizer loaded into ``train_model``)."""
    state = _State(rows=[], best=new_best() if tspec.early_stopping else None)
    backup = run.load_backup(train_model) if run is not None else None
    if backup is not None:
        state.start = int(backup["epoch"])
        state.rows = run.read_history().iloc[:state.start].to_dict("records")
        state.best = backup.get("best") if state.best is not None else None
        if verbose:
            print(f"Resuming {run.path} after epoch {state.start}/{plan.max_epochs} (the cap)", flush=True)
    return state


def _fit_epochs(state: _State, model: keras.Model, train_model: keras.Model, arrays: RunArrays, tspec: TrainSpec,
                plan: EpochPlan, aspec: Any, *, seed: int, path: str, feed: str, run: RunDir | None, verbose: int,
                extra: list, passes: int = 1) -> None:
    """Trains epoch by epoch from ``state.start``, with a backup after each epoch but the last;
    stops early, or at the first non-finite loss (``state.status`` then says ``failed``)."""
    guard = Divergence()
    later = EpochEndAfterValidation([*extra, *([EpochProgress(plan.max_epochs, verbose)] if verbose else [])])
    # Only when it wraps something: a callback with batch hooks makes Keras wait for every batch.
    callbacks: list[keras.callbacks.Callback] = [guard, *([later] if later.callbacks else [])]
    fit_tensors, validation, validation_batch = _validation_feed(arrays, tspec, feed=feed)
    bn_images = _precise_bn_images(model, arrays, tspec, seed=seed)
    n_fit = len(arrays.y_fit)
    for epoch in range(state.start, plan.max_epochs):
        if plateaued(state.best, plan.patience_epochs, epochs_done=epoch, earliest=plan.earliest_stop_epochs):
            break  # checked first, so a run resumed after it stopped early does not go on
        t0, c0 = time.perf_counter(), time.process_time()
        order = epoch_order(n_fit, seed=seed, epoch=epoch, passes=passes)
        reseed_generators(train_model, seed, epoch)
        data = _epoch_data(arrays, order, tspec, aspec, seed=seed, epoch=epoch, path=path, feed=feed,
                           fit_tensors=fit_tensors)
        # shuffle=False: `order` is the epoch's seeded order (Keras would reshuffle the batches
        # of a PyDataset with Python's global random state, which a resumed run does not share).
        fit = train_model.fit(**data, epochs=epoch + 1, initial_epoch=epoch, shuffle=False, verbose=0,
                              callbacks=callbacks)
        logs = {k: float(v[-1]) for k, v in fit.history.items()}
        # Validation follows the epoch here, not inside fit: first the batch-norm statistics are
        # recomputed for the weights the epoch ended with (on JAX, fit holds the variables
        # until it returns, so no callback can do it in between).
        if bn_images is not None:
            recalibrate_batch_norm(model, bn_images, batch_size=EVAL_BATCH)
        if validation is not None:
            logs.update(_validate(train_model, validation, validation_batch))
        later.epoch_end(epoch, logs)
        row = {"epoch": epoch + 1, "loss": logs.get("loss"), "accuracy": logs.get("accuracy"),
               "val_loss": logs.get("val_loss"), "val_accuracy": logs.get("val_accuracy"),
               "learning_rate": float(keras.ops.convert_to_numpy(train_model.optimizer.learning_rate)),
               "seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0}
        state.rows.append(row)
        if guard.batch is not None or not all(math.isfinite(v) for v in logs.values()):
            state.status, state.reason = "failed", _divergence_reason(guard, logs, epoch)
            break
        improved = _track_best(state, model, row, epoch, min_delta=tspec.min_delta)
        last = epoch + 1 == plan.max_epochs or plateaued(state.best, plan.patience_epochs, epochs_done=epoch + 1,
                                                         earliest=plan.earliest_stop_epochs)
        if run is not None and not last:
            # No backup after the last epoch: the run's files follow at once, and a run killed
            # before them redoes that one epoch (identically) from the previous backup.
            run.write_history(history_frame(state.rows))
            run.save_backup(train_model, epoch=epoch + 1, best=state.best, best_model=model if improved else None)


def _precise_bn_images(model: keras.Model, arrays: RunArrays, tspec: TrainSpec, *, seed: int) -> np.ndarray | None:
    """The images each epoch's batch-norm statistics are recomputed over: a seeded, fixed set of
    the fit images, unaugmented, as at inference (None for a model without batch norm, or with
    ``precise_bn: 0``)."""
    if not tspec.precise_bn or not batch_norm_layers(model):
        return None
    images = arrays.x_fit[precise_bn_indices(len(arrays.y_fit), count=tspec.precise_bn, seed=seed)]
    return to_float(images) if images.dtype == np.uint8 else images  # the albumentations path keeps uint8


def _validate(train_model: keras.Model, validation: Any, batch_size: int | None) -> dict[str, float]:
    """``val_loss`` and ``val_accuracy`` of the model as it is now (dropout and augmentation off)."""
    if isinstance(validation, tuple):
        scores = train_model.evaluate(*validation, batch_size=batch_size, verbose=0, return_dict=True)
    else:
        scores = train_model.evaluate(validation, verbose=0, return_dict=True)
    return {"val_loss": float(scores["loss"]), "val_accuracy": float(scores["accuracy"])}


def _validation_feed(arrays: RunArrays, tspec: TrainSpec, *, feed: str) -> tuple[Any, Any, int | None]:
    """(the fit images on the device or None, the validation data or None, its batch size for
    ``evaluate``: None where the data is already batched)."""
    has_val = len(arrays.y_val) > 0
    if feed == "device":  # the images go to the device once per run (see invariance.training.feed)
        fit_tensors = to_device(arrays.x_fit, arrays.y_fit)
        validation = (DeviceBatches(*to_device(arrays.x_val, arrays.y_val),
                                    batch_size=max(tspec.batch_size, EVAL_BATCH)) if has_val else None)
        return fit_tensors, validation, None
    return None, ((arrays.x_val, arrays.y_val) if has_val else None), max(tspec.batch_size, EVAL_BATCH)


def _epoch_data(arrays: RunArrays, order: np.ndarray, tspec: TrainSpec, aspec: Any, *, seed: int, epoch: int,
                path: str, feed: str, fit_tensors: Any) -> dict:
    """The keyword arguments of one epoch's ``fit`` call, its images in ``order``."""
    if path == "albumentations":
        from invariance.augment.albu import AlbumentationsBatches

        return {"x": AlbumentationsBatches(arrays.x_fit, arrays.y_fit, spec=aspec, batch_size=tspec.batch_size,
                                           seed=seed, epoch=epoch, order=order, workers=min(2, os.cpu_count() or 1))}
    if feed == "device":
        return {"x": DeviceBatches(*fit_tensors, batch_size=tspec.batch_size, order=order)}
    return {"x": arrays.x_fit[order], "y": arrays.y_fit[order], "batch_size": tspec.batch_size}


def _divergence_reason(guard: Divergence, logs: dict[str, float], epoch: int) -> str:
    if guard.batch is not None:
        return (f"diverged: the training loss became {guard.value} in epoch {epoch + 1}, batch "
                f"{guard.batch + 1}; try a lower learning_rate")
    bad = next(k for k, v in logs.items() if not math.isfinite(v))
    return f"diverged: {bad} became {logs[bad]} in epoch {epoch + 1}; try a lower learning_rate"


def _track_best(state: _State, model: keras.Model, row: dict, epoch: int, *, min_delta: float) -> bool:
    """Early stopping's bookkeeping after an epoch; True when the epoch is the best so far."""
    if state.best is None or not update_best(state.best, row["val_loss"], epoch + 1, min_delta=min_delta):
        return False
    state.best_weights = model.get_weights()
    return True


def _lr_fraction(history, tspec: TrainSpec) -> float | None:
    """The last epoch's learning rate over the peak, for a schedule that decays (else None)."""
    if tspec.schedule == "none" or "learning_rate" not in history or history.empty:
        return None
    return float(history["learning_rate"].iloc[-1]) / float(tspec.learning_rate)


def _restore_best(state: _State, model: keras.Model, run: RunDir | None) -> int | None:
    """Early stopping: gives ``model`` the weights of its best epoch, and returns that epoch."""
    if state.best is None or state.best["epoch"] is None:
        return None
    if state.best_weights is not None:
        model.set_weights(state.best_weights)
    elif run is not None:  # the best epoch came before a resume
        run.load_best(model, run.read_state())
    return int(state.best["epoch"])


def _write_results(run: RunDir, history: pd.DataFrame, model: keras.Model | None, metrics: dict,
                   status: str) -> None:
    """The run's files (the model only when it completed); the backup goes."""
    run.write_history(history)
    if model is not None:
        from invariance.io import write_with

        write_with(run.model, model.save)
    run.write_metrics(metrics)
    run.write_status(status)
    run.clear_backup()


def _check_albumentations_shape(aspec: Any, dataset: Any) -> None:
    """Runs the transform list once on a training image: shape changes fail up front."""
    from invariance.augment.albu import augment_batch, make_compose

    augment_batch(make_compose(aspec, seed=0), dataset.x_train[:1])
