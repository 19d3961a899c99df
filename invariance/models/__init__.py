"""The model zoo: typed specs, named presets, builders, cost, and ``.keras`` save/load.

Importing this package registers the custom layers, so ``keras.saving.load_model`` (with
``safe_mode=True``) can read any zoo model back.

Typical use::

    model = build_model("cnn_pool", (28, 28, 1), 10, seed=0)
    model = build_model({"preset": "cnn_pool", "depth": 3}, (28, 28, 1), 10)
    model_label({"preset": "cnn_pool", "pooling": "blur"})   # 'cnn_pool[pooling=blur]'
    model_cost(model)                                          # {'params': ..., 'macs': ...}
"""
from __future__ import annotations

from invariance.models import layers  # noqa: F401  (registers custom layers on import)
from invariance.models.registry import (DESCRIPTIONS, FAMILIES, PRESETS, build_model, create_model,
                                        model_label, register_model, register_preset,
                                        resolve_model_spec)
from invariance.models import cnn, gcnn, mlp, vit  # noqa: F401,E402  (register the families)
from invariance.models.aps import APSPool2D
from invariance.models.group import P4BatchNormalization, P4Conv2D, P4Lift2D, P4Pool
from invariance.models.cost import model_cost, register_cost
from invariance.models.io import load_model, save_model
from invariance.models.layers import BlurPool2D, CircularPad2D, ClassToken, PositionEmbedding, TokenPooling
from invariance.models.specs import CNNSpec, GCNNSpec, MLPSpec, ModelSpec, ViTSpec

__all__ = [
    "build_model", "create_model", "resolve_model_spec", "model_label", "model_cost", "load_model",
    "save_model", "register_model", "register_preset", "register_cost", "PRESETS", "DESCRIPTIONS",
    "FAMILIES", "CNNSpec", "MLPSpec", "ViTSpec", "ModelSpec", "BlurPool2D", "CircularPad2D",
    "ClassToken", "PositionEmbedding", "TokenPooling", "GCNNSpec", "APSPool2D", "P4Lift2D", "P4Conv2D",
    "P4Pool", "P4BatchNormalization",
]
