"""The ``gcnn`` family: p4 group-equivariant CNNs, exactly invariant to quarter turns.

Layers are named like the ``cnn`` family's so that analyses find them: ``block{b}_conv{j}``
(``block1_conv1`` is the lifting convolution, whose kernel is an ordinary (k, k, Cin, C)
filter bank), ``block{b}_bn{j}``, ``block{b}_act{j}``, ``block{b}_pool``, then
``group_pooling``, ``gap``/``gmp`` (or ``embedding``), ``head_dense{i}``, ``embedding``,
``head_dropout`` and ``logits``.
"""
from __future__ import annotations

import keras

from invariance.models._common import SeedStream, classifier_head
from invariance.models.geometry import gcnn_feature_sizes
from invariance.models.group import P4BatchNormalization, P4Conv2D, P4Lift2D, P4Pool
from invariance.models.layers import CircularPad2D
from invariance.models.registry import register_model
from invariance.models.specs import GCNNSpec


@register_model("gcnn", spec=GCNNSpec)
def build_gcnn(spec: GCNNSpec, input_shape, num_classes: int, *, seed: int | None = None) -> keras.Model:
    """Builds a p4 group CNN classifier.

    Returns:
        A functional keras.Model mapping (N, H, W, C) float32 images in [0, 1] to logits
        (N, num_classes), exactly invariant to quarter turns of square inputs.
    """
    gcnn_feature_sizes(spec, input_shape)
    seeds = SeedStream(seed)
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for block, channels in enumerate(spec.block_channels, 1):
        for j in range(1, spec.convs_per_block + 1):
            lifting = block == 1 and j == 1
            x = _conv(x, spec, channels, f"block{block}_conv{j}", seeds, lifting=lifting)
            if spec.batch_norm:
                x = P4BatchNormalization(name=f"block{block}_bn{j}")(x)
            x = keras.layers.Activation(spec.activation, name=f"block{block}_act{j}")(x)
        if spec.pooling != "none":
            layer = keras.layers.MaxPooling2D if spec.pooling == "max" else keras.layers.AveragePooling2D
            x = layer(spec.pool_size, strides=spec.effective_pool_stride, padding="valid",
                      name=f"block{block}_pool")(x)
    x = P4Pool(spec.group_pool, name="group_pooling")(x)
    pool_name = "embedding" if not spec.dense_units else spec.head
    x = {"gap": keras.layers.GlobalAveragePooling2D,
         "gmp": keras.layers.GlobalMaxPooling2D}[spec.head](name=pool_name)(x)
    logits = classifier_head(x, hidden=spec.dense_units, activation=spec.activation,
                             batch_norm=spec.batch_norm, dropout=spec.dropout, num_classes=num_classes,
                             seeds=seeds, prefix="head_")
    return keras.Model(inputs, logits, name=spec.preset or spec.family)


def _conv(x, spec: GCNNSpec, channels: int, name: str, seeds: SeedStream, *, lifting: bool):
    k = spec.kernel_size
    if spec.padding == "circular" and k > 1:
        x = CircularPad2D(k // 2, name=f"{name}_pad")(x)
    layer = P4Lift2D if lifting else P4Conv2D
    return layer(channels, k, padding="same" if spec.padding == "same" else "valid",
                 use_bias=not spec.batch_norm, kernel_initializer=seeds.glorot(), name=name)(x)
