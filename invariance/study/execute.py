"""Executing one run: train it into its folder and evaluate it on the study's evaluation set."""
from __future__ import annotations

import os
import time
import traceback
from pathlib import Path
from typing import Any

from invariance.curves.run_summary import mean_consistency
from invariance.results.layout import METRIC_COLUMNS
from invariance.results.records import plain
from invariance.study.context import RunContext
from invariance.study.expand import RunSpec


def execute_run(run: RunSpec, run_dir: str | os.PathLike, context: RunContext, *, verbose: int = 0) -> dict[str, Any]:
    """Trains one run into ``run_dir`` and evaluates it on the study's evaluation set.

    Never raises for a failure of the run itself (divergence, an exception in training or
    evaluation): that is returned as ``status="failed"`` with its ``reason``. Writes nothing
    but the trainer's own files; the caller records the result
    (:func:`invariance.results.record_result`).

    Returns:
        A dict with the run's key columns, ``status``, ``reason``, the metrics of
        :data:`~invariance.results.layout.METRIC_COLUMNS`, ``seconds``, ``eval_seconds``,
        ``mean_consistency``, ``mean_consistency_correct``, ``eval_hash`` and ``rows`` (the harness's DataFrame, or None when
        the run failed).
    """
    import keras

    from invariance.harness import evaluate
    from invariance.training import train

    start = time.perf_counter()
    result: dict[str, Any] = {**run.key(), "status": "failed", "reason": "", "eval_hash": context.eval_hash,
                              "rows": None, "mean_consistency": float("nan"),
                              "mean_consistency_correct": float("nan")}
    if run.n_train is None:  # tables show the size used, so that learning curves can use it
        result["n_train"] = int(len(context.dataset.y_train))
    run_dir = Path(run_dir)
    # Fresh global Keras state per run: automatic layer names (and so the `layer` column)
    # must not depend on how many runs this process did before.
    keras.backend.clear_session(free_memory=False)
    _collect_garbage()
    stage = "train"
    try:
        outcome = train(run.model, context.dataset, n_train=run.n_train, train=run.train,
                        augmentation=run.augmentation, seed=run.seed, out_dir=str(run_dir), verbose=verbose)
        metrics = dict(getattr(outcome, "metrics", None) or {})
        result.update({k: plain(metrics.get(k)) for k in METRIC_COLUMNS})
        if getattr(outcome, "status", "completed") != "completed":
            result["reason"] = str(getattr(outcome, "reason", "") or "training failed")
            return result
        stage = "evaluate"
        eval_start = time.perf_counter()
        kwargs = context.evaluate.evaluate_kwargs()
        kwargs["progress"] = False
        # A chance-level run warns on the console here, and the report lists it first.
        rows = evaluate(outcome.model, context.x_eval, context.y_eval, **kwargs)
        result["eval_seconds"] = time.perf_counter() - eval_start
        result["rows"] = rows
        result["mean_consistency"] = mean_consistency(rows)
        result["mean_consistency_correct"] = mean_consistency(rows, correct=True)
        result["status"] = "completed"
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as err:  # a failed run is recorded, and the study goes on
        result["reason"] = f"{stage}: {type(err).__name__}: {err}"
        result["traceback"] = traceback.format_exc()
    finally:
        result["seconds"] = time.perf_counter() - start
    return result


_FROZEN = False


def _collect_garbage() -> None:
    """Frees the previous run's models, cheaply.

    A full ``gc.collect()`` walks every object alive, and the backend's import alone leaves
    ~0.5M: about 0.35 s per run on a 2-core CPU. Freezing what is alive at the first run
    (modules, the data: it lives as long as the process) makes later collections walk only
    what the runs themselves created (~0.02 s).
    """
    global _FROZEN
    import gc

    gc.collect()
    if not _FROZEN:
        gc.freeze()
        _FROZEN = True
