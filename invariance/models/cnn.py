"""The ``cnn`` family: plain, VGG-style, all-convolutional and residual convnets.

Layers are named predictably so that analyses can find them: ``block{b}_conv{j}``,
``block{b}_bn{j}``, ``block{b}_act{j}``, ``block{b}_pool``, ``block{b}_shortcut``,
``block{b}_add``, then ``flatten``/``gap``/``gmp`` (or ``embedding``), ``head_dense{i}``,
``embedding``, ``head_dropout`` and ``logits``.
"""
from __future__ import annotations

import keras

from invariance.errors import SpecError
from invariance.models.aps import APSPool2D
from invariance.models._common import BN_MOMENTUM, SeedStream, classifier_head, shape_text
from invariance.models.layers import BlurPool2D, CircularPad2D
from invariance.models.registry import register_model
from invariance.models.specs import CNNSpec


def feature_sizes(spec: CNNSpec, input_shape: tuple[int, int, int]) -> list[tuple[int, int]]:
    """Spatial size after each block, checking that every conv and pool fits.

    Args:
        spec: The CNN spec.
        input_shape: (H, W, C) of the images.

    Returns:
        A list of (height, width), one per block.

    Raises:
        SpecError: naming the field to change (kernel_size, pool_size, blur_kernel or depth),
            the input size and the largest depth that fits.
    """
    size = tuple(input_shape[:2])
    sizes = []
    for block in range(1, spec.depth + 1):
        for j in range(1, spec.convs_per_block + 1):
            stride = spec.stride if j == spec.convs_per_block else 1
            size = _step(spec, input_shape, block, size, "kernel_size",
                         lambda n: _conv_size(n, spec.kernel_size, stride, spec.padding))
        if spec.pooling != "none":
            size = _step(spec, input_shape, block, size, "pool_size", lambda n: _pool_size(spec, n))
        sizes.append(size)
    return sizes


def _step(spec, input_shape, block, size, field, fn):
    out = tuple(fn(n) for n in size)
    if all(n is not None and n >= 1 for n in out):
        return out
    where = (f"block {block} receives a {size[0]}x{size[1]} feature map from the "
             f"{shape_text(input_shape)} input")
    if field == "pool_size" and spec.pooling == "blur" and all(n >= spec.pool_size for n in size):
        field = "blur_kernel"  # the max fits, the reflect-padded blur does not
    detail = {"kernel_size": f"kernel_size {spec.kernel_size} with padding {spec.padding!r}",
              "pool_size": f"pool_size {spec.pool_size}",
              "blur_kernel": f"blur_kernel {spec.blur_kernel} (reflect padding)"}[field]
    if block == 1:
        raise SpecError(field, f"does not fit: {where}, too small for {detail}", getattr(spec, field))
    raise SpecError("depth", f"is too deep for a {shape_text(input_shape)} input: {where}, too small for "
                    f"{detail}; at most depth {block - 1} fits", spec.depth)


def _conv_size(n: int, k: int, s: int, padding: str) -> int | None:
    if padding == "same":
        return -(-n // s)
    if padding == "circular":
        return -(-n // s) if k // 2 <= n else None  # the wrap copies at most the whole axis
    if padding == "full":
        return (n + k - 2) // s + 1
    return (n - k) // s + 1 if n >= k else None


def _pool_size(spec: CNNSpec, n: int) -> int | None:
    p, s = spec.pool_size, spec.effective_pool_stride
    if n < p:
        return None
    if spec.pooling == "blur":
        dense = n - p + 1
        pad_after = spec.blur_kernel - 1 - (spec.blur_kernel - 1) // 2
        return -(-dense // s) if pad_after < dense else None  # reflect needs pad < size
    if spec.pooling.startswith("aps"):
        # Size-preserving max and blur (padded by k - 1 < n), then ceil(n / s) by APS.
        if "blur" in spec.pooling and spec.blur_kernel - 1 - (spec.blur_kernel - 1) // 2 >= n:
            return None
        return -(-n // s)
    return (n - p) // s + 1


@register_model("cnn", spec=CNNSpec)
def build_cnn(spec: CNNSpec, input_shape, num_classes: int, *, seed: int | None = None) -> keras.Model:
    """Builds a CNN classifier.

    Returns:
        A functional keras.Model mapping (N, H, W, C) float32 images in [0, 1] to logits
        of shape (N, num_classes).
    """
    feature_sizes(spec, input_shape)
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
