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
``epochs`` is a given cap, or, with the default recipe, the decay horizon plus the patience
(:func:`invariance.training.schedule.expected_epochs`), so early stopping mostly makes a
study faster than estimated.

The constants live in :data:`DEFAULT_COST`, measured with the TensorFlow backend on the 2-core
development machine (see the comment there).

A measured cost table is better still (:class:`CostTable`, written by
``benchmarks/scaling.py --out FILE``): per model label, the steady epoch time as a power law
of the training images, ``epoch(n) = k * n^alpha`` (fitted on log-log axes over the measured
sizes; beyond the largest, linear in n: the per-image cost only grows in share), the model's
fixed cost per run (build, compile, save), and affine costs of its final-accuracy passes and
of the harness; and refitted constants of the model above for the models it lacks. A run
whose model label is in the table (and whose batch size is the table's) is estimated as::

    seconds = fixed + epochs * epoch(n) * augmentation_slowdown
            + predict_fixed + (n_all + n_test) * predict_per_image
            + eval_fixed + points * samples * eval_per_pair

:func:`load_cost_table` uses the file named by ``INVARIANCE_COST_MODEL`` (a table, or a flat
mapping of :class:`CostModel` fields), else the table shipped as ``cost_model.json`` beside
this module when it was measured on the active Keras backend and the same kind of device (a
CPU, or an accelerator), else :data:`DEFAULT_COST`.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

#: The cost table shipped with the package (``benchmarks/scaling.py --out`` writes it).
COST_TABLE_FILE = Path(__file__).with_name("cost_model.json")


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
    """The MAC-model constants :func:`load_cost_table` would use (:data:`DEFAULT_COST` at the least)."""
    return load_cost_table().cost


def _cost_model(data: Mapping[str, Any], basis: str = "") -> CostModel:
    known = {f.name for f in fields(CostModel)}
    values = {k: v for k, v in data.items() if k in known}
    values.setdefault("basis", basis)
    return CostModel(**values)


@dataclass(frozen=True)
class ModelCost:
    """One model's measured costs (see the module docstring); seconds, on the table's device."""

    k: float
    alpha: float
    per_run: float
    predict_per_image: float
    eval_per_pair: float
    predict_fixed: float = 0.0
    eval_fixed: float = 0.0
    n_max: float = math.inf

    def epoch_seconds(self, n_fit: int) -> float:
        """Seconds of one steady epoch on ``n_fit`` training images (validation pass included)."""
        n = max(1, n_fit)
        if n <= self.n_max:
            return self.k * n ** self.alpha
        return self.k * self.n_max ** self.alpha * n / self.n_max


@dataclass(frozen=True)
class CostTable:
    """Measured per-model costs, with :class:`CostModel` constants for the other models.

    Attributes:
        cost: The MAC-model constants (for models not in ``models``).
        models: Model label (as in the tables, e.g. ``cnn_pool[depth=3]``) -> :class:`ModelCost`.
        batch_size: The training batch size the models were measured at (None: any).
        augmentation: Slowdown of a training epoch per augmentation path (``device``,
            ``albumentations``); 1 where absent.
        backend: The Keras backend it was measured on (None: unknown).
        device: The device it was measured on, as :func:`invariance.provenance.device` says.
        basis: Where the numbers come from (printed with the estimate).
    """

    cost: CostModel
    models: dict[str, ModelCost] = field(default_factory=dict)
    batch_size: int | None = None
    augmentation: dict[str, float] = field(default_factory=dict)
    backend: str | None = None
    device: str | None = None
    basis: str = ""

    def fits(self, backend: str, device: str) -> bool:
        """Whether it was measured on this backend and this kind of device (a CPU, or not)."""
        same_backend = self.backend is None or self.backend == backend
        same_kind = self.device is None or _on_cpu(self.device) == _on_cpu(device)
        return same_backend and same_kind

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CostTable":
        """From ``benchmarks/scaling.py``'s JSON, or from a flat mapping of CostModel fields."""
        if "cost" not in data:  # the older flat form: CostModel fields only
            cost = _cost_model(data, "cost model from INVARIANCE_COST_MODEL")
            return cls(cost=cost, basis=cost.basis)
        basis = str(data.get("basis", ""))
        names = {f.name for f in fields(ModelCost)}
        models = {label: ModelCost(**{k: float(v) for k, v in entry.items() if k in names})
                  for label, entry in (data.get("models") or {}).items()}
        return cls(cost=_cost_model(data["cost"], basis), models=models, batch_size=data.get("batch_size"),
                   augmentation={k: float(v) for k, v in (data.get("augmentation") or {}).items()},
                   backend=data.get("backend"), device=data.get("device"), basis=basis)

    def run_seconds(self, *, model: str, macs: float, n_fit: int, n_predicted: int, epochs: int,
                    batch_size: int, pairs: int, augmentation_path: str | None = None) -> float:
        """Estimated seconds of one run.

        Args:
            model: The model's label. macs: Its multiply-accumulates per image.
            n_fit: Training images after the validation split. n_predicted: Images of the
                trainer's final accuracy passes (training subset + test set).
            epochs: Maximum epochs. batch_size: Training batch size.
            pairs: (image, transform) pairs the harness evaluates (points x samples).
            augmentation_path: ``device``, ``albumentations`` or None.

        Returns:
            Seconds (float > 0).
        """
        slowdown = self.augmentation.get(augmentation_path, 1.0) if augmentation_path else 1.0
        entry = self.models.get(model)
        if entry is not None and (self.batch_size is None or int(batch_size) == int(self.batch_size)):
            return (entry.per_run + epochs * entry.epoch_seconds(n_fit) * slowdown
                    + entry.predict_fixed + n_predicted * entry.predict_per_image
                    + entry.eval_fixed + pairs * entry.eval_per_pair)
        cost = self.cost
        steps = math.ceil(n_fit / max(1, batch_size))
        train = epochs * (steps * cost.per_train_step + n_fit * macs / cost.train_macs_per_second)
        return (cost.per_run + train * slowdown + n_predicted * macs / cost.eval_macs_per_second
                + math.ceil(pairs / cost.eval_batch_size) * cost.per_eval_batch
                + pairs * macs / cost.eval_macs_per_second)


def load_cost_table(*, backend: str | None = None, device: str | None = None) -> CostTable:
    """The cost table to estimate with.

    ``INVARIANCE_COST_MODEL`` names a JSON file (a table or flat CostModel fields), used as
    is; else :data:`COST_TABLE_FILE` when it exists and was measured on ``backend`` and the
    same kind of ``device`` (defaults: the active ones); else :data:`DEFAULT_COST` alone.
    """
    path = os.environ.get("INVARIANCE_COST_MODEL")
    if path:
        return CostTable.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    if COST_TABLE_FILE.is_file():
        try:
            table = CostTable.from_dict(json.loads(COST_TABLE_FILE.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):  # a damaged shipped table must not break --dry-run
            table = None
        if table is not None:
            if backend is None or device is None:
                from invariance.provenance import planned_backend, planned_device

                backend, device = backend or planned_backend(), device or planned_device()
            if table.fits(backend, device):
                return table
    return CostTable(cost=DEFAULT_COST, basis=DEFAULT_COST.basis)


def _on_cpu(device: str) -> bool:
    return device.lower().startswith("cpu")


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


def estimate_study(runs, context, *, cost: CostModel | None = None, table: CostTable | None = None) -> Estimate:
    """Estimates each run's time; builds each distinct model once to count its MACs.

    Args:
        runs: RunSpecs from :func:`invariance.study.expand_runs`.
        context: The study's RunContext (for the data sizes and the evaluation).
        cost: MAC-model constants to use alone (no per-model table).
        table: A cost table (default :func:`load_cost_table`, unless ``cost`` is given).

    Returns:
        An :class:`Estimate`.
    """
    from invariance.augment import execution_path
    from invariance.training.budget import epoch_passes, steps_per_epoch
    from invariance.training.schedule import expected_epochs
    from invariance.training.spec import TrainSpec

    if table is None:
        table = CostTable(cost=cost, basis=cost.basis) if cost is not None else load_cost_table()
    dataset = context.dataset
    pairs = evaluation_points(context.evaluate) * len(context.y_eval)
    macs: dict[str, float] = {}
    per_run = []
    in_table = 0
    for run in runs:
        if run.model_label not in macs:
            macs[run.model_label] = model_macs(run.model, dataset)
        train = run.train
        n_all = len(dataset.y_train) if run.n_train is None else min(run.n_train, len(dataset.y_train))
        n = max(1, int(round(n_all * (1.0 - float(getattr(train, "val_fraction", 0.0) or 0.0)))))
        batch_size = int(getattr(train, "batch_size", 128))
        # An epoch may be several passes over a small subset (TrainSpec.min_epoch_steps): its
        # cost is that of one pass over the images it shows.
        min_steps = int(getattr(train, "min_epoch_steps", 1))
        passes = epoch_passes(n, batch_size=batch_size, min_steps=min_steps)
        epochs = expected_epochs(train, steps_per_epoch=steps_per_epoch(n, batch_size=batch_size, min_steps=min_steps),
                                 passes=passes) \
            if isinstance(train, TrainSpec) else int(getattr(train, "epochs", 1))
        in_table += run.model_label in table.models and (table.batch_size in (None, batch_size))
        per_run.append(table.run_seconds(model=run.model_label, macs=macs[run.model_label], n_fit=passes * n,
                                         n_predicted=n_all + len(dataset.y_test),
                                         epochs=epochs, batch_size=batch_size,
                                         pairs=pairs, augmentation_path=execution_path(run.augmentation)))
    basis = table.basis
    if table.models:
        basis += f"; {in_table} of {len(runs)} runs from measured models"
        basis += ", the rest from MACs" if in_table < len(runs) else ""
    return Estimate(per_run=per_run, total_seconds=float(sum(per_run)), basis=basis)


def calibrate(estimate: Estimate, models: list[str], measured: Mapping[int, float]) -> Estimate:
    """``estimate`` rescaled to the times of runs that have already finished.

    A cost model is measured once, on one machine, one thread count and one load; a study's own
    finished runs say how fast this machine is running it now. Each run is scaled by
    ``sum(measured) / sum(estimated)`` over the finished runs of its own model, or over all the
    finished runs when its model has none (a ratio of sums, so the total is what it gets right).

    Args:
        estimate: From :func:`estimate_study`.
        models: Each run's model label, in the same order.
        measured: Run index -> seconds that run took (its record's ``seconds``); runs with
            no positive time are ignored.

    Returns:
        A new :class:`Estimate` (the finished runs keep their measured seconds), or
        ``estimate`` itself when nothing was measured.
    """
    seen = {i: float(s) for i, s in measured.items() if s and float(s) > 0 and estimate.per_run[i] > 0}
    if not seen:
        return estimate

    def ratio(indices) -> float:
        return sum(seen[i] for i in indices) / sum(estimate.per_run[i] for i in indices)

    pooled = ratio(seen)
    by_model = {m: ratio([i for i in seen if models[i] == m]) for m in {models[i] for i in seen}}
    per_run = [seen[i] if i in seen else seconds * by_model.get(models[i], pooled)
               for i, seconds in enumerate(estimate.per_run)]
    basis = (f"{estimate.basis}; scaled to the {len(seen)} finished run(s), which took {pooled:.2f}x "
             "their estimate" + (f" ({len(by_model)} model(s) by their own runs)" if len(by_model) > 1 else ""))
    return Estimate(per_run=per_run, total_seconds=float(sum(per_run)), basis=basis)


def model_macs(spec: Any, dataset) -> float:
    """Multiply-accumulates per image of the model ``spec`` on ``dataset``'s images.

    Counted from the spec (:func:`invariance.models.spec_cost.spec_cost`, no keras) for the
    zoo's families; a registered family of the user's own is built and counted.
    """
    from invariance.models.spec_cost import spec_cost

    cost = spec_cost(spec, dataset.image_shape, dataset.num_classes)
    if cost is not None:
        return float(cost["macs"])
    import keras

    from invariance.models import build_model, model_cost

    model = build_model(spec, dataset.image_shape, dataset.num_classes, seed=0)
    try:
        return float(model_cost(model)["macs"])
    finally:
        del model
        keras.backend.clear_session()
