"""A study's grids and runs: each entry expanded, then model x augmentation x train setting x
n_train x seed, each run with a stable id.

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
import hashlib
import itertools
import json
import typing
from dataclasses import dataclass
from typing import Any, Mapping

from invariance.config import coerce, to_dict
from invariance.errors import SpecError
from invariance.study.schema import BUDGET_KEYS, GRID_KEY, StudySpec, TrainPlan, resolve_train_plan

_LABEL = "name"  # the key of an entry's own label


@dataclass(frozen=True)
class Entry:
    """One expanded model, augmentation or train setting: the typed spec, its label and its path."""

    spec: Any
    label: str
    path: str


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
    if GRID_KEY in raw:
        grid = raw.pop(GRID_KEY)
        if not isinstance(grid, Mapping) or not grid:
            raise SpecError(f"{path}.{GRID_KEY}", "must map field names to lists of values", grid)
        for key, values in grid.items():
            if not isinstance(values, (list, tuple)) or not values:
                raise SpecError(f"{path}.{GRID_KEY}.{key}", "must be a non-empty list of values", values)
            if key in raw:
                raise SpecError(f"{path}.{GRID_KEY}.{key}", "is also given outside grid:; give it in one place",
                                values)
            axes.append((key, list(values), f"{path}.{GRID_KEY}.{key}"))
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


def _no_duplicate_entries(path: str, entries: list[Entry]) -> None:
    specs: dict[str, Entry] = {}
    labels: dict[str, Entry] = {}
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


# ---------------------------------------------------------------------------------------------
# runs


#: Bump when the meaning of a run's inputs changes, so old run folders are not reused.
RUN_ID_VERSION = 1
RUN_ID_LENGTH = 12


@dataclass(frozen=True)
class RunSpec:
    """One training run of a study and everything that determines its result.

    Attributes:
        run_id: Stable 12-hex-digit id (see :func:`run_id`); names ``runs/<run_id>/``.
        index: Position in the study's expansion order (the tables' row order).
        model: Typed model spec. model_label: Its label in the tables.
        augmentation: Typed augmentation spec. augmentation_label: Its label.
        train: Typed TrainSpec. train_label: "" unless the study varies train settings.
        n_train: Training-set size (None = all). seed: The run's seed.
        dataset_fingerprint: The data the id was computed for.
    """

    run_id: str
    index: int
    model: Any
    model_label: str
    augmentation: Any
    augmentation_label: str
    train: Any
    train_label: str
    n_train: int | None
    seed: int
    dataset_fingerprint: str

    @property
    def label(self) -> str:
        """The ``model`` column: the model's label, plus the train setting when the study varies it
        (a training recipe is compared like a model: ``cnn_pool (learning_rate=0.01)``)."""
        return f"{self.model_label} ({self.train_label})" if self.train_label else self.model_label

    def key(self) -> dict[str, Any]:
        """The plain identifying fields, as written in every table row."""
        return {"run_id": self.run_id, "model": self.label, "augmentation": self.augmentation_label,
                "n_train": self.n_train, "seed": self.seed}

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain data (the run's ``run.json``)."""
        out = identity(model=self.model, augmentation=self.augmentation, train=self.train, n_train=self.n_train,
                       seed=self.seed, dataset_fingerprint=self.dataset_fingerprint)
        return {"run_id": self.run_id, "index": self.index, "model_label": self.model_label,
                "augmentation_label": self.augmentation_label, "train_label": self.train_label, **out}


#: Training options added after run ids were fixed, with the value that leaves training as it
#: was. A run that keeps such a value trains exactly as before, so the option is hashed only
#: when it differs: finished run folders (and the committed references) keep their ids.
_ADDED_TRAIN_OPTIONS: dict[str, Any] = {"decay_passes": None, "precise_bn": 0}
#: Added options that cannot change some models' training, by the model's resolved fields: a
#: model without batch norm trains the same whatever ``precise_bn`` says, so it keeps its id.
_INERT_FOR: dict[str, Any] = {"precise_bn": lambda model: not model.get("batch_norm", False)}


def _trains_as_before(option: str, value: Any, model: Any) -> bool:
    if option not in _ADDED_TRAIN_OPTIONS:
        return False
    inert = _INERT_FOR.get(option)
    return value == _ADDED_TRAIN_OPTIONS[option] or (inert is not None and isinstance(model, dict) and inert(model))


def identity(*, model, augmentation, train, n_train, seed, dataset_fingerprint) -> dict[str, Any]:
    """The plain data a run id hashes: fully resolved specs (defaults filled in) and the data."""
    train_data, model_data = to_dict(train), to_dict(model)
    if isinstance(train_data, dict):
        train_data = {k: v for k, v in train_data.items() if not _trains_as_before(k, v, model_data)}
    return {"version": RUN_ID_VERSION, "dataset": dataset_fingerprint, "model": model_data,
            "augmentation": to_dict(augmentation), "train": train_data, "n_train": n_train, "seed": seed}


def run_id(**inputs) -> str:
    """A stable short hash of :func:`identity` (canonical JSON: sorted keys, no whitespace).

    The same inputs give the same id in any process, whatever the key order of the specs.
    The evaluation settings are not part of it: changing them re-evaluates, never retrains.
    """
    text = json.dumps(identity(**inputs), sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:RUN_ID_LENGTH]


def expand_runs(study: StudySpec, dataset_fingerprint: str, *, n_total: int | None = None) -> list[RunSpec]:
    """All runs of ``study``, in expansion order: model, augmentation, train, n_train, seed.

    Args:
        study: A validated study.
        dataset_fingerprint: ``Dataset.fingerprint()`` of the study's data (with its canvas).
        n_total: The training set's size; needed only when ``n_train`` holds null (all) and
            ``train.steps`` sets a step budget (the epochs depend on the size).

    Returns:
        A list of :class:`RunSpec`, one per combination.
    """
    entries = expand_entries(study)
    excluded = excluded_cells(study, entries)
    runs = []
    for m in entries["models"]:
        for a in entries["augmentation"]:
            for t in entries["train"]:
                for n in study.n_train:
                    if (m.label, a.label, n) in excluded:
                        continue
                    train = t.spec.for_size(n, n_total=n_total)
                    for seed in study.seeds:
                        rid = run_id(model=m.spec, augmentation=a.spec, train=train, n_train=n, seed=seed,
                                     dataset_fingerprint=dataset_fingerprint)
                        runs.append(RunSpec(rid, len(runs), m.spec, m.label, a.spec, a.label, train, t.label,
                                            n, seed, dataset_fingerprint))
    return runs


def excluded_cells(study: StudySpec, entries: Mapping[str, list[Entry]]) -> set[tuple[str, str, int | None]]:
    """The (model label, augmentation label, n_train) cells that ``study.exclude`` leaves out.

    Each ``exclude`` entry matches every cell that agrees with all of its keys.

    Raises:
        SpecError: naming ``exclude[i].key`` when a label or size is not in the study (with
            the allowed values), or when the entries leave out every run.
    """
    values = {"model": [m.label for m in entries["models"]],
              "augmentation": [a.label for a in entries["augmentation"]],
              "n_train": list(study.n_train)}
    cells = list(itertools.product(values["model"], values["augmentation"], values["n_train"]))
    out: set[tuple[str, str, int | None]] = set()
    for i, entry in enumerate(study.exclude):
        for key, value in entry.items():
            if value not in values[key]:
                raise SpecError(f"exclude[{i}].{key}", "must be one of the study's " + key + " values: "
                                + ", ".join(map(str, values[key])), value)
        out |= {c for c in cells if all(c[("model", "augmentation", "n_train").index(k)] == v
                                        for k, v in entry.items())}
    if cells and len(out) == len(cells):
        raise SpecError("exclude", "leaves no run in the study", [dict(e) for e in study.exclude])
    return out


def _plain(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)
