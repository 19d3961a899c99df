"""What Keras's running batch-norm averages cost a finished study: each saved model's test
accuracy as it was kept, against the same weights with precise statistics.

    python benchmarks/precise_bn.py results/data_hunger_cpu [more study folders] [--out FOLDER]

For every completed run with a saved ``model.keras`` that has batch norm, the statistics are
recomputed (:func:`invariance.training.batch_norm.recalibrate_batch_norm`) over the images the
trainer now uses (``--images`` of the run's fit images, the same seeded choice) and the full
test set is scored again. The difference is what the running averages cost *at the epoch the
run kept*; a run trained with precise batch norm may also keep another epoch, because its
validation is no longer noisy, so this is the smaller part of the effect. Models trained with
``precise_bn`` already (the default since it exists) change only by float noise.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import invariance  # noqa: F401  (chooses the backend before keras loads)

import pandas as pd

COLUMNS = ["study", "run_id", "model", "augmentation", "n_train", "seed", "trained_git_sha", "recorded", "as_kept",
           "precise", "change"]


def assess_run(run: Path, *, images: int, datasets: dict) -> dict | None:
    """The row of one run folder, or None when it has no saved model or no batch norm."""
    import keras

    from invariance.data import load_dataset, to_float
    from invariance.training.batch_norm import batch_norm_layers, precise_bn_indices, recalibrate_batch_norm
    from invariance.training.evaluation import evaluate_arrays
    from invariance.training.run_data import split_run
    from invariance.training.spec import resolve_train_spec

    if not (run / "model.keras").is_file() or not (run / "spec.json").is_file():
        return None
    model = keras.saving.load_model(run / "model.keras", safe_mode=True)
    if not batch_norm_layers(model):
        return None
    spec = json.loads((run / "spec.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text())
    key = (spec["dataset"]["name"], spec["dataset"].get("canvas"))
    if key not in datasets:
        datasets[key] = load_dataset(key[0], canvas=key[1])
    data = datasets[key]
    x_test, y_test = to_float(data.x_test), data.y_test

    def accuracy() -> float:  # as the trainer scores test_accuracy
        return evaluate_arrays(model, x_test, y_test)[1]

    kept = accuracy()
    split = split_run(data, spec["n_train"], resolve_train_spec(spec["train"]), seed=spec["seed"])
    chosen = split.fit_idx[precise_bn_indices(len(split.fit_idx), count=images, seed=spec["seed"])]
    recalibrate_batch_norm(model, to_float(data.x_train[chosen]), batch_size=512)
    precise = accuracy()
    return {"run_id": run.name, "model": spec.get("model_label") or spec["model"].get("preset"),
            "augmentation": spec.get("augmentation_label") or spec["augmentation"]["kind"],
            "n_train": spec["n_train"], "seed": spec["seed"], "trained_git_sha": metrics.get("git_sha"),
            "recorded": metrics.get("test_accuracy"),
            "as_kept": kept, "precise": precise, "change": precise - kept}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("studies", nargs="+", type=Path, help="study folders (results/<name>)")
    parser.add_argument("--images", type=int, default=4096, help="fit images to recompute over (default 4096)")
    parser.add_argument("--out", type=Path, default=None,
                        help="write assessment.csv (one row per run) and manifest.json (provenance) here")
    args = parser.parse_args(argv)
    rows, datasets = [], {}
    for study in args.studies:
        for run in sorted((study / "runs").iterdir()):
            row = assess_run(run, images=args.images, datasets=datasets)
            if row is not None:
                rows.append({"study": study.name, **row})
                print(f"{study.name} {row['model']} {row['augmentation']} n={row['n_train']} seed {row['seed']}: "
                      f"{row['as_kept']:.4f} -> {row['precise']:.4f}", flush=True)
    table = pd.DataFrame(rows, columns=COLUMNS).drop_duplicates("run_id")  # a run kept in two worktrees
    if args.out is not None:
        from datetime import datetime, timezone

        from invariance.provenance import provenance

        args.out.mkdir(parents=True, exist_ok=True)
        table.to_csv(args.out / "assessment.csv", index=False)
        manifest = {"made_by": "benchmarks/precise_bn.py", "images": args.images,
                    "studies": [str(s) for s in args.studies], "runs": len(table),
                    "created": datetime.now(timezone.utc).isoformat(timespec="seconds"), "provenance": provenance()}
        (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    if len(table):
        summary = table.groupby(["study", "model", "augmentation", "n_train"], dropna=False)["change"].agg(
            ["count", "mean", "min", "max"])
        print((summary * [1, 100, 100, 100]).round(2).rename(columns=lambda c: c if c == "count" else f"{c} (points)")
              .to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
