"""The model registry: families (spec class + builder), the named presets, and spec resolution.

A *family* is a spec dataclass plus a builder, registered with :func:`register_model`.
A *preset* is a named spec; all presets live in :data:`PRESETS` below. Users write a model
as a preset name, a preset with overrides, a family with parameters, or a spec object, and
:func:`resolve_model_spec` turns any of them into a typed spec (timm's ``create_model`` idea,
with typed configs instead of keyword soup).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import keras

from invariance.config import parse_spec, to_dict
from invariance.errors import SpecError
from invariance.models._common import check_input_shape, check_num_classes, check_seed
from invariance.models.specs import CNNSpec, GCNNSpec, MLPSpec, ModelSpec, ViTSpec, overridden_fields

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
        return builder

    return decorate


def _preset(name: str, spec: ModelSpec) -> ModelSpec:
    return dataclasses.replace(spec, preset=name)


# The one place where named presets are defined. Each is small enough to train in seconds on
# a CPU on the bundled data; the descriptions appear in `invariance models`.
PRESETS: dict[str, ModelSpec] = {
    # The lecture's pair: the same two-block CNN with and without 2x2 max pooling. Without
    # pooling the flatten head sees 28x28x64 features, so it holds ~15x the parameters.
    "cnn_pool": CNNSpec(depth=2, channels=32, channel_multiplier=2.0, kernel_size=3, padding="same",
                        activation="relu", pooling="max", pool_size=2, head="flatten",
                        dense_units=128, dropout=0.25),
    "cnn_nopool": CNNSpec(depth=2, channels=32, channel_multiplier=2.0, kernel_size=3, padding="same",
                          activation="relu", pooling="none", pool_size=2, head="flatten",
                          dense_units=128, dropout=0.25),
    # LeCun et al. 1998: 5x5 valid convolutions, average pooling, tanh after pooling.
    "lenet5": CNNSpec(depth=2, channels=(6, 16), kernel_size=5, padding="valid", activation="tanh",
                      order="conv_pool_act", pooling="avg", pool_size=2, head="flatten",
                      dense_units=(120, 84)),
    # Springenberg et al. 2015: no pooling; each block ends in a stride-2 convolution; GAP head.
    "allconv": CNNSpec(depth=3, channels=32, channel_multiplier=2.0, convs_per_block=2, stride=2,
                       pooling="none", head="gap", dense_units=0),
    # Simonyan & Zisserman 2015, shrunk: blocks of two 3x3 convolutions, then max pooling.
    "vgg_tiny": CNNSpec(depth=3, channels=32, channel_multiplier=2.0, convs_per_block=2,
                        pooling="max", head="flatten", dense_units=128, dropout=0.3),
    # He et al. 2016, shrunk: residual blocks with batch norm, strided downsampling, GAP head.
    "resnet_tiny": CNNSpec(depth=3, channels=16, channel_multiplier=2.0, convs_per_block=2, stride=2,
                           batch_norm=True, residual=True, pooling="none", head="gap", dense_units=0),
    # Chaman & Dokmanic 2021: cnn_pool with circular padding, a stride-1 max then adaptive
    # polyphase sampling, and a GAP head: exactly invariant to circular shifts.
    "cnn_aps": CNNSpec(depth=2, channels=32, channel_multiplier=2.0, kernel_size=3, padding="circular",
                       activation="relu", pooling="aps", pool_size=2, head="gap",
                       dense_units=128, dropout=0.25),
    # Cohen & Welling 2016: the p4 twin of cnn_pool[head=gap] with half the channels (16, 32 group
    # channels), so the convolutions hold the same parameters and cost 4x the MACs.
    "p4cnn": GCNNSpec(depth=2, channels=16, channel_multiplier=2.0, kernel_size=3, padding="same",
                      pooling="max", pool_size=2, group_pool="max", head="gap", dense_units=128,
                      dropout=0.25),
    "mlp": MLPSpec(hidden=(256, 128), dropout=0.2),
    # Dosovitskiy et al. 2021, shrunk: 4x4 patches divide 28, 32 and 36.
    "vit_tiny": ViTSpec(patch_size=4, width=64, depth=3, heads=4, mlp_ratio=2.0, pool="cls"),
}
for _name, _spec in PRESETS.items():
    PRESETS[_name] = _preset(_name, _spec)
del _name, _spec

DESCRIPTIONS: dict[str, str] = {
    "cnn_pool": "two conv blocks (32, 64) with 2x2 max pooling, flatten + dense 128",
    "cnn_nopool": "cnn_pool without pooling: a huge flatten head",
    "lenet5": "LeNet-5: 5x5 valid convs, avg pooling, tanh, dense 120-84",
    "allconv": "all-convolutional: stride-2 convs instead of pooling, GAP head",
    "vgg_tiny": "VGG-style: 3 blocks of two 3x3 convs + max pooling",
    "resnet_tiny": "ResNet-style: 3 residual blocks with batch norm, GAP head",
    "cnn_aps": "cnn_pool with circular padding, APS pooling and a GAP head: exact circular-shift invariance",
    "p4cnn": "p4 group CNN (16, 32 group channels), 2x2 max pooling, GAP head: exact quarter-turn invariance",
    "mlp": "multilayer perceptron, hidden 256-128, no convolutions",
    "vit_tiny": "Vision Transformer: 4x4 patches, width 64, 3 blocks, 4 heads",
}


def register_preset(name: str, spec: ModelSpec, *, description: str = "") -> ModelSpec:
    """Adds a named preset (for user extensions; the zoo's own presets are in PRESETS).

    Returns:
        The stored spec, with ``preset`` set to ``name``.
    """
    spec = _preset(name, resolve_model_spec(spec, path=name))
    PRESETS[name] = spec
    DESCRIPTIONS[name] = description
    return spec


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
    if any(isinstance(obj, f.spec_cls) for f in FAMILIES.values()):
        return obj
    if isinstance(obj, str):
        if obj in PRESETS:
            return PRESETS[obj]
        if obj in FAMILIES:
            return FAMILIES[obj].spec_cls()
        raise SpecError(path, f"must be a preset ({_names(PRESETS)}) or a family ({_names(FAMILIES)})", obj)
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
                        f"(one of {_names(FAMILIES)})", obj)
    family = data["family"]
    if family not in FAMILIES:
        raise SpecError(_join(path, "family"), f"must be one of {_names(FAMILIES)}", family)
    return parse_spec(FAMILIES[family].spec_cls, data, path=path)


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


def family_of(spec: ModelSpec) -> Family:
    """The registered family that builds ``spec``."""
    return FAMILIES[spec.family]


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
