"""The idx reader: known answers on tiny hand-made files, every header check, and equality
with keras' own parser on the real Fashion-MNIST."""
from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from invariance.data.idx import parse_idx, read_idx, write_idx
from invariance.errors import InvarianceError

DEBIAN = Path("/usr/share/datasets/fashion-mnist")
IDX_GZ = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
          "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")


def require_full_data():
    """Skips only when the Debian files are absent and CI is unset; in CI the test runs (and fails)."""
    if not all((DEBIAN / f).is_file() for f in IDX_GZ) and not os.environ.get("CI"):
        pytest.skip(f"needs the full Fashion-MNIST in {DEBIAN} (apt-get install dataset-fashion-mnist)")


def test_hand_written_label_file_known_answer(tmp_path):
    # magic 0x00000801 (ubyte, 1 dim), size 3, then the values
    path = tmp_path / "labels"
    path.write_bytes(bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 8, 9]))
    y = read_idx(path)
    assert y.dtype == np.uint8 and y.shape == (3,)
    assert y.tolist() == [7, 8, 9]
    assert not y.flags.writeable


def test_hand_written_image_file_known_answer_gz(tmp_path):
    # 2 images of 2x3, values 0..11 in C order
    payload = bytes([0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(12))
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(payload))
    x = read_idx(path)
    assert x.dtype == np.uint8 and x.shape == (2, 2, 3)
    np.testing.assert_array_equal(x, np.arange(12, dtype=np.uint8).reshape(2, 2, 3))


def test_big_endian_multibyte_types_known_answer(tmp_path):
    # int16 big-endian: 0x0102 = 258, 0xFFFE = -2
    path = tmp_path / "shorts"
    path.write_bytes(bytes([0, 0, 0x0B, 1, 0, 0, 0, 2, 0x01, 0x02, 0xFF, 0xFE]))
    y = read_idx(path)
    assert y.dtype == np.int16 and y.tolist() == [258, -2]


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["plain", "packed.gz"])
def test_write_read_round_trip(tmp_path, dtype, name):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype) if dtype != np.uint8 else \
        np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / name, a)
    b = read_idx(tmp_path / name)
    assert b.dtype == np.dtype(dtype).newbyteorder("=")
    np.testing.assert_array_equal(a, b)
    assert ((tmp_path / name).read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")


BAD_FILES = {
    # name: (bytes, words the message must contain)
    "too short": (b"\x00\x00", ["4-byte magic", "received 2 bytes"]),
    "nonzero magic": (bytes([1, 0, 8, 1, 0, 0, 0, 1, 5]), ["two zero bytes", "01000801"]),
    "unknown type": (bytes([0, 0, 0x0A, 1, 0, 0, 0, 1, 5]), ["type code", "0x08", "0x0A"]),
    "zero dims": (bytes([0, 0, 8, 0]), ["dimensions", "received 0"]),
    "short header": (bytes([0, 0, 8, 3, 0, 0, 0, 1]), ["header needs 16 bytes", "received 8"]),
    "truncated data": (bytes([0, 0, 8, 1, 0, 0, 0, 4, 1, 2]), ["needs 12 bytes", "received 10", "truncated"]),
    "extra data": (bytes([0, 0, 8, 1, 0, 0, 0, 1, 1, 2]), ["needs 9 bytes", "received 10"]),
    "bad gzip": (b"\x1f\x8b\x08\x00garbage", ["cannot read idx file"]),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_fail_clearly(tmp_path, case):
    data, words = BAD_FILES[case]
    path = tmp_path / "bad-idx"
    path.write_bytes(data)
    with pytest.raises(InvarianceError) as info:
        read_idx(path)
    message = str(info.value)
    assert str(path) in message
    for word in words:
        assert word in message, (word, message)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(InvarianceError, match="nope"):
        read_idx(tmp_path / "nope")


def test_parse_idx_matches_keras_style_offset_parse():
    # keras skips 8 (labels) / 16 (images) header bytes; ours must give the same array
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    payload = bytes([0, 0, 8, 3]) + np.array(images.shape, ">u4").tobytes() + images.tobytes()
    expected = np.frombuffer(payload, np.uint8, offset=16).reshape(5, 4, 3)
    np.testing.assert_array_equal(parse_idx(payload), expected)


def test_loader_equals_keras_parser_on_the_full_data(tmp_path):
    """Copies Debian's four .gz files into a fresh KERAS_HOME so that keras' own
    ``fashion_mnist.load_data()`` finds them (no download), then compares with our loader,
    which must find the same files in that Keras cache (before Debian's copy)."""
    require_full_data()
    cache = tmp_path / "keras_home" / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    for name in IDX_GZ:
        shutil.copy(DEBIAN / name, cache / name)
    script = r"""
import json, sys
import numpy as np
import keras
from invariance.data import load_dataset
(xk, yk), (xtk, ytk) = keras.datasets.fashion_mnist.load_data()
ds = load_dataset("fashion_mnist")
out = {
    "source": ds.source,
    "x_train": bool(np.array_equal(ds.x_train[..., 0], xk)),
    "y_train": bool(np.array_equal(ds.y_train, yk)),
    "x_test": bool(np.array_equal(ds.x_test[..., 0], xtk)),
    "y_test": bool(np.array_equal(ds.y_test, ytk)),
    "shapes": [list(ds.x_train.shape), list(ds.x_test.shape)],
    "dtypes": [str(ds.x_train.dtype), str(ds.y_train.dtype)],
}
print(json.dumps(out))
"""
    env = dict(os.environ, KERAS_HOME=str(tmp_path / "keras_home"), INVARIANCE_OFFLINE="1")
    env.pop("INVARIANCE_DATA_DIR", None)
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["source"] == str(cache)
    assert out["x_train"] and out["y_train"] and out["x_test"] and out["y_test"]
    assert out["shapes"] == [[60000, 28, 28, 1], [10000, 28, 28, 1]]
    assert out["dtypes"] == ["uint8", "int64"]
    assert sorted(p.name for p in cache.iterdir()) == sorted(IDX_GZ)  # keras downloaded nothing
