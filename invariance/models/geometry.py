"""Whether a model spec fits an input, and the feature maps it makes: keras-free.

The builders call these before they build, and :mod:`invariance.models.spec_cost` counts a
model's parameters and MACs from them, so a study is checked and costed (``--dry-run``)
without keras. Each raises :class:`~invariance.errors.SpecError` naming the field to change.
"""
from __future__ import annotations

from typing import Sequence

from invariance.errors import SpecError
from invariance.models.specs import CNNSpec, GCNNSpec, ViTSpec


def shape_text(input_shape: Sequence[int]) -> str:
    return "x".join(str(v) for v in input_shape)


def cnn_feature_sizes(spec: CNNSpec, input_shape: tuple[int, int, int]) -> list[tuple[int, int]]:
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
                         lambda n: conv_output_size(n, spec.kernel_size, stride, spec.padding))
        if spec.pooling != "none":
            size = _step(spec, input_shape, block, size, "pool_size", lambda n: pool_output_size(spec, n))
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


def conv_output_size(n: int, k: int, s: int, padding: str) -> int | None:
    """One side of a convolution's output (kernel ``k``, stride ``s``), None when it does not fit."""
    if padding == "same":
        return -(-n // s)
    if padding == "circular":
        return -(-n // s) if k // 2 <= n else None  # the wrap copies at most the whole axis
    if padding == "full":
        return (n + k - 2) // s + 1
    return (n - k) // s + 1 if n >= k else None


def pool_output_size(spec: CNNSpec, n: int) -> int | None:
    """One side of a CNN block's pooling output, None when it does not fit."""
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


def gcnn_feature_sizes(spec: GCNNSpec, input_shape: tuple[int, int, int]) -> list[tuple[int, int]]:
    """Spatial size after each block, checking that every conv and pool fits and that each
    pool tiles its map symmetrically (else quarter turns would not commute with it).

    Raises:
        SpecError: naming the field to change, the map size and the rule.
    """
    if input_shape[0] != input_shape[1]:
        raise SpecError("input_shape", "must be square for a p4 CNN (quarter turns map the image onto "
                        "itself only then)", shape_text(input_shape))
    size = input_shape[0]
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


def vit_patches(spec: ViTSpec, input_shape: tuple[int, int, int]) -> int:
    """The number of patch tokens (the class token not counted).

    Raises:
        SpecError: if ``patch_size`` does not divide the input's height and width.
    """
    height, width, _ = input_shape
    p = spec.patch_size
    if height % p or width % p:
        divisors = [d for d in range(1, min(height, width) + 1) if height % d == 0 and width % d == 0]
        raise SpecError("patch_size", f"must divide the input height and width ({shape_text(input_shape)}); "
                        f"these do: {', '.join(map(str, divisors))}", p)
    return (height // p) * (width // p)
