"""Backends side by side: images/s of one short cnn_pool training under TensorFlow and JAX.

Why TensorFlow is the CPU default (``invariance/backend.py``): each backend trains the same
model on the same images in its own fresh process (the backend is fixed at import), first a
bare ``model.fit`` and then ``invariance.train``, and the steady epochs (after the first,
which compiles) give images/s. Rounds alternate the backends so that the load of a shared
machine falls on both alike; each keeps its best round.

Prints a table, then one JSON line (the last line) with ``tensorflow_vs_jax``: TensorFlow's
images/s over JAX's (> 1: TensorFlow is faster).

Usage:
    python benchmarks/backends.py [--quick] [--backends tensorflow jax] [--n 6000] [--epochs 3] [--rounds 2]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys

CHILD = """\
import json, sys, time
import invariance, keras
from invariance.data import load_dataset, to_float
from invariance.data.subsets import nested_subset, train_val_split
from invariance.models import build_model
from invariance.training import TrainSpec, train
n, epochs, batch = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
data = load_dataset("fashion_mnist_mini")
spec = TrainSpec(epochs=epochs, batch_size=batch)
subset = nested_subset(data.y_train, n, seed=0)
fit_part, _ = train_val_split(data.y_train[subset], val_fraction=spec.val_fraction, seed=0)
x, y = to_float(data.x_train[subset[fit_part]]), data.y_train[subset[fit_part]]

class Timer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None): self.seconds = []
    def on_epoch_begin(self, epoch, logs=None): self.t = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None): self.seconds.append(time.perf_counter() - self.t)

model = build_model("cnn_pool", data.image_shape, data.num_classes, seed=0)
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
timer = Timer()
model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, callbacks=[timer])
result = train("cnn_pool", data, n_train=n, train=spec, seed=0, verbose=0)
print(json.dumps({"backend": keras.backend.backend(), "n_fit": len(y),
                  "plain_fit": len(y) / min(timer.seconds[1:]),
                  "trainer": len(y) / min(result.history["seconds"][1:])}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2000 images, 2 epochs, 1 round")
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax"])
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.quick:
        args.n, args.epochs, args.rounds = 2000, 2, 1
    backends = [b for b in args.backends if importlib.util.find_spec(b) is not None]
    missing = sorted(set(args.backends) - set(backends))
    best: dict[str, dict] = {}
    load = [os.getloadavg()[0]]
    for _ in range(args.rounds):
        for backend in backends:
            env = dict(os.environ, KERAS_BACKEND=backend, JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="")
            proc = subprocess.run([sys.executable, "-c", CHILD, str(args.n), str(args.epochs), str(args.batch_size)],
                                  capture_output=True, text=True, env=env)
            if proc.returncode != 0:
                raise SystemExit(f"{backend}: {proc.stderr[-2000:]}")
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            old = best.get(backend)
            best[backend] = res if old is None else {**res, **{k: max(old[k], res[k]) for k in ("plain_fit", "trainer")}}
    load.append(os.getloadavg()[0])
    print(f"cnn_pool on fashion_mnist_mini, n_fit={next(iter(best.values()))['n_fit']}, batch {args.batch_size}, "
          f"{args.epochs} epochs (steady epochs), best of {args.rounds}; CPU only, {os.cpu_count()} cores, "
          f"load average {load[0]:.1f} -> {load[1]:.1f}" + (f"; not installed: {', '.join(missing)}" if missing else ""))
    print(f"{'backend':<12} {'plain fit img/s':>16} {'trainer img/s':>14}")
    for backend, res in best.items():
        print(f"{backend:<12} {res['plain_fit']:>16,.0f} {res['trainer']:>14,.0f}")
    out = {"images_per_second": {b: {k: round(r[k], 1) for k in ("plain_fit", "trainer")} for b, r in best.items()},
           "load_average": [round(v, 2) for v in load]}
    if {"tensorflow", "jax"} <= set(best):
        out["tensorflow_vs_jax"] = round(best["tensorflow"]["plain_fit"] / best["jax"]["plain_fit"], 3)
        out["tensorflow_vs_jax_trainer"] = round(best["tensorflow"]["trainer"] / best["jax"]["trainer"], 3)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
