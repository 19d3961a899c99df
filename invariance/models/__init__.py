"""The model zoo: typed specs, named presets, builders, cost, and ``.keras`` save/load.

The specs, the presets and spec resolution (:mod:`~invariance.models.resolve`) load without
keras (the command line lists the presets in its help, and validates a study before keras
loads); the zoo proper (keras, the builders of every family, the custom layers) loads on the
first use of any other name here. The custom layers register with keras whenever keras loads
after ``import invariance``, so ``keras.saving.load_model`` (``safe_mode=True``) reads any
zoo model back.

Typical use::

    model = build_model("cnn_pool", (28, 28, 1), 10, seed=0)
    model = build_model({"preset": "cnn_pool", "depth": 3}, (28, 28, 1), 10)
    model_label({"preset": "cnn_pool", "pooling": "blur"})   # 'cnn_pool[pooling=blur]'
    model_cost(model)                                          # {'params': ..., 'macs': ...}
"""
from __future__ import annotations

import importlib

from invariance.models.presets import DESCRIPTIONS, PRESETS
from invariance.models.resolve import model_label, resolve_model_spec
from invariance.models.specs import CNNSpec, GCNNSpec, MLPSpec, ModelSpec, ViTSpec

# public name -> the module of the zoo that defines it
_ZOO_NAMES = {
    "build_model": "registry", "create_model": "registry", "register_model": "registry", "register_preset": "registry",
    "FAMILIES": "registry", "model_cost": "cost", "register_cost": "cost", "load_model": "io",
    "save_model": "io", "BlurPool2D": "layers", "CircularPad2D": "layers", "ClassToken": "layers",
    "PositionEmbedding": "layers", "TokenPooling": "layers", "APSPool2D": "aps", "P4Lift2D": "group",
    "P4Conv2D": "group", "P4Pool": "group", "P4BatchNormalization": "group",
}
# Loaded together: the families register themselves with the registry on import.
_ZOO_MODULES = ("layers", "aps", "group", "registry", "cnn", "gcnn", "mlp", "vit", "cost", "io")

__all__ = ["CNNSpec", "DESCRIPTIONS", "GCNNSpec", "MLPSpec", "ModelSpec", "PRESETS", "ViTSpec", "model_label",
           "resolve_model_spec", *_ZOO_NAMES]


def __getattr__(name: str):
    if name not in _ZOO_NAMES and name not in _ZOO_MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    for module in _ZOO_MODULES:
        importlib.import_module(f"{__name__}.{module}")
    if name in _ZOO_MODULES:
        return importlib.import_module(f"{__name__}.{name}")
    value = getattr(importlib.import_module(f"{__name__}.{_ZOO_NAMES[name]}"), name)
    globals()[name] = value
    return value
