"""p4 group convolutions (Cohen & Welling 2016, Group Equivariant Convolutional Networks).

p4 is the group of translations and quarter turns. A p4 feature map holds, for each of its
``C`` group channels, one plane per rotation ``r = 0..3``; it is stored as an ordinary NHWC
tensor with ``4 * C`` channels, channel ``4 * c + r`` (rotation fastest), so pointwise
layers and 2-D pooling apply unchanged.

Rotating the input image a quarter turn counter-clockwise (``np.rot90`` on the H, W axes,
the harness's +90 degrees) rotates every plane the same way and moves plane ``r`` to
``r + 1 (mod 4)``. Pooling over the rotation axis then a global spatial pooling removes both,
so the logits are exactly invariant to quarter turns. This holds as long as every spatial
step commutes with the quarter turn on square maps: odd kernels with symmetric padding
(``same``, ``valid`` or circular) and pooling windows that tile the map symmetrically.

Layers:

* :class:`P4Lift2D`: image (``Cin`` channels) -> p4 map; the filter at 0, 90, 180, 270 deg.
* :class:`P4Conv2D`: p4 map -> p4 map; for output rotation ``r`` the filter is turned by
  ``r`` quarter turns and its input-rotation axis cyclically shifted by ``r``.
* :class:`P4Pool`: p4 map -> plain map, max or mean over the 4 rotations.

Both convolutions apply their filter bank 4 times, so each costs 4x the MACs of a plain
convolution with the same kernel (:mod:`invariance.models.cost` counts them so).
"""
from __future__ import annotations

import keras
from keras import ops

from invariance.models._common import BN_MOMENTUM

_register = keras.saving.register_keras_serializable(package="invariance")

ROTATIONS = 4


def rot90(kernel, k: int):
    """Turns the first two (spatial) axes of ``kernel`` by ``k`` quarter turns, like ``np.rot90``."""
    k %= 4
    axes = list(range(len(kernel.shape)))
    axes[0], axes[1] = 1, 0
    for _ in range(k):
        kernel = ops.transpose(ops.flip(kernel, axis=1), axes)
    return kernel


def lifted_kernel(kernel):
    """(k, k, Cin, Cout) -> (k, k, Cin, 4 * Cout): output ``4 * o + r`` is the filter turned ``r`` times."""
    kh, kw, cin, cout = kernel.shape
    stacked = ops.stack([rot90(kernel, r) for r in range(ROTATIONS)], axis=-1)
    return ops.reshape(stacked, (kh, kw, cin, cout * ROTATIONS))


def group_kernel(kernel):
    """(k, k, 4 * Cin, Cout) -> (k, k, 4 * Cin, 4 * Cout), the p4 filter bank.

    With the stored kernel read as ``W[..., c, s, o]`` (input channel ``4 * c + s``), output
    rotation ``r`` uses ``W_r[..., c, s, o] = rot90(W[..., c, (s - r) % 4, o], r)``.
    """
    kh, kw, cin4, cout = kernel.shape
    cin = cin4 // ROTATIONS
    kernel = ops.reshape(kernel, (kh, kw, cin, ROTATIONS, cout))
    turned = [rot90(ops.roll(kernel, r, axis=3), r) for r in range(ROTATIONS)]
    stacked = ops.stack(turned, axis=-1)  # (k, k, Cin, 4, Cout, 4)
    return ops.reshape(stacked, (kh, kw, cin * ROTATIONS, cout * ROTATIONS))


class _P4ConvBase(keras.layers.Layer):
    """Shared parts: config, bias per group channel (shared by its 4 planes), the convolution."""

    def __init__(self, filters, kernel_size=3, padding="same", use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        if self.kernel_size % 2 == 0:
            # An even kernel has no centre pixel: 'same' pads it unevenly and breaks the symmetry.
            raise ValueError(f"kernel_size must be odd for exact rotation equivariance; received {kernel_size}")
        if padding not in ("same", "valid"):
            raise ValueError(f"padding must be 'same' or 'valid'; received {padding!r}")
        self.padding = padding
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def _kernel_shape(self, in_channels: int) -> tuple:
        raise NotImplementedError

    def _full_kernel(self):
        raise NotImplementedError

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=self._kernel_shape(int(input_shape[-1])),
                                      initializer=self.kernel_initializer, name="kernel")
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.filters,), initializer=self.bias_initializer, name="bias")

    def call(self, inputs):
        kernel = ops.cast(self._full_kernel(), inputs.dtype)
        out = ops.conv(inputs, kernel, strides=1, padding=self.padding)
        if self.use_bias:
            bias = ops.repeat(ops.cast(self.bias, inputs.dtype), ROTATIONS)
            out = out + bias
        return out

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape

        def out(size):
            if size is None or self.padding == "same":
                return size
            return size - self.kernel_size + 1

        return (n, out(h), out(w), self.filters * ROTATIONS)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "padding": self.padding, "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer)}


@_register
class P4Lift2D(_P4ConvBase):
    """Lifting convolution Z2 -> p4: one (k, k, Cin, filters) filter bank at 4 quarter turns.

    Input shape: (N, H, W, Cin). Output shape: (N, H', W', 4 * filters), channel ``4 * o + r``.
    """

    def _kernel_shape(self, in_channels):
        return (self.kernel_size, self.kernel_size, in_channels, self.filters)

    def _full_kernel(self):
        return lifted_kernel(self.kernel)


@_register
class P4Conv2D(_P4ConvBase):
    """Group convolution p4 -> p4, on maps with ``4 * Cin`` channels (rotation fastest).

    The trainable kernel is (k, k, 4 * Cin, filters), the shape (and Glorot fans) of a plain
    convolution reading all ``4 * Cin`` planes; it is applied at 4 rotations.

    Input shape: (N, H, W, 4 * Cin). Output shape: (N, H', W', 4 * filters).
    """

    def _kernel_shape(self, in_channels):
        if in_channels % ROTATIONS:
            raise ValueError(f"P4Conv2D needs a p4 map with a multiple of 4 channels; received {in_channels}")
        return (self.kernel_size, self.kernel_size, in_channels, self.filters)

    def _full_kernel(self):
        return group_kernel(self.kernel)


@_register
class P4Pool(keras.layers.Layer):
    """Pools a p4 map over its 4 rotations (``max`` or ``mean``): a rotation-invariant map.

    Input shape: (N, H, W, 4 * C). Output shape: (N, H, W, C).
    """

    def __init__(self, mode="max", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("max", "mean"):
            raise ValueError(f"mode must be 'max' or 'mean'; received {mode!r}")
        self.mode = mode

    def call(self, inputs):
        h, w, c = inputs.shape[1], inputs.shape[2], inputs.shape[3]
        x = ops.reshape(inputs, (-1, h, w, c // ROTATIONS, ROTATIONS))
        return ops.max(x, axis=-1) if self.mode == "max" else ops.mean(x, axis=-1)

    def compute_output_shape(self, input_shape):
        n, h, w, c = input_shape
        return (n, h, w, c // ROTATIONS)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@_register
class P4BatchNormalization(keras.layers.BatchNormalization):
    """Batch norm of a p4 map with statistics and affine parameters per group channel,
    shared by its 4 rotation planes (per-plane statistics would break equivariance).

    The statistics are those of the 5-D view (N, H, W, C, 4) over every axis but C, but they
    are computed on the 4-D map itself: per-plane moments over (N, H, W), averaged over each
    group channel's 4 planes (each plane holds the same number of values, so the average is
    the pooled moment). Keras's own path on the 5-D view reduces over non-trailing axes, which
    TensorFlow does slowly on CPU: it took two thirds of a p4cnn training step, and this path
    makes the step about twice as fast (``benchmarks/p4_batch_norm.py``). Batch renormalization
    and synchronized statistics are not offered.

    Input and output shape: (N, H, W, 4 * C).
    """

    def __init__(self, **kwargs):
        kwargs.pop("axis", None)
        for option in ("renorm", "synchronized"):
            if kwargs.get(option):
                raise ValueError(f"{option} is not offered for p4 batch norm; received {option}=True")
        kwargs.setdefault("momentum", BN_MOMENTUM)
        super().__init__(axis=-2, **kwargs)

    def build(self, input_shape):
        n, h, w, c = input_shape
        # built on the 5-D view so that the weights are (C,), one per group channel
        super().build((n, h, w, c // ROTATIONS, ROTATIONS))
        self.input_spec = None  # the parent expects the 5-D view; callers pass the 4-D map

    def call(self, inputs, training=None, mask=None):
        x = ops.cast(inputs, keras.backend.result_type(inputs.dtype, "float32"))
        if training and self.trainable:
            mean = _per_group(ops.mean(x, axis=(0, 1, 2)))
            variance = _per_group(ops.mean(ops.square(x - _per_plane(mean)), axis=(0, 1, 2)))
            momentum = self.momentum
            self.moving_mean.assign(ops.cast(self.moving_mean, x.dtype) * momentum + mean * (1.0 - momentum))
            self.moving_variance.assign(
                ops.cast(self.moving_variance, x.dtype) * momentum + variance * (1.0 - momentum))
        else:
            mean, variance = ops.cast(self.moving_mean, x.dtype), ops.cast(self.moving_variance, x.dtype)
        gamma = _per_plane(ops.cast(self.gamma, x.dtype)) if self.scale else None
        beta = _per_plane(ops.cast(self.beta, x.dtype)) if self.center else None
        out = ops.batch_normalization(x, _per_plane(mean), _per_plane(variance), axis=-1, offset=beta,
                                      scale=gamma, epsilon=self.epsilon)
        return ops.cast(out, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.pop("axis", None)
        return config


def _per_group(values):
    """(4 * C,) per-plane values -> (C,), the mean over each group channel's 4 planes."""
    return ops.mean(ops.reshape(values, (-1, ROTATIONS)), axis=-1)


def _per_plane(values):
    """(C,) per-group-channel values -> (4 * C,), each repeated for its 4 planes (channel 4c + r)."""
    return ops.repeat(values, ROTATIONS)


P4_LAYERS = (P4Lift2D, P4Conv2D, P4Pool, P4BatchNormalization)
