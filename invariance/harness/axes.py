"""Axis values for sweeps and grids: the *values* forms of :mod:`invariance.ranges`, per axis.

An axis takes a number, a list of numbers or an inclusive range ``"a:b:step"`` (``-8:8:1`` is
17 points, ``0.6:1.4:0.1`` is 9 points ending exactly at 1.4); the grammar and its rounding
rules live in :mod:`invariance.ranges`. This module adds the axis names, the scale > 0 check
and the CLI's ``axis=values`` lists. Every error names the field, the rule and the value received.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from invariance.errors import SpecError, one_of
from invariance.ranges import MAX_POINTS, parse_values
from invariance.transforms import AXES

__all__ = ["MAX_POINTS", "check_axis_name", "parse_assignments", "parse_axis", "parse_axis_values"]

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
    return parse_values(value, field=field, max_points=MAX_POINTS)


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
