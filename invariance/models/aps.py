"""Adaptive polyphase sampling (Chaman & Dokmanić 2021, Truly Shift-Invariant CNNs).

A stride-``s`` subsampling keeps one of the ``s * s`` polyphase components of a feature map,
``x[:, i::s, j::s, :]``; plain pooling always keeps ``(0, 0)``, so a one-pixel shift of the
input swaps which samples survive. APS keeps, per example, the component with the largest
norm (over height, width and channels). A circular shift of the input permutes the
components and circularly shifts each, so APS picks the same content and its output is a
circular shift of the unshifted output: with circular padding everywhere and a global
pooling head the whole network is exactly invariant to integer circular shifts.

Tie-break: among components of equal norm the first in row-major phase order wins,
``(0, 0), (0, 1), (1, 0), (1, 1)`` for ``s = 2`` (phase ``(i, j)`` = row offset ``i``,
column offset ``j``; index ``i * s + j``). The choice is explicit rather than left to a
backend's ``argmax``. It keeps exact invariance whenever the tied components hold the same
content up to a circular shift (constant maps, period-``s`` patterns), since then every
choice gives the same output up to a shift; a tie between components with different
content is settled by position, which a shift can change, but such exact ties do not occur
for real-valued features in practice.

Odd sizes: ``s`` does not divide the map, so no subsampling of it can be exactly
shift-consistent; as in the paper's code, the map is padded at the end (bottom, right) to a
multiple of ``s`` (circularly in circular mode). Exactness therefore needs every APS to see
sizes divisible by ``s``: 28 -> 14 -> 7 and 32 -> 16 -> 8 with two stages.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import ops

from invariance.models.layers import binomial_filter, circular_pad

_register = keras.saving.register_keras_serializable(package="invariance")

NORMS = ("l2", "l1")
PADDINGS = ("circular", "reflect")


def pad_end(x, before: int, after: int, mode: str):
    """Pads height and width of NHWC ``x`` by ``before``/``after``: ``circular`` or ``reflect``."""
    if not before and not after:
        return x
    if mode == "reflect":
        return ops.pad(x, [[0, 0], [before, after], [before, after], [0, 0]], mode="reflect")
    return circular_pad(x, ((before, after), (before, after)))


def polyphase_components(x, stride: int):
    """The ``stride**2`` polyphase components of NHWC ``x`` (H, W divisible by ``stride``).

    Returns:
        Tensor (N, stride**2, H / stride, W / stride, C); component ``i * stride + j`` is
        ``x[:, i::stride, j::stride, :]``.
    """
    s = stride
    h, w, c = x.shape[1], x.shape[2], x.shape[3]
    x = ops.reshape(x, (-1, h // s, s, w // s, s, c))
    x = ops.transpose(x, (0, 2, 4, 1, 3, 5))
    return ops.reshape(x, (-1, s * s, h // s, w // s, c))


def component_norms(components, norm: str = "l2"):
    """Per-example norm of each component, (N, K): sum of squares (``l2``; the square root
    changes no order) or of absolute values (``l1``), in float32."""
    c = ops.cast(components, "float32")
    values = ops.square(c) if norm == "l2" else ops.abs(c)
    return ops.sum(values, axis=(2, 3, 4))


def select_first_max(norms):
    """Index of the largest norm per row, the lowest index among equal maxima. (N, K) -> (N,)."""
    k = norms.shape[-1]
    is_max = ops.equal(norms, ops.max(norms, axis=-1, keepdims=True))
    positions = ops.arange(k, dtype="int32")[None, :]
    return ops.min(ops.where(is_max, positions, k), axis=-1)


def aps_downsample(x, *, stride: int = 2, norm: str = "l2", padding: str = "circular"):
    """APS of NHWC ``x``: (N, H, W, C) -> (N, ceil(H / s), ceil(W / s), C), plus the chosen
    component index per example (N,)."""
    extra_h, extra_w = -x.shape[1] % stride, -x.shape[2] % stride
    if extra_h or extra_w:
        if padding == "reflect":
            x = ops.pad(x, [[0, 0], [0, extra_h], [0, extra_w], [0, 0]], mode="reflect")
        else:
            x = circular_pad(x, ((0, extra_h), (0, extra_w)))
    components = polyphase_components(x, stride)
    index = select_first_max(component_norms(components, norm))
    # A gather of whole rows, not a one-hot product: exact, and NaN-free even for inf features.
    # Per-component `where` selects were as exact but made a TensorFlow CPU training step of
    # cnn_aps twice as slow as max pooling's; a row gather costs what max pooling does.
    rows = ops.reshape(components, (-1,) + tuple(components.shape[2:]))
    first = ops.arange(ops.shape(components)[0], dtype="int32") * (stride * stride)
    return ops.take(rows, first + index, axis=0), index


@_register
class APSPool2D(keras.layers.Layer):
    """Adaptive polyphase sampling after an optional dense max and low-pass filter.

    Like :class:`~invariance.models.layers.BlurPool2D`, max pooling is split into a dense max
    (window ``pool_size``, stride 1) and a subsampling; here the subsampling is APS, after an
    optional binomial blur (``filter_size`` > 1: the paper's APS + LPF). Both stride-1 steps
    keep the size, padding ``(k - 1) // 2`` before and the rest after, circularly (exactly
    equivariant to circular shifts) or by reflection.

    Args:
        pool_size: Window of the stride-1 max; 1 skips it (APS alone).
        strides: Subsampling factor ``s``; APS chooses among ``s * s`` components.
        filter_size: Side of the binomial low-pass filter, 1 (none) to 7.
        norm: ``l2`` (default) or ``l1``, the norm that ranks components.
        padding: ``circular`` or ``reflect``.

    Input shape: (N, H, W, C). Output shape: (N, ceil(H / s), ceil(W / s), C).
    """

    def __init__(self, pool_size=2, strides=2, filter_size=1, norm="l2", padding="circular", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = int(pool_size)
        self.strides = int(strides)
        self.filter_size = int(filter_size)
        if self.pool_size < 1 or self.strides < 1:
            raise ValueError(f"pool_size and strides must be >= 1; received {pool_size} and {strides}")
        if not 1 <= self.filter_size <= 7:
            raise ValueError(f"filter_size must be between 1 and 7; received {filter_size}")
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}; received {norm!r}")
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}; received {padding!r}")
        self.norm = norm
        self.padding = padding
        self._filter = binomial_filter(self.filter_size)

    def build(self, input_shape):
        self.channels = int(input_shape[-1])

    def call(self, inputs):
        return self.downsample(inputs)[0]

    def downsample(self, inputs):
        """The output and the chosen component index per example, (N,) int32."""
        x = inputs
        if self.pool_size > 1:
            before = (self.pool_size - 1) // 2
            x = pad_end(x, before, self.pool_size - 1 - before, self.padding)
            x = ops.max_pool(x, self.pool_size, strides=1, padding="valid")
        if self.filter_size > 1:
            before = (self.filter_size - 1) // 2
            x = pad_end(x, before, self.filter_size - 1 - before, self.padding)
            kernel = np.tile(self._filter[:, :, None, None], (1, 1, self.channels, 1))
            x = ops.depthwise_conv(x, ops.cast(ops.convert_to_tensor(kernel), x.dtype), strides=1,
                                   padding="valid")
        if self.strides == 1:
            return x, ops.zeros((ops.shape(x)[0],), "int32")
        return aps_downsample(x, stride=self.strides, norm=self.norm, padding=self.padding)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape

        def out(size):
            return None if size is None else -(-size // self.strides)

        return (n, out(h), out(w), c)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "filter_size": self.filter_size, "norm": self.norm, "padding": self.padding}
