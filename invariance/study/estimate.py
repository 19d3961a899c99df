"""How long a study will take, before it runs (``invariance run --dry-run``).

The cost model, per run::

    seconds = per_run                                          # build, compile, save, load
            + epochs * steps * per_train_step                  # fixed cost of each batch
            + epochs * n * macs / train_macs_per_second        # the arithmetic of training
            + (n_all + n_test) * macs / eval_macs_per_second   # the trainer's final accuracies
            + points * batches * per_eval_batch                # fixed cost of each eval batch
            + points * samples * macs / eval_macs_per_second   # the arithmetic of evaluation

where ``n`` is the number of training images after the validation split (``n_all`` before
it), ``n_test`` the test set's size, ``steps`` = n / batch_size, ``macs`` the model's multiply-accumulates per image (``model_cost``), and
``points`` the transforms the harness evaluates (clean + sweeps + grids + random-k + walks).
``epochs`` is the maximum, so early stopping only makes a study faster than estimated.

The constants live in :data:`DEFAULT_COST`, measured with the TensorFlow backend on the 2-core
development machine (see the comment there). A benchmark can supply its own
:class:`CostModel` (``estimate_study(..., cost=...)``) or a JSON file named by the
``INVARIANCE_COST_MODEL`` environment variable with the same keys.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class CostModel:
    """Constants of the per-run time model (see the module docstring).

    Attributes:
        train_macs_per_second: Forward MACs per second while training (backward included).
        eval_macs_per_second: Forward MACs per second while evaluating.
        per_train_step: Seconds of fixed cost per training batch.
        per_eval_batch: Seconds of fixed cost per evaluation batch.
        per_run: Seconds of fixed cost per run.
        eval_batch_size: (image, transform) pairs per evaluation batch (the harness's default).
        basis: Where the numbers come from (printed with the estimate).
    """

    train_macs_per_second: float
    eval_macs_per_second: float
    per_train_step: float
    per_eval_batch: float
    per_run: float
    eval_batch_size: int = 512
    basis: str = ""


# Measured on the 2-core development machine (TensorFlow CPU backend, keras 3.15) from the
# quickstart study (fashion_mnist_mini, 6000 images, 3 epochs, batch 128, 500 evaluation
# images x 24 points): the fixed costs from mlp (235k MACs/image), the rates from cnn_pool
# (4.2M) and cnn_nopool (21M): training ~5.5 GMAC/s, inference ~35 GMAC/s. The machine was
# shared while measuring, so on an idle one runs take about 0.6-0.8x these estimates.
# Re-measure with benchmarks/scaling.
DEFAULT_COST = CostModel(train_macs_per_second=5.5e9, eval_macs_per_second=3.5e10, per_train_step=0.015,
                         per_eval_batch=0.02, per_run=2.5, eval_batch_size=512,
                         basis="cost model measured on a 2-core CPU, TensorFlow backend")


@dataclass(frozen=True)
class Estimate:
    """Estimated seconds per run (in the runs' order), their sum, and the basis."""

    per_run: list[float]
    total_seconds: float
    basis: str


def load_cost_model() -> CostModel:
    """:data:`DEFAULT_COST`, or the JSON file named by ``INVARIANCE_COST_MODEL``."""
    path = os.environ.get("INVARIANCE_COST_MODEL")
    if not path:
        return DEFAULT_COST
    data = json.loads(open(path, encoding="utf-8").read())
    known = {f.name for f in fields(CostModel)}
    return CostModel(**{k: v for k, v in data.items() if k in known})


def run_seconds(*, macs: float, n: int, epochs: int, batch_size: int, points: int, samples: int,
                n_all: int | None = None, n_test: int = 0, cost: CostModel = DEFAULT_COST) -> float:
    """Estimated seconds of one run (see the module docstring for the model).

    Returns:
        A float >= ``cost.per_run``.
    """
    steps = math.ceil(n / max(1, batch_size))
    batches = math.ceil(points * samples / cost.eval_batch_size)
    n_all = n if n_all is None else n_all
    return (cost.per_run + epochs * steps * cost.per_train_step + epochs * n * macs / cost.train_macs_per_second
            + (n_all + n_test) * macs / cost.eval_macs_per_second
            + batches * cost.per_eval_batch + points * samples * macs / cost.eval_macs_per_second)


def evaluation_points(spec) -> int:
    """How many transformed copies of the evaluation set the harness runs for ``spec``
    (an EvaluationSpec): the clean pass, every sweep and grid point, the random draws and the walk."""
    from invariance.harness.specs import resolve_grids, resolve_sweeps

    points = 1
    points += sum(len(s.points()) for s in resolve_sweeps(spec.sweeps or None))
    points += sum(len(g.points()) for g in resolve_grids(spec.grids or None))
    if spec.random_k is not None:
        points += int(spec.random_k.k)
    if spec.walks is not None:
        points += int(spec.walks.steps) + 1
    if getattr(spec, "shift_pairs", None) is not None:
        points += 2 * int(spec.shift_pairs.pairs)
    if spec.equivariance:
        points += 4
    return points


def estimate_study(runs, context, *, cost: CostModel | None = None) -> Estimate:
    """Estimates each run's time; builds each distinct model once to count its MACs.

    Args:
        runs: RunSpecs from :func:`invariance.study.expand_runs`.
        context: The study's RunContext (for the data sizes and the evaluation).
        cost: The constants (default :func:`load_cost_model`).

    Returns:
        An :class:`Estimate`.
    """
    cost = cost or load_cost_model()
    dataset = context.dataset
    samples = len(context.y_eval)
    points = evaluation_points(context.evaluate)
    macs: dict[str, float] = {}
    per_run = []
    for run in runs:
        if run.model_label not in macs:
            macs[run.model_label] = model_macs(run.model, dataset)
        train = run.train
        n_all = len(dataset.y_train) if run.n_train is None else min(run.n_train, len(dataset.y_train))
        n = max(1, int(round(n_all * (1.0 - float(getattr(train, "val_fraction", 0.0) or 0.0)))))
        per_run.append(run_seconds(macs=macs[run.model_label], n=n, epochs=int(getattr(train, "epochs", 1)),
                                   batch_size=int(getattr(train, "batch_size", 128)), points=points,
                                   samples=samples, n_all=n_all, n_test=len(dataset.y_test), cost=cost))
    return Estimate(per_run=per_run, total_seconds=float(sum(per_run)), basis=cost.basis)


def model_macs(spec: Any, dataset) -> float:
    """Multiply-accumulates per image of the model ``spec`` on ``dataset``'s images."""
    import keras

    from invariance.models import build_model, model_cost

    model = build_model(spec, dataset.image_shape, dataset.num_classes, seed=0)
    try:
        return float(model_cost(model)["macs"])
    finally:
        del model
        keras.backend.clear_session()
