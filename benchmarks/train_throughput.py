"""Training throughput: invariance.train vs a bare model.fit, and the cost of augmentation.

On ``cnn_pool``, the same images and batch size, it times:

* ``plain_fit``: ``model.fit`` on in-memory float32 arrays (Keras shuffles), no validation;
* ``trainer``: ``invariance.train`` without augmentation (per-epoch seeded order, a
  validation pass each epoch, divergence checks);
* ``device``: the trainer with geometric augmentation on the device path;
* ``albumentations``: the trainer with the same ranges on the albumentations path.

Images/s count the training images (after the validation split) per epoch. The first
epoch of every variant includes graph tracing, so the ratios use the later epochs
(steady state); the all-epochs figures are printed too. Variants run round-robin,
``--rounds`` times, and each keeps its best round, which damps the noise of a shared
machine. Prints a table, then one JSON line (the last line) with the ratios.

Usage:
    python benchmarks/train_throughput.py [--quick] [--n 6000] [--epochs 3] [--rounds 2]
"""
from __future__ import annotations

import argparse
import json
import os
import time

import invariance  # noqa: F401  (chooses the backend before keras loads)

import keras
import numpy as np

from invariance.data import load_dataset, to_float
from invariance.data.subsets import nested_subset, train_val_split
from invariance.models import build_model
from invariance.training import TrainSpec, enable_determinism, train
from invariance.training.optimizer import make_optimizer
from invariance.training.schedule import epoch_plan

AUGMENT = {"shift": 3, "rotate": 15, "scale": [0.9, 1.1]}


class _EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self._t, self._c = time.perf_counter(), time.process_time()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append((time.perf_counter() - self._t, time.process_time() - self._c))


def plain_fit(data, n, spec: TrainSpec, seed: int) -> tuple[list[tuple[float, float]], int]:
    """(wall, CPU) seconds per epoch of a bare model.fit on the trainer's training images."""
    subset = nested_subset(data.y_train, n, seed=seed)
    fit_part, _ = train_val_split(data.y_train[subset], val_fraction=spec.val_fraction, seed=seed)
    idx = subset[fit_part]
    x, y = to_float(data.x_train[idx]), data.y_train[idx]
    enable_determinism(seed)
    model = build_model("cnn_pool", data.image_shape, data.num_classes, seed=seed)
    model.compile(optimizer=make_optimizer(spec, epoch_plan(spec, steps_per_epoch=-(-len(idx) // spec.batch_size))),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    timer = _EpochTimer()
    model.fit(x, y, batch_size=spec.batch_size, epochs=spec.epochs, shuffle=True, verbose=0, callbacks=[timer])
    return timer.seconds, len(idx)


def trainer(data, n, spec: TrainSpec, seed: int, augmentation) -> tuple[list[tuple[float, float]], int]:
    result = train("cnn_pool", data, n_train=n, train=spec, augmentation=augmentation, seed=seed, verbose=0)
    return list(zip(result.history["seconds"], result.history["cpu_seconds"])), result.metrics["n_fit"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images, epochs and rounds")
    parser.add_argument("--dataset", default="fashion_mnist_mini")
    parser.add_argument("--n", type=int, default=None, help="training subset size (default: all of the dataset)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.quick:
        args.n, args.epochs, args.rounds = args.n or 3000, 2, 1
    data = load_dataset(args.dataset)
    spec = TrainSpec(epochs=args.epochs, batch_size=args.batch_size)
    variants = {
        "plain_fit": lambda: plain_fit(data, args.n, spec, 0),
        "trainer": lambda: trainer(data, args.n, spec, 0, None),
        "device": lambda: trainer(data, args.n, spec, 0, {**AUGMENT, "path": "device"}),
        "albumentations": lambda: trainer(data, args.n, spec, 0, {**AUGMENT, "path": "albumentations"}),
    }
    # name -> best (steady wall img/s, all-epochs wall img/s, steady CPU img/s)
    best: dict[str, tuple[float, float, float]] = {}
    load = [os.getloadavg()[0]]
    for _ in range(args.rounds):
        for name, fn in variants.items():
            times, n_fit = fn()
            wall = [t[0] for t in times]
            cpu = [t[1] for t in times]
            steady, steady_cpu = (wall[1:], cpu[1:]) if len(wall) > 1 else (wall, cpu)
            rates = (n_fit * len(steady) / sum(steady), n_fit * len(wall) / sum(wall),
                     n_fit * len(steady_cpu) / sum(steady_cpu))
            if name not in best:
                best[name] = rates
            else:
                best[name] = tuple(max(a, b) for a, b in zip(best[name], rates))
    load.append(os.getloadavg()[0])
    base, base_cpu = best["plain_fit"][0], best["plain_fit"][2]
    print(f"cnn_pool on {data.name}, n_fit={n_fit}, batch {args.batch_size}, {args.epochs} epochs, "
          f"best of {args.rounds} rounds; backend {keras.backend.backend()}; {os.cpu_count()} cores, "
          f"load average {load[0]:.1f} -> {load[1]:.1f}")
    print(f"{'variant':<16} {'img/s steady':>13} {'img/s all':>10} {'vs plain':>9} {'img/CPU-s':>10} {'vs plain':>9}")
    for name, (steady, overall, cpu) in best.items():
        print(f"{name:<16} {steady:>13,.0f} {overall:>10,.0f} {steady / base:>9.3f} {cpu:>10,.0f} "
              f"{cpu / base_cpu:>9.3f}")
    faster = max(("device", "albumentations"), key=lambda k: best[k][0])

    def ratio(name, col=0):
        return round(best[name][col] / best["plain_fit"][col], 3)

    result = {
        "trainer_vs_plain_fit": ratio("trainer"),
        "augmented_vs_plain": ratio(faster),
        "augmented_path": faster,
        "albumentations_vs_plain": ratio("albumentations"),
        "device_vs_plain": ratio("device"),
        # CPU-time ratios: the work each variant costs; other load on the machine barely moves them
        "trainer_vs_plain_fit_cpu": ratio("trainer", 2),
        "device_vs_plain_cpu": ratio("device", 2),
        "albumentations_vs_plain_cpu": ratio("albumentations", 2),
        "images_per_second": {k: round(v[0], 1) for k, v in best.items()},
        "images_per_second_with_warmup": {k: round(v[1], 1) for k, v in best.items()},
        "images_per_cpu_second": {k: round(v[2], 1) for k, v in best.items()},
        "backend": keras.backend.backend(), "n_fit": n_fit, "batch_size": args.batch_size, "epochs": args.epochs,
        "load_average": [round(v, 2) for v in load],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
