"""Time to accuracy: epochs and seconds for the default recipe to reach target test accuracies.

For each model and seed it trains with :func:`invariance.train` and the default
:class:`~invariance.training.TrainSpec` (warm-up + cosine over an n-scaled horizon, early
stopping on the validation loss), scores the test set after every epoch (a callback; its
time is not counted), and records the first epoch, and the training seconds up to it, at
which the test accuracy reaches each target. By default a run stops once the highest target
is reached (``--to-plateau`` trains on until the recipe stops it, and then also reports the
epochs to the plateau, the stop reason and the final test accuracy of the kept weights).

Seconds are wall-clock training seconds (the trainer's per-epoch ``seconds``, including
its validation pass, minus the callback's test scoring); on a shared machine they are
noisy, the epoch counts are not. Prints a table, then one JSON line (the last line).

Usage:
    python benchmarks/time_to_accuracy.py [--quick] [--models cnn_pool cnn_gap] [--seeds 0 1 2]
        [--targets 0.90 0.91] [--dataset fashion_mnist] [--to-plateau] [--out FILE.json]
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
from invariance.training import TrainSpec, train
from invariance.training.evaluation import evaluate_arrays


class _Reached(Exception):
    """Ends a run once every target is reached (raised out of the trainer's fit call)."""


class TestAccuracy(keras.callbacks.Callback):
    """Scores the test set after every epoch; keeps the time it takes apart."""

    def __init__(self, x_test, y_test, *, targets, stop_at_targets: bool):
        super().__init__()
        self.x_test, self.y_test, self.targets, self.stop = x_test, y_test, sorted(targets), stop_at_targets
        self.accuracy: list[float] = []
        self.epoch_seconds: list[float] = []
        self._start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_seconds.append(time.perf_counter() - self._start)  # fit + validation, no test scoring
        self.accuracy.append(evaluate_arrays(self.model, self.x_test, self.y_test)[1])
        if self.stop and self.accuracy[-1] >= self.targets[-1]:
            raise _Reached


def one_run(data, model: str, seed: int, *, targets, n_train, to_plateau: bool, spec: TrainSpec,
            verbose: int) -> dict:
    cb = TestAccuracy(to_float(data.x_test), data.y_test, targets=targets, stop_at_targets=not to_plateau)
    result = None
    try:
        result = train(model, data, n_train=n_train, train=spec, seed=seed, verbose=0, callbacks=(cb,))
    except _Reached:
        pass
    seconds = np.cumsum(cb.epoch_seconds)
    row = {"model": model, "seed": seed, "test_accuracy_by_epoch": [round(a, 4) for a in cb.accuracy],
           "seconds_by_epoch": [round(s, 1) for s in cb.epoch_seconds]}
    for t in targets:
        hit = next((i for i, a in enumerate(cb.accuracy) if a >= t), None)
        row[f"epochs_to_{t}"] = None if hit is None else hit + 1
        row[f"seconds_to_{t}"] = None if hit is None else round(float(seconds[hit]), 1)
    if result is not None:
        m = result.metrics
        row.update(epochs_run=m["epochs_run"], best_epoch=m.get("best_epoch"), stop_reason=m.get("stop_reason"),
                   converged=m.get("converged"), final_test_accuracy=m.get("test_accuracy"),
                   horizon_epochs=m.get("horizon_epochs"), max_epochs=m.get("max_epochs"))
    if verbose:
        print(json.dumps(row), flush=True)
    return row


def summarise(rows: list[dict], targets) -> dict:
    """Per model: median and range over seeds of the epochs and seconds to each target."""
    out = {}
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model]
        entry = {"seeds": len(mine)}
        for t in targets:
            for what in ("epochs", "seconds"):
                vals = [r[f"{what}_to_{t}"] for r in mine]
                got = [v for v in vals if v is not None]
                entry[f"{what}_to_{t}"] = {"median": float(np.median(got)) if got else None,
                                           "min": min(got) if got else None, "max": max(got) if got else None,
                                           "reached": len(got)}
        out[model] = entry
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the bundled mini set, 1 seed, low targets (smoke run)")
    parser.add_argument("--dataset", default="fashion_mnist")
    parser.add_argument("--n", type=int, default=None, help="training subset size (default: all)")
    parser.add_argument("--models", nargs="+", default=["cnn_pool", "cnn_gap"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--targets", nargs="+", type=float, default=[0.90, 0.91])
    parser.add_argument("--max-epochs", type=int, default=None, help="cap (default: the recipe's own)")
    parser.add_argument("--to-plateau", action="store_true", help="train on until the recipe stops the run")
    parser.add_argument("--out", default=None, help="also write the JSON result to this file")
    args = parser.parse_args()
    if args.quick:
        args.dataset, args.n, args.seeds = "fashion_mnist_mini", args.n or 1000, args.seeds[:1]
        args.targets, args.max_epochs = [0.3, 0.5], args.max_epochs or 3
    data = load_dataset(args.dataset)
    spec = TrainSpec(epochs=args.max_epochs)
    load = [os.getloadavg()[0]]
    rows = [one_run(data, m, s, targets=args.targets, n_train=args.n, to_plateau=args.to_plateau, spec=spec,
                    verbose=1) for m in args.models for s in args.seeds]
    load.append(os.getloadavg()[0])
    summary = summarise(rows, args.targets)
    print(f"{data.name}, n={args.n or len(data.y_train)}, default recipe, seeds {args.seeds}; backend "
          f"{keras.backend.backend()}; {os.cpu_count()} cores, load average {load[0]:.1f} -> {load[1]:.1f}")
    print(f"{'model':<10} " + " ".join(f"{'epochs>=' + str(t):>13} {'s>=' + str(t):>10}" for t in args.targets))
    for model, entry in summary.items():
        cells = []
        for t in args.targets:
            e, s = entry[f"epochs_to_{t}"], entry[f"seconds_to_{t}"]
            cells.append(f"{_fmt(e):>13} {_fmt(s):>10}")
        print(f"{model:<10} " + " ".join(cells))
    headline = {f"{m}_epochs_to_{t}": summary[m][f"epochs_to_{t}"]["median"] for m in summary for t in args.targets}
    result = {**headline, "summary": summary, "runs": rows, "dataset": data.name, "n_train": args.n, "targets": args.targets,
              "seeds": args.seeds, "backend": keras.backend.backend(), "cpu_count": os.cpu_count(),
              "load_average": [round(v, 2) for v in load], "to_plateau": args.to_plateau}
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
    print(json.dumps(result))


def _fmt(stat: dict) -> str:
    if stat["median"] is None:
        return "not reached"
    return f"{stat['median']:g} ({stat['reached']})"


if __name__ == "__main__":
    main()
