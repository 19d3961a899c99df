"""The ``gcnn`` family: p4 group-equivariant CNNs, exactly invariant to quarter turns.

Layers are named like the ``cnn`` family's so that analyses find them: ``block{b}_conv{j}``
(``block1_conv1`` is the lifting convolution, whose kernel is an ordinary (k, k, Cin, C)
filter bank), ``block{b}_bn{j}``, ``block{b}_act{j}``, ``block{b}_pool``, then
``group_pooling``, ``gap``/``gmp`` (or ``embedding``), ``head_dense{i}``, ``embedding``,
``head_dropout`` and ``logits``.
"""
from __future__ import annotations

import keras

from invariance.errors import SpecError
from invariance.models._common import SeedStream, classifier_head, shape_text
from invariance.models.group import P4BatchNormalization, P4Conv2D, P4Lift2D, P4Pool
from invariance.models.layers import CircularPad2D
from invariance.models.registry import register_model
from invariance.models.specs import GCNNSpec


def gcnn_feature_sizes(spec: GCNNSpec, input_shape: tuple[int, int, int]) -> list[tuple[int, int]]:
    """Spatial size after each block, checking that every conv and pool fits and that each
    pool tiles its map symmetrically (else quarter turns would not commute with it).

    Raises:
        SpecError: naming the field to change, the map size and the rule.
    """
    h, w = input_shape[:2]
    size = h
    sizes = []
    for block in range(1, spec.depth + 1):
        where = f"block {block} of the {shape_text(input_shape)} input"
        for _ in range(spec.convs_per_block):
            if spec.padding == "valid":
                size = size - spec.kernel_size + 1
                if size < 1:
                    raise _too_small(spec, block, "kernel_size", f"{where} is too small for a valid "
                                     f"{spec.kernel_size}x{spec.kernel_size} convolution")
            elif spec.padding == "circular" and spec.kernel_size // 2 > size:
                raise _too_small(spec, block, "kernel_size", f"{where}: the wrap needs kernel_size // 2 "
                                 f"<= {size}")
        if spec.pooling != "none":
            p, s = spec.pool_size, spec.effective_pool_stride
            if size < p:
                raise _too_small(spec, block, "pool_size", f"{where} gives a {size}x{size} map, smaller "
                                 f"than pool_size {p}")
            if (size - p) % s:
                raise _too_small(spec, block, "pool_size", f"must tile the {size}x{size} map of {where} "
                                 f"symmetrically for exact quarter turns: (size - pool_size) % stride == 0 "
                                 f"fails for size {size}, pool_size {p}, stride {s}")
            size = (size - p) // s + 1
        sizes.append((size, size))
    return sizes


def _too_small(spec: GCNNSpec, block: int, field: str, detail: str) -> SpecError:
    if block == 1:
        return SpecError(field, detail, getattr(spec, field))
    return SpecError("depth", f"is too deep: {detail}; at most depth {block - 1} fits", spec.depth)


@register_model("gcnn", spec=GCNNSpec)
def build_gcnn(spec: GCNNSpec, input_shape, num_classes: int, *, seed: int | None = None) -> keras.Model:
    """Builds a p4 group CNN classifier.

    Returns:
        A functional keras.Model mapping (N, H, W, C) float32 images in [0, 1] to logits
        (N, num_classes), exactly invariant to quarter turns of square inputs.
    """
    if input_shape[0] != input_shape[1]:
        raise SpecError("input_shape", "must be square for a p4 CNN (quarter turns map the image onto "
                        "itself only then)", shape_text(input_shape))
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
