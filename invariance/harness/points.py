"""Transform points for sweeps, grids, random draws and 1-px walks.

Every function returns points as float64 arrays with columns ``dx, dy, angle, scale``
(the convention of :mod:`invariance.transforms`); axes not named stay at identity
``(0, 0, 0, 1)``. Nothing here draws hidden random numbers: :func:`random_points` takes the
generator or seed as an argument.
"""
from __future__ import annotations

import itertools
from typing import Any, Mapping

import numpy as np

from invariance.errors import SpecError
from invariance.harness.axes import check_axis_name, parse_axis_values
from invariance.ranges import MAX_POINTS, parse_bounds
from invariance.seeding import make_rng
from invariance.transforms import AXES, IDENTITY

MAX_GRID_POINTS = 1_000_000


def sweep_points(axis: str, values: Any, *, field: str | None = None) -> np.ndarray:
    """Points that vary one axis with the others at identity.

    Args:
        axis: One of ``dx, dy, angle, scale``.
        values: Anything :func:`invariance.harness.axes.parse_axis` accepts.
        field: Name for error messages (default: the axis).

    Returns:
        float64 array of shape (T, 4).
    """
    field = field or axis
    vals = parse_axis_values(axis, values, field=field)
    out = np.tile(np.asarray(IDENTITY, dtype=np.float64), (len(vals), 1))
    out[:, AXES.index(axis)] = vals
    return out


def grid_points(axes: Mapping[str, Any], *, field: str = "grid") -> np.ndarray:
    """The product of several axes, the last axis varying fastest.

    ``{"dx": "-3:3:1.5", "dy": "-3:3:1.5", "angle": "-30:30:2"}`` gives 5 * 5 * 31 = 775
    points (the Engstrom et al. 2019 grid).

    Args:
        axes: Mapping of axis name to values; each axis at most once.
        field: Name for error messages.

    Returns:
        float64 array of shape (prod of the axis lengths, 4).
    """
    if not isinstance(axes, Mapping) or not axes:
        raise SpecError(field, "must be a non-empty mapping of axis (dx, dy, angle, scale) to values", axes)
    names = [check_axis_name(name, field=f"{field}.{name}") for name in axes]
    values = [parse_axis_values(name, axes[name], field=f"{field}.{name}") for name in names]
    total = int(np.prod([len(v) for v in values]))
    if total > MAX_GRID_POINTS:
        raise SpecError(field, f"a grid must hold at most {MAX_GRID_POINTS} points", f"{total} points")
    out = np.tile(np.asarray(IDENTITY, dtype=np.float64), (total, 1))
    if total:
        combos = np.array(list(itertools.product(*values)), dtype=np.float64)
        for j, name in enumerate(names):
            out[:, AXES.index(name)] = combos[:, j]
    return out


def parse_limits(limits: Mapping[str, Any], *, field: str = "limits") -> np.ndarray:
    """Turns random-draw limits into per-axis ``[low, high]`` bounds.

    Each axis takes the *bounds* forms of :mod:`invariance.ranges`: a number ``L`` means
    ``[-L, L]`` for dx, dy and angle and ``[1 - L, 1 + L]`` for scale (``0 <= L < 1``); a
    pair ``[low, high]`` or the text ``"low:high"`` is taken as given. Axes not named stay
    at identity.

    Returns:
        float64 array of shape (4, 2): rows dx, dy, angle, scale; columns low, high.
    """
    if not isinstance(limits, Mapping) or not limits:
        raise SpecError(field, "must be a non-empty mapping of axis (dx, dy, angle, scale) to a limit", limits)
    bounds = np.array([[v, v] for v in IDENTITY], dtype=np.float64)
    for name, raw in limits.items():
        sub = f"{field}.{name}"
        check_axis_name(name, field=sub)
        bounds[AXES.index(name)] = parse_bounds(raw, field=sub, scale=name == "scale")
    return bounds


def random_points(rng: np.random.Generator | int, n_images: int, k: int,
                  limits: Mapping[str, Any] | np.ndarray) -> np.ndarray:
    """``k`` uniform draws per image inside ``limits``.

    One ``rng.random((n_images, k, 4))`` call makes the draws in image-major order, so the
    first ``m`` images get the same points whatever ``n_images`` is.

    Args:
        rng: A numpy Generator or an integer seed.
        n_images: Number of images N.
        k: Draws per image.
        limits: A mapping for :func:`parse_limits` or its (4, 2) result.

    Returns:
        float64 array of shape (n_images, k, 4).
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= MAX_POINTS:
        raise SpecError("random_k.k", f"must be an integer between 1 and {MAX_POINTS}", k)
    bounds = limits if isinstance(limits, np.ndarray) else parse_limits(limits, field="random_k.limits")
    gen = make_rng(rng)
    u = gen.random((int(n_images), int(k), 4))
    return bounds[:, 0] + u * (bounds[:, 1] - bounds[:, 0])


def diagonal_walk(steps: int) -> np.ndarray:
    """A 1-px diagonal walk: shifts (0, 0), (1, 1), ..., (steps, steps) (Azulay & Weiss 2019).

    Args:
        steps: Number of 1-px steps (the walk has ``steps + 1`` points).

    Returns:
        float64 array of shape (steps + 1, 4).
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= MAX_POINTS:
        raise SpecError("walks.steps", f"must be an integer between 1 and {MAX_POINTS}", steps)
    out = np.tile(np.asarray(IDENTITY, dtype=np.float64), (int(steps) + 1, 1))
    out[:, 0] = out[:, 1] = np.arange(int(steps) + 1)
    return out
