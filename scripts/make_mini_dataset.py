#!/usr/bin/env python
"""Builds the bundled ``fashion_mnist_mini`` dataset from the full Fashion-MNIST.

``fashion_mnist_mini`` is the offline default for the quickstart and the tests: a stratified
subset of Fashion-MNIST with exactly ``--train-per-class`` training and ``--test-per-class``
test images of each of the 10 classes, drawn with a fixed seed by the toolkit's own
:func:`invariance.data.subsets.nested_subset` (so it is the prefix of the class-interleaved
order that the data-size ablations use) and then put back in the original order.

The full data comes from ``load_dataset("fashion_mnist")``: ``--data-dir``, the Keras cache or
Debian's ``/usr/share/datasets/fashion-mnist`` (``apt-get install dataset-fashion-mnist``).

Re-runnable: the same inputs give a byte-identical file (fixed zip timestamps), whose size
and sha256 are printed. The file must stay <= 4 MB; the script refuses to write a larger one.

Usage::

    python scripts/make_mini_dataset.py                 # 600 + 100 per class, seed 0
    python scripts/make_mini_dataset.py --out /tmp/mini.npz --train-per-class 300

The file holds x_train (N, 28, 28) uint8, y_train (N,) uint8, x_test, y_test, class_names,
and train_index / test_index: each image's index in the full Fashion-MNIST arrays.
Fashion-MNIST is (c) 2017 Zalando SE, MIT licence; see bundled/LICENSE-fashion-mnist.txt.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np

from invariance.data import load_dataset
from invariance.data.npz import save_npz
from invariance.data.subsets import class_counts, nested_subset

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "invariance" / "data" / "bundled" / "fashion_mnist_mini.npz"
MAX_BYTES = 4 * 1024 * 1024


def select(labels: np.ndarray, per_class: int, *, seed: int) -> np.ndarray:
    """Sorted indices of exactly ``per_class`` images of every class (int64, shape (K*per_class,))."""
    k = int(labels.max()) + 1
    idx = np.sort(nested_subset(labels, per_class * k, seed=seed))
    counts = class_counts(labels[idx], k)
    if not np.all(counts == per_class):
        raise SystemExit(f"cannot take {per_class} images of every class; per-class counts {counts.tolist()}")
    return idx


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="where the full Fashion-MNIST is (default: search)")
    parser.add_argument("--train-per-class", type=int, default=600)
    parser.add_argument("--test-per-class", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    full = load_dataset("fashion_mnist", data_dir=args.data_dir)
    print(f"full data: {full.source} ({len(full.y_train)} train, {len(full.y_test)} test)")
    train_idx = select(full.y_train, args.train_per_class, seed=args.seed)
    test_idx = select(full.y_test, args.test_per_class, seed=args.seed)
    arrays = {
        "x_train": full.x_train[train_idx, :, :, 0],
        "y_train": full.y_train[train_idx].astype(np.uint8),
        "x_test": full.x_test[test_idx, :, :, 0],
        "y_test": full.y_test[test_idx].astype(np.uint8),
        "class_names": np.array(full.class_names),
        "train_index": train_idx.astype(np.int32),
        "test_index": test_idx.astype(np.int32),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".candidate")
    save_npz(tmp, arrays)
    size = tmp.stat().st_size
    if size > MAX_BYTES:
        tmp.unlink()
        print(f"error: {size} bytes is over the {MAX_BYTES}-byte limit; use fewer images per class",
              file=sys.stderr)
        return 1
    tmp.replace(args.out)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out}: {len(train_idx)} train + {len(test_idx)} test images "
          f"({args.train_per_class} + {args.test_per_class} per class, seed {args.seed})")
    print(f"size {size} bytes ({size / 2**20:.2f} MiB)")
    print(f"sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
