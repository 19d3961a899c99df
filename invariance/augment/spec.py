"""Augmentation specs: typed, validated up front, resolved from every accepted form.

Three kinds:

* ``none``;
* ``geometric``: random ranges for the shared transform point (dx, dy, angle, scale) of
  :mod:`invariance.transforms`, with a fill mode, an interpolation and the execution path;
* ``albumentations``: any list of albumentations transforms by class name and kwargs,
  checked against albumentations itself when the spec is built, so a typo fails before
  anything trains.

Range conventions (geometric; the *bounds* forms and the single-number rule of
:mod:`invariance.ranges`):

* ``shift: s`` means dx and dy each uniform in ``[-s, s]``; ``shift: [lo, hi]`` uses that
  range for both. Values are pixels, **except that a range whose largest magnitude is
  below 1 (for example ``shift: 0.1``) is a fraction of the image size**: dx of the width,
  dy of the height. So sub-pixel shift ranges cannot be asked for; nobody needs them.
* ``rotate: r`` means the angle is uniform in ``[-r, r]`` degrees (> 0 counter-clockwise);
  ``rotate: [lo, hi]`` as given.
* ``scale: s`` with ``0 <= s < 1`` means the factor is uniform in ``[1 - s, 1 + s]`` (the
  convention of Keras' ``RandomZoom`` factor and albumentations' ``scale_limit``);
  ``scale: [lo, hi]`` as given (``0 < lo <= hi``).
* ``shift_mode: integer`` draws dx and dy uniformly from the *whole pixels* of the shift
  range (``shift: 4`` gives -4, -3, ..., 4, each with probability 1/9), as the random
  crops of a padded image do in Zhang (2019); ``continuous`` (the default) draws real
  values. A fractional shift range is resolved to pixels first, then to whole pixels.
* ``p`` is the probability that an image is transformed at all (default 1); the others
  pass unchanged, as albumentations' ``p`` and a random crop that may pick the centre.

A geometric spec whose ranges are all the identity resolves to ``none``. The other jobs
live beside this module: the albumentations catalogue in :mod:`~invariance.augment.catalog`,
the CLI string grammar in :mod:`~invariance.augment.text`, the labels in
:mod:`~invariance.augment.labels`.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

from invariance.augment.catalog import build_albumentations_transform
from invariance.augment.text import read_augment_string
from invariance.config import parse_spec, to_dict
from invariance.errors import SpecError, in_range
from invariance.ranges import parse_bounds
from invariance.transforms import check_fill, check_interpolation

PATHS = ("auto", "device", "albumentations")
KINDS = ("none", "geometric", "albumentations")
SHIFT_MODES = ("continuous", "integer")

@dataclass(frozen=True)
class GeometricSpec:
    """Random ranges for the shared transform point; see the module docstring for units.

    After construction ``shift``, ``rotate`` and ``scale`` are always ``(lo, hi)`` tuples.
    """

    shift: float | tuple[float, float] = 0.0
    rotate: float | tuple[float, float] = 0.0
    scale: float | tuple[float, float] = 0.0
    fill: str = "constant"
    interpolation: str = "bilinear"
    path: Literal["auto", "device", "albumentations"] = "auto"
    shift_mode: Literal["continuous", "integer"] = "continuous"
    p: float = 1.0

    def __post_init__(self):
        shift = parse_bounds(self.shift, field="shift")
        rotate = parse_bounds(self.rotate, field="rotate")
        for v in rotate:
            in_range("rotate", v, -360.0, 360.0)
        scale = parse_bounds(self.scale, field="scale", scale=True)
        object.__setattr__(self, "shift", shift)
        object.__setattr__(self, "rotate", rotate)
        object.__setattr__(self, "scale", scale)
        check_fill(self.fill)
        check_interpolation(self.interpolation)
        in_range("p", self.p, 0.0, 1.0)
        if self.shift_mode not in SHIFT_MODES:
            raise SpecError("shift_mode", f"must be one of {', '.join(SHIFT_MODES)}", self.shift_mode)
        if self.shift_mode == "integer" and not self.shift_is_fraction and math.floor(shift[1]) < math.ceil(shift[0]):
            raise SpecError("shift", "holds no whole pixel, so shift_mode 'integer' cannot draw from it",
                            list(shift))

    @property
    def shift_is_fraction(self) -> bool:
        """True when ``shift`` is a fraction of the image size (its largest magnitude < 1)."""
        m = max(abs(v) for v in self.shift)
        return 0 < m < 1

    @property
    def is_identity(self) -> bool:
        """True when every sampled point would be the identity."""
        return self.p == 0 or (self.shift == (0.0, 0.0) and self.rotate == (0.0, 0.0)
                               and self.scale == (1.0, 1.0))


@dataclass(frozen=True)
class AlbumentationsTransform:
    """One albumentations transform: its class name and constructor kwargs."""

    name: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        build_albumentations_transform(self.name, self.kwargs)

    def build(self) -> Any:
        """A fresh albumentations transform instance (each worker thread needs its own)."""
        return build_albumentations_transform(self.name, self.kwargs)


@dataclass(frozen=True)
class AugmentationSpec:
    """What augmentation a training run uses.

    Attributes:
        kind: ``none``, ``geometric`` or ``albumentations``.
        geometric: The ranges, for kind ``geometric``.
        albumentations: The transform list, for kind ``albumentations``.
    """

    kind: Literal["none", "geometric", "albumentations"] = "none"
    geometric: GeometricSpec | None = None
    albumentations: tuple[AlbumentationsTransform, ...] = ()

    def __post_init__(self):
        if self.kind == "geometric" and self.geometric is None:
            raise SpecError("geometric", "is required when kind is 'geometric'", None)
        if self.kind != "geometric" and self.geometric is not None:
            raise SpecError("geometric", f"must be empty when kind is {self.kind!r}", to_dict(self.geometric))
        if self.kind == "albumentations" and not self.albumentations:
            raise SpecError("albumentations", "must list at least one transform when kind is 'albumentations'",
                            list(self.albumentations))
        if self.kind != "albumentations" and self.albumentations:
            raise SpecError("albumentations", f"must be empty when kind is {self.kind!r}",
                            [to_dict(t) for t in self.albumentations])

    @property
    def path(self) -> str | None:
        """The requested execution path (``auto`` unresolved), or None for ``none``."""
        if self.kind == "geometric":
            return self.geometric.path
        return "albumentations" if self.kind == "albumentations" else None


NONE = AugmentationSpec()

# The path ``auto`` takes on each backend, set from benchmarks/train_throughput.py
# (cnn_pool, fashion_mnist_mini, batch 128, 2-core CPU shared with other jobs; images/s of
# steady-state epochs relative to a bare model.fit in the same process):
#   tensorflow: device 0.93-0.97, albumentations 0.69-0.72 (CPU-time ratios 0.93 vs 0.67):
#               the device path costs ~5%, the albumentations workers compete with
#               TensorFlow for the two cores.
#   jax (CPU):  device 1.01, albumentations 1.05 in wall time (noise: training itself runs
#               ~6x slower than on TensorFlow, so either path hides), CPU-time 0.98 vs 0.91;
#               on a GPU the device path also avoids the host round trip per batch.
#   torch:      not measured (not installed); device for the same reason as on a GPU.
AUTO_PATH = {"tensorflow": "device", "jax": "device", "torch": "device"}


def execution_path(spec: Any, *, backend: str | None = None) -> str | None:
    """Where the augmentation runs: ``device``, ``albumentations``, or None for ``none``.

    ``auto`` picks the faster path on the backend (``AUTO_PATH``); an albumentations
    transform list always runs on the host.
    """
    spec = resolve_augmentation(spec)
    if spec.kind == "none":
        return None
    if spec.kind == "albumentations":
        return "albumentations"
    if spec.geometric.path != "auto":
        return spec.geometric.path
    if backend is None:
        from invariance.provenance import planned_backend

        backend = planned_backend()  # without loading keras: a --dry-run asks this too
    return AUTO_PATH.get(backend, "device")

_GEOMETRIC_KEYS = tuple(f.name for f in dataclasses.fields(GeometricSpec))
_TOP_KEYS = ("kind", "geometric", "albumentations")


def resolve_augmentation(obj: Any, *, path: str = "augmentation") -> AugmentationSpec:
    """Turns any accepted form into an :class:`AugmentationSpec`.

    Accepted forms: ``None``, ``"none"``, ``False``; a CLI string such as
    ``"geometric:shift=4,rotate=15,scale=0.9-1.1"``; a mapping of geometric ranges
    (``{shift: 4, rotate: 20, scale: [0.8, 1.2]}``); ``{geometric: {...}}``;
    ``{albumentations: [{HorizontalFlip: {p: 0.5}}, "Transpose", ...]}``; the
    ``to_dict`` form of a spec (with ``kind``); a :class:`GeometricSpec`; or a spec.

    Raises:
        SpecError: naming ``path`` plus the offending key, e.g.
            ``augmentation.albumentations[1].Affine``.
    """
    if isinstance(obj, AugmentationSpec):
        return obj
    if obj is None or obj is False or (isinstance(obj, str) and obj.strip().lower() == "none"):
        return NONE
    if isinstance(obj, GeometricSpec):
        return _geometric(obj)
    if isinstance(obj, str):
        return parse_augment_string(obj, path=path)
    if not isinstance(obj, Mapping):
        raise SpecError(path, "must be 'none', a mapping of geometric ranges (shift, rotate, scale, ...) "
                              "or {albumentations: [...]}", obj)
    unknown = [k for k in obj if k not in _GEOMETRIC_KEYS + _TOP_KEYS]
    if unknown:
        raise SpecError(f"{path}.{unknown[0]}", "is not a known key; allowed keys are "
                        + ", ".join(_GEOMETRIC_KEYS + _TOP_KEYS), obj[unknown[0]])
    top = [k for k in obj if k in _TOP_KEYS]
    geo = [k for k in obj if k in _GEOMETRIC_KEYS]
    if "kind" in obj:
        data = dict(obj)
        if data.get("albumentations") is not None:
            data["albumentations"] = _albu_items(data["albumentations"], path=f"{path}.albumentations")
        spec = parse_spec(AugmentationSpec, data, path=path)
        return NONE if spec.kind == "geometric" and spec.geometric.is_identity else spec
    if top and geo:
        raise SpecError(f"{path}.{top[0]}", f"cannot be combined with geometric keys ({', '.join(geo)}); "
                        "give either the ranges or one of geometric/albumentations", obj[top[0]])
    if len(top) > 1:
        raise SpecError(f"{path}.{top[1]}", f"cannot be combined with {top[0]}", obj[top[1]])
    if "albumentations" in obj:
        items = _albu_items(obj["albumentations"], path=f"{path}.albumentations")
        return parse_spec(AugmentationSpec, {"kind": "albumentations", "albumentations": items}, path=path)
    if "geometric" in obj:
        return _geometric(parse_spec(GeometricSpec, obj["geometric"] or {}, path=f"{path}.geometric"))
    return _geometric(parse_spec(GeometricSpec, obj, path=path))


def _geometric(g: GeometricSpec) -> AugmentationSpec:
    return NONE if g.is_identity else AugmentationSpec(kind="geometric", geometric=g)


def _albu_items(items: Any, *, path: str) -> list[dict[str, Any]]:
    """Normalises the user forms of the transform list to ``{name, kwargs}`` mappings."""
    if isinstance(items, (str, Mapping)) or not isinstance(items, (list, tuple)):
        raise SpecError(path, "must be a list of transforms, e.g. [{HorizontalFlip: {p: 0.5}}, "
                              "{Affine: {rotate: [-15, 15]}}]", items)
    out = []
    for i, item in enumerate(items):
        where = f"{path}[{i}]"
        if isinstance(item, AlbumentationsTransform):
            out.append(item)
        elif isinstance(item, str):
            out.append({"name": item, "kwargs": {}})
        elif isinstance(item, Mapping) and set(item) <= {"name", "kwargs"} and "name" in item:
            out.append(dict(item))
        elif isinstance(item, Mapping) and len(item) == 1:
            (name, kwargs), = item.items()
            if kwargs is None:
                kwargs = {}
            if not isinstance(kwargs, Mapping):
                raise SpecError(f"{where}.{name}", "must be a mapping of keyword arguments", kwargs)
            out.append({"name": name, "kwargs": dict(kwargs)})
        else:
            raise SpecError(where, "must be a transform name or {ClassName: {kwargs}}", item)
    return out


def parse_augment_string(text: str, *, path: str = "augmentation") -> AugmentationSpec:
    """The spec of a CLI string ``none`` or ``geometric:shift=4,rotate=15,scale=0.9-1.1``.

    The grammar is :mod:`invariance.augment.text`'s; the mapping it reads is resolved here.
    """
    return resolve_augmentation(read_augment_string(text, keys=_GEOMETRIC_KEYS, path=path), path=path)
