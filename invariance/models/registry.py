"""The model registry: families (spec class + builder), user presets, and building a model.

A *family* is a spec dataclass plus a builder, registered with :func:`register_model`.
A *preset* is a named spec; all presets live in :data:`invariance.models.presets.PRESETS`.
Users write a model as a preset name, a preset with overrides, a family with parameters, or a
spec object; :func:`~invariance.models.resolve.resolve_model_spec` (keras-free) turns any of
them into a typed spec and :func:`build_model` builds it (timm's ``create_model`` idea, with
typed configs instead of keyword soup).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

import keras

from invariance.errors import SpecError
from invariance.models._common import check_input_shape, check_num_classes, check_seed
from invariance.models.presets import DESCRIPTIONS, PRESETS, named
from invariance.models.resolve import model_label, register_spec, resolve_model_spec
from invariance.models.specs import ModelSpec

Builder = Callable[..., Any]  # (spec, input_shape, num_classes, *, seed) -> keras.Model


@dataclass(frozen=True)
class Family:
    """A registered model family: its spec class and the function that builds it."""

    name: str
    spec_cls: type
    builder: Builder


FAMILIES: dict[str, Family] = {}


def register_model(family: str, *, spec: type) -> Callable[[Builder], Builder]:
    """Registers ``builder(spec, input_shape, num_classes, *, seed) -> keras.Model``.

    Args:
        family: The name written as ``family:`` in a model spec, e.g. ``"cnn"``.
        spec: The spec dataclass of the family; it must have a ``family`` field defaulting
            to ``family`` and a ``preset`` field.

    Returns:
        A decorator that registers the builder and returns it unchanged.
    """
    names = {f.name: f for f in dataclasses.fields(spec)}
    if "preset" not in names or names.get("family") is None or names["family"].default != family:
        raise TypeError(f"{spec.__name__} needs fields family (default {family!r}) and preset")

    def decorate(builder: Builder) -> Builder:
        FAMILIES[family] = Family(family, spec, builder)
        register_spec(family, spec)
        return builder

    return decorate


def register_preset(name: str, spec: ModelSpec, *, description: str = "") -> ModelSpec:
    """Adds a named preset (for user extensions; the zoo's own presets are in PRESETS).

    Returns:
        The stored spec, with ``preset`` set to ``name``.
    """
    spec = named(name, resolve_model_spec(spec, path=name))
    PRESETS[name] = spec
    DESCRIPTIONS[name] = description
    return spec


def build_model(spec: Any, input_shape, num_classes: int, *, seed: int | None = None,
                path: str = "model") -> keras.Model:
    """Builds a classifier that outputs logits.

    Args:
        spec: Any form accepted by :func:`resolve_model_spec`.
        input_shape: (H, W, C) of the images, which enter as float32 in [0, 1].
        num_classes: Number of classes, >= 2.
        seed: Seed of the initial weights (and dropout masks); the same seed gives the same
            weights. None draws fresh random weights.
        path: Where ``spec`` sits in a larger document, for error messages.

    Returns:
        A functional keras.Model, (N, H, W, C) -> logits (N, num_classes). Its final Dense
        is named ``logits`` and its penultimate representation ``embedding``.

    Raises:
        SpecError: for a bad spec, or one that does not fit the input (e.g. a kernel larger
            than the image, or more pools than the image can take).
    """
    spec = resolve_model_spec(spec, path=path)
    input_shape = check_input_shape(input_shape)
    num_classes = check_num_classes(num_classes)
    seed = check_seed(seed)
    try:
        return family_of(spec).builder(spec, input_shape, num_classes, seed=seed)
    except SpecError as err:
        raise err.prefixed(path) from None


def create_model(name: str, *, input_shape=(28, 28, 1), num_classes: int = 10, seed: int | None = None,
                 **overrides) -> keras.Model:
    """Builds a preset with keyword overrides, e.g. ``create_model("cnn_pool", depth=3)``.

    Returns:
        A keras.Model that outputs logits, as :func:`build_model`.
    """
    return build_model({"preset": name, **overrides}, input_shape, num_classes, seed=seed)


def family_of(spec: ModelSpec) -> Family:
    """The registered family that builds ``spec``."""
    return FAMILIES[spec.family]
