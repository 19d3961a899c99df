"""The Keras callbacks and logging filter of a training run."""
from __future__ import annotations

import logging
import math
import threading

import keras


class Divergence(keras.callbacks.TerminateOnNaN):
    """Keras' TerminateOnNaN that also remembers where the loss stopped being finite.

    ``async_safe``: Keras then runs the per-batch check in its callback thread pool instead
    of waiting for every batch's loss on the main loop (a callback with a batch hook
    otherwise forces that wait, which cost the trainer ~5% of ``fit``'s throughput). The
    pool is flushed before the epoch ends, and the loss is the epoch's running mean (once
    non-finite it stays so), so the earliest bad batch is still the one recorded.
    """

    async_safe = True

    def __init__(self):
        super().__init__()
        self.batch: int | None = None
        self.value: float | None = None
        self._lock = threading.Lock()

    def on_batch_end(self, batch, logs=None):
        # Quiet: the run's reason says it, so no "Invalid loss" print as in the parent.
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            with self._lock:
                if self.batch is None or batch < self.batch:
                    self.batch, self.value = batch, float(loss)
            self.model.stop_training = True


class EpochEndAfterValidation(keras.callbacks.Callback):
    """Passes every hook of ``callbacks`` through ``fit`` but ``on_epoch_end``, which the trainer
    sends with :meth:`epoch_end` once the epoch is done: after it has recomputed the batch-norm
    statistics and validated (outside ``fit``), with the validation logs, as Keras would. So a
    callback that scores the model at the end of an epoch scores the model the run keeps."""

    def __init__(self, callbacks):
        super().__init__()
        self.callbacks = list(callbacks)

    def set_model(self, model):
        super().set_model(model)
        for callback in self.callbacks:
            callback.set_model(model)

    def set_params(self, params):
        super().set_params(params)
        for callback in self.callbacks:
            callback.set_params(params)

    def epoch_end(self, epoch: int, logs: dict) -> None:
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)


def _passed_through(hook: str):
    def forward(self, *args, **kwargs):
        for callback in self.callbacks:
            getattr(callback, hook)(*args, **kwargs)
    forward.__name__ = hook
    return forward


for _hook in ("on_train_begin", "on_train_end", "on_epoch_begin", "on_train_batch_begin", "on_train_batch_end",
              "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end"):
    setattr(EpochEndAfterValidation, _hook, _passed_through(_hook))


class EpochProgress(keras.callbacks.ProgbarLogger):
    """Keras' progress bar, counting epochs over the whole run rather than one fit call."""

    def __init__(self, epochs: int, verbose: int):
        super().__init__()
        self._total, self._verbose = epochs, verbose

    def set_params(self, params):
        super().set_params(params)
        self.epochs, self.verbose = self._total, self._verbose


class _NoRetracingWarning(logging.Filter):
    """Drops TensorFlow's "triggered tf.function retracing" warning.

    Every run builds a fresh model with fresh step functions, so a process that trains
    many runs (a study) retraces by design; the warning would only alarm users.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def quiet_retracing() -> None:
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _NoRetracingWarning) for f in logger.filters):
        logger.addFilter(_NoRetracingWarning())
