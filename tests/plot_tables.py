"""Synthetic study tables in the contract's layout, for the plot and report tests.

Numbers follow simple smooth laws (Gaussian fall-off of accuracy with shift, rotation and
scale; a power-law learning curve) so that figures look like a real study's.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

GEOM = "geometric[shift=4,rotate=20,scale=0.8-1.2]"

# model -> (accuracy at full data, shift sigma px, angle sigma deg, scale sigma, params, macs, a, b, c)
MODELS = {
    "allconv": (0.905, 3.0, 22.0, 0.18, 120_000, 9_000_000, 0.085, 2.2, 0.42),
    "cnn_nopool": (0.900, 1.6, 18.0, 0.14, 420_000, 6_000_000, 0.09, 2.5, 0.40),
    "cnn_pool": (0.915, 3.4, 20.0, 0.16, 110_000, 5_000_000, 0.075, 2.0, 0.43),
    "mlp": (0.885, 0.8, 12.0, 0.10, 270_000, 270_000, 0.105, 3.5, 0.36),
    "vit_tiny": (0.880, 2.2, 15.0, 0.12, 210_000, 12_000_000, 0.11, 4.0, 0.33),
}
LAYERS = {
    "allconv": ["conv1", "conv2", "conv3", "embedding"],
    "cnn_nopool": ["conv1", "conv2", "embedding"],
    "cnn_pool": ["conv1", "pool1", "conv2", "pool2", "embedding"],
    "mlp": ["dense1", "embedding"],
    "vit_tiny": ["patch_embedding", "block1", "block2", "embedding"],
}


def _run_id(*parts) -> str:
    return hashlib.sha1(repr(parts).encode()).hexdigest()[:12]


def make_tables(*, models=("cnn_nopool", "cnn_pool", "mlp"), augmentations=("none", GEOM), seeds=(0, 1, 2),
                n_trains=(60000,), small=True, failed=0):
    """Returns (runs, invariance, learning_curves, curves) DataFrames."""
    rng = np.random.default_rng(0)
    dx = np.arange(-4, 5, 1.0) if small else np.arange(-8, 9, 1.0)
    angle = np.arange(-30, 31, 15.0) if small else np.arange(-45, 46, 5.0)
    scale = np.round(np.arange(0.8, 1.21, 0.1), 2) if small else np.round(np.arange(0.6, 1.41, 0.1), 2)
    grid = np.arange(-2, 3, 1.0) if small else np.arange(-6, 7, 1.0)
    runs, rows = [], []
    for model in models:
        acc_full, s_px, s_ang, s_sc, params, macs, a, b, c = MODELS[model]
        for aug in augmentations:
            boost = 1.8 if aug != "none" else 1.0
            for n in n_trains:
                for seed in seeds:
                    rid = _run_id(model, aug, n, seed)
                    acc = min(0.99, 1 - (a + b * n ** -c)) - (0.005 if aug != "none" else 0) + rng.normal(0, 0.004)
                    train_acc = min(1.0, acc + 0.02 + 30 / np.sqrt(n) * (0.25 if "pool" in model else 0.4))
                    status = "completed"
                    reason = ""
                    if failed and len([r for r in runs if r["status"] == "failed"]) < failed and seed == seeds[-1]:
                        status, reason = "failed", "diverged: loss is NaN at epoch 2"
                    runs.append(dict(run_id=rid, model=model, augmentation=aug, n_train=n, seed=seed, status=status,
                                     reason=reason, test_accuracy=acc if status == "completed" else np.nan,
                                     train_accuracy=train_acc if status == "completed" else np.nan,
                                     params=params, macs=macs, train_seconds=5 + n / 2000 + rng.uniform(0, 1),
                                     epochs_run=10))
                    if status != "completed":
                        continue
                    base = dict(run_id=rid, model=model, augmentation=aug, n_train=n, seed=seed, layer="")
                    noise = lambda: rng.normal(0, 0.01)  # noqa: E731

                    def point(sweep, p, f, metrics=("accuracy", "consistency", "kl", "embedding_cosine")):
                        cons = float(np.clip(f + noise(), 0, 1))
                        values = {"accuracy": acc * cons + 0.1 * (1 - cons), "consistency": cons,
                                  "kl": 2.5 * (1 - cons), "embedding_cosine": 0.35 + 0.65 * cons}
                        for m in metrics:
                            rows.append({**base, "sweep": sweep, **p, "metric": m, "value": values[m], "n": 500})
                        return cons

                    rows.append({**base, "sweep": "clean", "dx": 0.0, "dy": 0.0, "angle": 0.0, "scale": 1.0,
                                 "metric": "accuracy", "value": acc, "n": 500})
                    def gauss(v, sigma):
                        return np.exp(-v**2 / (2 * (sigma * boost) ** 2))

                    for sweep, values, fall in (("dx", dx, lambda v: gauss(v, s_px)),
                                                ("angle", angle, lambda v: gauss(v, s_ang)),
                                                ("scale", scale, lambda v: gauss(v - 1, s_sc))):
                        cons_all = []
                        for v in values:
                            p = {"dx": 0.0, "dy": 0.0, "angle": 0.0, "scale": 1.0, sweep: float(v)}
                            cons_all.append(point(sweep, p, fall(v)))
                        rows.append({**base, "sweep": sweep, "dx": np.nan, "dy": np.nan, "angle": np.nan,
                                     "scale": np.nan, "metric": "mean_consistency", "value": float(np.mean(cons_all)),
                                     "n": 500})
                    accs = []
                    for gx in grid:
                        for gy in grid:
                            f = np.exp(-(gx**2 + gy**2) / (2 * (s_px * boost) ** 2)) * (1 - 0.02 * abs(gy))
                            p = {"dx": float(gx), "dy": float(gy), "angle": 0.0, "scale": 1.0}
                            cons = point("translation_map", p, f, ("accuracy", "consistency", "embedding_cosine"))
                            accs.append(acc * cons)
                    rows.append({**base, "sweep": "translation_map", "dx": np.nan, "dy": np.nan, "angle": np.nan,
                                 "scale": np.nan, "metric": "grid_accuracy", "value": min(accs), "n": 500})
                    rows.append({**base, "sweep": "random_k", "dx": np.nan, "dy": np.nan, "angle": np.nan,
                                 "scale": np.nan, "metric": "random_accuracy", "value": acc * (0.8 + 0.1 * boost),
                                 "n": 500})
                    rows.append({**base, "sweep": "random_k", "dx": np.nan, "dy": np.nan, "angle": np.nan,
                                 "scale": np.nan, "metric": "worst_of_k_accuracy", "value": acc * (0.45 + 0.25 * boost),
                                 "n": 500})
                    for li, layer in enumerate(LAYERS[model]):
                        for shift in (1.0, 2.0, 4.0):
                            err = (0.05 + 0.12 * li * (1.5 if "pool" in layer else 1.0)) * np.sqrt(shift) / boost
                            rows.append({**base, "layer": layer, "sweep": "equivariance", "dx": shift, "dy": 0.0,
                                         "angle": 0.0, "scale": 1.0, "metric": "equivariance_error",
                                         "value": err + abs(noise()), "n": 500})
    runs = pd.DataFrame(runs)
    inv = pd.DataFrame(rows)[["sweep", "dx", "dy", "angle", "scale", "metric", "value", "n", "layer", "run_id",
                              "model", "augmentation", "n_train", "seed"]]
    lc = runs[runs["status"] == "completed"][["model", "augmentation", "n_train", "seed", "test_accuracy",
                                              "train_accuracy", "params", "macs", "train_seconds", "run_id"]].copy()
    lc["generalization_gap"] = lc["train_accuracy"] - lc["test_accuracy"]
    summ = inv[inv["metric"].isin(["mean_consistency", "grid_accuracy"])]
    for (sweep, metric), g in summ.groupby(["sweep", "metric"]):
        col = f"{metric}_{sweep}" if metric == "mean_consistency" else f"grid_accuracy_{sweep}"
        lc[col] = lc["run_id"].map(g.set_index("run_id")["value"])
    lc = lc.drop(columns="run_id")
    curves = []
    for model in models:
        _, _, _, _, _, _, a, b, c = MODELS[model]
        for aug in augmentations:
            target = 0.85
            need = (b / (1 - target - a)) ** (1 / c) if 1 - target > a else np.nan
            curves.append(dict(model=model, augmentation=aug, a=a, a_lo=a - 0.01, a_hi=a + 0.01, b=b, b_lo=b * 0.8,
                               b_hi=b * 1.2, c=c, c_lo=c - 0.03, c_hi=c + 0.03, target_accuracy=target,
                               samples_to_target=need, samples_to_target_lo=need * 0.8,
                               samples_to_target_hi=need * 1.25,
                               error_at_max_n=a + b * max(n_trains) ** -c))
    return runs, inv, lc, pd.DataFrame(curves)


STUDY_YAML = """\
name: tiny
dataset: fashion_mnist_mini
models: [cnn_nopool, cnn_pool, mlp]
augmentation: [none, {shift: 4, rotate: 20, scale: [0.8, 1.2]}]
train: {epochs: 1, batch_size: 64}
n_train: [200]
seeds: [0, 1, 2]
evaluate:
  samples: 200
  sweeps: {dx: "-4:4:1", angle: "-30:30:15", scale: "0.8:1.2:0.1"}
  grids: {translation_map: {dx: "-2:2:1", dy: "-2:2:1"}}
"""


def write_study(folder, *, curves=True, failed=1, **kwargs) -> Path:
    """Writes a synthetic study folder (no models, so no filter figures) and returns it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    runs, inv, lc, cv = make_tables(failed=failed, **kwargs)
    runs.to_csv(folder / "runs.csv", index=False)
    inv.to_csv(folder / "invariance.csv", index=False)
    if curves:
        lc.to_csv(folder / "learning_curves.csv", index=False)
        cv.to_csv(folder / "curves.csv", index=False)
    (folder / "study.yaml").write_text(STUDY_YAML)
    # the layout invariance.study.runner writes
    counts = {"total": len(runs), "completed": int((runs.status == "completed").sum()),
              "failed": int((runs.status == "failed").sum()), "pending": 0}
    manifest = {"study": "tiny", "started": "2025-01-01T10:00:00+00:00", "finished": "2025-01-01T10:02:30+00:00",
                "wall_seconds": 150.0,
                "provenance": {"backend": "tensorflow", "device": "cpu (2 cores, x86_64)",
                               "versions": {"python": "3.11.2", "keras": "3.15.0", "tensorflow": "2.21.0"},
                               "git_sha": "0123456789abcdef0123456789abcdef01234567"},
                "executor": {"name": "local", "jobs": 1},
                "dataset": {"name": "fashion_mnist_mini", "source": "bundled", "n_train": 6000, "n_test": 1000,
                            "image_shape": [28, 28, 1], "num_classes": 10, "canvas": None, "fingerprint": "abc"},
                "evaluation": {"samples": 200, "images": "first 200 test images", "eval_hash": "def"},
                "counts": counts, "runs": runs["run_id"].tolist()}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return folder


_SHARED: dict[str, Path] = {}


def shared_study(tmp_path_factory) -> Path:
    """One synthetic study with a saved model, its figures and its report, made once per test
    session and shared by the report, figure and browser tests (which only read it)."""
    if "study" not in _SHARED:
        import keras

        import invariance.plots.style as style
        from invariance.report import write_report

        study = write_study(tmp_path_factory.mktemp("shared") / "tiny", models=("cnn_pool", "mlp"), seeds=(0, 1),
                            n_trains=(500, 2000, 8000), failed=1)
        runs = pd.read_csv(study / "runs.csv")
        pick = runs.query("model == 'cnn_pool' and augmentation == 'none' and n_train == 8000 and seed == 0")
        x = keras.Input((28, 28, 1))
        y = keras.layers.Conv2D(6, 3, name="block1_conv1")(x)
        y = keras.layers.GlobalAveragePooling2D(name="embedding")(y)
        model = keras.Model(x, keras.layers.Dense(10, name="logits")(y), name="cnn_pool")
        path = study / "runs" / pick["run_id"].iloc[0] / "model.keras"
        path.parent.mkdir(parents=True)
        model.save(path)
        old, style.N_BOOT = style.N_BOOT, 20  # the CI's accuracy is not under test
        try:
            write_report(study)
        finally:
            style.N_BOOT = old
        _SHARED["study"] = study
    return _SHARED["study"]
