"""The study file as typed specs, validated whole before anything trains or is written.

A study is one mapping (usually YAML)::

    name: pooling_depth                 # [a-z0-9_-]+, names the folder results/<name>/
    dataset: fashion_mnist              # fashion_mnist, fashion_mnist_mini, mnist, cifar10 or npz:PATH
    data_dir: null                      # optional folder to look for the dataset files in
    canvas: 36                          # optional black-canvas padding (px)
    models:                             # preset names or mappings; see "Grids" below
      - {preset: cnn_pool, depth: [1, 2, 3, 4]}
      - mlp
    augmentation:                       # each: none, a geometric or albumentations spec
      - none
      - {name: geo, shift: 4, rotate: 20, scale: [0.8, 1.2]}
    train: {epochs: 10, batch_size: 128, learning_rate: 1.0e-3}   # the trainer's TrainSpec, or
    #      {steps: 400, min_epochs: 3, max_epochs: 200, ...}       # a step budget (see TrainPlan)
    n_train: [1000, null]               # training-set sizes; null = all
    seeds: [0, 1, 2]
    exclude:                            # optional: combinations of the grid not to run, each
      - {model: mlp, augmentation: geo} # matched by model and augmentation labels and n_train
    evaluate:                           # the harness's EvaluationSpec (invariance.harness)
      samples: 2000                     # test images used for every run (fixed stratified order)
      fill: constant
      interpolation: bilinear
      metrics: [accuracy, consistency, kl]
      sweeps: {dx: -8:8:1, angle: -45:45:5, scale: 0.6:1.4:0.1}   # or {angle: {values: ..., fill: wrap}}
      grids: {translation_map: {dx: -6:6:1, dy: -6:6:1}}            # a grid may also name its fill
      random_k: {k: 10, limits: {dx: 3, dy: 3, angle: 30}}   # or just 10
      walks: 8                          # 1-px diagonal walk of 8 steps
      equivariance: false
    execution: {executor: local, jobs: 1}   # defaults for the CLI's --executor/--jobs/--address,
                                            # and num_cpus/num_gpus per Ray task

Models, augmentations and train settings may hold grids; :mod:`invariance.study.expand`
describes them and expands them.
"""
from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from invariance.config import coerce, parse_spec, to_dict
from invariance.errors import SpecError, in_range, one_of

EXECUTORS = ("local", "ray")
_NAME = re.compile(r"^[a-z0-9_-]+$")
#: The key of a model, augmentation or train mapping that holds a grid (see ``study.expand``).
GRID_KEY = "grid"
#: What an ``exclude:`` entry may match on: labels as in the tables, and the training-set size.
EXCLUDE_KEYS = ("model", "augmentation", "n_train")


@dataclass(frozen=True)
class ExecutionSpec:
    """Defaults for where the runs go; the CLI's options override them."""

    executor: str = "local"
    jobs: int = 1
    address: str | None = None
    num_cpus: float = 1.0
    num_gpus: float = 0.0

    def __post_init__(self):
        one_of("executor", self.executor, EXECUTORS)
        if self.jobs < 1:
            raise SpecError("jobs", "must be >= 1", self.jobs)
        if self.num_cpus < 0:
            raise SpecError("num_cpus", "must be >= 0", self.num_cpus)
        if self.num_gpus < 0:
            raise SpecError("num_gpus", "must be >= 0", self.num_gpus)


@dataclass(frozen=True)
class StudySpec:
    """A whole study. ``models``, ``augmentation`` and ``train`` keep the user's form (with
    grids); :func:`invariance.study.expand.expand_entries` resolves them into typed specs."""

    name: str
    dataset: str
    models: tuple[Any, ...]
    augmentation: tuple[Any, ...] = ("none",)
    train: dict[str, Any] = field(default_factory=dict)
    n_train: tuple[int | None, ...] = (None,)
    seeds: tuple[int, ...] = (0,)
    evaluate: Any = None
    canvas: int | None = None
    data_dir: str | None = None
    execution: ExecutionSpec = field(default_factory=ExecutionSpec)
    exclude: tuple[Any, ...] = ()

    def __post_init__(self):
        for i, entry in enumerate(self.exclude):
            if not isinstance(entry, Mapping) or not entry:
                raise SpecError(f"exclude[{i}]", "must be a mapping of " + ", ".join(EXCLUDE_KEYS)
                                + " to the model label, augmentation label or n_train to leave out", entry)
            for key in entry:
                one_of(f"exclude[{i}]", key, EXCLUDE_KEYS)
        if not _NAME.match(self.name):
            raise SpecError("name", "must be made of lowercase letters, digits, '_' and '-' ([a-z0-9_-]+)",
                            self.name)
        if not self.models:
            raise SpecError("models", "must list at least one model", list(self.models))
        if not self.augmentation:
            raise SpecError("augmentation", "must list at least one augmentation (use 'none')",
                            list(self.augmentation))
        if not self.n_train:
            raise SpecError("n_train", "must list at least one size (null = all)", list(self.n_train))
        for i, n in enumerate(self.n_train):
            if n is not None and n < 1:
                raise SpecError(f"n_train[{i}]", "must be a positive integer or null (all)", n)
        _no_duplicates("n_train", self.n_train)
        if not self.seeds:
            raise SpecError("seeds", "must list at least one seed", list(self.seeds))
        for i, s in enumerate(self.seeds):
            if s < 0:
                raise SpecError(f"seeds[{i}]", "must be >= 0", s)
        _no_duplicates("seeds", self.seeds)
        if self.canvas is not None and self.canvas < 1:
            raise SpecError("canvas", "must be a positive integer (px) or null", self.canvas)


#: Keys of ``train:`` that set a step budget instead of a fixed number of epochs.
BUDGET_KEYS = ("steps", "min_epochs", "max_epochs")


@dataclass(frozen=True)
class TrainPlan:
    """A ``train:`` setting: the trainer's TrainSpec plus an optional step budget.

    With ``steps`` set, each run trains for
    ``epochs = clamp(ceil(steps / ceil(n_fit / batch_size)), min_epochs, max_epochs)``
    (:func:`invariance.training.budget.epochs_for`), where ``n_fit`` is the run's ``n_train``
    less its validation split; so every data size sees about the same number of optimizer
    steps. ``train.epochs`` is then not given (the budget sets it per run), and the default
    ``warmup_cosine`` schedule decays over the budget (``decay_steps = steps``). Early
    stopping still ends a run sooner; a run that trains to its budget records
    ``stop_reason: cap``, ``converged: false``.
    """

    train: Any
    steps: int | None = None
    min_epochs: int = 1
    max_epochs: int | None = None

    def __post_init__(self):
        if self.steps is not None:
            in_range("steps", self.steps, 1)
        in_range("min_epochs", self.min_epochs, 1)
        if self.max_epochs is not None and self.max_epochs < self.min_epochs:
            raise SpecError("max_epochs", f"must be >= min_epochs ({self.min_epochs})", self.max_epochs)

    def flat(self) -> dict[str, Any]:
        """The TrainSpec's fields and the budget's, as one plain mapping (for labels)."""
        out = to_dict(self.train)
        if self.steps is not None:
            out.pop("epochs", None)
            out.update(steps=self.steps, min_epochs=self.min_epochs, max_epochs=self.max_epochs)
        return out

    def for_size(self, n_train: int | None, *, n_total: int | None = None) -> Any:
        """The TrainSpec of a run on ``n_train`` images (None: all ``n_total``)."""
        if self.steps is None:
            return self.train
        from invariance.training.budget import epochs_for

        n = n_train if n_train is not None else n_total
        if n is None:
            raise SpecError("n_train", "null (all images) needs the dataset's size to turn train.steps into "
                            "epochs; load the data first", n_train)
        n_fit = max(1, n - int(round(self.train.val_fraction * n)))
        epochs = epochs_for(n_fit, batch_size=self.train.batch_size, target_steps=self.steps,
                            min_epochs=self.min_epochs, max_epochs=self.max_epochs,
                            min_steps=self.train.min_epoch_steps)
        return dataclasses.replace(self.train, epochs=epochs, decay_steps=self.steps)


def resolve_train_plan(obj: Any, path: str = "train") -> TrainPlan:
    """A :class:`TrainPlan` from a ``train:`` mapping (TrainSpec keys plus the budget keys)."""
    from invariance.training import TrainSpec

    if obj is None:
        obj = {}
    if not isinstance(obj, Mapping):
        raise SpecError(path, "must be a mapping of training options", obj)
    data = dict(obj)
    budget = {k: data.pop(k) for k in BUDGET_KEYS if k in data}
    if budget and "steps" not in budget:
        key = next(iter(budget))
        raise SpecError(f"{path}.{key}", "only applies with train.steps (a step budget)", budget[key])
    plan = {k: coerce(typing.get_type_hints(TrainPlan)[k], v, path=f"{path}.{k}") for k, v in budget.items()}
    if "steps" in budget and "epochs" in data:
        raise SpecError(f"{path}.epochs", "cannot be combined with train.steps: the step budget sets each "
                        "run's epochs (use min_epochs/max_epochs to bound them)", data["epochs"])
    train = parse_spec(TrainSpec, data, path=path)
    try:
        return TrainPlan(train=train, **plan)
    except SpecError as err:
        raise err.prefixed(path) from None


# ---------------------------------------------------------------------------------------------
# parsing


def parse_study(data: Any) -> StudySpec:
    """Validates a study mapping's types, names, ranges, dataset and evaluation.

    Its model, augmentation and train entries are checked when they expand
    (:func:`invariance.study.expand.expand_entries`; :func:`invariance.study.load_study` does both).

    Returns:
        The typed :class:`StudySpec`.

    Raises:
        SpecError: naming the path of the first bad value, what is allowed and what was received.
    """
    if not isinstance(data, Mapping):
        raise SpecError("", "a study must be a mapping with keys " + ", ".join(
            f.name for f in dataclasses.fields(StudySpec)), data)
    data = dict(data)
    # A single value where a list is expected is a list of one: `seeds: 0`, `models: mlp`.
    for key in ("models", "augmentation", "n_train", "seeds"):
        if key in data and not isinstance(data[key], (list, tuple)):
            data[key] = [data[key]]
    if "train" in data and data["train"] is None:
        data["train"] = {}
    study = parse_spec(StudySpec, data)
    check_dataset(study.dataset)
    study = dataclasses.replace(study, evaluate=resolve_evaluation(data.get("evaluate")))
    return study


def check_dataset(name: str, *, path: str = "dataset") -> str:
    """Checks a dataset name: a known name or ``npz:PATH`` of an existing file."""
    if name.startswith("npz:"):
        file = Path(name[4:]).expanduser()
        if not name[4:] or not file.is_file():
            raise SpecError(path, "npz:PATH must name an existing .npz file", name)
        return name
    one_of(path, name, known_datasets() + ("npz:PATH",))
    return name


def known_datasets() -> tuple[str, ...]:
    """The dataset names the data layer's registry knows (``npz:PATH`` aside)."""
    from invariance.data import DATASETS

    return tuple(DATASETS)


def resolve_evaluation(obj: Any, *, path: str = "evaluate") -> Any:
    """The harness's typed :class:`~invariance.harness.EvaluationSpec` for a study's ``evaluate:``.

    Accepts the harness's own shorthands: ``random_k: 10`` means ``{k: 10}`` (default limits)
    and ``walks: 8`` means ``{steps: 8}``.
    """
    from invariance.harness.specs import EvaluationSpec

    if isinstance(obj, EvaluationSpec):
        return obj
    if obj is None:
        obj = {}
    if isinstance(obj, Mapping):
        obj = dict(obj)
        for key, inner in (("random_k", "k"), ("walks", "steps")):
            value = obj.get(key)
            if isinstance(value, int) and not isinstance(value, bool):
                obj[key] = {inner: value}
    return parse_spec(EvaluationSpec, obj, path=path)


def _no_duplicates(path: str, values) -> None:
    seen = {}
    for i, v in enumerate(values):
        if v in seen:
            raise SpecError(f"{path}[{i}]", f"repeats {path}[{seen[v]}]; each value may appear once", v)
        seen[v] = i


def study_to_dict(study: StudySpec) -> dict[str, Any]:
    """The resolved study as plain data (defaults filled in, grids kept) that loads back unchanged."""
    from invariance.training import TrainSpec

    out = to_dict(study)
    given = to_dict(dict(study.train))
    gridded = set(given.get(GRID_KEY) or {})
    if "steps" in given or "steps" in gridded:
        gridded.add("epochs")  # the budget sets the epochs
    train = {k: v for k, v in to_dict(TrainSpec()).items() if k not in gridded}
    train.update(given)
    out["train"] = train
    return out

