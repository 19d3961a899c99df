"""Reading a study: a YAML file or a mapping, ``--set`` overrides, then full validation."""
from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from invariance.config import set_dotted
from invariance.errors import InvarianceError, SpecError
from invariance.study.expand import expand_entries
from invariance.study.schema import StudySpec, parse_study


def load_study(source: str | os.PathLike | Mapping | StudySpec, *,
               overrides: Iterable[tuple[str, Any]] = ()) -> StudySpec:
    """Loads and validates a study.

    Args:
        source: A path to a YAML file, a mapping with the study's keys, or a StudySpec.
        overrides: ``(dotted key, value)`` pairs applied before validation, e.g.
            ``(("train.epochs", 1), ("seeds", [0]))`` (what ``--set`` gives).

    Returns:
        The validated :class:`StudySpec` (every model, augmentation and train setting resolved).

    Raises:
        InvarianceError: if the file is missing, empty or not YAML.
        SpecError: naming the YAML path of the first bad value.
    """
    from invariance.yaml_io import load_yaml

    if isinstance(source, StudySpec):
        if not overrides:
            return source
        from invariance.study.schema import study_to_dict

        data = study_to_dict(source)
    elif isinstance(source, Mapping):
        data = copy.deepcopy(dict(source))
    else:
        data = load_yaml(Path(source))
        if data is None:  # no text, or only comments and blank lines
            raise InvarianceError(f"{source}: the study file is empty; a study needs at least name:, dataset: "
                                  "and models: (see studies/quickstart.yaml)")
        if not isinstance(data, Mapping):
            raise SpecError("", "a study file must hold a mapping (name:, dataset:, models:, ...)", data)
        data = dict(data)
    for key, value in overrides:
        set_dotted(data, key, value, option=f"--set {key}")
    study = parse_study(data)
    expand_entries(study)  # every model, augmentation and train setting must resolve
    return study
