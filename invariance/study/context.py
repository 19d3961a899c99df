"""The run context: what every run of a study shares (its data and the fixed evaluation set)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Mapping

from invariance.config import to_dict
from invariance.errors import SpecError
from invariance.study.schema import StudySpec, study_to_dict


@dataclass
class RunContext:
    """What every run of a study shares: the data and the fixed evaluation set.

    Attributes:
        dataset: The loaded Dataset. x_eval/y_eval: uint8 (M, H, W, C) images and (M,) labels,
            the same for every run. evaluate: The study's EvaluationSpec (harness). eval_hash: Identifies
            the evaluation (settings and data); a run evaluated otherwise is evaluated again.
    """

    dataset: Any
    x_eval: Any
    y_eval: Any
    evaluate: Any
    eval_hash: str
    description: str = ""


def build_context(study: StudySpec) -> RunContext:
    """Loads the study's data and picks its evaluation set (the harness's
    :func:`~invariance.harness.evaluation_set`: the first ``samples`` test images in a fixed
    class-interleaved order, so every run is measured on the same images)."""
    from invariance.data import load_dataset
    from invariance.harness import evaluation_set

    dataset = load_dataset(study.dataset, data_dir=study.data_dir, canvas=study.canvas)
    check_sizes(study.n_train, len(dataset.y_train))
    spec = study.evaluate
    n_test = len(dataset.y_test)
    if spec.samples is not None and spec.samples > n_test:
        raise SpecError("evaluate.samples", f"must be at most the test set's size {n_test} (or null for all)",
                        spec.samples)
    x_eval, y_eval, _, description = evaluation_set(dataset, spec.samples)
    from invariance.harness.metrics import METRICS_VERSION

    text = json.dumps({"evaluate": to_dict(spec), "data": dataset.fingerprint(), "metrics": METRICS_VERSION},
                      sort_keys=True, default=str)
    eval_hash = hashlib.sha256(text.encode()).hexdigest()[:12]
    return RunContext(dataset=dataset, x_eval=x_eval, y_eval=y_eval, evaluate=spec, eval_hash=eval_hash,
                      description=description)


def check_sizes(n_train, total: int) -> None:
    """Each ``n_train`` must fit the training set, and no two may mean the same size."""
    seen: dict[int, int] = {}
    for i, n in enumerate(n_train):
        if n is not None and n > total:
            raise SpecError(f"n_train[{i}]", f"must be at most the training set's size {total} (or null for all)", n)
        size = total if n is None else n
        if size in seen:
            raise SpecError(f"n_train[{i}]", f"means {size} images, as n_train[{seen[size]}] does (null = all "
                            f"{total}); list each size once", n)
        seen[size] = i


def context_args(study: StudySpec) -> dict[str, Any]:
    """What a worker process needs to rebuild the context itself (cheaper than pickling the data)."""
    return {"study": study_to_dict(study)}


def context_from_args(args: Mapping[str, Any]) -> RunContext:
    """Rebuilds :class:`RunContext` in a worker from :func:`context_args`."""
    from invariance.study.schema import parse_study

    return build_context(parse_study(args["study"]))
