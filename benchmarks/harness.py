"""Benchmark: the invariance harness vs the inference floor and vs a naive per-image loop.

Times one sweep of T points over N images on the same model (the zoo's two-block
``cnn_pool``, or an equivalent local CNN if the zoo is absent), three ways:

* harness: ``invariance.harness.evaluate(model, x, y, sweeps={"dx": ...})``, everything
  included (building its inference function, the clean pass, metrics);
* floor: a bare ``model.predict`` over the same T x N images, transformed beforehand (the
  transform's cost is left out), at the harness's batch size;
* naive: what one writes without the harness: for each point, a Python loop applying
  albumentations ``Affine`` to each image, then ``model.predict`` on that point's images
  (Keras' default batch size). This is the strong naive baseline: its forward passes are
  batched too. The still more literal loop, one ``model.predict`` per (image, point) pair,
  is reported beside it (``naive_per_pair_vs_harness``, extrapolated from 40 pairs).

Each method runs ``--reps`` times, interleaved. The headline ratios use each method's best
time (timeit's convention: on a shared machine the slower repetitions measure the other
processes); the ratios of the median times are reported beside them (``*_median``), with
every raw timing. The final line is JSON with ``harness_vs_inference`` (goal <= 1.10) and
``naive_vs_harness`` (goal >= 5), plus the stricter floor of a bare ``predict_on_batch``
loop at the same batch size.

Usage:
    python benchmarks/harness.py [--quick] [--images N] [--sweep dx=-8:8:1] [--reps R]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

import invariance  # noqa: F401  # chooses the Keras backend first


def build_cnn(input_shape, num_classes):
    try:
        from invariance.models import build_model

        return build_model("cnn_pool", input_shape, num_classes, seed=0), "cnn_pool (zoo)"
    except ImportError:
        import keras
        from keras import layers

        keras.utils.set_random_seed(0)
        inp = keras.Input(input_shape)
        h = inp
        for ch in (32, 64):
            h = layers.Conv2D(ch, 3, padding="same", activation="relu")(h)
            h = layers.MaxPooling2D(2)(h)
        h = layers.Dense(128, activation="relu", name="embedding")(layers.Flatten()(h))
        return keras.Model(inp, layers.Dense(num_classes, name="logits")(h)), "local two-block CNN"


def load_images(n):
    try:
        from invariance.data import load_dataset
        from invariance.harness import evaluation_set

        x, y, _, description = evaluation_set(load_dataset("fashion_mnist_mini"), n)
        return x, y, description
    except Exception as err:  # no data layer: random images are as good for timing
        rng = np.random.default_rng(0)
        return (rng.random((n, 28, 28, 1)).astype("float32"), rng.integers(0, 10, n),
                f"{n} random 28x28 images ({type(err).__name__})")


def naive(model, x, points):
    """Per-image albumentations, then model.predict per point: the loop the harness replaces."""
    import albumentations as A
    import cv2

    outputs = []
    for dx, dy, angle, scale in points:
        aug = A.Affine(translate_px={"x": int(dx), "y": int(dy)}, rotate=angle, scale=scale, p=1.0,
                       border_mode=cv2.BORDER_CONSTANT, fill=0, interpolation=cv2.INTER_LINEAR)
        moved = np.stack([aug(image=img)["image"] for img in x]).reshape(x.shape)
        outputs.append(model.predict(moved, verbose=0))
    return np.stack(outputs, axis=1)


def naive_per_pair_seconds(model, x, points, pairs=40):
    """Seconds per (image, point) pair of the most literal loop: albumentations, then
    ``model.predict`` on that one image. Measured on ``pairs`` pairs and extrapolated."""
    import albumentations as A
    import cv2

    start = time.perf_counter()
    for i in range(pairs):
        dx, dy, angle, scale = points[i % len(points)]
        aug = A.Affine(translate_px={"x": int(dx), "y": int(dy)}, rotate=angle, scale=scale, p=1.0,
                       border_mode=cv2.BORDER_CONSTANT, fill=0)
        model.predict(aug(image=x[i % len(x)])["image"].reshape((1,) + x.shape[1:]), verbose=0)
    return (time.perf_counter() - start) / pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repetition")
    parser.add_argument("--images", type=int, default=None, help="N (default 1000; 200 with --quick)")
    parser.add_argument("--sweep", default="dx=-8:8:1", help="AXIS=VALUES (integer shifts: albumentations takes px)")
    parser.add_argument("--reps", type=int, default=None, help="repetitions (default 5; 1 with --quick)")
    parser.add_argument("--batch-size", type=int, default=512)
    args = parser.parse_args()
    n = args.images or (200 if args.quick else 1000)
    reps = args.reps or (1 if args.quick else 5)

    import keras

    from invariance import transforms as T
    from invariance.harness import evaluate, parse_assignments, sweep_points
    from invariance.harness import metrics as M

    (axis, values), = parse_assignments(args.sweep, field="--sweep").items()
    points = sweep_points(axis, values)
    x, y, data_text = load_images(n)
    model, model_text = build_cnn(x.shape[1:], 10)
    bs = args.batch_size
    moved = np.concatenate([keras.ops.convert_to_numpy(T.apply(x, p)) for p in points])  # point-major

    def run_harness():
        return evaluate(model, x, y, sweeps={axis: values}, metrics=("accuracy", "consistency", "kl"),
                        batch_size=bs)

    def run_floor():
        return model.predict(moved, batch_size=bs, verbose=0)

    def run_floor_pob():
        return np.concatenate([model.predict_on_batch(moved[i:i + bs]) for i in range(0, len(moved), bs)])

    def run_naive():
        return naive(model, x, points)

    methods = {"harness": run_harness, "floor_predict": run_floor, "floor_predict_on_batch": run_floor_pob,
               "naive": run_naive}
    # Warm-up: oneDNN kernels, the model's predict function, albumentations' imports.
    evaluate(model, x[:8], y[:8], sweeps={axis: values[:2] if isinstance(values, list) else [1.0]})
    model.predict(moved[:bs], batch_size=bs, verbose=0)
    naive(model, x[:4], points[:1])

    times = {k: [] for k in methods}
    results = {}
    for _ in range(reps):
        for name, fn in methods.items():
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    best = {k: min(v) for k, v in times.items()}
    per_pair = naive_per_pair_seconds(model, x, points)

    # The harness must agree with the naive loop it replaces (albumentations = the shared transform).
    frame = results["harness"]
    harness_acc = frame[(frame.sweep == axis) & (frame.metric == "accuracy")]["value"].to_numpy()
    naive_acc = np.array([M.accuracy(results["naive"][:, i], y) for i in range(len(points))])
    agree = float(np.max(np.abs(harness_acc - naive_acc)))

    summary = {
        "model": model_text, "images": data_text, "N": n, "T": len(points), "pairs": n * len(points),
        "sweep": args.sweep, "batch_size": bs, "reps": reps, "backend": keras.backend.backend(),
        "seconds_best": {k: round(v, 3) for k, v in best.items()},
        "seconds_median": {k: round(v, 3) for k, v in med.items()},
        "seconds_all": {k: [round(t, 3) for t in v] for k, v in times.items()},
        "harness_images_per_second": round(n * len(points) / best["harness"]),
        "max_accuracy_gap_vs_naive": agree,
        "harness_vs_inference": round(best["harness"] / best["floor_predict"], 3),
        "naive_vs_harness": round(best["naive"] / best["harness"], 3),
        "harness_vs_predict_on_batch": round(best["harness"] / best["floor_predict_on_batch"], 3),
        "harness_vs_inference_median": round(med["harness"] / med["floor_predict"], 3),
        "naive_vs_harness_median": round(med["naive"] / med["harness"], 3),
        "harness_vs_predict_on_batch_median": round(med["harness"] / med["floor_predict_on_batch"], 3),
        # Supplementary: one model.predict per (image, point) pair, extrapolated from 40 pairs.
        "naive_per_pair_vs_harness": round(per_pair * n * len(points) / med["harness"], 1),
    }
    print(f"best of {reps}: harness {best['harness']:.2f} s | floor model.predict {best['floor_predict']:.2f} s | "
          f"floor predict_on_batch {best['floor_predict_on_batch']:.2f} s | naive {best['naive']:.2f} s "
          f"({n} images x {len(points)} points)")
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
