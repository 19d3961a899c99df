"""The exactness checks of APS and p4 models, shared by the TensorFlow tests and the JAX
subprocess (``python tests/exact_checks.py`` prints them as JSON on the active backend).

Each check builds an untrained model with random weights and returns the largest logit
change over a set of input transforms, plus the logits' scale, so a test can ask for
"equal within float tolerance" (exact designs) or "clearly different" (their twins).
"""
from __future__ import annotations

import json

import numpy as np

SHIFTS = [(dy, dx) for dy in range(-8, 9) for dx in range(-8, 9)]   # 289 circular shifts
APS_SPEC = {"family": "cnn", "depth": 2, "channels": 8, "padding": "circular", "pooling": "aps",
            "head": "gap", "dense_units": 16}
P4_SPEC = {"preset": "p4cnn", "channels": 8, "dense_units": 16}
PLAIN_SPEC = {"preset": "cnn_pool", "channels": 16, "head": "gap", "dense_units": 16}


def _logits(model, x):
    return np.asarray(model.predict(x, batch_size=len(x), verbose=0), dtype=np.float64)


def garment_like(size: int, *, canvas: int | None = None, seed: int = 0) -> np.ndarray:
    """A (1, S, S, 1) float32 image: random blobs on a black background, optionally zero-padded
    (centred) to a ``canvas`` like ``load_dataset(canvas=...)``."""
    rng = np.random.default_rng(seed)
    img = np.zeros((size, size), np.float32)
    inner = rng.random((size - 8, size - 8)).astype(np.float32)
    img[4:-4, 4:-4] = inner * (inner > 0.3)
    if canvas:
        before = (canvas - size) // 2
        img = np.pad(img, ((before, canvas - size - before), (before, canvas - size - before)))
    return img[None, :, :, None]


def circular_shift_change(pooling: str, size: int, *, canvas: int | None = None, seed: int = 0,
                          batch_norm: bool = False) -> dict:
    """Largest |logit change| over all 289 circular shifts in -8..8 x -8..8."""
    from invariance.models import build_model

    x = garment_like(size, canvas=canvas, seed=seed)
    side = x.shape[1]
    model = build_model({**APS_SPEC, "pooling": pooling, "batch_norm": batch_norm}, (side, side, 1), 10, seed=seed)
    shifted = np.stack([np.roll(x[0], s, axis=(0, 1)) for s in SHIFTS])
    out = _logits(model, shifted)
    ref = _logits(model, x)
    return {"max_change": float(np.abs(out - ref).max()), "scale": float(np.abs(ref).max())}


def quarter_turn_change(spec: dict, size: int = 28, *, seed: int = 0, batch_norm: bool = False) -> dict:
    """Largest |logit change| over the 4 quarter turns of 4 random images."""
    from invariance.models import build_model

    x = np.random.default_rng(seed + 1).random((4, size, size, 1)).astype(np.float32)
    spec = {**spec, "batch_norm": batch_norm}   # explicit: the p4cnn preset has batch norm
    model = build_model(spec, (size, size, 1), 10, seed=seed)
    ref = _logits(model, x)
    changes = [np.abs(_logits(model, np.ascontiguousarray(np.rot90(x, k, axes=(1, 2)))) - ref).max()
               for k in (1, 2, 3)]
    return {"max_change": float(max(changes)), "scale": float(np.abs(ref).max())}


def all_checks() -> dict:
    return {
        "aps_28": circular_shift_change("aps", 28),
        "aps_blur_28": circular_shift_change("aps_blur", 28),
        "aps_32_canvas": circular_shift_change("aps", 28, canvas=32),
        "aps_bn_40_canvas": circular_shift_change("aps", 28, canvas=40, batch_norm=True),
        "max_28": circular_shift_change("max", 28),
        "max_32_canvas": circular_shift_change("max", 28, canvas=32),
        "p4_28": quarter_turn_change(P4_SPEC),
        "p4_bn_28": quarter_turn_change(P4_SPEC, batch_norm=True),
        "p4_32": quarter_turn_change(P4_SPEC, 32),
        "plain_28": quarter_turn_change(PLAIN_SPEC),
    }


EXACT = ("aps_28", "aps_blur_28", "aps_32_canvas", "aps_bn_40_canvas", "p4_28", "p4_bn_28", "p4_32")
TWINS = ("max_28", "max_32_canvas", "plain_28")


def is_exact(result: dict) -> bool:
    return result["max_change"] <= 1e-5 * max(1.0, result["scale"])


def is_clearly_variant(result: dict) -> bool:
    return result["max_change"] >= 1e-3 * result["scale"]


if __name__ == "__main__":
    import keras

    print(json.dumps({"backend": keras.backend.backend(), "checks": all_checks()}))
