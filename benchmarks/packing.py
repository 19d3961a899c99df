"""Packing: a study of many small runs, one after another vs ``--jobs N`` processes at once.

The goal (issue 9) is for one GPU: a study of 80 small runs finishes >= 3x faster packed
than sequential, because one small run leaves the GPU idle most of the time (Python, kernel
launches, copies, compilation). On a CPU the cores are the limit, so expect about the
number of cores at best.

Both variants run the real runner (``run_study`` with the local executor, ``--fresh``, no
report: it is the same single cost in both) in a fresh subprocess, each with its own empty
JAX compilation cache, so neither inherits the other's compiled programs. The study:
fashion_mnist_mini (bundled), 4 small models x 2 training sizes x seeds, 2 epochs, a
5-point shift sweep on 200 images.

Prints a table, then one JSON line (the last line) with ``packing_speedup``.

Usage:
    python benchmarks/packing.py [--runs 80] [--jobs N] [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODELS = ["cnn_pool", "mlp", "lenet5", {"preset": "cnn_pool", "depth": 1}]
SIZES = [1000, 2000]

DRIVER = """\
import json, sys, time
from invariance.study import run_study
summary = run_study(sys.argv[1], out_dir=sys.argv[2], jobs=int(sys.argv[3]), fresh=True, quiet=True, post=False)
print(json.dumps({"completed": summary.completed, "failed": len(summary.failed), "wall": summary.wall_seconds}))
"""


def study(runs: int, epochs: int) -> dict:
    seeds = max(1, -(-runs // (len(MODELS) * len(SIZES))))
    return {"name": "packing", "dataset": "fashion_mnist_mini", "models": MODELS, "augmentation": ["none"],
            "train": {"epochs": epochs, "batch_size": 128}, "n_train": SIZES, "seeds": list(range(seeds)),
            "evaluate": {"samples": 200, "sweeps": {"dx": "-4:4:2"}}}


def run(study_file: Path, out: Path, jobs: int, cache: Path) -> dict:
    env = dict(os.environ, JAX_COMPILATION_CACHE_DIR=str(cache), PYTHONUNBUFFERED="1")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", DRIVER, str(study_file), str(out), str(jobs)], capture_output=True,
                          text=True, env=env)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"--jobs {jobs} failed (exit {proc.returncode})")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_wall"] = wall
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=80)
    parser.add_argument("--jobs", type=int, default=min(8, os.cpu_count() or 1))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="8 runs of 1 epoch")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.epochs = 8, 1

    import invariance  # noqa: F401  (the backend, as the runs will see it)
    from invariance.io import write_text
    from invariance.yaml_io import dump_yaml

    backend = os.environ["KERAS_BACKEND"]
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="packing-") as tmp:
        tmp = Path(tmp)
        study_file = tmp / "packing.yaml"
        spec = study(args.runs, args.epochs)
        write_text(study_file, dump_yaml(spec))
        sequential = run(study_file, tmp / "sequential", 1, tmp / "cache-sequential")
        packed = run(study_file, tmp / "packed", args.jobs, tmp / "cache-packed")
    load.append(os.getloadavg()[0])
    runs = sequential["completed"] + sequential["failed"]
    print(f"{runs} runs (4 models x n_train {SIZES} x {len(spec['seeds'])} seeds, {args.epochs} epochs), "
          f"backend {backend}, {os.cpu_count()} cores, load average {load[0]:.1f} -> {load[1]:.1f}")
    print(f"{'variant':<14} {'seconds':>8} {'s/run':>7} {'completed':>9}")
    for name, r in (("sequential", sequential), (f"--jobs {args.jobs}", packed)):
        print(f"{name:<14} {r['process_wall']:>8.1f} {r['process_wall'] / runs:>7.2f} {r['completed']:>9}")
    speedup = sequential["process_wall"] / packed["process_wall"]
    print(json.dumps({"packing_speedup": round(speedup, 3), "sequential_seconds": round(sequential["process_wall"], 2),
                      "packed_seconds": round(packed["process_wall"], 2), "runs": runs, "jobs": args.jobs,
                      "epochs": args.epochs, "backend": backend, "failed": sequential["failed"] + packed["failed"],
                      "load_average": [round(v, 2) for v in load]}))


if __name__ == "__main__":
    main()
