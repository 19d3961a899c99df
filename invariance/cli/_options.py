"""Small helpers shared by CLI commands."""
from __future__ import annotations

from typing import Any

import yaml

from invariance.errors import SpecError


def parse_set(pairs: tuple[str, ...], *, option: str = "--set") -> list[tuple[str, Any]]:
    """Parses ``key=value`` pairs; values are read as YAML scalars (``3`` -> 3, ``[1,2]`` -> list).

    Returns:
        A list of (dotted key, value) pairs in the order given.
    """
    from invariance.yaml_io import load_yaml_text

    out = []
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise SpecError(option, "must look like key=value", pair)
        out.append((key.strip(), load_yaml_text(raw) if raw.strip() else ""))
    return out
