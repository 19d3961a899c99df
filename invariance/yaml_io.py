"""YAML reading with YAML 1.2 integers, so ranges like ``-8:8:1`` stay strings.

PyYAML follows YAML 1.1, which reads an unquoted ``-8:8:1`` as the base-60 integer
-29281 and ``0o17``-style or ``1_000`` forms oddly. This loader replaces the int and
float resolvers with YAML 1.2 core-schema ones.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from invariance.errors import InvarianceError


class _Loader(yaml.SafeLoader):
    pass


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
                              list("-+0123456789"))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


def _construct_int(loader, node):
    value = loader.construct_scalar(node)
    if value.startswith("0o"):
        return int(value[2:], 8)
    return int(value, 0) if value.startswith("0x") else int(value)


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def load_yaml_text(text: str) -> Any:
    """Parses YAML text with YAML 1.2 number rules."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as err:
        raise InvarianceError(f"invalid YAML: {err}") from None


def load_yaml(path: str | Path) -> Any:
    """Reads a YAML file with YAML 1.2 number rules; a missing file is a clear error."""
    path = Path(path)
    if not path.is_file():
        raise InvarianceError(f"file not found: {path}")
    try:
        return load_yaml_text(path.read_text(encoding="utf-8"))
    except InvarianceError as err:
        raise InvarianceError(f"{path}: {err}") from None


def dump_yaml(data: Any) -> str:
    """Writes plain data as block-style YAML that :func:`load_yaml_text` reads back identically."""
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, allow_unicode=True)
