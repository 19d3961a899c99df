"""Runs every benchmark in this folder and prints one table, then one JSON line.

Usage:
    python benchmarks/run_all.py [--only NAME ...] [--quick]

Each benchmark is a script here that prints a final JSON line of ratios measured side by
side in one run (absolute times on a shared machine are noise). This runner starts each in
its own process (so one benchmark's compiled graphs and threads don't colour the next),
collects the JSON lines and compares each ratio with its goal.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# benchmark -> {ratio key: (goal, "min" if higher is better else "max")}
GOALS = {
    "train_throughput": {"trainer_vs_plain_fit": (0.95, "min"), "augmented_vs_plain": (0.85, "min"),
                         "albumentations_vs_plain": (0.6, "min")},
    "harness": {"harness_vs_inference": (1.10, "max"), "naive_vs_harness": (5.0, "min")},
    "study_overhead": {"study_overhead": (1.10, "max")},
    "scaling": {},
    # median epochs of the default recipe to 0.91 test accuracy on full Fashion-MNIST (not in --quick)
    "time_to_accuracy": {"cnn_pool_epochs_to_0.91": (5, "max")},
    # TensorFlow's images/s over JAX's on this machine: why TensorFlow is the CPU default (> 1).
    "backends": {"tensorflow_vs_jax": (1.0, "min")},
    # p4 batch norm on the 4-D map over Keras's batch norm on the 5-D view: p4cnn step time ratio.
    "p4_batch_norm": {"p4_bn_speedup": (1.5, "min")},
}


def run_one(name: str, quick: bool) -> dict:
    cmd = [sys.executable, str(HERE / f"{name}.py")] + (["--quick"] if quick else [])
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    result = None
    for line in reversed(proc.stdout.strip().splitlines()):
        if line.startswith("{"):
            try:
                result = json.loads(line)
                break
            except json.JSONDecodeError:
                continue
    if proc.returncode != 0 or result is None:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return {"error": f"exit {proc.returncode}: " + " | ".join(tail), "wall_seconds": round(seconds, 1)}
    result["wall_seconds"] = round(seconds, 1)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(GOALS), help="benchmarks to run")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    names = args.only or [n for n in GOALS if (HERE / f"{n}.py").exists()]
    results, failed = {}, False
    print(f"{'benchmark':<18} {'ratio':<26} {'value':>8} {'goal':>8}  verdict")
    for name in names:
        res = results[name] = run_one(name, args.quick)
        if "error" in res:
            print(f"{name:<18} {'(failed)':<26} {'':>8} {'':>8}  {res['error']}")
            failed = True
            continue
        for key, (goal, sense) in GOALS[name].items():
            value = res.get(key)
            if value is None:
                print(f"{name:<18} {key:<26} {'n/a':>8} {goal:>8}  missing")
                continue
            ok = value >= goal if sense == "min" else value <= goal
            sign = ">=" if sense == "min" else "<="
            print(f"{name:<18} {key:<26} {value:>8.3f} {sign}{goal:>6}  {'met' if ok else 'MISSED'}")
    print(json.dumps(results, sort_keys=True))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
