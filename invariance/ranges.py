"""The one grammar for numbers, value lists and ranges that specs, YAML files and the CLI use.

Two kinds of range exist, and each context takes one of them:

**Values** (sweep and grid axes, :func:`parse_values`): the points to visit, in order.

=================  ==========================================  ===========================
form               example                                     values
=================  ==========================================  ===========================
number             ``3``, ``"2.5"``                            ``[3]``
list               ``[-2, 0, 2]``, ``"[-2, 0, 2]"``, ``"1,2,3"``  as written
stepped range      ``"start:stop:step"``, ``"-8:8:1"``          ``start + i * step``
=================  ==========================================  ===========================

A stepped range is inclusive at both ends and may run downwards (``"8:-8:-2"``). Values are
``start + i * step`` rounded to 10 decimals, so float rounding never adds or drops an end
point (``"0.6:1.4:0.1"`` is 9 values ending exactly at 1.4, its 4th value reads 0.9), and
``-0.0`` never appears. ``"a:b"`` is not a values form: it has no step.

**Bounds** (random-draw limits and augmentation ranges, :func:`parse_bounds`): an interval
``[low, high]`` to draw from.

=================  ==========================================  ===========================
form               example                                     interval
=================  ==========================================  ===========================
single number L    ``3``; for scale ``0.2``                    ``[-L, L]``; ``[1 - L, 1 + L]``
pair               ``[low, high]``, ``(low, high)``            as given
text               ``"low:high"``, ``"low..high"``, ``"low-high"``  as given
=================  ==========================================  ===========================

**The single-number rule** (one rule, :func:`symmetric`): a number ``L >= 0`` means the
interval centred on the identity, ``[c - L, c + L]``, where the identity ``c`` is 0 for
shifts and angles and 1 for a scale factor. For a scale ``L`` must be below 1, so that the
smallest factor ``1 - L`` stays above 0; a scale interval given as a pair must also have
``0 < low``. In the text forms the separator ``-`` is read after a whole number, so
``"-2-3"`` is ``[-2, 3]``, ``"0.9-1.1"`` is ``[0.9, 1.1]`` and ``"1e-3"`` stays a number.

**Numbers** (:func:`parse_number`): ints, floats and numeric strings (surrounding spaces
allowed, exponents allowed); booleans, NaN and infinities are rejected, ``-0`` reads 0.

Every error is a :class:`~invariance.errors.SpecError` naming the field, the rule and the
value received.
"""
from __future__ import annotations

import math
import re
from numbers import Real
from typing import Any

import numpy as np

from invariance.errors import SpecError

MAX_POINTS = 10_000
"""The most values one axis may hold; more is almost surely a typo in the step."""

VALUES_RULE = "must be a number, a list of numbers or an inclusive range 'start:stop:step'"
BOUNDS_RULE = "must be a number L (symmetric) or a pair [low, high]"

_DECIMALS = 10
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_BOUNDS_TEXT = re.compile(rf"^\s*({_NUM})\s*(?::|\.\.|-)\s*({_NUM})\s*$")
_UNSET = object()


def parse_number(raw: Any, *, field: str, rule: str = "must be a number", whole: Any = _UNSET) -> float:
    """One finite number from an int, a float or a numeric string.

    Args:
        raw: The value.
        field: Name of the value in the user's spec, for errors.
        rule: The rule the error states when ``raw`` is not a number.
        whole: What the error shows as received (default ``raw``; a caller parsing part of
            a larger value passes the whole value).

    Returns:
        The number as a float (``-0`` becomes ``0.0``).

    Raises:
        SpecError: On a boolean, a non-numeric value, NaN or an infinity.
    """
    shown = raw if whole is _UNSET else whole
    if isinstance(raw, bool):
        raise SpecError(field, rule, shown)
    try:
        number = float(raw.strip() if isinstance(raw, str) else raw)
    except (TypeError, ValueError):
        raise SpecError(field, rule, shown) from None
    if not math.isfinite(number):
        raise SpecError(field, "values must be finite", shown)
    return number + 0.0  # -0.0 -> 0.0


def parse_values(value: Any, *, field: str, max_points: int = MAX_POINTS) -> np.ndarray:
    """Parses the *values* forms: a number, a list of numbers or ``"start:stop:step"``.

    Args:
        value: ``3``, ``"3"``, ``[-2, 0, 2]``, ``"[-2, 0, 2]"``, ``"1,2,3"``, ``"-8:8:1"``,
            ``"8:-8:-2"``, or a numpy array.
        field: Name of the value in the user's spec (e.g. ``sweeps.dx``), for errors.
        max_points: The most values allowed.

    Returns:
        float64 array of shape (T,), in the order given, 1 <= T <= ``max_points``.

    Raises:
        SpecError: On a non-numeric or non-finite value, an empty list, a zero step, a step
            whose sign points away from ``stop``, or more than ``max_points`` values.
    """
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, bool):
        raise SpecError(field, VALUES_RULE, value)
    if isinstance(value, Real):
        values = [parse_number(value, field=field, rule=VALUES_RULE)]
    elif isinstance(value, str):
        values = _values_text(value, field=field, max_points=max_points)
    elif isinstance(value, (list, tuple)):
        values = [parse_number(v, field=field, rule=VALUES_RULE, whole=value) for v in value]
    else:
        raise SpecError(field, VALUES_RULE, value)
    if not values:
        raise SpecError(field, "must hold at least one value", value)
    if len(values) > max_points:
        raise SpecError(field, f"must hold at most {max_points} values", f"{len(values)} values from {value!r}")
    return np.asarray(values, dtype=np.float64)


def stepped_range(start: float, stop: float, step: float, *, field: str, text: Any = None,
                  max_points: int = MAX_POINTS) -> list[float]:
    """The values ``start, start + step, ...`` up to ``stop`` inclusive (see the module docstring).

    Args:
        start, stop, step: The range; ``step`` must be non-zero and point towards ``stop``.
        field: Name for errors.
        text: What the error shows as received (default ``"start:stop:step"``).
        max_points: The most values allowed.

    Returns:
        The values as floats, rounded to 10 decimals, the last equal to ``stop`` when on the grid.
    """
    shown = f"{start:g}:{stop:g}:{step:g}" if text is None else text
    if step == 0:
        raise SpecError(field, "a range's step must not be 0", shown)
    if (stop - start) * step < 0:
        direction = "positive" if stop > start else "negative"
        raise SpecError(field, f"a range's step must be {direction} to go from {start:g} to {stop:g}", shown)
    span = (stop - start) / step
    # Tolerate rounding in the division (1.4 - 0.6) / 0.1 = 7.999999999999999.
    count = int(math.floor(span + 1e-9)) + 1
    if count > max_points:
        raise SpecError(field, f"must hold at most {max_points} values", f"{count} values from {shown!r}")
    values = np.round(start + step * np.arange(count), _DECIMALS)
    if abs(values[-1] - stop) <= 1e-9 * max(1.0, abs(stop)):
        values[-1] = stop
    values[values == 0] = 0.0  # no "-0.0" in tables
    return values.tolist()


def match_bounds_text(text: str) -> tuple[float, float] | None:
    """``(low, high)`` when ``text`` is ``"low:high"``, ``"low..high"`` or ``"low-high"``, else None.

    The order is not checked here (:func:`parse_bounds` does); ``"1e-3"`` and ``"-2"`` are
    numbers, not bounds, so they give None.
    """
    m = _BOUNDS_TEXT.match(text) if isinstance(text, str) else None
    if m is None:
        return None
    return float(m.group(1)) + 0.0, float(m.group(2)) + 0.0


def symmetric(half: float, *, field: str, scale: bool = False) -> tuple[float, float]:
    """The single-number rule: ``L`` means ``[-L, L]``, or ``[1 - L, 1 + L]`` for a scale.

    Args:
        half: ``L``, at least 0 (and below 1 for a scale).
        field: Name for errors.
        scale: Whether the interval is of a scale factor (identity 1, must stay > 0).

    Returns:
        ``(low, high)`` as floats.
    """
    if scale:
        if not 0 <= half < 1:
            raise SpecError(field, "a single number s means the range [1 - s, 1 + s] and must be in [0, 1) so the "
                                   "factor stays > 0; give [min, max] (e.g. [0.8, 1.2]) for another range", half)
        return 1.0 - half, 1.0 + half
    if half < 0:
        raise SpecError(field, "a single number L means the range [-L, L] and must be >= 0; "
                               "give [min, max] for another range", half)
    return 0.0 - half, half + 0.0


def parse_bounds(raw: Any, *, field: str, scale: bool = False) -> tuple[float, float]:
    """Parses the *bounds* forms: a number ``L`` (:func:`symmetric`), a pair, or ``"low:high"`` text.

    Args:
        raw: ``3``, ``"30"``, ``[-1, 2]``, ``(0.8, 1.2)``, ``"0.8:1.25"``, ``"0.9-1.1"``, ``"-2..3"``.
        field: Name for errors.
        scale: Whether the interval is of a scale factor (identity 1, ``0 < low``).

    Returns:
        ``(low, high)`` floats with ``low <= high``.

    Raises:
        SpecError: On anything else, a negative ``L``, ``low > high``, or a scale interval
            reaching 0.
    """
    pair = match_bounds_text(raw) if isinstance(raw, str) else None
    if pair is None and isinstance(raw, np.ndarray):
        raw = raw.tolist()
    if pair is None and isinstance(raw, (list, tuple)):
        if len(raw) != 2:
            raise SpecError(field, BOUNDS_RULE, raw)
        pair = tuple(parse_number(v, field=field, rule=BOUNDS_RULE, whole=raw) for v in raw)
    if pair is None:
        low, high = symmetric(parse_number(raw, field=field, rule=BOUNDS_RULE), field=field, scale=scale)
    else:
        low, high = pair
        if not all(math.isfinite(v) for v in pair):
            raise SpecError(field, "values must be finite", raw)
        if low > high:
            raise SpecError(field, "low must be <= high: a pair is [min, max] with min <= max",
                            list(raw) if isinstance(raw, tuple) else raw)
    if scale and low <= 0:
        raise SpecError(field, "a scale must stay > 0: give [min, max] with 0 < min <= max",
                        list(raw) if isinstance(raw, tuple) else raw)
    return low, high


def _values_text(text: str, *, field: str, max_points: int) -> list[float]:
    stripped = text.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        inner = stripped[1:-1].strip()
        return [parse_number(v, field=field, rule=VALUES_RULE, whole=text) for v in inner.split(",")] if inner else []
    if ":" not in stripped:
        if "," in stripped:
            return [parse_number(v, field=field, rule=VALUES_RULE, whole=text) for v in stripped.split(",")]
        return [parse_number(stripped, field=field, rule=VALUES_RULE, whole=text)]
    parts = stripped.split(":")
    if len(parts) != 3:
        raise SpecError(field, "a range must have three parts 'start:stop:step' (both ends included)", text)
    start, stop, step = (parse_number(p, field=field, rule=VALUES_RULE, whole=text) for p in parts)
    return stepped_range(start, stop, step, field=field, text=text, max_points=max_points)
