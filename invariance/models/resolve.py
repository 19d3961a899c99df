"""Model specs from what users write: preset names, overrides, families; and their labels.

Keras-free, so that a study file is validated, labelled and expanded (``--dry-run``, bad
input) without waiting for keras to load. :data:`SPEC_CLASSES` maps each family to its spec
dataclass; the builders register with :mod:`invariance.models.registry`, which adds a new
family's spec class here (:func:`register_spec`).
"""
from __future__ import annotations

from typing import Any, Mapping

from invariance.config import parse_spec, to_dict
from invariance.errors import SpecError
from invariance.models.presets import PRESETS
from invariance.models.specs import CNNSpec, GCNNSpec, MLPSpec, ModelSpec, ViTSpec, overridden_fields

SPEC_CLASSES: dict[str, type] = {cls.family: cls for cls in (CNNSpec, GCNNSpec, MLPSpec, ViTSpec)}
"""Family name -> its spec dataclass (the zoo's four, and any registered later)."""


def register_spec(family: str, spec: type) -> None:
    """Makes ``family`` resolvable to ``spec`` (called by :func:`invariance.models.register_model`)."""
    SPEC_CLASSES[family] = spec


def resolve_model_spec(obj: Any, *, path: str = "model") -> ModelSpec:
    """Turns any accepted form of a model into a typed spec.

    Args:
        obj: A preset name (``"cnn_pool"``), a family name (``"cnn"``, its defaults), a
            mapping with ``preset`` and overrides (``{preset: cnn_pool, depth: 3}``), a mapping
            with ``family`` and parameters (``{family: cnn, depth: 3}``), or a spec.
        path: Where ``obj`` sits in a larger document, for error messages.

    Returns:
        A spec dataclass (CNNSpec, MLPSpec, ViTSpec or a registered family's spec).

    Raises:
        SpecError: naming the path, the allowed values or keys, and the value received.
    """
    if any(isinstance(obj, cls) for cls in SPEC_CLASSES.values()):
        return obj
    if isinstance(obj, str):
        if obj in PRESETS:
            return PRESETS[obj]
        if obj in SPEC_CLASSES:
            return SPEC_CLASSES[obj]()
        raise SpecError(path, f"must be a preset ({_names(PRESETS)}) or a family ({_names(SPEC_CLASSES)})", obj)
    if not isinstance(obj, Mapping):
        raise SpecError(path, "must be a preset name, a mapping with 'preset' or 'family', or a model spec", obj)
    data = dict(obj)
    if "preset" in data and data["preset"] is not None:
        name = data.pop("preset")
        if name not in PRESETS:
            raise SpecError(_join(path, "preset"), f"must be one of {_names(PRESETS)}", name)
        base = PRESETS[name]
        family = data.pop("family", base.family)
        if family != base.family:
            raise SpecError(_join(path, "family"), f"must be {base.family!r} for preset {name!r} (or left out)",
                            family)
        return parse_spec(type(base), {**to_dict(base), **data}, path=path)
    if "family" not in data:
        raise SpecError(path, f"must have a 'preset' key (one of {_names(PRESETS)}) or a 'family' key "
                        f"(one of {_names(SPEC_CLASSES)})", obj)
    family = data["family"]
    if family not in SPEC_CLASSES:
        raise SpecError(_join(path, "family"), f"must be one of {_names(SPEC_CLASSES)}", family)
    return parse_spec(SPEC_CLASSES[family], data, path=path)


def model_label(spec: Any) -> str:
    """A short, deterministic name for a model spec.

    The preset's name when the spec is a preset unchanged (``"cnn_pool"``), else the preset
    or family name with the overridden fields in field order (``"cnn_pool[depth=3]"``,
    ``"cnn[pooling=blur]"``).
    """
    spec = resolve_model_spec(spec)
    if spec.preset in PRESETS and isinstance(PRESETS[spec.preset], type(spec)):
        name, base = spec.preset, PRESETS[spec.preset]
    else:
        name, base = spec.family, type(spec)()
    changed = overridden_fields(spec, base)
    if not changed:
        return name
    return f"{name}[{','.join(f'{k}={_short(v)}' for k, v in changed.items())}]"


def _short(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return "-".join(_short(v) for v in value) if value else "none"
    if isinstance(value, float):
        return f"{value:g}"
    if value is None:
        return "none"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _names(mapping) -> str:
    return ", ".join(repr(k) for k in mapping)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
