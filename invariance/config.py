"""Typed specs from plain dicts: the one parser behind every spec in the toolkit.

Specs are frozen dataclasses. ``parse_spec(cls, data)`` turns a dict (from YAML, JSON or
the CLI) into ``cls``, checking every key and type up front, so that a typo fails before
anything trains. Errors carry the full dotted path of the value, e.g. ``models[1].pooling``.

Supported field types: ``bool``, ``int``, ``float``, ``str``, ``Literal[...]``,
``X | None``, ``X | Y`` (tried in order), ``tuple[X, ...]``, ``tuple[X, Y]``,
``list[X]``, ``dict[str, X]``, ``Any`` and nested spec dataclasses.
Validation beyond types lives in each dataclass's ``__post_init__``, which raises
:class:`SpecError` with the bare field name; the parser adds the path.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Literal, Mapping, TypeVar, Union

from invariance.errors import SpecError

T = TypeVar("T")

_TYPE_NAMES = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}


def parse_spec(cls: type[T], data: Any, *, path: str = "") -> T:
    """Builds the dataclass ``cls`` from a mapping, validating every key.

    Args:
        cls: A dataclass type.
        data: A mapping of field names to values, or an instance of ``cls``.
        path: Dotted path of ``data`` within a larger document, for error messages.

    Returns:
        An instance of ``cls``.

    Raises:
        SpecError: If a key is unknown, a required key is missing, or a value has the
            wrong type or breaks a rule.
    """
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise SpecError(path, f"must be a mapping with keys {_keys(cls)}", data)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [k for k in data if k not in fields]
    if unknown:
        raise SpecError(_join(path, str(unknown[0])), f"is not a known key; allowed keys are {_keys(cls)}",
                        data[unknown[0]])
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, f in fields.items():
        if name in data:
            kwargs[name] = coerce(hints[name], data[name], path=_join(path, name))
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise SpecError(_join(path, name), "is required", None)
    try:
        return cls(**kwargs)
    except SpecError as err:
        raise err.prefixed(path) from None


def coerce(tp: Any, value: Any, *, path: str) -> Any:
    """Checks ``value`` against the type annotation ``tp``; returns it converted.

    Lists become tuples where ``tp`` is a tuple type, ints become floats where a float is
    wanted, and mappings become dataclasses. Nothing else is converted silently.
    """
    if tp is Any:
        return value
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return parse_spec(tp, value, path=path)
    if origin is Literal:
        if value not in args:
            raise SpecError(path, "must be one of " + ", ".join(repr(a) for a in args), value)
        return value
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in args:
            if option is type(None):
                continue
            try:
                return coerce(option, value, path=path)
            except SpecError as err:
                errors.append(err)
        if len(errors) == 1:
            raise errors[0]
        raise SpecError(path, "must be " + " or ".join(describe(a) for a in args if a is not type(None)), value)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise SpecError(path, f"must be {describe(tp)}", value)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(coerce(args[0], v, path=f"{path}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise SpecError(path, f"must be {describe(tp)}", value)
        return tuple(coerce(a, v, path=f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise SpecError(path, f"must be {describe(tp)}", value)
        return [coerce(args[0], v, path=f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise SpecError(path, f"must be {describe(tp)}", value)
        return {coerce(args[0], k, path=path): coerce(args[1], v, path=_join(path, str(k)))
                for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SpecError(path, "must be a number", value)
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise SpecError(path, "must be an integer", value)
        return value
    if tp in (bool, str):
        if not isinstance(value, tp):
            raise SpecError(path, f"must be {_TYPE_NAMES[tp]}", value)
        return value
    raise TypeError(f"unsupported annotation {tp!r} at {path}")  # a bug in a spec, not user input


def describe(tp: Any) -> str:
    """A short English name for a type annotation, for error messages."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp in _TYPE_NAMES:
        return _TYPE_NAMES[tp]
    if dataclasses.is_dataclass(tp):
        return f"a mapping with keys {_keys(tp)}"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {describe(args[0]).removeprefix('a ').removeprefix('an ')}s"
        return f"a list of {len(args)} items"
    if origin is list:
        return f"a list of {describe(args[0]).removeprefix('a ').removeprefix('an ')}s"
    if origin is dict:
        return "a mapping"
    if origin in (Union, types.UnionType):
        return " or ".join(describe(a) for a in args if a is not type(None))
    return getattr(tp, "__name__", str(tp))


def to_dict(spec: Any) -> Any:
    """The plain-data form of a spec (dicts, lists, scalars) that ``parse_spec`` reads back."""
    if dataclasses.is_dataclass(spec) and not isinstance(spec, type):
        return {f.name: to_dict(getattr(spec, f.name)) for f in dataclasses.fields(spec) if f.init}
    if isinstance(spec, (list, tuple)):
        return [to_dict(v) for v in spec]
    if isinstance(spec, Mapping):
        return {k: to_dict(v) for k, v in spec.items()}
    return spec


def set_dotted(data: dict, key: str, value: Any, *, option: str = "--set") -> None:
    """Sets ``data['a']['b'] = value`` for key ``a.b``, creating mappings on the way.

    What ``--set a.b=value`` does to a spec's dict before :func:`parse_spec` checks it.

    Raises:
        SpecError: naming ``option`` if a key on the way holds something other than a mapping.
    """
    parts = key.split(".")
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise SpecError(option, f"{'.'.join(parts[:i + 1])} is not a mapping, so {key} cannot be set", value)
        node = child
    node[parts[-1]] = value


def _keys(cls: type) -> str:
    return ", ".join(f.name for f in dataclasses.fields(cls) if f.init)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
