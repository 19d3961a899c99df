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
    evaluate:                           # the harness's EvaluationSpec (invariance.harness)
      samples: 2000                     # test images used for every run (fixed stratified order)
      fill: constant
      interpolation: bilinear
      metrics: [accuracy, consistency, kl]
      sweeps: {dx: -8:8:1, angle: -45:45:5, scale: 0.6:1.4:0.1}
      grids: {translation_map: {dx: -6:6:1, dy: -6:6:1}}
      random_k: {k: 10, limits: {dx: 3, dy: 3, angle: 30}}   # or just 10
      walks: 8                          # 1-px diagonal walk of 8 steps
      equivariance: false
    execution: {executor: local, jobs: 1}   # defaults for the CLI's --executor/--jobs/--address,
                                            # and num_cpus/num_gpus per Ray task

Grids (one rule for models and train, explicit for augmentation):

* A ``grid:`` key inside a model, augmentation or train mapping holds ``{field: [v1, v2, ...]}``;
  the entry expands into one entry per combination (cartesian product, keys in the order
  written, values in the order listed). Each ``vi`` is written exactly as the field's value
  would be, so ``grid: {channels: [[16, 32], [32, 64]]}`` gives two channel lists. Always
  unambiguous.
* Shorthand for models and train: a list given directly for a field expands into a grid
  exactly when the list is *not* a valid value of the field's type but each of its items is.
  So ``depth: [1, 2, 3]`` (depth is an int) is a grid of three, ``channels: [16, 32]``
  (channels is a list of ints) is one value, and ``channels: [[16, 32], [32, 64]]`` is a grid
  of two. ``preset:`` and ``family:`` lists expand too.
* Augmentation mappings never expand implicitly (their lists are ranges such as
  ``scale: [0.8, 1.2]``); use ``grid:``.
* An entry may carry ``name:``, the label used in the tables; when the entry expands, the
  label becomes ``name[field=value,...]`` over the expanded fields.
"""
from __future__ import annotations

import dataclasses
import itertools
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from invariance.config import coerce, parse_spec, to_dict
from invariance.errors import SpecError, in_range, one_of

#: Dataset names accepted besides ``npz:PATH`` (the data layer's registry wins when it has one).
KNOWN_DATASETS = ("fashion_mnist", "fashion_mnist_mini", "mnist", "cifar10")
EXECUTORS = ("local", "ray")
_NAME = re.compile(r"^[a-z0-9_-]+$")
_GRID = "grid"
_LABEL = "name"


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
    grids); :func:`expand_entries` resolves them into typed specs."""

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

    def __post_init__(self):
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


@dataclass(frozen=True)
class Entry:
    """One expanded model, augmentation or train setting: the typed spec, its label and its path."""

    spec: Any
    label: str
    path: str


#: Keys of ``train:`` that set a step budget instead of a fixed number of epochs.
BUDGET_KEYS = ("steps", "min_epochs", "max_epochs")


@dataclass(frozen=True)
class TrainPlan:
    """A ``train:`` setting: the trainer's TrainSpec plus an optional step budget.

    With ``steps`` set, each run trains for
    ``epochs = clamp(ceil(steps / ceil(n_fit / batch_size)), min_epochs, max_epochs)``
    (:func:`invariance.training.budget.epochs_for`), where ``n_fit`` is the run's ``n_train``
    less its validation split; so every data size sees about the same number of optimizer
    steps. ``train.epochs`` is then not given (the budget sets it per run).
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
                            min_epochs=self.min_epochs, max_epochs=self.max_epochs)
        return dataclasses.replace(self.train, epochs=epochs)


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
    """Validates a study mapping completely: types, names, ranges and every expanded spec.

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
    expand_entries(study)  # every model, augmentation and train setting must resolve
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
    """The dataset names the data layer knows (its registry if it exposes one)."""
    try:
        import invariance.data as data
    except ImportError:
        return KNOWN_DATASETS
    for attr in ("DATASETS", "DATASET_NAMES", "KNOWN_DATASETS"):
        names = getattr(data, attr, None)
        if names:
            return tuple(n for n in names if not str(n).startswith("npz"))
    return KNOWN_DATASETS


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


# ---------------------------------------------------------------------------------------------
# expansion of grids


def expand_entries(study: StudySpec) -> dict[str, list[Entry]]:
    """Resolves every model, augmentation and train entry of ``study`` into typed specs.

    Returns:
        ``{"models": [Entry...], "augmentation": [Entry...], "train": [Entry...]}``, each in
        the order written, grids expanded.

    Raises:
        SpecError: with the path of the bad value (e.g. ``models[1].pooling``), or when two
            entries resolve to the same spec or label.
    """
    from invariance.augment import augmentation_label, resolve_augmentation
    from invariance.models import model_label, resolve_model_spec
    models = []
    for i, raw in enumerate(study.models):
        models.extend(_expand_entry(raw, f"models[{i}]", resolve=lambda v, p: resolve_model_spec(v, path=p),
                                    label=model_label, implicit=True, selectors=("preset", "family")))
    augs = []
    for i, raw in enumerate(study.augmentation):
        augs.extend(_expand_entry(raw, f"augmentation[{i}]",
                                  resolve=lambda v, p: resolve_augmentation(v, path=p),
                                  label=augmentation_label, implicit=False))
    trains = _expand_entry(dict(study.train), "train", resolve=resolve_train_plan, label=lambda spec: "",
                           implicit=True, allow_name=False)
    if len(trains) > 1:
        keys = _varying_keys([t.spec.flat() for t in trains])
        trains = [dataclasses.replace(t, label=",".join(f"{k}={_short(t.spec.flat()[k])}" for k in keys))
                  for t in trains]
    _no_duplicate_entries("models", models)
    _no_duplicate_entries("augmentation", augs)
    _no_duplicate_entries("train", trains)
    return {"models": models, "augmentation": augs, "train": trains}


def _expand_entry(raw: Any, path: str, *, resolve, label, implicit: bool, selectors: tuple[str, ...] = (),
                  allow_name: bool = True) -> list[Entry]:
    if not isinstance(raw, Mapping):
        spec = resolve(raw, path)
        return [Entry(spec, label(spec), path)]
    raw = dict(raw)
    name = raw.pop(_LABEL, None) if allow_name else None
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise SpecError(f"{path}.{_LABEL}", "must be a non-empty string (the label in the tables)", name)
    axes: list[tuple[str, list[Any], str]] = []  # (key, values, path of the values)
    if _GRID in raw:
        grid = raw.pop(_GRID)
        if not isinstance(grid, Mapping) or not grid:
            raise SpecError(f"{path}.{_GRID}", "must map field names to lists of values", grid)
        for key, values in grid.items():
            if not isinstance(values, (list, tuple)) or not values:
                raise SpecError(f"{path}.{_GRID}.{key}", "must be a non-empty list of values", values)
            if key in raw:
                raise SpecError(f"{path}.{_GRID}.{key}", "is also given outside grid:; give it in one place",
                                values)
            axes.append((key, list(values), f"{path}.{_GRID}.{key}"))
    if implicit:
        axes = _implicit_axes(raw, path, resolve=resolve, selectors=selectors) + axes
    for key, _, _ in axes:
        raw.pop(key, None)
    if not axes:
        spec = resolve(raw, path)
        return [Entry(spec, name or label(spec), path)]
    out = []
    for combo in itertools.product(*(list(enumerate(values)) for _, values, _ in axes)):
        item = dict(raw)
        for (key, _, _), (_, value) in zip(axes, combo):
            item[key] = value
        try:
            spec = resolve(item, path)
        except SpecError as err:
            raise _point_at_value(err, path, axes, combo) from None
        if name:
            text = ",".join(f"{key}={_short(value)}" for (key, _, _), (_, value) in zip(axes, combo))
            entry_label = f"{name}[{text}]"
        else:
            entry_label = label(spec)
        out.append(Entry(spec, entry_label, path))
    return out


def _implicit_axes(raw: dict, path: str, *, resolve, selectors) -> list[tuple[str, list[Any], str]]:
    """Lists given where the field takes a single value (see the module docstring)."""
    lists = {k: v for k, v in raw.items() if isinstance(v, list)}
    if not lists:
        return []
    axes = [(k, lists[k], f"{path}.{k}") for k in selectors if k in lists]
    for key, values, _ in axes:
        if not values:
            raise SpecError(f"{path}.{key}", "must be a name or a non-empty list of names", values)
    rest = [k for k in lists if k not in selectors]
    if not rest:
        return axes
    # The spec class (hence each field's type) depends only on the preset or family chosen.
    fixed = {k: raw[k] for k in selectors if k in raw and k not in lists}
    combos = itertools.product(*(lists[k] for k, _, _ in axes)) if axes else [()]
    for combo in combos:
        hints = _field_hints(resolve(dict(fixed, **{k: v for (k, _, _), v in zip(axes, combo)}), path))
        if hints is None:
            continue
        for key in rest:
            if key not in hints:
                continue  # an unknown key: resolution names it below
            values = lists[key]
            if _is_value(hints[key], values) or not values or not all(_is_value(hints[key], v) for v in values):
                continue
            if key not in [a[0] for a in axes]:
                axes.append((key, values, f"{path}.{key}"))
        break
    return axes


def _field_hints(spec: Any) -> dict[str, Any] | None:
    if isinstance(spec, TrainPlan):
        hints = _field_hints(spec.train) or {}
        hints.update({k: v for k, v in typing.get_type_hints(TrainPlan).items() if k in BUDGET_KEYS})
        return hints
    if not dataclasses.is_dataclass(spec):
        return None
    try:
        return typing.get_type_hints(type(spec))
    except Exception:  # an annotation we cannot evaluate: no implicit grid
        return None


def _is_value(hint: Any, value: Any) -> bool:
    try:
        coerce(hint, value, path="")
    except (SpecError, TypeError):
        return False
    return True


def _point_at_value(err: SpecError, path: str, axes, combo) -> SpecError:
    """Rewrites ``models[0].depth`` to ``models[0].depth[2]`` when the bad value came from a grid."""
    for (key, _, value_path), (index, _) in zip(axes, combo):
        if err.field == f"{path}.{key}" or err.field.startswith(f"{path}.{key}.") \
                or err.field.startswith(f"{path}.{key}["):
            return SpecError(f"{value_path}[{index}]" + err.field[len(f"{path}.{key}"):], err.rule, err.received)
    return err


def _varying_keys(dicts: list[dict]) -> list[str]:
    keys = list(dicts[0])
    return [k for k in keys if any(d.get(k) != dicts[0].get(k) for d in dicts[1:])]


def _short(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "-".join(_short(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _no_duplicates(path: str, values) -> None:
    seen = {}
    for i, v in enumerate(values):
        if v in seen:
            raise SpecError(f"{path}[{i}]", f"repeats {path}[{seen[v]}]; each value may appear once", v)
        seen[v] = i


def _no_duplicate_entries(path: str, entries: list[Entry]) -> None:
    specs: dict[str, Entry] = {}
    labels: dict[str, Entry] = {}
    import json

    for entry in entries:
        key = json.dumps(to_dict(entry.spec), sort_keys=True, default=str)
        if key in specs:
            raise SpecError(entry.path, f"resolves to the same spec as {specs[key].path} ({specs[key].label!r}); "
                            "each setting may appear once", entry.label)
        if entry.label in labels and path != "train":
            raise SpecError(entry.path, f"has the same label as {labels[entry.label].path}; give one a "
                            "distinct 'name:'", entry.label)
        specs[key] = entry
        labels[entry.label] = entry


def study_to_dict(study: StudySpec) -> dict[str, Any]:
    """The resolved study as plain data (defaults filled in, grids kept) that loads back unchanged."""
    from invariance.training import TrainSpec

    out = to_dict(study)
    given = to_dict(dict(study.train))
    gridded = set(given.get(_GRID) or {})
    if "steps" in given or "steps" in gridded:
        gridded.add("epochs")  # the budget sets the epochs
    train = {k: v for k, v in to_dict(TrainSpec()).items() if k not in gridded}
    train.update(given)
    out["train"] = train
    return out

