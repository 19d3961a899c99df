"""Feature-map equivariance: does shifting the input shift each conv or pooling layer's map?

For a layer with feature map ``f(x)`` of shape (h, w, c) and cumulative stride ``s`` (the
product of the strides on the path from the input; the largest over parallel branches),
an input shift by ``(dx, dy)`` pixels should move the map by ``(dx / s, dy / s)`` cells.
What is computed, for each layer and input shift ``d = (dx, dy)``:

* ``x`` is shifted circularly by ``d`` (``np.roll``: exact, content wraps around, the
  ``wrap`` fill) -- no interpolation, so nothing but the network is measured;
* the reference is ``roll(f(x), (ky, kx))``, a circular shift of the clean map by whole
  cells. When ``d`` is a multiple of the stride, ``(kx, ky) = d / s``. When it is not (an
  odd shift after stride-2 pooling), no whole-cell shift matches; we take the best of
  ``floor(d / s)`` and ``ceil(d / s)`` per axis, so the number is a lower bound of the
  damage, not an artefact of picking a bad reference;
* error = ``||f(roll(x, d)) - roll(f(x), k)||_F / ||f(x)||_F``, the Frobenius norms taken
  over all images, positions and channels together (a ratio of totals, so images with
  near-zero activations cannot blow it up).

A stride-1 convolution with circular padding gives 0 up to float rounding; zero padding,
"valid" crops, striding and pooling give more. Default shifts per layer: ``s`` and ``2 s``
diagonally (multiples of the stride), plus the odd shift ``(1, 1)`` when ``s > 1``.
"""
from __future__ import annotations

import itertools
from typing import Any, Iterable

import keras
import numpy as np
import pandas as pd

from invariance.errors import InvarianceError, SpecError
from invariance.harness.columns import COLUMNS
from invariance.harness.inputs import prepare_inputs

_SELECT_HINTS = ("Conv", "Pool")


def cumulative_strides(model: Any) -> dict[str, tuple[int, int]]:
    """Cumulative (stride_y, stride_x) of every layer of a functional or Sequential model.

    A layer's own stride is its ``strides`` attribute (convolutions, pooling); layers
    without one (activations, padding, normalisation) have stride 1. Transposed
    convolutions upsample and count as 1. Where branches meet (a residual ``Add``), the
    largest incoming stride wins.
    """
    out: dict[str, tuple[int, int]] = {}
    previous = (1, 1)
    for layer in model.layers:
        parents = _parent_layers(layer)
        if parents is None:
            incoming = previous  # no graph information: assume a chain
        else:
            strides = [out.get(p.name, (1, 1)) for p in parents] or [(1, 1)]
            incoming = (max(s[0] for s in strides), max(s[1] for s in strides))
        own = _own_stride(layer)
        out[layer.name] = previous = (incoming[0] * own[0], incoming[1] * own[1])
    return out


def equivariance_layers(model: Any, layers: Iterable[str] | None = None) -> list[Any]:
    """The layers to measure: by default every conv or pooling layer with a spatial (4-D) output."""
    names = [layer.name for layer in model.layers]
    if layers is not None:
        chosen = []
        for i, name in enumerate(layers):
            if name not in names:
                raise SpecError(f"layers[{i}]", "must name a layer of the model: " + ", ".join(names), name)
            layer = model.get_layer(name)
            if len(layer.output.shape) != 4:
                raise SpecError(f"layers[{i}]", "must name a layer with a 4-D (N, H, W, C) output", name)
            chosen.append(layer)
        return chosen
    return [layer for layer in model.layers
            if any(h in type(layer).__name__ for h in _SELECT_HINTS) and "Transpose" not in type(layer).__name__
            and len(layer.output.shape) == 4]


def equivariance_error(model: Any, x: Any, *, shifts: Iterable[Any] | None = None,
                       layers: Iterable[str] | None = None, batch_size: int = 128,
                       input_scale: float = 1.0) -> pd.DataFrame:
    """Per-layer equivariance error under circular integer shifts (see the module docstring).

    Args:
        model: A functional or Sequential Keras model.
        x: Images (N, H, W, C), float in [0, 1] or uint8.
        shifts: Input shifts for every layer: ints ``s`` (diagonal ``(s, s)``) or ``(dx, dy)``
            pairs. By default each layer gets ``(s, s)``, ``(2s, 2s)`` for its stride ``s``,
            and ``(1, 1)`` when ``s > 1``.
        layers: Layer names; by default every conv or pooling layer with a 4-D output.
        batch_size: Images per forward pass.
        input_scale: The [0, 1] images are multiplied by this before the model (255 for a
            model that expects 0..255).

    Returns:
        DataFrame with the harness's columns: ``sweep="equivariance"``,
        ``metric="equivariance_error"``, ``layer`` = layer name, ``dx``/``dy`` = input shift,
        ``angle=0``, ``scale=1``, ``n`` = number of images. One row per layer and shift.
    """
    x, _ = prepare_inputs(x, np.zeros(len(np.asarray(x)), dtype=np.int64))
    if input_scale != 1.0:
        x = x * np.float32(input_scale)
    try:
        inputs = model.inputs
    except AttributeError:
        inputs = None
    if not inputs:
        raise InvarianceError("equivariance_error needs a functional or Sequential model whose layers can be tapped")
    chosen = equivariance_layers(model, layers)
    if not chosen:
        return pd.DataFrame(columns=list(COLUMNS))
    strides = cumulative_strides(model)
    given = _parse_shifts(shifts) if shifts is not None else None
    plan = []  # (layer index, input shift, candidate feature shifts)
    for li, layer in enumerate(chosen):
        sy, sx = strides[layer.name]
        for d in given if given is not None else _default_shifts(max(sy, sx)):
            plan.append((li, d, _candidates(d, (sy, sx))))
    features = keras.Model(inputs, [layer.output for layer in chosen], name="equivariance_features")
    input_shifts = sorted({d for _, d, _ in plan})
    numerators = [np.zeros(len(c)) for _, _, c in plan]
    denominators = np.zeros(len(chosen))

    for start in range(0, len(x), batch_size):
        xb = x[start:start + batch_size]
        clean = _as_list(features.predict_on_batch(xb))
        denominators += [np.sum(np.square(f, dtype=np.float64)) for f in clean]
        for d in input_shifts:
            moved = _as_list(features.predict_on_batch(np.roll(xb, (d[1], d[0]), axis=(1, 2))))
            for p, (li, pd_, cands) in enumerate(plan):
                if pd_ != d:
                    continue
                for c, (ky, kx) in enumerate(cands):
                    ref = np.roll(clean[li], (ky, kx), axis=(1, 2))
                    numerators[p][c] += np.sum(np.square(moved[li].astype(np.float64) - ref))

    rows = []
    for p, (li, d, _) in enumerate(plan):
        den = denominators[li]
        value = float(np.sqrt(numerators[p].min() / den)) if den > 0 else float("nan")
        rows.append({"sweep": "equivariance", "dx": float(d[0]), "dy": float(d[1]), "angle": 0.0, "scale": 1.0,
                     "metric": "equivariance_error", "value": value, "n": len(x), "layer": chosen[li].name})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _default_shifts(stride: int) -> list[tuple[int, int]]:
    out = [(stride, stride), (2 * stride, 2 * stride)]
    if stride > 1:
        out.append((1, 1))
    return out


def _candidates(shift: tuple[int, int], stride: tuple[int, int]) -> list[tuple[int, int]]:
    """Whole-cell feature shifts (ky, kx) to compare with: exact, or floor/ceil per axis."""
    dx, dy = shift
    sy, sx = stride
    ys = sorted({dy // sy, -(-dy // sy)})
    xs = sorted({dx // sx, -(-dx // sx)})
    return list(itertools.product(ys, xs))


def _parse_shifts(shifts: Iterable[Any]) -> list[tuple[int, int]]:
    out = []
    for i, s in enumerate(shifts):
        pair = (s, s) if isinstance(s, (int, np.integer)) and not isinstance(s, bool) else s
        if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair)):
            raise SpecError(f"shifts[{i}]", "must be an integer (diagonal shift) or a pair of integers (dx, dy)", s)
        out.append((int(pair[0]), int(pair[1])))
    if not out:
        raise SpecError("shifts", "must hold at least one shift", list(shifts))
    return out


def _own_stride(layer: Any) -> tuple[int, int]:
    if "Transpose" in type(layer).__name__:
        return (1, 1)
    s = getattr(layer, "strides", None)
    if s is None:
        return (1, 1)
    if isinstance(s, (int, np.integer)):
        return (int(s), int(s))
    s = tuple(int(v) for v in s)
    return (s[0], s[1]) if len(s) >= 2 else (s[0], s[0])


def _parent_layers(layer: Any) -> list[Any] | None:
    """Layers feeding ``layer`` (through its first call), or None without graph information."""
    try:
        node = layer._inbound_nodes[0]
        return [parent.operation for parent in node.parent_nodes]
    except (AttributeError, IndexError):
        return None


def _as_list(result: Any) -> list[np.ndarray]:
    return [np.asarray(r) for r in result] if isinstance(result, (list, tuple)) else [np.asarray(result)]
