"""Typed specs of what the harness measures: sweeps, grids, random-k draws and walks.

Each ``resolve_*`` helper accepts the plain forms users write (dicts from YAML or the CLI)
or the typed objects, validates them up front and returns typed objects. Errors name the
field (``sweeps.dx``, ``grids.translation_map.angle``), the rule and the value received.
:class:`EvaluationSpec` bundles everything for a study's ``evaluate:`` section and parses
with :func:`invariance.config.parse_spec`.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from invariance.config import parse_spec
from invariance.errors import SpecError, in_range
from invariance.harness.axes import check_axis_name, parse_axis_values
from invariance.harness.metrics import POINT_METRICS
from invariance.harness.points import diagonal_walk, grid_points, parse_limits, random_points, sweep_points
from invariance.harness.shift_pairs import resolve_shift_pairs
from invariance.seeding import make_rng
from invariance.transforms import check_fill, check_interpolation

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
RESERVED_NAMES = ("clean", "random_k", "walk", "equivariance", "shift_pairs")
"""Row ``sweep`` names the harness itself uses; a grid may not take them."""


@dataclass(frozen=True)
class Sweep:
    """One axis varied with the others at identity. Its rows carry ``sweep = axis``.

    ``fill`` overrides the evaluation's fill for this sweep alone (None: the evaluation's), so
    one evaluation can shift with wrap-around and rotate on a zero-filled canvas.
    """

    axis: str
    values: tuple[float, ...]
    fill: str | None = None

    def __post_init__(self):
        if self.fill is not None:
            check_fill(self.fill, field=f"sweeps.{self.axis}.fill")

    @property
    def name(self) -> str:
        return self.axis

    def points(self) -> np.ndarray:
        """float64 (T, 4)."""
        return sweep_points(self.axis, list(self.values))


@dataclass(frozen=True)
class Grid:
    """The product of several axes, named (e.g. ``translation_map``); ``fill`` as for :class:`Sweep`."""

    name: str
    axes: tuple[tuple[str, tuple[float, ...]], ...]
    fill: str | None = None

    def __post_init__(self):
        if self.fill is not None:
            check_fill(self.fill, field=f"grids.{self.name}.fill")

    def points(self) -> np.ndarray:
        """float64 (prod of axis lengths, 4), the last axis varying fastest."""
        return grid_points({a: list(v) for a, v in self.axes}, field=f"grids.{self.name}")


@dataclass(frozen=True)
class RandomKSpec:
    """``k`` uniform draws per image inside ``limits`` (Engstrom et al. 2019's random and worst-of-k).

    ``limits`` maps an axis to a number ``L`` (``[-L, L]``; for scale ``[1 - L, 1 + L]``) or
    a pair ``[low, high]``. The draws use the ``seed`` given to ``evaluate``.
    """

    k: int = 10
    limits: dict[str, Any] = field(default_factory=lambda: {"dx": 3, "dy": 3, "angle": 30})

    def __post_init__(self):
        if isinstance(self.k, bool) or not isinstance(self.k, (int, np.integer)):
            raise SpecError("k", "must be an integer", self.k)
        in_range("k", self.k, 1, 10_000)
        parse_limits(self.limits, field="limits")

    def bounds(self) -> np.ndarray:
        """float64 (4, 2): low and high per axis dx, dy, angle, scale."""
        return parse_limits(self.limits, field="limits")

    def points(self, n_images: int, seed: int) -> np.ndarray:
        """float64 (n_images, k, 4), drawn with ``invariance.seeding.make_rng(seed)``."""
        return random_points(make_rng(seed), n_images, self.k, self.bounds())


@dataclass(frozen=True)
class WalkSpec:
    """A 1-px diagonal walk of ``steps`` steps from the untransformed image (Azulay & Weiss 2019)."""

    steps: int = 8

    def __post_init__(self):
        if isinstance(self.steps, bool) or not isinstance(self.steps, (int, np.integer)):
            raise SpecError("steps", "must be an integer", self.steps)
        in_range("steps", self.steps, 1, 10_000)

    def points(self) -> np.ndarray:
        """float64 (steps + 1, 4): shifts (0, 0), (1, 1), ..."""
        return diagonal_walk(self.steps)


SWEEP_KEYS = ("values", "fill")
"""The keys of a sweep written as a mapping: ``{angle: {values: '0:345:15', fill: constant}}``."""


def resolve_sweeps(obj: Any, *, field: str = "sweeps") -> tuple[Sweep, ...]:
    """Sweeps from ``None``, ``{axis: values}``, ``{axis: {values, fill}}``, a :class:`Sweep`
    or a list of them."""
    if obj is None:
        return ()
    if isinstance(obj, Sweep):
        return (obj,)
    if isinstance(obj, Mapping):
        out = []
        for axis, values in obj.items():
            sub = f"{field}.{axis}"
            check_axis_name(axis, field=sub)
            sweep_fill = None
            if isinstance(values, Mapping):
                if "values" not in values or set(values) - set(SWEEP_KEYS):
                    raise SpecError(sub, "must be values (e.g. '-8:8:1') or a mapping with 'values' and optionally "
                                         "'fill' (constant, wrap, reflect or nearest)", dict(values))
                if values.get("fill") is not None:
                    sweep_fill = check_fill(values["fill"], field=f"{sub}.fill")
                values = values["values"]
            out.append(Sweep(axis, tuple(parse_axis_values(axis, values, field=sub).tolist()), fill=sweep_fill))
        return tuple(out)
    if isinstance(obj, (list, tuple)) and all(isinstance(s, Sweep) for s in obj):
        axes = [s.axis for s in obj]
        if len(set(axes)) != len(axes):
            raise SpecError(field, "must name each axis at most once", axes)
        return tuple(obj)
    raise SpecError(field, "must be a mapping of axis (dx, dy, angle, scale) to values, e.g. {dx: '-8:8:1'}", obj)


def resolve_grids(obj: Any, *, field: str = "grids") -> tuple[Grid, ...]:
    """Grids from ``None``, ``{name: {axis: values}}``, a :class:`Grid` or a list of them."""
    if obj is None:
        return ()
    if isinstance(obj, Grid):
        obj = [obj]
    if isinstance(obj, Mapping):
        out = []
        for name, axes in obj.items():
            sub = f"{field}.{name}"
            _check_name(name, field=sub)
            if not isinstance(axes, Mapping) or not {a for a in axes if a != "fill"}:
                raise SpecError(sub, "must be a non-empty mapping of axis (dx, dy, angle, scale) to values, "
                                     "and optionally 'fill'", axes)
            grid_fill = check_fill(axes["fill"], field=f"{sub}.fill") if axes.get("fill") is not None else None
            resolved = tuple((check_axis_name(a, field=f"{sub}.{a}"),
                              tuple(parse_axis_values(a, v, field=f"{sub}.{a}").tolist()))
                             for a, v in axes.items() if a != "fill")
            grid = Grid(str(name), resolved, fill=grid_fill)
            grid.points()  # checks the total size now, not in the middle of a run
            out.append(grid)
        return tuple(out)
    if isinstance(obj, (list, tuple)) and all(isinstance(g, Grid) for g in obj):
        names = [g.name for g in obj]
        if len(set(names)) != len(names):
            raise SpecError(field, "grid names must be unique", names)
        return tuple(obj)
    raise SpecError(field, "must be a mapping of grid name to {axis: values}, "
                           "e.g. {translation_map: {dx: '-6:6:1', dy: '-6:6:1'}}", obj)


def resolve_shorthand(cls: type, obj: Any, *, key: str, field: str) -> Any:
    """``None``, the typed ``cls``, a mapping for it, or an int meaning ``{key: int}``.

    The one reading of the harness's int shorthands (``random_k: 10`` is ``{k: 10}``,
    ``walks: 8`` is ``{steps: 8}``).
    """
    if obj is None or isinstance(obj, cls):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, bool):
        obj = {key: int(obj)}
    return parse_spec(cls, obj, path=field)


def resolve_random_k(obj: Any, *, field: str = "random_k") -> RandomKSpec | None:
    """``None``, an int k (default limits), ``{k, limits}`` or a :class:`RandomKSpec`."""
    return resolve_shorthand(RandomKSpec, obj, key="k", field=field)


def random_k_count(obj: Any, *, field: str = "random_k") -> int | None:
    """The draws per image ``k`` of a random-k entry in any form :func:`resolve_random_k` takes.

    ``10`` and ``{k: 10, limits: ...}`` give 10, ``{limits: ...}`` the default k, ``None`` None.
    For readers of a study's ``evaluate:`` section (figure labels, findings).
    """
    spec = resolve_random_k(obj, field=field)
    return None if spec is None else int(spec.k)


def resolve_walk(obj: Any, *, field: str = "walks") -> WalkSpec | None:
    """``None``, an int (steps), ``{steps}`` or a :class:`WalkSpec`."""
    return resolve_shorthand(WalkSpec, obj, key="steps", field=field)


def resolve_metrics(obj: Any, *, field: str = "metrics") -> tuple[str, ...]:
    """Point metrics by name, from a list or a comma-separated string; order kept, no repeats."""
    if isinstance(obj, str):
        obj = [m.strip() for m in obj.split(",") if m.strip()]
    if not isinstance(obj, (list, tuple)) or not obj:
        raise SpecError(field, "must be a non-empty list of " + ", ".join(POINT_METRICS), obj)
    out: list[str] = []
    for i, name in enumerate(obj):
        if name not in POINT_METRICS:
            raise SpecError(f"{field}[{i}]", "must be one of " + ", ".join(repr(m) for m in POINT_METRICS), name)
        if name not in out:
            out.append(name)
    return tuple(out)


def _check_name(name: Any, *, field: str) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise SpecError(field, "a grid name must be an identifier (letters, digits, _ or -)", name)
    if name in RESERVED_NAMES:
        raise SpecError(field, "a grid name must not be one of " + ", ".join(repr(r) for r in RESERVED_NAMES), name)


@dataclass(frozen=True)
class EvaluationSpec:
    """Everything the harness measures for one model: a study's ``evaluate:`` section.

    ``samples`` is the number of test images (the first in the fixed stratified order; None:
    all). The other fields are the keyword arguments of :func:`invariance.harness.evaluate`;
    ``random_k`` may be an int k (default limits) and ``walks`` an int (the steps).

    ``sweeps`` and ``grids`` keep the form the user wrote (so the spec writes back as
    written); they are parsed once, here, into ``resolved_sweeps`` and ``resolved_grids``,
    which :meth:`evaluate_kwargs` passes on. ``random_k``, ``walks``, ``shift_pairs`` and
    ``metrics`` are replaced by their typed forms.
    """

    samples: int | None = None
    sweeps: dict[str, Any] = field(default_factory=dict)
    grids: dict[str, dict[str, Any]] = field(default_factory=dict)
    random_k: Any = None  # int k | {k, limits} | RandomKSpec | None, resolved to RandomKSpec | None
    walks: Any = None  # int steps | {steps} | WalkSpec | None, resolved to WalkSpec | None
    metrics: tuple[str, ...] = ("accuracy", "consistency", "kl")
    fill: str = "constant"
    interpolation: str = "bilinear"
    batch_size: int = 512
    embedding_layer: str | None = None
    equivariance: bool = False
    seed: int = 0
    shift_pairs: Any = None  # int max_shift | {max_shift, pairs, fill} | ShiftPairsSpec | None
    resolved_sweeps: tuple[Sweep, ...] = field(default=(), init=False, repr=False, compare=False)
    resolved_grids: tuple[Grid, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.samples is not None:
            in_range("samples", self.samples, 1)
        object.__setattr__(self, "resolved_sweeps", resolve_sweeps(self.sweeps or None, field="sweeps"))
        object.__setattr__(self, "resolved_grids", resolve_grids(self.grids or None, field="grids"))
        object.__setattr__(self, "random_k", resolve_random_k(self.random_k, field="random_k"))
        object.__setattr__(self, "walks", resolve_walk(self.walks, field="walks"))
        object.__setattr__(self, "shift_pairs", resolve_shift_pairs(self.shift_pairs, field="shift_pairs"))
        object.__setattr__(self, "metrics", resolve_metrics(self.metrics))
        check_fill(self.fill)
        check_interpolation(self.interpolation)
        in_range("batch_size", self.batch_size, 1)

    def evaluate_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`invariance.harness.evaluate` (all but ``samples``)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init and f.name != "samples"}
        out["sweeps"] = self.resolved_sweeps or None
        out["grids"] = self.resolved_grids or None
        return out
