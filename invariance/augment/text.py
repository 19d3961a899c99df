"""The CLI string form of an augmentation: ``none`` or ``geometric:shift=4,rotate=15,scale=0.9-1.1``.

Grammar::

    augment  := "none" | "geometric:" item ("," item)*
    item     := key "=" value
    value    := bounds | number | word

``bounds`` and ``number`` are those of :mod:`invariance.ranges` (``0.9-1.1``, ``-2:3``,
``1..2``; ``4``, ``0.25``), so ``scale=0.9-1.1`` is the range [0.9, 1.1]; any other value
(``fill=wrap``) stays a word. This module only reads the text into the plain mapping that
:func:`invariance.augment.resolve_augmentation` checks, so keys and values are validated
in one place.
"""
from __future__ import annotations

import re
from typing import Any, Sequence

from invariance.errors import SpecError
from invariance.ranges import match_bounds_text, parse_number

_INT = re.compile(r"\s*[-+]?\d+\s*")


def read_augment_string(text: str, *, keys: Sequence[str], path: str = "augmentation") -> dict[str, Any] | None:
    """Reads the CLI form into a plain mapping, or None for ``none``.

    Args:
        text: ``"none"`` or ``"geometric:KEY=VALUE,..."``.
        keys: The geometric keys, named in the error for a malformed text.
        path: Field name for errors.

    Returns:
        ``{key: value}`` with ranges as ``[low, high]`` lists and numbers as int or float,
        e.g. ``{"shift": 4, "scale": [0.9, 1.1]}``; None for ``none``.
    """
    text = text.strip()
    if text.lower() == "none":
        return None
    kind, _, rest = text.partition(":")
    if kind.strip() != "geometric" or not rest.strip():
        raise SpecError(path, "must be 'none', 'geometric:KEY=VALUE,...' (keys: " + ", ".join(keys)
                        + "; e.g. geometric:shift=4,rotate=15,scale=0.9-1.1) or a YAML file", text)
    data: dict[str, Any] = {}
    for part in rest.split(","):
        key, eq, raw = part.partition("=")
        key = key.strip()
        if not eq or not key:
            raise SpecError(path, "each item after 'geometric:' must look like key=value", part)
        data[key] = read_value(raw.strip())
    return data


def read_value(raw: str) -> Any:
    """``"a-b"`` (or ``a:b``, ``a..b``) -> ``[a, b]``; a number -> int or float; else the text."""
    pair = match_bounds_text(raw)
    if pair is not None:
        return list(pair)
    try:
        number = parse_number(raw, field="")
    except SpecError:
        return raw
    return int(number) if _INT.fullmatch(raw) else number
