"""Study overhead: what a user waits for, divided by the runs' pure train + evaluate time.

It runs a small study through the real command, ``invariance run STUDY.yaml --fresh
--quiet``, in a subprocess timed from the outside: interpreter start-up, imports, data
loading, every run, the tables, the curves, the report and the process exit. By default the
study is ``studies/quickstart.yaml`` (the README's first command: fashion_mnist_mini, 3
models x 2 augmentations, 2 epochs, 3 sweeps over 500 test images); ``--quick`` shrinks it
with ``--set`` (1 epoch, 2000 images, 200 evaluation images). The subprocess is the console
entry point ``invariance.cli.main()`` with timestamps added around ``run_study``, the data
loading, the table rebuilds and the report (monkeypatched; nothing else changes).

The denominator is the sum over runs of the work itself, read back from the run files:

* ``train``: the trainer's epochs (``metrics.json`` ``train_seconds``: every ``fit`` epoch,
  first-epoch tracing included, with its validation pass);
* ``evaluate``: the harness's transform sweeps (the runner's ``eval_seconds`` in
  ``status.json``) plus the trainer's final test/train/validation accuracy passes
  (``metrics.json`` ``metrics_seconds``).

Everything else is overhead: start-up and imports, data loading, model building, saving
(``model.keras``, the per-epoch resume backup), table rebuilds, progress, the exit. The
headline ``study_overhead`` leaves out the curves, figures and report (they run once per
study, whatever its size; reported as ``report_seconds``); ``study_overhead_with_report``
keeps them. ``per_run_overhead`` (the runs' wall time over their pure time) and
``fixed_seconds`` (start-up, data, exit) let you work out the ratio of a study of any size:
``per_run_overhead + fixed_seconds / pure_seconds``.

Prints a table, then one JSON line (the last line).

Usage:
    python benchmarks/study_overhead.py [--quick] [--study FILE] [--jobs N] [--set KEY=VALUE ...] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUICK = ["train.epochs=1", "n_train=[2000]", "evaluate.samples=200"]

# The subprocess: the console entry point, with timestamps around the parts (a JSON file).
WRAPPER = textwrap.dedent("""\
    import json, sys, time
    t0 = time.time()
    timing_file = sys.argv.pop(1)
    import invariance.cli, invariance.study as study_api, invariance.study.runner as runner
    import keras  # the first run imports it anyway; counted as start-up
    stamps = {"t0": t0, "imported": time.time(), "backend": keras.backend.backend(), "spans": {}}
    def timed(module, name, key, last=False):
        original = getattr(module, name)
        def wrapper(*args, **kwargs):
            start = time.time()
            stamps.setdefault("first_" + key, start)
            try:
                return original(*args, **kwargs)
            finally:
                stamps["spans"][key] = stamps["spans"].get(key, 0.0) + time.time() - start
                if last:  # main() ends the process right after (no interpreter teardown)
                    stamps["end"] = time.time()
                    with open(timing_file, "w") as fh:
                        json.dump(stamps, fh)
        setattr(module, name, wrapper)
    timed(runner, "_post_process", "report")
    timed(runner, "build_context", "data")
    timed(runner, "write_tables", "tables")
    timed(study_api, "run_study", "run_study", last=True)
    sys.argv[0] = "invariance"
    invariance.cli.main()
""")


def read_runs(study_dir: Path) -> list[dict]:
    """Per run: its times from the trainer's metrics.json and the runner's status.json."""
    out = []
    for run_dir in sorted((study_dir / "runs").iterdir()):
        status = json.loads((run_dir / "status.json").read_text())
        metrics = json.loads((run_dir / "metrics.json").read_text())
        out.append({"run_id": run_dir.name, "model": status.get("model"), "augmentation": status.get("augmentation"),
                    "status": status.get("status"), "seconds": status.get("seconds") or 0.0,
                    "train_seconds": metrics.get("train_seconds") or 0.0,
                    "metrics_seconds": metrics.get("metrics_seconds") or 0.0,
                    "eval_seconds": status.get("eval_seconds") or 0.0})
    return out


def measure(study_file: Path, out_dir: Path, *, jobs: int, sets: list[str]) -> dict:
    """Runs the study once in a subprocess; returns its wall time, its parts and its runs."""
    timing = out_dir / "timing.json"
    cmd = [sys.executable, "-c", WRAPPER, str(timing), "run", str(study_file), "--out", str(out_dir), "--fresh",
           "--quiet", "--jobs", str(jobs)]
    for item in sets:
        cmd += ["--set", item]
    start = time.time()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    wall = time.time() - start
    if proc.returncode != 0 or not timing.is_file():
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"the study failed (exit {proc.returncode})")
    stamps = json.loads(timing.read_text())
    spans = stamps["spans"]
    name = json.loads(next(out_dir.glob("*/manifest.json")).read_text())["study"]
    return {"wall": wall, "startup": stamps["imported"] - start,
            "cli": stamps["first_run_study"] - stamps["imported"],
            "data": spans.get("data", 0.0), "tables": spans.get("tables", 0.0), "report": spans.get("report", 0.0),
            "exit": start + wall - stamps["end"], "runs": read_runs(out_dir / name), "backend": stamps["backend"],
            "name": name}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", default=str(ROOT / "studies" / "quickstart.yaml"), help="the study file")
    parser.add_argument("--quick", action="store_true", help="a smaller study: " + " ".join(QUICK))
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="passed on to invariance run --set (repeatable)")
    parser.add_argument("--jobs", type=int, default=1, help="--jobs of the study (1: sequential)")
    parser.add_argument("--keep", default=None, help="write the results here and keep them (default: a temp dir)")
    args = parser.parse_args()
    sets = (QUICK if args.quick else []) + args.sets

    with tempfile.TemporaryDirectory(prefix="study-overhead-") as tmp:
        out_dir = Path(args.keep) if args.keep else Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        load = [os.getloadavg()[0]]
        m = measure(Path(args.study), out_dir, jobs=args.jobs, sets=sets)
        load.append(os.getloadavg()[0])

    runs = m["runs"]
    parallel = max(1, min(args.jobs, len(runs)))
    train = sum(r["train_seconds"] for r in runs)
    final_metrics = sum(r["metrics_seconds"] for r in runs)
    harness = sum(r["eval_seconds"] for r in runs)
    pure = train + final_metrics + harness
    in_runs = sum(r["seconds"] for r in runs)
    wall, report = m["wall"], m["report"]
    floor = pure / parallel  # with --jobs N the runs overlap: the floor is the work over N workers
    fixed = {"start-up and imports (process start to CLI)": m["startup"],
             "reading the study (CLI, before run_study)": m["cli"],
             "loading the data and the evaluation set": m["data"],
             "rebuilding the study tables": m["tables"],
             "summary and process exit": m["exit"]}
    rest = wall - report - sum(fixed.values()) - in_runs / parallel

    print(f"study {m['name']} ({Path(args.study).name}{' --set ' + ' '.join(sets) if sets else ''}): "
          f"{len(runs)} runs, --jobs {args.jobs}; backend {m['backend']}; {os.cpu_count()} cores, "
          f"load average {load[0]:.1f} -> {load[1]:.1f}")
    print(f"{'run':<12} {'model':<10} {'augmentation':<44} {'train s':>8} {'metrics s':>9} {'harness s':>9} "
          f"{'run s':>7} {'other s':>8}")
    for r in runs:
        other = r["seconds"] - r["train_seconds"] - r["metrics_seconds"] - r["eval_seconds"]
        print(f"{r['run_id']:<12} {r['model'][:10]:<10} {r['augmentation'][:44]:<44} {r['train_seconds']:>8.2f} "
              f"{r['metrics_seconds']:>9.2f} {r['eval_seconds']:>9.2f} {r['seconds']:>7.2f} {other:>8.2f}")
    div = f" / {parallel}" if parallel > 1 else ""
    print(f"\n{'where the wall time went':<50} {'seconds':>8} {'share':>7}")
    rows = [(f"pure train + evaluate (sum over runs{div})", floor),
            ("  train (fit epochs)", train / parallel),
            ("  final accuracies (test/train/val)", final_metrics / parallel),
            ("  harness sweeps", harness / parallel),
            ("per-run other (build, save, backup, clear)", (in_runs - pure) / parallel),
            *fixed.items(),
            ("the rest (lock, manifest, progress, pool, ...)", rest),
            ("curves + figures + report (reported apart)", report)]
    for label, seconds in rows:
        print(f"{label:<50} {seconds:>8.2f} {seconds / wall:>7.1%}")
    print(f"{'total wall (what the user waits for)':<50} {wall:>8.2f}")
    fixed_seconds = m["startup"] + m["cli"] + m["data"] + m["exit"]
    result = {
        "study_overhead": round((wall - report) / floor, 3),
        "study_overhead_with_report": round(wall / floor, 3),
        "per_run_overhead": round(in_runs / pure, 3),
        "fixed_seconds": round(fixed_seconds, 2),
        "wall_seconds_study": round(wall, 2), "report_seconds": round(report, 2),
        "startup_seconds": round(m["startup"], 2), "data_seconds": round(m["data"], 2),
        "tables_seconds": round(m["tables"], 2), "exit_seconds": round(m["exit"], 2),
        "pure_seconds": round(floor, 2), "train_seconds": round(train, 2),
        "final_metrics_seconds": round(final_metrics, 2), "harness_seconds": round(harness, 2),
        "per_run_other_seconds": round(in_runs - pure, 2),
        "study": m["name"], "sets": sets, "runs": len(runs), "jobs": args.jobs,
        "backend": m["backend"], "load_average": [round(v, 2) for v in load],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
