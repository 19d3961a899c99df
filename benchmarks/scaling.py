"""Scaling: the time of one run vs n_train, model and depth, as a log-log table (a cost model).

Every run goes through the study runner's own per-run path (``execute_run``: train into a run
folder, then the harness), so the numbers include what a study pays per run. Per model it
fits the steady epoch time ``epoch(n) = k * n^alpha`` on log-log axes (n: training images
after the validation split) and keeps the per-run fixed cost (build, compile, save), the
trainer's final-accuracy cost per image and the harness's cost per (image, transform) pair.
From all runs together it also refits the MAC-based fallback constants of
:mod:`invariance.study.estimate` (for models not in the table), and the slowdown of each
augmentation path.

``--out FILE`` writes the table as JSON; ``invariance run --dry-run`` estimates with
``invariance/study/cost_model.json`` when it was measured on the active backend, or with
the file named by ``INVARIANCE_COST_MODEL``. Regenerate the shipped one with::

    python benchmarks/scaling.py --out invariance/study/cost_model.json

Prints a table, then one JSON line (the last line). ~4-5 minutes on 2 shared cores; ``--quick`` ~1.

Usage:
    python benchmarks/scaling.py [--quick] [--out FILE] [--dataset fashion_mnist_mini]
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import statistics
import tempfile
import time
from pathlib import Path

import invariance  # noqa: F401  (chooses the backend before keras loads)

import numpy as np

MODELS = ["mlp", "lenet5", {"preset": "cnn_pool", "depth": 1}, "cnn_pool", {"preset": "cnn_pool", "depth": 3},
          "cnn_nopool"]
QUICK_MODELS = ["mlp", "cnn_pool", {"preset": "cnn_pool", "depth": 3}]
# (n_train, evaluation images): the harness's size varies with n, so its fixed cost separates too.
SIZES = [(1000, 100), (3000, 300), (9000, 900)]
MINI_SIZES = [(500, 100), (1500, 300), (5000, 900)]  # without the full data: fashion_mnist_mini has 6000
QUICK_SIZES = [(500, 100), (2000, 300)]
AUGMENTATIONS = {"device": {"shift": 3, "rotate": 15, "scale": [0.9, 1.1], "path": "device"},
                 "albumentations": {"shift": 3, "rotate": 15, "scale": [0.9, 1.1], "path": "albumentations"}}
# The first epoch traces and compiles; the steady epoch is the faster of the later ones
# (the timeit convention: on a shared machine other load only ever adds time).
EPOCHS, BATCH = 3, 128
SWEEPS = {"dx": "-6:6:2", "angle": "-30:30:15"}  # 13 points with the clean pass


def study(name: str, dataset: str, models: list, n_train: int, samples: int, augmentation: list) -> dict:
    return {"name": name, "dataset": dataset, "models": models, "augmentation": augmentation,
            "train": {"epochs": EPOCHS, "batch_size": BATCH}, "n_train": [n_train], "seeds": [0],
            "evaluate": {"samples": samples, "sweeps": SWEEPS}}


def measure(spec: dict, out_dir: Path) -> list[dict]:
    """Runs every run of ``spec`` through ``execute_run``; one record of times per run."""
    import pandas as pd

    from invariance.study.estimate import evaluation_points
    from invariance.study.expand import expand_runs
    from invariance.study.loader import load_study
    from invariance.study.context import build_context
    from invariance.study.execute import execute_run

    loaded = load_study(spec)
    context = build_context(loaded)
    points = evaluation_points(context.evaluate)
    records = []
    for run in expand_runs(loaded, context.dataset.fingerprint(), n_total=len(context.dataset.y_train)):
        run_dir = out_dir / run.run_id
        result = execute_run(run, run_dir, context)
        if result["status"] != "completed":
            raise SystemExit(f"{run.model_label} n={run.n_train}: {result['reason']}")
        metrics = json.loads((run_dir / "metrics.json").read_text())
        epochs = pd.read_csv(run_dir / "history.csv")["seconds"].tolist()
        records.append({
            "model": run.model_label, "augmentation": run.augmentation_label, "n_fit": metrics["n_fit"],
            "n_predicted": metrics["n_fit"] + metrics["n_val"] + metrics["n_test"], "macs": metrics["macs"],
            "params": metrics["params"], "epochs": epochs, "steady_epoch": min(epochs[1:] or epochs),
            "seconds": result["seconds"],
            "metrics_seconds": metrics["metrics_seconds"], "eval_seconds": result["eval_seconds"],
            "pairs": points * len(context.y_eval), "batch_size": BATCH,
        })
        print(f"  {run.model_label:<20} {run.augmentation_label[:30]:<30} n_fit={metrics['n_fit']:>6} "
              f"run {result['seconds']:6.2f} s  epochs {', '.join(f'{e:.2f}' for e in epochs)}", flush=True)
    return records


def fit_power_law(n: list[float], seconds: list[float]) -> tuple[float, float]:
    """(k, alpha) of seconds = k * n^alpha, least squares on log-log axes (alpha=1 for one point).

    alpha is kept in [0, 1.5]: more data never takes less time, and a slope outside that is
    the noise of a shared machine (for the smallest models the per-epoch fixed cost makes
    the true slope close to 0 over these sizes).
    """
    if len(set(n)) < 2:
        return seconds[0] / n[0], 1.0
    x, y = np.log(n), np.log(seconds)
    alpha = float(np.clip(np.polyfit(x, y, 1)[0], 0.0, 1.5))
    return float(math.exp(np.mean(y - alpha * x))), alpha


def fit_affine(x: list[float], seconds: list[float]) -> tuple[float, float]:
    """(fixed, per_unit) >= 0 of seconds = fixed + per_unit * x (non-negative least squares)."""
    from scipy.optimize import nnls

    if len(set(x)) < 2:
        return 0.0, seconds[0] / max(x[0], 1)
    fixed, per_unit = nnls(np.column_stack([np.ones(len(x)), x]), np.asarray(seconds, dtype=float))[0]
    return float(fixed), float(per_unit)


def fixed_seconds(r: dict) -> float:
    """A run's cost beyond its epochs, final accuracies and harness (build, save), plus its first
    epoch's excess over a steady one (tracing, compiling)."""
    other = r["seconds"] - sum(r["epochs"]) - r["metrics_seconds"] - r["eval_seconds"]
    return max(0.0, other) + max(0.0, r["epochs"][0] - r["steady_epoch"])


def fit_mac_model(records: list[dict], eval_batch: int) -> dict:
    """The fallback constants of invariance.study.estimate.CostModel, fitted to every run."""
    from scipy.optimize import nnls

    a = np.array([[math.ceil(r["n_fit"] / r["batch_size"]), r["n_fit"] * r["macs"]] for r in records])
    step, per_mac = nnls(a, np.array([r["steady_epoch"] for r in records]))[0]
    b = np.array([[math.ceil(r["pairs"] / eval_batch), (r["pairs"] + r["n_predicted"]) * r["macs"]] for r in records])
    per_batch, eval_per_mac = nnls(b, np.array([r["eval_seconds"] + r["metrics_seconds"] for r in records]))[0]
    return {"train_macs_per_second": 1.0 / max(per_mac, 1e-15), "eval_macs_per_second": 1.0 / max(eval_per_mac, 1e-15),
            "per_train_step": float(step), "per_eval_batch": float(per_batch),
            "per_run": float(statistics.median(fixed_seconds(r) for r in records)), "eval_batch_size": eval_batch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 models x 2 sizes, no augmentation runs")
    parser.add_argument("--dataset", default=None,
                        help="default: fashion_mnist when available, else fashion_mnist_mini")
    parser.add_argument("--out", default=None, help="write the cost table (JSON) here")
    args = parser.parse_args()

    import keras

    from invariance.harness.evaluation import DEFAULT_BATCH_SIZE
    from invariance.provenance import provenance

    from invariance.data import load_dataset

    dataset = args.dataset
    if dataset is None:  # the full data when it is here: studies train at these sizes
        try:
            load_dataset("fashion_mnist")
            dataset = "fashion_mnist"
        except Exception:
            dataset = "fashion_mnist_mini"
    models = QUICK_MODELS if args.quick else MODELS
    sizes = QUICK_SIZES if args.quick else (SIZES if dataset != "fashion_mnist_mini" else MINI_SIZES)
    load = [os.getloadavg()[0]]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="scaling-") as tmp:
        print(f"{len(models) * len(sizes)} runs on {dataset}: {len(models)} models x (n_train, evaluation images) "
              f"{sizes}, {EPOCHS} epochs, batch {BATCH}")
        records = []
        for n, samples in sizes:
            records += measure(study(f"scaling_{n}", dataset, models, n, samples, ["none"]), Path(tmp))
        aug_records = []
        if not args.quick:
            n, samples = sizes[-1]
            # With a plain run beside them, so the slowdowns compare runs measured back to back.
            aug_records = measure(study("scaling_aug", dataset, ["cnn_pool"], n, samples,
                                        ["none", *AUGMENTATIONS.values()]), Path(tmp) / "augmentation")
    load.append(os.getloadavg()[0])
    prov = provenance()

    table: dict[str, dict] = {}
    for label in dict.fromkeys(r["model"] for r in records):
        rows = [r for r in records if r["model"] == label]
        k, alpha = fit_power_law([r["n_fit"] for r in rows], [r["steady_epoch"] for r in rows])
        predict_fixed, predict_per_image = fit_affine([r["n_predicted"] for r in rows],
                                                      [r["metrics_seconds"] for r in rows])
        eval_fixed, eval_per_pair = fit_affine([r["pairs"] for r in rows], [r["eval_seconds"] for r in rows])
        table[label] = {
            "macs": rows[0]["macs"], "params": rows[0]["params"], "k": k, "alpha": alpha,
            "n_max": max(r["n_fit"] for r in rows),
            "per_run": statistics.median(fixed_seconds(r) for r in rows),
            "predict_fixed": predict_fixed, "predict_per_image": predict_per_image,
            "eval_fixed": eval_fixed, "eval_per_pair": eval_per_pair,
            "measured": [{"n_fit": r["n_fit"], "epoch_seconds": round(r["steady_epoch"], 4),
                          "run_seconds": round(r["seconds"], 3)} for r in rows],
        }
    augmentation = {}
    if aug_records:
        plain, *augmented = aug_records
        for path, r in zip(AUGMENTATIONS, augmented):
            augmentation[path] = round(r["steady_epoch"] / plain["steady_epoch"], 3)

    print(f"\nbackend {keras.backend.backend()}, {prov['device']}; load average {load[0]:.1f} -> {load[1]:.1f}; "
          f"{time.perf_counter() - start:.0f} s")
    print(f"seconds per run ({EPOCHS} epochs, final accuracies, a 13-point harness on the evaluation images); "
          f"k, alpha: steady epoch seconds = k * n_fit^alpha")
    head = "".join(f"{'n=' + str(r['n_fit']):>10}" for r in next(iter(table.values()))["measured"])
    print(f"{'model':<20} {'MACs':>8}{head} {'k':>10} {'alpha':>6} {'fixed s':>8} {'epoch@54k s':>12}")
    from invariance.study.estimate import ModelCost
    for label, m in table.items():
        cells = "".join(f"{p['run_seconds']:>10.2f}" for p in m["measured"])
        print(f"{label:<20} {m['macs'] / 1e6:>7.2f}M{cells} {m['k']:>10.2e} {m['alpha']:>6.2f} {m['per_run']:>8.2f} "
              f"{ModelCost(m['k'], m['alpha'], 0, 0, 0, n_max=m['n_max']).epoch_seconds(54000):>12.1f}")
    if augmentation:
        print("augmentation slowdown of a cnn_pool epoch: " + ", ".join(f"{k} x{v}" for k, v in augmentation.items()))

    cost = fit_mac_model(records, DEFAULT_BATCH_SIZE)
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    basis = (f"benchmarks/scaling.py{' --quick' if args.quick else ''} on {prov['device']}, {prov['backend']}, "
             f"{when}, load average {max(load):.1f}")
    cost["basis"] = basis
    document = {"format": 1, "basis": basis, "backend": prov["backend"], "device": prov["device"],
                "batch_size": BATCH, "dataset": dataset, "epochs_measured": EPOCHS,
                "load_average": [round(v, 2) for v in load], "cost": cost, "augmentation": augmentation,
                "models": table}
    if args.out:
        from invariance.io import write_json

        write_json(Path(args.out), document)
        print(f"wrote {args.out}")

    # How well the table predicts the runs it was fitted on (sum of estimates / sum of runs).
    from invariance.study.estimate import CostTable

    cost_table = CostTable.from_dict(document)
    estimated = sum(cost_table.run_seconds(model=r["model"], macs=r["macs"], n_fit=r["n_fit"], n_predicted=r["n_predicted"],
                                           epochs=EPOCHS, batch_size=BATCH, pairs=r["pairs"]) for r in records)
    fallback = sum(cost_table.run_seconds(model="(not in the table)", macs=r["macs"], n_fit=r["n_fit"],
                                          n_predicted=r["n_predicted"], epochs=EPOCHS, batch_size=BATCH,
                                          pairs=r["pairs"]) for r in records)
    measured = sum(r["seconds"] for r in records)
    print(f"estimate / measured over these runs: table {estimated / measured:.3f}, MAC fallback {fallback / measured:.3f}")
    print(json.dumps({
        "scaling": {label: {"k": round(m["k"], 8), "alpha": round(m["alpha"], 3), "fixed_seconds": round(m["per_run"], 2)}
                    for label, m in table.items()},
        "estimate_vs_measured": round(estimated / measured, 3), "fallback_vs_measured": round(fallback / measured, 3),
        "augmentation_slowdown": augmentation, "backend": prov["backend"], "runs": len(records) + len(aug_records),
        "load_average": [round(v, 2) for v in load],
    }))


if __name__ == "__main__":
    main()
