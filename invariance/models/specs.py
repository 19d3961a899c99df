"""Typed specs for the model zoo: one frozen dataclass per family.

A spec describes an architecture and nothing else; ``build_model`` turns it into a Keras
model for a given input shape. Specs are parsed from dicts/YAML with
:func:`invariance.config.parse_spec`, so unknown keys and wrong types fail with the full
path of the value. Rules that involve several fields live in ``__post_init__``; rules that
involve the input size (a kernel larger than the image, too many pools) are checked when the
model is built, because a spec does not know its input.

Every spec carries ``family`` (which builder makes it) and ``preset`` (the named preset it
was derived from, or None), so that a spec written out with ``to_dict`` reads back to the
same spec and :func:`invariance.models.model_label` can name it.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal, Union

from invariance.errors import SpecError, in_range

Activation = Literal["relu", "gelu", "tanh", "sigmoid", "elu", "selu", "silu", "swish",
                     "leaky_relu", "mish", "softplus", "linear"]
Padding = Literal["same", "valid", "full", "circular"]
# ``aps*``: adaptive polyphase sampling (invariance.models.aps); ``_blur`` adds the low-pass
# filter, ``_l1`` ranks the polyphase components by l1 instead of l2 norm.
Pooling = Literal["none", "max", "avg", "blur", "aps", "aps_blur", "aps_l1", "aps_blur_l1"]
Head = Literal["flatten", "gap", "gmp"]
# Where batch norm and pooling sit relative to the activation. ``bn`` is part of the name
# only when it matters: the two bn-free orders are for models without batch norm.
Order = Literal["conv_bn_act_pool", "conv_act_bn_pool", "conv_bn_pool_act", "conv_pool_bn_act",
                "conv_act_pool", "conv_pool_act"]
TokenPool = Literal["cls", "gap"]

MAX_CHANNELS = 4096


def _positive_ints(field: str, values: tuple[int, ...], high: int = MAX_CHANNELS) -> None:
    for i, v in enumerate(values):
        in_range(f"{field}[{i}]", v, 1, high)


def _units(value: int | tuple[int, ...]) -> tuple[int, ...]:
    """Canonical hidden-layer widths: 0 -> (), n -> (n,), a tuple stays."""
    if isinstance(value, int):
        return () if value == 0 else (value,)
    return tuple(value)


class _Blocks:
    """Block widths and pooling stride shared by the convolutional families' specs."""

    @property
    def block_channels(self) -> tuple[int, ...]:
        """Output channels of each block, shape (depth,)."""
        if isinstance(self.channels, int):
            return tuple(int(round(self.channels * self.channel_multiplier ** i)) for i in range(self.depth))
        return tuple(self.channels)

    @property
    def effective_pool_stride(self) -> int:
        return self.pool_size if self.pool_stride is None else self.pool_stride


@dataclass(frozen=True)
class CNNSpec(_Blocks):
    """A plain convolutional network: ``depth`` blocks, then a head.

    Each block is ``convs_per_block`` convolutions (each followed by optional batch norm and
    the activation), then optional pooling; ``order`` says where batch norm and pooling sit
    relative to the activation. ``stride`` applies to the last convolution of each block
    (so ``stride: 2, pooling: none`` is the all-convolutional way to downsample).

    Attributes:
        depth: Number of conv blocks, 1 to 6.
        channels: Output channels per block, either one entry per block or a base that is
            multiplied by ``channel_multiplier`` from block to block (32, x2 -> 32, 64, 128).
        channel_multiplier: Growth factor per block when ``channels`` is a single int.
        convs_per_block: Convolutions per block, 1 to 4 (2 for VGG-style blocks).
        kernel_size: Square kernel size of every convolution.
        stride: Stride of the last convolution in each block.
        padding: ``same``; ``valid``; ``full`` (pad k-1 on each side, then a valid
            convolution); ``circular`` (wrap-around padding, which keeps convolutions exactly
            equivariant to circular shifts).
        activation: Activation after each convolution and hidden dense layer.
        batch_norm: Batch norm after each convolution (and hidden dense layer).
        order: Order of conv, batch norm, activation and pooling inside a block.
        pooling: ``none``, ``max``, ``avg``, ``blur`` (max-blur-pool, Zhang 2019), ``aps``
            (a stride-1 max, then adaptive polyphase sampling; Chaman & Dokmanić 2021) or
            ``aps_blur`` (max, binomial blur, then APS); ``aps_l1``/``aps_blur_l1`` rank the
            polyphase components by l1 norm instead of l2. APS pads circularly when
            ``padding`` is ``circular`` (exact circular-shift invariance with a global
            pooling head), by reflection otherwise.
        pool_size: Pooling window (for ``blur`` and ``aps*``: the window of the stride-1 max).
        pool_stride: Pooling stride; None means ``pool_size``.
        blur_kernel: Size of the binomial low-pass filter of ``blur``/``aps_blur`` (1 to 7;
            3 is [1, 2, 1], 5 is [1, 4, 6, 4, 1]).
        residual: Residual blocks (ResNet-style; a 1x1 projection when shapes change).
        head: ``flatten`` (flatten + dense), ``gap`` (global average pooling) or ``gmp``
            (global max pooling).
        dense_units: Hidden dense widths in the head: 0 for none, a width, or a list.
        dropout: Dropout rate before the logits.
    """

    family: Literal["cnn"] = "cnn"
    preset: str | None = None
    depth: int = 2
    channels: int | tuple[int, ...] = 32
    channel_multiplier: float = 2.0
    convs_per_block: int = 1
    kernel_size: int = 3
    stride: int = 1
    padding: Padding = "same"
    activation: Activation = "relu"
    batch_norm: bool = False
    order: Order = "conv_bn_act_pool"
    pooling: Pooling = "max"
    pool_size: int = 2
    pool_stride: int | None = None
    blur_kernel: int = 3
    residual: bool = False
    head: Head = "flatten"
    dense_units: int | tuple[int, ...] = 128
    dropout: float = 0.0

    def __post_init__(self):
        in_range("depth", self.depth, 1, 6)
        if isinstance(self.channels, int):
            in_range("channels", self.channels, 1, MAX_CHANNELS)
        else:
            if len(self.channels) != self.depth:
                raise SpecError("channels", f"must have one entry per block (depth={self.depth}) "
                                "or be a single base width", list(self.channels))
            _positive_ints("channels", self.channels)
        in_range("channel_multiplier", self.channel_multiplier, 0.25, 4.0)
        _positive_ints("channels", self.block_channels)
        in_range("convs_per_block", self.convs_per_block, 1, 4)
        in_range("kernel_size", self.kernel_size, 1, 15)
        in_range("stride", self.stride, 1, 4)
        in_range("pool_size", self.pool_size, 1, 8)
        if self.pool_stride is not None:
            in_range("pool_stride", self.pool_stride, 1, 8)
        in_range("blur_kernel", self.blur_kernel, 1, 7)
        object.__setattr__(self, "dense_units", _units(self.dense_units))
        _positive_ints("dense_units", self.dense_units, 65536)
        in_range("dropout", self.dropout, 0.0, 0.95)
        if self.batch_norm and "bn" not in self.order:
            raise SpecError("order", "must place bn when batch_norm is true; one of 'conv_bn_act_pool', "
                            "'conv_act_bn_pool', 'conv_bn_pool_act', 'conv_pool_bn_act'", self.order)
        if self.residual:
            if self.padding not in ("same", "circular"):
                raise SpecError("padding", "must be 'same' or 'circular' when residual is true "
                                "(the shortcut needs the block to keep its size)", self.padding)
            if self.order not in ("conv_bn_act_pool", "conv_act_pool"):
                raise SpecError("order", "must be 'conv_bn_act_pool' or 'conv_act_pool' when residual is "
                                "true (post-activation residual blocks)", self.order)


@dataclass(frozen=True)
class MLPSpec:
    """A multilayer perceptron on the flattened image.

    Attributes:
        hidden: Hidden layer widths; empty for a linear classifier.
        activation: Activation after each hidden layer.
        batch_norm: Batch norm after each hidden dense layer.
        dropout: Dropout rate before the logits.
    """

    family: Literal["mlp"] = "mlp"
    preset: str | None = None
    hidden: tuple[int, ...] = (256, 128)
    activation: Activation = "relu"
    batch_norm: bool = False
    dropout: float = 0.0

    def __post_init__(self):
        if len(self.hidden) > 8:
            raise SpecError("hidden", "must have at most 8 layers", list(self.hidden))
        _positive_ints("hidden", self.hidden, 65536)
        in_range("dropout", self.dropout, 0.0, 0.95)


@dataclass(frozen=True)
class ViTSpec:
    """A small Vision Transformer (Dosovitskiy et al. 2021) with pre-norm blocks.

    The image is cut into ``patch_size`` squares by a strided Conv2D named
    ``patch_embedding`` (its filters are the ViT's "first-layer filters"), a learned
    position embedding is added, and ``depth`` transformer blocks follow.

    Attributes:
        patch_size: Patch side in pixels; must divide the input height and width.
        width: Token width (embedding dimension).
        depth: Number of transformer blocks, 1 to 12.
        heads: Attention heads; must divide ``width``.
        mlp_ratio: Hidden width of each block's MLP, as a multiple of ``width``.
        dropout: Dropout rate in attention, MLPs and before the logits.
        pool: ``cls`` (a learned class token) or ``gap`` (mean over patch tokens).
    """

    family: Literal["vit"] = "vit"
    preset: str | None = None
    patch_size: int = 4
    width: int = 64
    depth: int = 3
    heads: int = 4
    mlp_ratio: float = 2.0
    dropout: float = 0.0
    pool: TokenPool = "cls"

    def __post_init__(self):
        in_range("patch_size", self.patch_size, 1, 64)
        in_range("width", self.width, 4, 2048)
        in_range("depth", self.depth, 1, 12)
        in_range("heads", self.heads, 1, 32)
        if self.width % self.heads:
            raise SpecError("heads", f"must divide width={self.width}", self.heads)
        in_range("mlp_ratio", self.mlp_ratio, 0.25, 8.0)
        in_range("dropout", self.dropout, 0.0, 0.95)


@dataclass(frozen=True)
class GCNNSpec(_Blocks):
    """A p4 group-equivariant CNN (Cohen & Welling 2016): exactly invariant to quarter turns.

    Block 1 starts with a lifting convolution, every other convolution is a p4 group
    convolution; ``depth`` blocks of ``convs_per_block`` convolutions each end in optional
    spatial pooling. Then the 4 rotation planes are pooled (``group_pool``), a global
    spatial pooling (``head``) follows, and the dense head. ``channels`` counts group
    channels: each is 4 planes, so a p4 layer with C channels holds the parameters of a plain
    layer with 2C channels and, at 2x fewer channels than a plain twin, costs 4x its MACs.

    Attributes:
        group: ``p4`` (translations and quarter turns).
        depth: Number of blocks, 1 to 6.
        channels: Group channels per block (one per block, or a base grown by ``channel_multiplier``).
        channel_multiplier: Growth factor per block when ``channels`` is a single int.
        convs_per_block: Convolutions per block, 1 to 4.
        kernel_size: Odd square kernel size (an even one has no centre and breaks the symmetry).
        padding: ``same``, ``valid`` or ``circular``.
        activation: Activation after each convolution and hidden dense layer.
        batch_norm: Batch norm after each convolution, shared by the 4 planes of a group channel.
        pooling: Spatial pooling after each block: ``none``, ``max`` or ``avg``. Exactness
            needs windows that tile the map symmetrically, ``(size - pool_size) % stride == 0``
            (28 -> 14 -> 7 does; a third pool of 7 would not, and is refused).
        pool_size: Pooling window.
        pool_stride: Pooling stride; None means ``pool_size``.
        group_pool: ``max`` or ``mean`` over the 4 rotations before the head.
        head: ``gap`` or ``gmp`` (global average or max pooling); a flatten head would not be invariant.
        dense_units: Hidden dense widths in the head: 0 for none, a width, or a list.
        dropout: Dropout rate before the logits.
    """

    family: Literal["gcnn"] = "gcnn"
    preset: str | None = None
    group: Literal["p4"] = "p4"
    depth: int = 2
    channels: int | tuple[int, ...] = 16
    channel_multiplier: float = 2.0
    convs_per_block: int = 1
    kernel_size: int = 3
    padding: Literal["same", "valid", "circular"] = "same"
    activation: Activation = "relu"
    batch_norm: bool = False
    pooling: Literal["none", "max", "avg"] = "max"
    pool_size: int = 2
    pool_stride: int | None = None
    group_pool: Literal["max", "mean"] = "max"
    head: Literal["gap", "gmp"] = "gap"
    dense_units: int | tuple[int, ...] = 0
    dropout: float = 0.0

    def __post_init__(self):
        in_range("depth", self.depth, 1, 6)
        if isinstance(self.channels, int):
            in_range("channels", self.channels, 1, MAX_CHANNELS)
        elif len(self.channels) != self.depth:
            raise SpecError("channels", f"must have one entry per block (depth={self.depth}) "
                            "or be a single base width", list(self.channels))
        in_range("channel_multiplier", self.channel_multiplier, 0.25, 4.0)
        _positive_ints("channels", self.block_channels)
        in_range("convs_per_block", self.convs_per_block, 1, 4)
        in_range("kernel_size", self.kernel_size, 1, 15)
        if self.kernel_size % 2 == 0:
            raise SpecError("kernel_size", "must be odd (an even kernel has no centre, so 'same' padding "
                            "is uneven and quarter turns are no longer exact)", self.kernel_size)
        in_range("pool_size", self.pool_size, 1, 8)
        if self.pool_stride is not None:
            in_range("pool_stride", self.pool_stride, 1, 8)
        object.__setattr__(self, "dense_units", _units(self.dense_units))
        _positive_ints("dense_units", self.dense_units, 65536)
        in_range("dropout", self.dropout, 0.0, 0.95)


ModelSpec = Union[CNNSpec, MLPSpec, ViTSpec, GCNNSpec]


def overridden_fields(spec, base) -> dict:
    """Fields of ``spec`` whose values differ from ``base`` (same class), in field order."""
    return {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)
            if f.name not in ("family", "preset") and getattr(spec, f.name) != getattr(base, f.name)}
