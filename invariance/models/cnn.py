"""The ``cnn`` family: plain, VGG-style, all-convolutional and residual convnets.

Layers are named predictably so that analyses can find them: ``block{b}_conv{j}``,
``block{b}_bn{j}``, ``block{b}_act{j}``, ``block{b}_pool``, ``block{b}_shortcut``,
``block{b}_add``, then ``flatten``/``gap``/``gmp`` (or ``embedding``), ``head_dense{i}``,
``embedding``, ``head_dropout`` and ``logits``.
"""
from __future__ import annotations

import keras

from invariance.models.aps import APSPool2D
from invariance.models._common import BN_MOMENTUM, SeedStream, classifier_head
from invariance.models.geometry import cnn_feature_sizes
from invariance.models.layers import BlurPool2D, CircularPad2D
from invariance.models.registry import register_model
from invariance.models.specs import CNNSpec


@register_model("cnn", spec=CNNSpec)
def build_cnn(spec: CNNSpec, input_shape, num_classes: int, *, seed: int | None = None) -> keras.Model:
    """Builds a CNN classifier.

    Returns:
        A functional keras.Model mapping (N, H, W, C) float32 images in [0, 1] to logits
        of shape (N, num_classes).
    """
    cnn_feature_sizes(spec, input_shape)
    seeds = SeedStream(seed)
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    block_fn = _residual_block if spec.residual else _plain_block
    for block, channels in enumerate(spec.block_channels, 1):
        x = block_fn(x, spec, block, channels, seeds)
    pool_name = "embedding" if not spec.dense_units else spec.head
    x = {"flatten": keras.layers.Flatten,
         "gap": keras.layers.GlobalAveragePooling2D,
         "gmp": keras.layers.GlobalMaxPooling2D}[spec.head](name=pool_name)(x)
    logits = classifier_head(x, hidden=spec.dense_units, activation=spec.activation,
                             batch_norm=spec.batch_norm, dropout=spec.dropout, num_classes=num_classes,
                             seeds=seeds, prefix="head_")
    return keras.Model(inputs, logits, name=spec.preset or spec.family)


def _plain_block(x, spec: CNNSpec, block: int, channels: int, seeds: SeedStream):
    steps = spec.order.split("_")[1:]
    for j in range(1, spec.convs_per_block + 1):
        last = j == spec.convs_per_block
        x = _conv(x, spec, channels, spec.stride if last else 1, f"block{block}_conv{j}", seeds,
                  use_bias=not (spec.batch_norm and steps[0] == "bn"))
        for step in steps:
            if step == "bn" and spec.batch_norm:
                x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"block{block}_bn{j}")(x)
            elif step == "act":
                x = keras.layers.Activation(spec.activation, name=f"block{block}_act{j}")(x)
            elif step == "pool" and last:
                x = _pool(x, spec, f"block{block}_pool")
    return x


def _residual_block(x, spec: CNNSpec, block: int, channels: int, seeds: SeedStream):
    # Post-activation basic block (He et al. 2016): [conv-bn-act]*, conv-bn, add, act, pool.
    shortcut = x
    for j in range(1, spec.convs_per_block + 1):
        last = j == spec.convs_per_block
        x = _conv(x, spec, channels, spec.stride if last else 1, f"block{block}_conv{j}", seeds,
                  use_bias=not spec.batch_norm)
        if spec.batch_norm:
            x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"block{block}_bn{j}")(x)
        if not last:
            x = keras.layers.Activation(spec.activation, name=f"block{block}_act{j}")(x)
    if shortcut.shape[-1] != channels or spec.stride != 1:
        shortcut = keras.layers.Conv2D(channels, 1, strides=spec.stride, use_bias=not spec.batch_norm,
                                       kernel_initializer=seeds.glorot(), name=f"block{block}_shortcut")(shortcut)
        if spec.batch_norm:
            shortcut = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"block{block}_shortcut_bn")(shortcut)
    x = keras.layers.Add(name=f"block{block}_add")([x, shortcut])
    x = keras.layers.Activation(spec.activation, name=f"block{block}_act{spec.convs_per_block}")(x)
    return _pool(x, spec, f"block{block}_pool")


def _conv(x, spec: CNNSpec, channels: int, stride: int, name: str, seeds: SeedStream, *, use_bias: bool):
    k = spec.kernel_size
    padding = spec.padding
    if padding == "full" and k > 1:
        x = keras.layers.ZeroPadding2D(k - 1, name=f"{name}_pad")(x)
    elif padding == "circular" and k > 1:
        before = (k - 1) // 2
        x = CircularPad2D(((before, k - 1 - before),) * 2, name=f"{name}_pad")(x)
    conv_padding = "same" if padding == "same" else "valid"
    return keras.layers.Conv2D(channels, k, strides=stride, padding=conv_padding, use_bias=use_bias,
                               kernel_initializer=seeds.glorot(), name=name)(x)


def _pool(x, spec: CNNSpec, name: str):
    if spec.pooling == "none":
        return x
    size, stride = spec.pool_size, spec.effective_pool_stride
    if spec.pooling == "blur":
        return BlurPool2D(size, stride, spec.blur_kernel, name=name)(x)
    if spec.pooling.startswith("aps"):
        return APSPool2D(size, stride, spec.blur_kernel if "blur" in spec.pooling else 1,
                         norm="l1" if spec.pooling.endswith("_l1") else "l2",
                         padding="circular" if spec.padding == "circular" else "reflect", name=name)(x)
    layer = keras.layers.MaxPooling2D if spec.pooling == "max" else keras.layers.AveragePooling2D
    return layer(size, strides=stride, padding="valid", name=name)(x)
