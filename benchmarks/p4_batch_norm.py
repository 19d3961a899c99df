"""p4 batch norm on the 4-D map against Keras's batch norm on the 5-D view: p4cnn training steps.

``P4BatchNormalization`` pools each group channel's statistics over its 4 rotation planes. Keras's
``BatchNormalization(axis=-2)`` on the (N, H, W, C, 4) view computes the same numbers
(tests/test_models_group.py checks outputs, moving statistics and gradients), but reduces over
non-trailing axes, which TensorFlow does slowly on CPU. This times ``train_on_batch`` of the
exact-invariance study's p4cnn (40 px canvas, batch 128) with each, and of its plain twin
``cnn_aps[pooling=max]`` for scale (the p4 CNN costs 3.9x its MACs). Rounds alternate the models
so that a shared machine's load falls on all alike; each keeps its best round.

Prints a table, then one JSON line (the last line) with ``p4_bn_speedup`` (5-D view step time
over 4-D step time, > 1: the 4-D path is faster) and ``p4_vs_plain`` (p4cnn step time over the
plain CNN's).

Usage:
    python benchmarks/p4_batch_norm.py [--quick] [--steps 10] [--rounds 3]
"""
from __future__ import annotations

import argparse
import json
import time

import invariance  # noqa: F401  (chooses the backend before keras loads)

import keras
import numpy as np
from keras import ops

from invariance.models import build_model
from invariance.models.group import ROTATIONS, P4BatchNormalization

SHAPE, BATCH = (40, 40, 1), 128
P4 = {"preset": "p4cnn", "padding": "circular"}
PLAIN = {"preset": "cnn_aps", "pooling": "max"}


class FiveDimP4BatchNorm(P4BatchNormalization):
    """The same layer computed by Keras's own batch norm on the (N, H, W, C, 4) view."""

    def call(self, inputs, training=None, mask=None):
        h, w, c = inputs.shape[1], inputs.shape[2], inputs.shape[3]
        x = ops.reshape(inputs, (-1, h, w, c // ROTATIONS, ROTATIONS))
        return ops.reshape(keras.layers.BatchNormalization.call(self, x, training=training), (-1, h, w, c))


def _five_dim(model: keras.Model) -> keras.Model:
    def clone(layer):
        cls = FiveDimP4BatchNorm if isinstance(layer, P4BatchNormalization) else layer.__class__
        return cls.from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


def _compiled(model: keras.Model) -> keras.Model:
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def step_seconds(model: keras.Model, x: np.ndarray, y: np.ndarray, steps: int) -> float:
    """Mean seconds of one ``train_on_batch`` over ``steps``, after two warm-up steps."""
    for _ in range(2):
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return (time.perf_counter() - start) / steps


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 steps, 1 round")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    steps, rounds = (3, 1) if args.quick else (args.steps, args.rounds)
    rng = np.random.default_rng(0)
    x = rng.random((BATCH, *SHAPE), dtype=np.float32)
    y = rng.integers(0, 10, BATCH)
    p4 = build_model(P4, SHAPE, 10, seed=0)
    models = {"p4cnn, 4-D batch norm": _compiled(p4), "p4cnn, 5-D view (Keras)": _compiled(_five_dim(p4)),
              "cnn_aps[pooling=max]": _compiled(build_model(PLAIN, SHAPE, 10, seed=0))}
    best = {name: float("inf") for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            best[name] = min(best[name], step_seconds(model, x, y, steps))
    print(f"{'model':<26} {'ms per step':>12}")
    for name, seconds in best.items():
        print(f"{name:<26} {1000 * seconds:>12.0f}")
    four, five, plain = best.values()
    print(json.dumps({"backend": keras.backend.backend(), "batch": BATCH, "steps": steps, "rounds": rounds,
                      "ms_per_step": {k: round(1000 * v, 1) for k, v in best.items()},
                      "p4_bn_speedup": round(five / four, 3), "p4_vs_plain": round(four / plain, 3)}))


if __name__ == "__main__":
    main()
