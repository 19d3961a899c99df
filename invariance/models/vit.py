"""The ``vit`` family: a small Vision Transformer (Dosovitskiy et al. 2021), pre-norm.

Layers: ``patch_embedding`` (a strided Conv2D, so its kernels are the patch filters),
``tokens``, ``class_token``, ``position_embedding``, ``block{i}_norm1``,
``block{i}_attention``, ``block{i}_add1``, ``block{i}_norm2``, ``block{i}_mlp1``,
``block{i}_mlp2``, ``block{i}_add2``, ``final_norm``, ``embedding`` (the class token or the
token mean), ``head_dropout``, ``logits``.
"""
from __future__ import annotations

import keras

from invariance.models._common import SeedStream, classifier_head
from invariance.models.geometry import vit_patches
from invariance.models.layers import ClassToken, PositionEmbedding, TokenPooling
from invariance.models.registry import register_model
from invariance.models.specs import ViTSpec


@register_model("vit", spec=ViTSpec)
def build_vit(spec: ViTSpec, input_shape, num_classes: int, *, seed: int | None = None) -> keras.Model:
    """Builds a ViT classifier.

    Returns:
        A functional keras.Model mapping (N, H, W, C) float32 images in [0, 1] to logits
        of shape (N, num_classes).

    Raises:
        SpecError: if ``patch_size`` does not divide the input's height and width.
    """
    height, width, _ = input_shape
    p = spec.patch_size
    vit_patches(spec, input_shape)
    seeds = SeedStream(seed)
    dropout = spec.dropout
    inputs = keras.Input(shape=input_shape, name="image")
    x = keras.layers.Conv2D(spec.width, p, strides=p, padding="valid", kernel_initializer=seeds.glorot(),
                            name="patch_embedding")(inputs)
    x = keras.layers.Reshape(((height // p) * (width // p), spec.width), name="tokens")(x)
    if spec.pool == "cls":
        x = ClassToken(name="class_token")(x)
    x = PositionEmbedding(initializer=seeds.normal(0.02), name="position_embedding")(x)
    attentions = []
    for i in range(1, spec.depth + 1):
        y = keras.layers.LayerNormalization(epsilon=1e-6, name=f"block{i}_norm1")(x)
        attention = keras.layers.MultiHeadAttention(spec.heads, spec.width // spec.heads, dropout=dropout,
                                                    kernel_initializer=seeds.glorot(), seed=seeds(),
                                                    name=f"block{i}_attention")
        attentions.append(attention)
        y = attention(y, y)
        x = keras.layers.Add(name=f"block{i}_add1")([x, y])
        y = keras.layers.LayerNormalization(epsilon=1e-6, name=f"block{i}_norm2")(x)
        y = keras.layers.Dense(int(round(spec.width * spec.mlp_ratio)), activation="gelu",
                               kernel_initializer=seeds.glorot(), name=f"block{i}_mlp1")(y)
        if dropout:
            y = keras.layers.Dropout(dropout, seed=seeds(), name=f"block{i}_dropout")(y)
        y = keras.layers.Dense(spec.width, kernel_initializer=seeds.glorot(), name=f"block{i}_mlp2")(y)
        x = keras.layers.Add(name=f"block{i}_add2")([x, y])
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    x = TokenPooling(spec.pool, name="embedding")(x)
    logits = classifier_head(x, hidden=(), activation="linear", batch_norm=False, dropout=dropout,
                             num_classes=num_classes, seeds=seeds, prefix="head_")
    model = keras.Model(inputs, logits, name=spec.preset or spec.family)
    _reseed_attention(attentions, seeds)
    return model


def _reseed_attention(attentions, seeds: SeedStream) -> None:
    # MultiHeadAttention clones its one initializer for the query, key, value and output
    # projections, so a seeded initializer would give q, k and v identical starting weights.
    # Draw each projection from its own seed instead.
    if seeds() is None:
        return
    for attention in attentions:
        for dense in (attention.query_dense, attention.key_dense, attention.value_dense, attention.output_dense):
            dense.kernel.assign(seeds.glorot()(dense.kernel.shape))
