"""Axis values for sweeps and grids: ``"a:b:step"`` ranges, single numbers and lists.

A range is inclusive at both ends: ``-8:8:1`` is 17 points and ``0.6:1.4:0.1`` is 9 points
ending exactly at 1.4. Values are computed as ``a + i * step`` and rounded to 10 decimals,
so float rounding never adds or drops an end point and ``0.6 + 3 * 0.1`` reads 0.9, not
0.9000000000000001. Every error names the field, the rule and the value received.
"""
from __future__ import annotations

import math
import re
from numbers import Real
from typing import Any

import numpy as np

from invariance.errors import SpecError, one_of
from invariance.transforms import AXES

MAX_POINTS = 10_000
"""The most values one axis may hold; more is almost surely a typo in the step."""

_DECIMALS = 10
_RANGE_RULE = "must be a number, a list of numbers or an inclusive range 'start:stop:step'"
# Splits "dx=-3:3:1,dy=[1, 2],angle=5" at the commas that start a new "axis=" assignment.
_ASSIGNMENT_SPLIT = re.compile(r",(?=\s*[A-Za-z_][A-Za-z0-9_]*\s*=)")


def check_axis_name(name: Any, *, field: str = "axis") -> str:
    """Returns ``name`` if it is one of ``dx, dy, angle, scale``; raises SpecError otherwise."""
    return one_of(field, name, AXES)


def parse_axis(value: Any, *, field: str) -> np.ndarray:
    """Parses one axis's values.

    Args:
        value: A number (``3``, ``"3"``), a list of numbers (``[-2, 0, 2]``, ``"[-2, 0, 2]"``)
            or an inclusive range string ``"start:stop:step"`` (``"-8:8:1"``, ``"0.6:1.4:0.1"``).
            A range may run downwards with a negative step (``"8:-8:-2"``).
        field: Name of the value in the user's spec (e.g. ``sweeps.dx``), for errors.

    Returns:
        float64 array of shape (T,), in the order given, 1 <= T <= ``MAX_POINTS``.

    Raises:
        SpecError: On a non-numeric or non-finite value, an empty list, a zero step, a step
            whose sign points away from ``stop``, or more than ``MAX_POINTS`` values.
    """
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, bool):
        raise SpecError(field, _RANGE_RULE, value)
    if isinstance(value, Real):
        values = [_number(value, field=field, whole=value)]
    elif isinstance(value, str):
        values = _parse_text(value, field=field)
    elif isinstance(value, (list, tuple)):
        values = [_number(v, field=field, whole=value) for v in value]
    else:
        raise SpecError(field, _RANGE_RULE, value)
    if not values:
        raise SpecError(field, "must hold at least one value", value)
    if len(values) > MAX_POINTS:
        raise SpecError(field, f"must hold at most {MAX_POINTS} values", f"{len(values)} values from {value!r}")
    return np.asarray(values, dtype=np.float64)


def parse_axis_values(axis: Any, value: Any, *, field: str) -> np.ndarray:
    """Parses an axis's values and checks them against the axis (``scale`` must be > 0).

    Args:
        axis: One of ``dx, dy, angle, scale``.
        value: Anything :func:`parse_axis` accepts.
        field: Name of the value in the user's spec, for errors.

    Returns:
        float64 array of shape (T,).
    """
    check_axis_name(axis, field=field)
    values = parse_axis(value, field=field)
    if axis == "scale" and np.any(values <= 0):
        raise SpecError(field, "scale values must be > 0", value)
    return values


def parse_assignments(text: str, *, field: str) -> dict[str, str]:
    """Splits a CLI value like ``"dx=-3:3:1,dy=-3:3:1"`` into ``{"dx": "-3:3:1", "dy": "-3:3:1"}``.

    Commas inside a value (``dx=[1,2,3]``) are kept: a split happens only before ``name=``.
    Names are checked to be axes and not repeated; values are left for :func:`parse_axis`.
    """
    out: dict[str, str] = {}
    for part in _ASSIGNMENT_SPLIT.split(text.strip()):
        name, sep, raw = part.partition("=")
        name = name.strip()
        if not sep or not name or not raw.strip():
            raise SpecError(field, "must look like axis=values[,axis=values...], e.g. dx=-3:3:1,dy=-3:3:1", text)
        check_axis_name(name, field=field)
        if name in out:
            raise SpecError(field, f"names axis {name!r} twice", text)
        out[name] = raw.strip()
    return out


def _parse_text(text: str, *, field: str) -> list[float]:
    stripped = text.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        inner = stripped[1:-1].strip()
        return [_number(v, field=field, whole=text) for v in inner.split(",")] if inner else []
    if ":" not in stripped:
        if "," in stripped:
            return [_number(v, field=field, whole=text) for v in stripped.split(",")]
        return [_number(stripped, field=field, whole=text)]
    parts = stripped.split(":")
    if len(parts) != 3:
        raise SpecError(field, "a range must have three parts 'start:stop:step' (both ends included)", text)
    start, stop, step = (_number(p, field=field, whole=text) for p in parts)
    return _inclusive_range(start, stop, step, field=field, text=text)


def _inclusive_range(start: float, stop: float, step: float, *, field: str, text: str) -> list[float]:
    if step == 0:
        raise SpecError(field, "a range's step must not be 0", text)
    if (stop - start) * step < 0:
        direction = "positive" if stop > start else "negative"
        raise SpecError(field, f"a range's step must be {direction} to go from {start:g} to {stop:g}", text)
    span = (stop - start) / step
    # Tolerate rounding in the division (1.4 - 0.6) / 0.1 = 7.999999999999999.
    count = int(math.floor(span + 1e-9)) + 1
    if count > MAX_POINTS:
        raise SpecError(field, f"must hold at most {MAX_POINTS} values", f"{count} values from {text!r}")
    values = np.round(start + step * np.arange(count), _DECIMALS)
    if abs(values[-1] - stop) <= 1e-9 * max(1.0, abs(stop)):
        values[-1] = stop
    values[values == 0] = 0.0  # no "-0.0" in tables
    return values.tolist()


def _number(raw: Any, *, field: str, whole: Any) -> float:
    if isinstance(raw, bool):
        raise SpecError(field, _RANGE_RULE, whole)
    try:
        number = float(raw.strip() if isinstance(raw, str) else raw)
    except (TypeError, ValueError):
        raise SpecError(field, _RANGE_RULE, whole) from None
    if not math.isfinite(number):
        raise SpecError(field, "values must be finite", whole)
    return number + 0.0  # -0.0 -> 0.0
