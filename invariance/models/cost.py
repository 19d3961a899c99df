"""What a model costs: trainable parameters and multiply-accumulates (MACs) per image.

MACs are counted by walking the model's layers and reading the shapes of each call, so the
count is exact for the layers that do the arithmetic: convolutions (plain, depthwise,
separable, transposed), dense and einsum-dense layers, multi-head attention (projections
and both attention products), the zoo's BlurPool2D, APSPool2D (its blur and l2 norms) and p4
group convolutions (4x a plain convolution with the same kernel: the bank runs at 4
rotations). As in common counters (fvcore,
ptflops), activations, normalisation, pooling and additions count zero.
A new layer type gets a cost with :func:`register_cost`.
"""
from __future__ import annotations

import re
from typing import Callable, Sequence

import keras
import numpy as np

from invariance.models.aps import APSPool2D
from invariance.models.group import P4Conv2D, P4Lift2D, ROTATIONS
from invariance.models.layers import BlurPool2D

Shape = Sequence[int | None]
CostFn = Callable[[keras.layers.Layer, list, list], int]

_COSTS: list[tuple[type, CostFn]] = []


def register_cost(*layer_types: type) -> Callable[[CostFn], CostFn]:
    """Registers ``fn(layer, input_shapes, output_shapes) -> MACs per image`` for layer types.

    The shapes are those of one call of the layer, batch axis included (and ignored).
    Later registrations win, so a subclass can override its parent's cost.
    """
    def decorate(fn: CostFn) -> CostFn:
        for t in layer_types:
            _COSTS.insert(0, (t, fn))
        return fn
    return decorate


def model_cost(model: keras.Model) -> dict[str, int]:
    """Trainable parameters and MACs per image of a built model.

    Args:
        model: A functional or Sequential Keras model (nested models are walked).

    Returns:
        ``{"params": trainable parameters, "macs": multiply-accumulates for one image}``.
    """
    params = int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
    return {"params": params, "macs": int(_model_macs(model))}


def _model_macs(model) -> int:
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += _model_macs(layer)
            continue
        fn = _cost_fn(layer)
        if fn is None:
            continue
        for inputs, outputs in _calls(layer):
            total += fn(layer, inputs, outputs)
    return total


def _cost_fn(layer) -> CostFn | None:
    for layer_type, fn in _COSTS:
        if isinstance(layer, layer_type):
            return fn
    return None


def _calls(layer) -> list[tuple[list, list]]:
    """(input shapes, output shapes) of each call of ``layer`` in a functional graph."""
    # Keras has no public per-call accessor; nodes are its record of each call.
    nodes = getattr(layer, "_inbound_nodes", None) or []
    calls = []
    for node in nodes:
        ins = [tuple(t.shape) for t in node.input_tensors]
        outs = [tuple(t.shape) for t in node.output_tensors]
        calls.append((ins, outs))
    return calls


def _prod(values) -> int:
    out = 1
    for v in values:
        out *= 1 if v is None else int(v)
    return out


def _positions(layer, shape: Shape) -> int:
    """Spatial positions of a conv feature map (all axes but batch and channels)."""
    if getattr(layer, "data_format", "channels_last") == "channels_first":
        return _prod(shape[2:])
    return _prod(shape[1:-1])


@register_cost(keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D,
               keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)
def _conv_cost(layer, inputs, outputs) -> int:
    # Each output position takes one kernel's worth of MACs: kernel (*k, in/groups, out).
    kernel = layer.depthwise_kernel if hasattr(layer, "depthwise_kernel") else layer.kernel
    return _positions(layer, outputs[0]) * _prod(kernel.shape)


@register_cost(keras.layers.SeparableConv1D, keras.layers.SeparableConv2D)
def _separable_cost(layer, inputs, outputs) -> int:
    positions = _positions(layer, outputs[0])
    return positions * (_prod(layer.depthwise_kernel.shape) + _prod(layer.pointwise_kernel.shape))


@register_cost(keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose, keras.layers.Conv3DTranspose)
def _transpose_cost(layer, inputs, outputs) -> int:
    # Every input position scatters one kernel's worth of products.
    return _positions(layer, inputs[0]) * _prod(layer.kernel.shape)


@register_cost(keras.layers.Dense)
def _dense_cost(layer, inputs, outputs) -> int:
    return _prod(inputs[0][1:-1]) * _prod(layer.kernel.shape)


@register_cost(keras.layers.EinsumDense)
def _einsum_dense_cost(layer, inputs, outputs) -> int:
    return einsum_macs(layer.equation, inputs[0], tuple(layer.kernel.shape))


@register_cost(keras.layers.MultiHeadAttention)
def _attention_cost(layer, inputs, outputs) -> int:
    query = inputs[0]
    value = inputs[1] if len(inputs) > 1 else query
    key = inputs[2] if len(inputs) > 2 else value
    t, s = _prod(query[1:-1]), _prod(key[1:-1])
    heads, key_dim = layer.num_heads, layer.key_dim
    value_dim = layer.value_dim or key_dim
    projections = (t * query[-1] * heads * key_dim + s * key[-1] * heads * key_dim
                   + _prod(value[1:-1]) * value[-1] * heads * value_dim)
    products = heads * t * s * (key_dim + value_dim)  # q.k^T, then attention @ v
    output = t * heads * value_dim * outputs[0][-1]
    return int(projections + products + output)


@register_cost(BlurPool2D)
def _blur_cost(layer, inputs, outputs) -> int:
    # The max pool compares, the depthwise blur multiplies.
    return _positions(layer, outputs[0]) * outputs[0][-1] * layer.filter_size ** 2


@register_cost(P4Lift2D, P4Conv2D)
def _p4_cost(layer, inputs, outputs) -> int:
    # The stored filter bank is applied at 4 rotations: 4x a plain conv with that kernel.
    return ROTATIONS * _positions(layer, outputs[0]) * _prod(layer.kernel.shape)


@register_cost(APSPool2D)
def _aps_cost(layer, inputs, outputs) -> int:
    # Full-resolution blur (depthwise, stride 1), then one square per element for the l2 norms
    # (the l1 norm and the max compare and add only).
    s = layer.strides
    c = int(inputs[0][-1])
    h, w = (-(-int(v) // s) * s for v in inputs[0][1:3])  # after the pad to a multiple of s
    positions = _prod(inputs[0][1:3])
    blur = positions * c * layer.filter_size ** 2 if layer.filter_size > 1 else 0
    norms = h * w * c if layer.norm == "l2" and s > 1 else 0
    return blur + norms


def einsum_macs(equation: str, input_shape: Shape, kernel_shape: Shape) -> int:
    """MACs per example of ``einsum(equation, x, kernel)``: the product of all index sizes.

    Indices whose size is unknown (the batch axis) count as 1. ``...`` is expanded from the
    input's unnamed axes.

    Returns:
        int, the number of multiply-accumulates for one example.
    """
    spec_in, spec_rest = equation.split(",")
    spec_kernel, _ = spec_rest.split("->")
    spec_in, spec_kernel = spec_in.strip(), spec_kernel.strip()
    sizes: dict[str, int | None] = {}
    if "..." in spec_in:
        named = len(spec_in) - 3
        n_ellipsis = len(input_shape) - named
        head, tail = spec_in.split("...")
        free = input_shape[len(head):len(head) + n_ellipsis]
        spec_in = head + "".join(chr(0x2460 + i) for i in range(n_ellipsis)) + tail
        for i, size in enumerate(free):
            sizes[chr(0x2460 + i)] = size
    for letters, shape in ((spec_in, input_shape), (re.sub(r"\.\.\.", "", spec_kernel), kernel_shape)):
        for letter, size in zip(letters, shape):
            if sizes.get(letter) is None:
                sizes[letter] = size
    # The batch axis is the input's first index when it is unknown; drop it.
    if input_shape and input_shape[0] is None:
        sizes[spec_in[0]] = 1
    return _prod(sizes.values())
