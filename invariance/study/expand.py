"""A study's runs: model x augmentation x train setting x n_train x seed, each with a stable id."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from invariance.config import to_dict
from invariance.study.schema import StudySpec, expand_entries

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


def identity(*, model, augmentation, train, n_train, seed, dataset_fingerprint) -> dict[str, Any]:
    """The plain data a run id hashes: fully resolved specs (defaults filled in) and the data."""
    return {"version": RUN_ID_VERSION, "dataset": dataset_fingerprint, "model": to_dict(model),
            "augmentation": to_dict(augmentation), "train": to_dict(train), "n_train": n_train, "seed": seed}


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
    runs = []
    for m in entries["models"]:
        for a in entries["augmentation"]:
            for t in entries["train"]:
                for n in study.n_train:
                    train = t.spec.for_size(n, n_total=n_total)
                    for seed in study.seeds:
                        rid = run_id(model=m.spec, augmentation=a.spec, train=train, n_train=n, seed=seed,
                                     dataset_fingerprint=dataset_fingerprint)
                        runs.append(RunSpec(rid, len(runs), m.spec, m.label, a.spec, a.label, train, t.label,
                                            n, seed, dataset_fingerprint))
    return runs


def _plain(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)
