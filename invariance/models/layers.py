"""Custom Keras layers of the zoo, all serializable with ``safe_mode=True``.

Importing this module registers them (package ``invariance``), which is what
``keras.saving.load_model`` needs to read a zoo model back. Only ``keras.ops`` is used, so
the layers run on every Keras backend.
"""
from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

_register = keras.saving.register_keras_serializable(package="invariance")


def binomial_filter(size: int) -> np.ndarray:
    """The normalised 2-D binomial low-pass filter of Zhang (2019).

    Args:
        size: Filter side, 1 to 7 (3 -> [1, 2, 1], 4 -> [1, 3, 3, 1], 5 -> [1, 4, 6, 4, 1]).

    Returns:
        float32 array, shape (size, size), summing to 1.
    """
    row = np.array([math.comb(size - 1, k) for k in range(size)], dtype=np.float64)
    kernel = np.outer(row, row)
    return (kernel / kernel.sum()).astype(np.float32)


def _pair(value) -> tuple[int, int]:
    if isinstance(value, int):
        return (value, value)
    return tuple(int(v) for v in value)


@_register
class BlurPool2D(keras.layers.Layer):
    """Anti-aliased max pooling, "MaxBlurPool" (Zhang 2019, Making Convolutional Networks
    Shift-Invariant Again).

    Max pooling is split into its two parts: a dense max (window ``pool_size``, stride 1),
    which does not alias, then a fixed binomial low-pass filter applied per channel with
    stride ``strides``, so the subsampling sees a blurred signal. As in the paper's code the
    blurred map is reflect-padded by ``(filter_size - 1) / 2`` (floor before, ceil after).

    Args:
        pool_size: Window of the stride-1 max pool; 1 skips it (plain BlurPool).
        strides: Subsampling stride of the blur.
        filter_size: Side of the binomial filter, 1 to 7.

    Input shape: (N, H, W, C). Output shape: (N, ceil((H - pool_size + 1) / strides),
    ceil((W - pool_size + 1) / strides), C).
    """

    def __init__(self, pool_size=2, strides=2, filter_size=3, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = int(pool_size)
        self.strides = int(strides)
        self.filter_size = int(filter_size)
        if not 1 <= self.filter_size <= 7:
            raise ValueError(f"filter_size must be between 1 and 7; received {filter_size}")
        self._filter = binomial_filter(self.filter_size)

    def build(self, input_shape):
        self.channels = int(input_shape[-1])

    def call(self, inputs):
        x = inputs
        if self.pool_size > 1:
            x = ops.max_pool(x, self.pool_size, strides=1, padding="valid")
        before = (self.filter_size - 1) // 2
        after = self.filter_size - 1 - before
        if before or after:
            x = ops.pad(x, [[0, 0], [before, after], [before, after], [0, 0]], mode="reflect")
        kernel = np.tile(self._filter[:, :, None, None], (1, 1, self.channels, 1))
        kernel = ops.cast(ops.convert_to_tensor(kernel), x.dtype)
        return ops.depthwise_conv(x, kernel, strides=self.strides, padding="valid")

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape

        def out(size):
            if size is None:
                return None
            return -(-(size - self.pool_size + 1) // self.strides)

        return (n, out(h), out(w), c)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "filter_size": self.filter_size}


@_register
class CircularPad2D(keras.layers.Layer):
    """Wrap-around padding of height and width, as if the image were on a torus.

    A valid convolution after this padding is exactly equivariant to circular shifts.

    Args:
        padding: ``p``, ``(ph, pw)`` or ``((top, bottom), (left, right))``; each at most the
            size of the padded axis.

    Input shape: (N, H, W, C). Output shape: (N, H + top + bottom, W + left + right, C).
    """

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, int):
            padding = ((padding, padding), (padding, padding))
        elif all(isinstance(p, int) for p in padding):
            padding = (_pair(padding[0]), _pair(padding[1]))
        self.padding = tuple(_pair(p) for p in padding)

    def call(self, inputs):
        return circular_pad(inputs, self.padding)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        (t, b), (l, r) = self.padding
        return (n, None if h is None else h + t + b, None if w is None else w + l + r, c)

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding]}


def circular_pad(x, padding):
    """Wrap-around padding of NHWC ``x`` by ``((top, bottom), (left, right))``."""
    for axis, (before, after) in zip((1, 2), padding):
        parts = []
        if before:
            parts.append(_slice(x, axis, -before, None))
        parts.append(x)
        if after:
            parts.append(_slice(x, axis, None, after))
        if len(parts) > 1:
            x = ops.concatenate(parts, axis=axis)
    return x


def _slice(x, axis, start, stop):
    index = [slice(None)] * 4
    index[axis] = slice(start, stop)
    return x[tuple(index)]


@_register
class ClassToken(keras.layers.Layer):
    """Prepends one learned token to a sequence (the ViT's [class] token).

    Input shape: (N, T, D). Output shape: (N, T + 1, D).
    """

    def __init__(self, initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.initializer = keras.initializers.get(initializer)

    def build(self, input_shape):
        self.token = self.add_weight(shape=(1, 1, input_shape[-1]), initializer=self.initializer,
                                     name="token")

    def call(self, inputs):
        n = ops.shape(inputs)[0]
        token = ops.broadcast_to(ops.cast(self.token, inputs.dtype), (n, 1, ops.shape(inputs)[-1]))
        return ops.concatenate([token, inputs], axis=1)

    def compute_output_shape(self, input_shape):
        n, t, d = input_shape
        return (n, None if t is None else t + 1, d)

    def get_config(self):
        return {**super().get_config(), "initializer": keras.initializers.serialize(self.initializer)}


@_register
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned embedding per sequence position.

    Input shape: (N, T, D) with T fixed at build time. Output shape: (N, T, D).
    """

    def __init__(self, initializer="random_normal", **kwargs):
        super().__init__(**kwargs)
        self.initializer = keras.initializers.get(initializer)

    def build(self, input_shape):
        self.embedding = self.add_weight(shape=(1, input_shape[-2], input_shape[-1]),
                                         initializer=self.initializer, name="embedding")

    def call(self, inputs):
        return inputs + ops.cast(self.embedding, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "initializer": keras.initializers.serialize(self.initializer)}


@_register
class TokenPooling(keras.layers.Layer):
    """Reduces a token sequence to one vector: the first token (``cls``) or the mean (``gap``).

    Input shape: (N, T, D). Output shape: (N, D).
    """

    def __init__(self, mode="cls", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("cls", "gap"):
            raise ValueError(f"mode must be 'cls' or 'gap'; received {mode!r}")
        self.mode = mode

    def call(self, inputs):
        if self.mode == "cls":
            return inputs[:, 0, :]
        return ops.mean(inputs, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


CUSTOM_LAYERS = (BlurPool2D, CircularPad2D, ClassToken, PositionEmbedding, TokenPooling)
