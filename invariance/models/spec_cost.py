"""What a zoo model costs, from its spec alone: trainable parameters and MACs per image.

:func:`invariance.models.model_cost` counts a built Keras model by walking its layers, and
is the reference (it takes any model, the user's own included). This module gives the same
two numbers for a zoo spec without building it, so that ``invariance run --dry-run`` costs a
study without waiting seconds for keras to load. It follows model_cost's rules exactly
(convolutions, dense layers, attention, blur filters, APS norms, p4 convolutions at 4
rotations; activations, normalisation, pooling and additions cost no MACs), and
``tests/test_models_spec_cost.py`` checks the two agree for every preset and a table of
overrides, each family's options included, so a builder change that this module misses fails.

A family added with :func:`invariance.models.register_model` has no entry in :data:`SPEC_COSTS`
and :func:`spec_cost` returns None for it: callers build the model and count it instead.
"""
from __future__ import annotations

from typing import Callable

from invariance.errors import SpecError
from invariance.models.geometry import (cnn_feature_sizes, conv_output_size, gcnn_feature_sizes, pool_output_size,
                                        vit_patches)
from invariance.models.specs import CNNSpec, GCNNSpec, MLPSpec, ModelSpec, ViTSpec

ROTATIONS = 4  # the p4 group's quarter turns (invariance.models.group.ROTATIONS, which needs keras)


class _Tally:
    """Running totals while walking a model's layers."""

    def __init__(self):
        self.params = 0
        self.macs = 0

    def conv(self, out_h: int, out_w: int, k: int, c_in: int, c_out: int, *, bias: bool, rotations: int = 1):
        kernel = k * k * c_in * c_out
        self.params += kernel + (c_out if bias else 0)
        self.macs += rotations * out_h * out_w * kernel

    def dense(self, positions: int, c_in: int, c_out: int, *, bias: bool = True):
        self.params += c_in * c_out + (c_out if bias else 0)
        self.macs += positions * c_in * c_out

    def norm(self, channels: int):
        self.params += 2 * channels  # gamma and beta (batch norm's moving statistics are not trained)

    def head(self, features: int, *, hidden, batch_norm: bool, num_classes: int):
        """invariance.models._common.classifier_head: hidden dense layers, then the logits."""
        for units in hidden:
            self.dense(1, features, units, bias=not batch_norm)
            if batch_norm:
                self.norm(units)
            features = units
        self.dense(1, features, num_classes)

    def result(self) -> dict[str, int]:
        return {"params": int(self.params), "macs": int(self.macs)}


def _cnn_cost(spec: CNNSpec, input_shape, num_classes: int) -> dict[str, int]:
    cnn_feature_sizes(spec, input_shape)  # the builder's fit checks, with their messages
    t = _Tally()
    (h, w), c = input_shape[:2], input_shape[2]
    steps = spec.order.split("_")[1:]
    for channels in spec.block_channels:
        block_in = (h, w, c)
        for j in range(1, spec.convs_per_block + 1):
            stride = spec.stride if j == spec.convs_per_block else 1
            h, w = (conv_output_size(n, spec.kernel_size, stride, spec.padding) for n in (h, w))
            bias = not spec.batch_norm if spec.residual else not (spec.batch_norm and steps[0] == "bn")
            t.conv(h, w, spec.kernel_size, c, channels, bias=bias)
            if spec.batch_norm:
                t.norm(channels)
            c = channels
        if spec.residual and (block_in[2] != channels or spec.stride != 1):
            t.conv(h, w, 1, block_in[2], channels, bias=not spec.batch_norm)  # the 1x1 shortcut
            if spec.batch_norm:
                t.norm(channels)
        if spec.pooling != "none":
            before = (h, w)
            h, w = (pool_output_size(spec, n) for n in (h, w))
            t.macs += _pool_macs(spec, before, (h, w), c)
    features = h * w * c if spec.head == "flatten" else c
    t.head(features, hidden=spec.dense_units, batch_norm=spec.batch_norm, num_classes=num_classes)
    return t.result()


def _pool_macs(spec: CNNSpec, before: tuple[int, int], after: tuple[int, int], channels: int) -> int:
    """invariance.models.cost's counts for BlurPool2D and APSPool2D (max and avg pools cost none)."""
    if spec.pooling == "blur":
        return after[0] * after[1] * channels * spec.blur_kernel ** 2
    if not spec.pooling.startswith("aps"):
        return 0
    s = spec.effective_pool_stride
    blur = before[0] * before[1] * channels * spec.blur_kernel ** 2 if "blur" in spec.pooling and spec.blur_kernel > 1 \
        else 0
    padded = (-(-before[0] // s) * s) * (-(-before[1] // s) * s)
    norms = padded * channels if not spec.pooling.endswith("_l1") and s > 1 else 0
    return blur + norms


def _gcnn_cost(spec: GCNNSpec, input_shape, num_classes: int) -> dict[str, int]:
    sizes = gcnn_feature_sizes(spec, input_shape)
    t = _Tally()
    size, c = input_shape[0], input_shape[2]
    lifting = True
    for channels, (pooled, _) in zip(spec.block_channels, sizes):
        for _ in range(spec.convs_per_block):
            if spec.padding == "valid":
                size = size - spec.kernel_size + 1
            # the lifting filter reads the image's channels; a group convolution all 4 planes of each
            t.conv(size, size, spec.kernel_size, c if lifting else ROTATIONS * c, channels,
                   bias=not spec.batch_norm, rotations=ROTATIONS)
            if spec.batch_norm:
                t.norm(channels)
            c, lifting = channels, False
        size = pooled
    t.head(c, hidden=spec.dense_units, batch_norm=spec.batch_norm, num_classes=num_classes)
    return t.result()


def _mlp_cost(spec: MLPSpec, input_shape, num_classes: int) -> dict[str, int]:
    t = _Tally()
    h, w, c = input_shape
    t.head(h * w * c, hidden=spec.hidden, batch_norm=spec.batch_norm, num_classes=num_classes)
    return t.result()


def _vit_cost(spec: ViTSpec, input_shape, num_classes: int) -> dict[str, int]:
    patches = vit_patches(spec, input_shape)
    t = _Tally()
    d, p = spec.width, spec.patch_size
    t.conv(1, patches, p, input_shape[2], d, bias=True)  # the patch embedding
    tokens = patches + (spec.pool == "cls")
    t.params += d * (spec.pool == "cls") + tokens * d  # class token, position embedding
    hidden = int(round(d * spec.mlp_ratio))
    key_dim = d // spec.heads
    for _ in range(spec.depth):
        t.norm(d)
        # query, key and value projections, q.k^T and attention @ v, the output projection
        t.params += 3 * (d * d + d) + d * d + d
        t.macs += 3 * tokens * d * d + spec.heads * tokens * tokens * 2 * key_dim + tokens * d * d
        t.norm(d)
        t.dense(tokens, d, hidden)
        t.dense(tokens, hidden, d)
    t.norm(d)
    t.dense(1, d, num_classes)
    return t.result()


SPEC_COSTS: dict[str, Callable[..., dict[str, int]]] = {
    "cnn": _cnn_cost, "gcnn": _gcnn_cost, "mlp": _mlp_cost, "vit": _vit_cost}
"""Family -> ``fn(spec, input_shape, num_classes) -> {"params", "macs"}``."""


def spec_cost(spec: ModelSpec, input_shape, num_classes: int, *, path: str = "model") -> dict[str, int] | None:
    """``{"params": trainable parameters, "macs": MACs per image}`` of the model ``spec``
    builds for ``input_shape`` (H, W, C) and ``num_classes``; None for a family this module
    does not know (build it and use :func:`invariance.models.model_cost`).

    Raises:
        SpecError: when the spec does not fit the input, with the message
            :func:`~invariance.models.build_model` gives (``path`` names where the spec sits).
    """
    fn = SPEC_COSTS.get(spec.family)
    if fn is None:
        return None
    try:
        return fn(spec, tuple(int(v) for v in input_shape), int(num_classes))
    except SpecError as err:
        raise err.prefixed(path) from None
