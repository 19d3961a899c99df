"""load_dataset end to end: every named dataset from every layout, the search order, the
offline error, npz validation, the black canvas, fingerprints, the bundled mini set and the
``invariance datasets`` command. Everything runs on tiny synthetic files in tmp, with the
download function replaced, except the tests marked as needing the full Fashion-MNIST."""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from invariance.data import (DATASETS, Dataset, clear_cache, dataset_status, load_dataset, pad_to_canvas,
                             to_float)
from invariance.data import sources
from invariance.data.idx import write_idx
from invariance.data.npz import save_npz
from invariance.errors import InvarianceError, SpecError

DEBIAN = Path("/usr/share/datasets/fashion-mnist")
IDX_NAMES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
             "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}


def require_full_data():
    if not DEBIAN.is_dir() and not os.environ.get("CI"):
        pytest.skip(f"needs the full Fashion-MNIST in {DEBIAN} (apt-get install dataset-fashion-mnist)")


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No real Keras cache, no Debian data, no data dir from the environment, and a download
    that fails like an offline machine; records what it was asked to download."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv("INVARIANCE_DATA_DIR", raising=False)
    monkeypatch.delenv("INVARIANCE_OFFLINE", raising=False)
    monkeypatch.setattr(sources, "DEBIAN_FASHION_MNIST", tmp_path / "debian" / "fashion-mnist")
    calls = []

    def offline(name):
        calls.append(name)
        raise RuntimeError("URL fetch failure on https://example.invalid: None -- [Errno -2] Name or service not known")

    monkeypatch.setattr(sources, "_download", offline)
    clear_cache()
    yield calls
    clear_cache()


def _images(n, shape, seed):
    return np.random.default_rng(seed).integers(0, 256, size=(n, *shape), dtype=np.uint8)


def _arrays(shape=(28, 28), n_train=20, n_test=10, seed=0, k=10):
    return {"x_train": _images(n_train, shape, seed), "y_train": (np.arange(n_train) % k).astype(np.uint8),
            "x_test": _images(n_test, shape, seed + 1), "y_test": (np.arange(n_test) % k).astype(np.uint8)}


def _expected(arrays):
    def nhwc(x):
        return x if x.ndim == 4 else x[..., None]
    return (nhwc(arrays["x_train"]), arrays["y_train"].reshape(-1).astype(np.int64),
            nhwc(arrays["x_test"]), arrays["y_test"].reshape(-1).astype(np.int64))


def _write_idx_folder(folder: Path, arrays, *, gz=True):
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in IDX_NAMES.items():
        write_idx(folder / (stem + (".gz" if gz else "")), arrays[key])
    return folder


def _write_cifar_folder(folder: Path, per_batch=3, seed=0):
    """Real CIFAR-10 batch format: dict of data (N, 3072: R, G, B planes) and labels (a list)."""
    folder.mkdir(parents=True, exist_ok=True)
    xs, ys = [], []
    for i, name in enumerate(sources.CIFAR_FILES):
        x = _images(per_batch, (32, 32, 3), seed + i)
        y = [(i + j) % 10 for j in range(per_batch)]
        rows = x.transpose(0, 3, 1, 2).reshape(per_batch, 3072)
        with open(folder / name, "wb") as fh:
            pickle.dump({b"batch_label": b"synthetic", b"labels": y, b"data": rows,
                         b"filenames": [b"f"] * per_batch}, fh, protocol=2)
        xs.append(x)
        ys.append(np.array(y))
    return (np.concatenate(xs[:5]), np.concatenate(ys[:5]).astype(np.int64), xs[5], ys[5].astype(np.int64))


# --- every named dataset from every layout (the table must cover the registry) --------------

def _case_fashion_idx_gz(d):
    a = _arrays()
    return _write_idx_folder(d / "fashion-mnist", a), _expected(a)


def _case_fashion_idx_plain_top_level(d):
    a = _arrays(seed=5)
    _write_idx_folder(d, a, gz=False)
    return d, _expected(a)


def _case_fashion_npz(d):
    a = _arrays(seed=2)
    np.savez(d / "fashion_mnist.npz", **a)
    return d / "fashion_mnist.npz", _expected(a)


def _case_mnist_npz(d):
    a = _arrays(seed=3)  # keras' mnist.npz: uint8 NHW images, uint8 labels
    np.savez_compressed(d / "mnist.npz", **a)
    return d / "mnist.npz", _expected(a)


def _case_mnist_idx(d):
    a = _arrays(seed=4)
    return _write_idx_folder(d / "mnist", a), _expected(a)


def _case_cifar_folder(d):
    return d / "cifar-10-batches-py", _write_cifar_folder(d / "cifar-10-batches-py")


def _case_cifar_keras_extracted(d):
    folder = d / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    return folder, _write_cifar_folder(folder, seed=20)


def _case_cifar_tar(d):
    expected = _write_cifar_folder(d / "staging" / "cifar-10-batches-py", seed=10)
    with tarfile.open(d / "cifar-10-python.tar.gz", "w:gz") as tar:
        tar.add(d / "staging" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    return d / "cifar-10-python.tar.gz", expected


def _case_cifar_npz(d):
    a = _arrays(shape=(32, 32, 3), seed=6)
    a["y_train"] = a["y_train"].reshape(-1, 1)  # keras' CIFAR labels are (N, 1)
    a["y_test"] = a["y_test"].reshape(-1, 1)
    np.savez(d / "cifar10.npz", **a)
    return d / "cifar10.npz", _expected(a)


def _case_mini_bundled(d):
    return sources.BUNDLED_DIR / "fashion_mnist_mini.npz", None


LAYOUT_CASES = {
    # id: (dataset, layout of the Location it must be found in, writer)
    "fashion_mnist/idx-gz": ("fashion_mnist", "idx", _case_fashion_idx_gz),
    "fashion_mnist/idx-plain-top-level": ("fashion_mnist", "idx", _case_fashion_idx_plain_top_level),
    "fashion_mnist/npz": ("fashion_mnist", "npz", _case_fashion_npz),
    "mnist/npz": ("mnist", "npz", _case_mnist_npz),
    "mnist/idx": ("mnist", "idx", _case_mnist_idx),
    "cifar10/folder": ("cifar10", "cifar", _case_cifar_folder),
    "cifar10/keras-extracted": ("cifar10", "cifar", _case_cifar_keras_extracted),
    "cifar10/tar": ("cifar10", "cifar_tar", _case_cifar_tar),
    "cifar10/npz": ("cifar10", "npz", _case_cifar_npz),
    "fashion_mnist_mini/bundled": ("fashion_mnist_mini", "npz", _case_mini_bundled),
}


def test_every_dataset_and_layout_has_a_case():
    # Variants (derive is set) read their base's files; tests/test_data_rotated.py covers them.
    assert {case[0] for case in LAYOUT_CASES.values()} == {n for n, s in DATASETS.items() if s.derive is None}
    assert {case[1] for case in LAYOUT_CASES.values()} == set(sources._LAYOUTS)


@pytest.mark.parametrize("case", sorted(LAYOUT_CASES))
def test_named_dataset_loads_from_data_dir_layout(isolated, tmp_path, case):
    name, layout, writer = LAYOUT_CASES[case]
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    where, expected = writer(data_dir)
    ds = load_dataset(name, data_dir=data_dir)
    assert ds.source == str(where)
    assert ds.name == name and ds.class_names == DATASETS[name].class_names
    assert ds.image_shape == DATASETS[name].image_shape
    assert ds.x_train.dtype == np.uint8 and ds.y_train.dtype == np.int64
    assert not ds.x_train.flags.writeable and not ds.y_test.flags.writeable
    if expected is not None:
        for got, want in zip((ds.x_train, ds.y_train, ds.x_test, ds.y_test), expected):
            np.testing.assert_array_equal(got, want)
    assert isolated == []  # nothing was downloaded


def test_cifar_pixels_are_transposed_like_keras(isolated, tmp_path):
    # one batch row is the 1024 red values, then green, then blue, each 32x32 row-major
    x_train, _, _, _ = _write_cifar_folder(tmp_path / "cifar-10-batches-py", per_batch=1)
    ds = load_dataset("cifar10", data_dir=tmp_path)
    with open(tmp_path / "cifar-10-batches-py" / "data_batch_1", "rb") as fh:
        row = pickle.load(fh, encoding="bytes")[b"data"][0]
    i, j = 5, 17
    assert ds.x_train[0, i, j].tolist() == [row[c * 1024 + i * 32 + j] for c in range(3)]
    np.testing.assert_array_equal(ds.x_train, x_train)


def test_cifar_batch_with_other_globals_is_refused(isolated, tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    _write_cifar_folder(folder)

    class Evil:
        def __reduce__(self):
            return (os.getcwd, ())

    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({b"data": Evil(), b"labels": []}, fh)
    with pytest.raises(InvarianceError, match="refusing to load posix.getcwd|refusing to load os.getcwd"):
        load_dataset("cifar10", data_dir=tmp_path)


# --- search order ------------------------------------------------------------------------------

def test_search_order_data_dir_then_keras_cache_then_debian(isolated, tmp_path, monkeypatch):
    a_dir, a_cache, a_debian = _arrays(seed=1), _arrays(seed=2), _arrays(seed=3)
    _write_idx_folder(tmp_path / "data" / "fashion-mnist", a_dir)
    cache = _write_idx_folder(tmp_path / "keras_home" / "datasets" / "fashion-mnist", a_cache)
    debian = _write_idx_folder(sources.DEBIAN_FASHION_MNIST, a_debian)

    ds = load_dataset("fashion_mnist", data_dir=tmp_path / "data")
    assert ds.source == str(tmp_path / "data" / "fashion-mnist")
    np.testing.assert_array_equal(ds.x_train[..., 0], a_dir["x_train"])

    monkeypatch.setenv("INVARIANCE_DATA_DIR", str(tmp_path / "data"))
    assert load_dataset("fashion_mnist").source == str(tmp_path / "data" / "fashion-mnist")
    monkeypatch.delenv("INVARIANCE_DATA_DIR")

    ds = load_dataset("fashion_mnist")
    assert ds.source == str(cache)
    np.testing.assert_array_equal(ds.x_train[..., 0], a_cache["x_train"])

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "elsewhere"))
    ds = load_dataset("fashion_mnist")
    assert ds.source == str(debian)
    np.testing.assert_array_equal(ds.x_train[..., 0], a_debian["x_train"])
    assert isolated == []


def test_keras_cache_layouts_mirror_keras_datasets(isolated, tmp_path):
    datasets_dir = tmp_path / "keras_home" / "datasets"
    datasets_dir.mkdir(parents=True)
    np.savez(datasets_dir / "mnist.npz", **_arrays(seed=9))
    _write_cifar_folder(datasets_dir / "cifar-10-batches-py-target" / "cifar-10-batches-py")
    assert load_dataset("mnist").source == str(datasets_dir / "mnist.npz")
    assert load_dataset("cifar10").source == str(datasets_dir / "cifar-10-batches-py-target" / "cifar-10-batches-py")


def test_incomplete_folder_is_skipped_and_reported(isolated, tmp_path):
    folder = tmp_path / "data" / "fashion-mnist"
    folder.mkdir(parents=True)
    a = _arrays()
    write_idx(folder / "train-images-idx3-ubyte.gz", a["x_train"])
    write_idx(folder / "train-labels-idx1-ubyte.gz", a["y_train"])
    with pytest.raises(InvarianceError) as info:
        load_dataset("fashion_mnist", data_dir=tmp_path / "data")
    assert (f"{folder} (idx files): incomplete, missing t10k-images-idx3-ubyte[.gz], "
            "t10k-labels-idx1-ubyte[.gz]") in str(info.value)


# --- absent and offline -----------------------------------------------------------------------

DOWNLOADABLE = sorted(n for n, s in DATASETS.items() if s.keras_module)


@pytest.mark.parametrize("name", DOWNLOADABLE)
def test_absent_and_offline_names_every_place_looked(isolated, tmp_path, name):
    data_dir = tmp_path / "mydata"
    with pytest.raises(InvarianceError) as info:
        load_dataset(name, data_dir=data_dir)
    message = str(info.value)
    assert isolated == [name]  # tried the download exactly once, after looking locally
    assert f"dataset {name!r} was not found on this machine and could not be downloaded" in message
    for loc in sources.locate(name, data_dir=data_dir)[1]:
        assert f"{loc.describe()}: absent" in message
    assert str(data_dir) in message and str(tmp_path / "keras_home" / "datasets") in message
    assert f"keras.datasets.{DATASETS[name].keras_module}.load_data() failed: URL fetch failure" in message
    assert "--data-dir" in message and "INVARIANCE_DATA_DIR" in message
    if name == "fashion_mnist":
        assert str(sources.DEBIAN_FASHION_MNIST) in message
        assert "apt-get install dataset-fashion-mnist" in message
        assert "fashion_mnist_mini" in message


def test_offline_switch_skips_the_download(isolated, monkeypatch):
    monkeypatch.setenv("INVARIANCE_OFFLINE", "1")
    with pytest.raises(InvarianceError, match="downloads are off"):
        load_dataset("mnist")
    assert isolated == []


def test_download_is_the_last_resort_and_is_normalised(isolated, monkeypatch):
    a = _arrays(shape=(32, 32, 3), seed=4)
    a["y_train"], a["y_test"] = a["y_train"].reshape(-1, 1), a["y_test"].reshape(-1, 1)
    monkeypatch.setattr(sources, "_download", lambda name: (a["x_train"], a["y_train"], a["x_test"], a["y_test"], None))
    ds = load_dataset("cifar10")
    assert ds.source.startswith("downloaded by keras.datasets.cifar10.load_data()")
    assert ds.y_train.shape == (20,) and ds.y_train.dtype == np.int64
    assert ds.class_names[0] == "airplane"


def test_missing_bundled_file_says_how_to_get_it(isolated, tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "BUNDLED_DIR", tmp_path / "nothing")
    with pytest.raises(InvarianceError, match="it is never downloaded") as info:
        load_dataset("fashion_mnist_mini")
    assert "make_mini_dataset.py" in str(info.value) and isolated == []


def test_a_present_but_broken_file_fails_instead_of_falling_through(isolated, tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"not a zip")
    with pytest.raises(InvarianceError, match=r"mnist\.npz: not a readable \.npz file"):
        load_dataset("mnist", data_dir=tmp_path)
    assert isolated == []


def test_named_dataset_with_wrong_image_shape(isolated, tmp_path):
    np.savez(tmp_path / "mnist.npz", **_arrays(shape=(32, 32, 3)))
    with pytest.raises(SpecError, match=r"must hold \(28, 28, 1\) images for 'mnist'; received images of shape "
                                        r"\(32, 32, 3\)"):
        load_dataset("mnist", data_dir=tmp_path)


@pytest.mark.parametrize("name, words", [
    ("imagenet", "dataset: must be one of 'fashion_mnist', 'mnist', 'cifar10', 'fashion_mnist_mini', "
                 "'fashion_mnist_rot', 'fashion_mnist_rot_test', 'fashion_mnist_mini_rot', "
                 "'fashion_mnist_mini_rot_test', or 'npz:PATH' for your own .npz; received 'imagenet'"),
    (3, "dataset: must be a dataset name"),
    ("npz:", "'npz:PATH' needs a path"),
])
def test_bad_names(isolated, name, words):
    with pytest.raises(SpecError) as info:
        load_dataset(name)
    assert words in str(info.value)


# --- npz:PATH ------------------------------------------------------------------------------------

def test_npz_path_loads_and_normalises(isolated, tmp_path):
    a = _arrays(shape=(6, 5), k=3)
    np.savez(tmp_path / "mine.npz", **a, extra=np.zeros(3))
    name = f"npz:{tmp_path / 'mine.npz'}"
    ds = load_dataset(name)
    assert ds.name == name and ds.source == str(tmp_path / "mine.npz")
    assert ds.image_shape == (6, 5, 1) and ds.class_names == ("0", "1", "2")
    for got, want in zip((ds.x_train, ds.y_train, ds.x_test, ds.y_test), _expected(a)):
        np.testing.assert_array_equal(got, want)


def test_npz_float_images_and_class_names(isolated, tmp_path):
    x = np.array([0.0, 1 / 255, 0.5, 1.0, 3 / 255 + 1e-4], dtype=np.float64).reshape(1, 1, 5, 1)
    np.savez(tmp_path / "f.npz", x_train=np.repeat(x, 2, 0), y_train=np.array([0, 1]),
             x_test=x, y_test=np.array([1]), class_names=np.array(["cat", "dog"]))
    ds = load_dataset(f"npz:{tmp_path / 'f.npz'}")
    assert ds.x_test.ravel().tolist() == [0, 1, 128, 255, 3]  # round(x * 255)
    assert ds.class_names == ("cat", "dog") and ds.num_classes == 2


def test_npz_relative_path_and_missing_file(isolated, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.savez("rel.npz", **_arrays(k=2))
    assert load_dataset("npz:rel.npz").source == str(tmp_path / "rel.npz")
    with pytest.raises(InvarianceError, match=r"dataset 'npz:gone.npz': no such file .*gone\.npz"):
        load_dataset("npz:gone.npz")


def _bad(**changes):
    a = {k: v for k, v in _arrays(shape=(4, 4), n_train=6, n_test=4, k=3).items()}
    for key, value in changes.items():
        if value is None:
            del a[key]
        else:
            a[key] = value
    return a


BAD_NPZ = {
    # id: (arrays, text the message must contain: key, rule, received)
    "missing y_test": (_bad(y_test=None), "[y_test]: is required; an .npz dataset needs keys x_train, y_train, "
                                          "x_test, y_test (optional: class_names); received keys"),
    "object images": (_bad(x_train=np.array([None, 1], dtype=object)),
                      "[x_train]: must be a plain array; object arrays are refused"),
    "int16 images": (_bad(x_train=np.zeros((6, 4, 4), np.int16)),
                     "[x_train]: must be uint8 (0..255) or float in [0, 1]; received int16 array of shape (6, 4, 4, 1)"),
    "bool images": (_bad(x_test=np.zeros((4, 4, 4), bool)),
                    "[x_test]: must be a numeric image array, uint8 or float in [0, 1]; received bool array"),
    "float images over 1": (_bad(x_train=np.full((6, 4, 4), 2.0)),
                            "[x_train]: float images must have every value in [0, 1] (uint8 is also accepted); "
                            "received float64 array with values in [2, 2]"),
    "float images nan": (_bad(x_train=np.full((6, 4, 4), np.nan)), "[x_train]: float images must have every value"),
    "2-D images": (_bad(x_train=np.zeros((6, 16), np.uint8)),
                   "[x_train]: must have shape (N, H, W) or (N, H, W, C); received uint8 array of shape (6, 16)"),
    "channels first": (_bad(x_train=np.zeros((6, 3, 8, 8), np.uint8)),
                       "[x_train]: must be channels-last (N, H, W, C), with C of 1 to 4; this looks channels-first; "
                       "received uint8 array of shape (6, 3, 8, 8)"),
    "too many channels": (_bad(x_train=np.zeros((6, 8, 8, 5), np.uint8)),
                          "[x_train]: must have 1 to 4 channels, last: (N, H, W, C); received uint8 array"),
    "no images": (_bad(x_train=np.zeros((0, 4, 4), np.uint8), y_train=np.zeros(0, np.uint8)),
                  "[x_train]: must hold at least one image"),
    "test shape differs": (_bad(x_test=np.zeros((4, 5, 4), np.uint8)),
                           "[x_test]: must have the same (H, W, C) as x_train (4, 4, 1); "
                           "received uint8 array of shape (4, 5, 4, 1)"),
    "float labels": (_bad(y_train=np.zeros(6)),
                     "[y_train]: must be an integer label array of shape (N,); received float64 array of shape (6,)"),
    "2-D labels": (_bad(y_train=np.zeros((6, 2), int)),
                   "[y_train]: must have shape (N,): one integer class per image; received int64 array of shape (6, 2)"),
    "label count": (_bad(y_test=np.array([0, 1, 2], np.int64)),
                    "[y_test]: must have one label per image (4 images); received int64 array of shape (3,)"),
    "negative label": (_bad(y_train=np.array([0, 1, -1, 0, 1, 2])),
                       "[y_train]: labels must be >= 0 (classes 0..K-1); received smallest label -1"),
    "one class": (_bad(y_train=np.zeros(6, int), y_test=np.zeros(4, int)),
                  "[y_train]: must hold at least 2 classes (labels 0..K-1, K >= 2); received labels in 0..0"),
    "label beyond class_names": (_bad(class_names=np.array(["a", "b"])),
                                 "[y_train]: labels must lie in 0..1 (one per class name; 2 class_names); "
                                 "received largest label 2"),
    "duplicate class_names": (_bad(class_names=np.array(["a", "b", "a"])),
                              "[class_names]: must hold at least 2 distinct non-empty names; received ['a', 'b', 'a']"),
    "numeric class_names": (_bad(class_names=np.arange(3)),
                            "[class_names]: must be a 1-D string array, e.g. np.array(['cat', 'dog']); "
                            "received int64 array of shape (3,)"),
}


@pytest.mark.parametrize("case", sorted(BAD_NPZ))
def test_bad_npz_files_fail_clearly(isolated, tmp_path, case):
    arrays, text = BAD_NPZ[case]
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(SpecError) as info:
        load_dataset(f"npz:{path}")
    message = str(info.value)
    assert message.startswith(str(path) + "["), message
    assert text in message, message


@pytest.mark.parametrize("content, text", [
    (b"garbage", "not a readable .npz file"),
    (None, "must be an .npz archive (np.savez) of arrays x_train, y_train, x_test, y_test; received a single"),
])
def test_npz_that_is_not_an_archive(isolated, tmp_path, content, text):
    path = tmp_path / "x.npz"
    if content is None:
        with open(path, "wb") as fh:
            np.save(fh, np.zeros(3))
    else:
        path.write_bytes(content)
    with pytest.raises(InvarianceError) as info:
        load_dataset(f"npz:{path}")
    assert text in str(info.value)


def test_save_npz_is_reproducible_and_loadable(tmp_path):
    a = _arrays(k=2)
    save_npz(tmp_path / "a.npz", a)
    save_npz(tmp_path / "b.npz", a)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    with np.load(tmp_path / "a.npz") as f:
        np.testing.assert_array_equal(f["x_train"], a["x_train"])


# --- the black canvas ----------------------------------------------------------------------------

def test_pad_to_canvas_known_answer_odd_margin():
    x = np.array([[[1, 2, 3], [4, 5, 6]]], dtype=np.uint8)[..., None]  # 1 image, 2x3
    out = pad_to_canvas(x, 5)
    assert out.shape == (1, 5, 5, 1) and out.dtype == np.uint8
    # margins 3 and 2: top 1, bottom 2, left 1, right 1
    assert out[0, ..., 0].tolist() == [[0, 0, 0, 0, 0],
                                        [0, 1, 2, 3, 0],
                                        [0, 4, 5, 6, 0],
                                        [0, 0, 0, 0, 0],
                                        [0, 0, 0, 0, 0]]


def test_pad_to_canvas_centres_exactly():
    x = _images(3, (28, 28, 1), 0)
    out = pad_to_canvas(x, 36)
    np.testing.assert_array_equal(out[:, 4:32, 4:32], x)
    assert out.sum(dtype=np.int64) == x.sum(dtype=np.int64)
    np.testing.assert_array_equal(out[:, ::-1, ::-1][:, 4:32, 4:32], x[:, ::-1, ::-1])  # symmetric margins
    np.testing.assert_array_equal(pad_to_canvas(x, 28), x)
    assert pad_to_canvas(x[..., 0], 30).shape == (3, 30, 30)


@pytest.mark.parametrize("size, words", [(27, "canvas: must be >= the image size 28x28; received 27"),
                                         (30.0, "canvas: must be an integer"), (True, "canvas: must be an integer")])
def test_pad_to_canvas_errors(size, words):
    with pytest.raises(SpecError, match=words):
        pad_to_canvas(np.zeros((1, 28, 28, 1), np.uint8), size)


def test_load_with_canvas():
    base = load_dataset("fashion_mnist_mini")
    ds = load_dataset("fashion_mnist_mini", canvas=36)
    assert ds.canvas == 36 and ds.image_shape == (36, 36, 1)
    np.testing.assert_array_equal(ds.x_test[:, 4:32, 4:32], base.x_test)
    assert ds.x_train[:, :4].max() == 0 and ds.x_train[:, 32:].max() == 0
    np.testing.assert_array_equal(ds.y_train, base.y_train)
    with pytest.raises(SpecError, match="canvas: must be >= the image size 28x28; received 20"):
        load_dataset("fashion_mnist_mini", canvas=20)
    with pytest.raises(SpecError, match="canvas: must be a positive integer"):
        load_dataset("fashion_mnist_mini", canvas="36")


# --- Dataset, to_float, fingerprint, cache ----------------------------------------------------

def _tiny(**changes):
    x = np.arange(12, dtype=np.uint8).reshape(2, 2, 3, 1)
    fields = dict(name="tiny", x_train=x, y_train=np.array([0, 1], np.int64), x_test=x[::-1].copy(),
                  y_test=np.array([1, 0], np.int64), class_names=("a", "b"), source="memory")
    fields.update(changes)
    return Dataset(**fields)


def test_fingerprint_known_answer_and_sensitivity():
    ds = _tiny()
    assert ds.fingerprint() == "a167f925cc7ef429c73e33cd52bfcebaf4a7d860c862931380f88b2cd73a467f"
    assert ds.fingerprint() == _tiny(source="elsewhere").fingerprint()  # where it came from does not matter
    x = ds.x_train.copy()
    x[1, 1, 2, 0] += 1
    others = [_tiny(x_train=x), _tiny(y_test=np.array([0, 0], np.int64)), _tiny(canvas=3), _tiny(name="other"),
              _tiny(x_train=ds.x_train.reshape(2, 3, 2, 1), x_test=ds.x_test.reshape(2, 3, 2, 1))]  # same bytes
    prints = {ds.fingerprint()} | {o.fingerprint() for o in others}
    assert len(prints) == 1 + len(others)


def test_fingerprint_of_canvas_differs_and_is_cached():
    base = load_dataset("fashion_mnist_mini")
    padded = load_dataset("fashion_mnist_mini", canvas=30)
    assert base.fingerprint() != padded.fingerprint()
    assert base.__dict__["_fingerprint"] == base.fingerprint()


@pytest.mark.parametrize("changes, words", [
    (dict(x_train=np.zeros((2, 2, 3), np.uint8)), "x_train: must be a uint8 array of shape (N, H, W, C)"),
    (dict(y_train=np.array([0, 1], np.int32)), "y_train: must be an int64 array of shape (N,)"),
    (dict(y_test=np.array([0], np.int64)), "y_test: must have one label per image in x_test (2)"),
    (dict(x_test=np.zeros((2, 3, 3, 1), np.uint8)), "x_test: must have the image shape of x_train"),
    (dict(class_names=("a",)), "class_names: must be a tuple of at least 2 names"),
    (dict(y_train=np.array([0, 2], np.int64)), "y_train: labels must lie in 0..1"),
])
def test_dataset_checks_its_invariants(changes, words):
    with pytest.raises(SpecError) as info:
        _tiny(**changes)
    assert words in str(info.value)


def test_dataset_properties_summary_and_subset():
    ds = load_dataset("fashion_mnist_mini")
    assert ds.num_classes == 10 and ds.image_shape == (28, 28, 1)
    assert ds.summary() == {"name": "fashion_mnist_mini", "source": ds.source, "n_train": 6000, "n_test": 1000,
                            "image_shape": [28, 28, 1], "num_classes": 10, "canvas": None}
    small = ds.subset(250, seed=0)
    assert len(small.y_train) == 250 and small.x_test is ds.x_test
    assert sorted(np.bincount(small.y_train).tolist()) == [25] * 10
    assert ds.subset(None, seed=0) is ds
    with pytest.raises(ValueError):
        ds.x_train[0, 0, 0, 0] = 1  # read-only: the cached arrays are shared


def test_to_float():
    x = np.array([0, 51, 255], dtype=np.uint8)
    f = to_float(x)
    assert f.dtype == np.float32 and f.tolist() == [0.0, np.float32(51) / np.float32(255), 1.0]
    assert to_float(np.array([0.5], np.float64)).dtype == np.float32
    with pytest.raises(SpecError, match="images: must be uint8"):
        to_float(np.array([1], np.int16))


def test_cache_returns_the_same_object_and_reloads_changed_files(isolated, tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, **_arrays(k=2))
    a = load_dataset(f"npz:{path}")
    assert load_dataset(f"npz:{path}") is a
    np.savez(path, **_arrays(k=2, n_train=8))
    os.utime(path, ns=(1, 1))  # a different mtime, whatever the clock resolution
    b = load_dataset(f"npz:{path}")
    assert len(b.y_train) == 8 and b is not a


# --- the bundled mini set ---------------------------------------------------------------------

def test_bundled_mini_dataset():
    path = sources.BUNDLED_DIR / "fashion_mnist_mini.npz"
    assert path.stat().st_size <= 4 * 1024 * 1024
    ds = load_dataset("fashion_mnist_mini")
    assert ds.source == str(path)
    assert ds.x_train.shape == (6000, 28, 28, 1) and ds.x_test.shape == (1000, 28, 28, 1)
    assert np.bincount(ds.y_train).tolist() == [600] * 10
    assert np.bincount(ds.y_test).tolist() == [100] * 10
    assert ds.class_names == ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                              "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
    with np.load(path) as f:
        assert tuple(f["class_names"].tolist()) == ds.class_names
    licence = (sources.BUNDLED_DIR / "LICENSE-fashion-mnist.txt").read_text()
    assert "Zalando SE" in licence and "MIT" in licence and "Permission is hereby granted" in licence


def test_mini_is_a_subset_of_the_full_data():
    require_full_data()
    full = load_dataset("fashion_mnist")
    mini = load_dataset("fashion_mnist_mini")
    with np.load(mini.source) as f:
        train_index, test_index = f["train_index"], f["test_index"]
    np.testing.assert_array_equal(mini.x_train, full.x_train[train_index])
    np.testing.assert_array_equal(mini.y_train, full.y_train[train_index])
    np.testing.assert_array_equal(mini.x_test, full.x_test[test_index])
    np.testing.assert_array_equal(mini.y_test, full.y_test[test_index])


def test_full_fashion_mnist_from_debian():
    require_full_data()
    ds = load_dataset("fashion_mnist")
    assert ds.x_train.shape == (60000, 28, 28, 1) and ds.x_test.shape == (10000, 28, 28, 1)
    assert np.bincount(ds.y_train).tolist() == [6000] * 10
    assert np.bincount(ds.y_test).tolist() == [1000] * 10
    assert load_dataset("fashion_mnist") is ds


def test_mini_build_script_is_reproducible(tmp_path):
    require_full_data()
    import subprocess
    import sys
    out = tmp_path / "mini.npz"
    script = Path(__file__).resolve().parents[1] / "scripts" / "make_mini_dataset.py"
    proc = subprocess.run([sys.executable, str(script), "--out", str(out), "--train-per-class", "20",
                           "--test-per-class", "5", "--seed", "3"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert f"sha256 {digest}" in proc.stdout and "size " in proc.stdout
    ds = load_dataset(f"npz:{out}")
    assert np.bincount(ds.y_train).tolist() == [20] * 10 and np.bincount(ds.y_test).tolist() == [5] * 10


# --- status and the CLI ------------------------------------------------------------------------

def test_dataset_status_never_downloads(isolated, tmp_path):
    np.savez(tmp_path / "mnist.npz", **_arrays())
    (tmp_path / "cifar10.npz").write_bytes(b"broken")
    rows = {row["name"]: row for row in dataset_status(data_dir=tmp_path)}
    assert list(rows) == list(DATASETS)
    assert rows["mnist"]["available"] and rows["mnist"]["n_train"] == 20 and rows["mnist"]["image_shape"] == [28, 28, 1]
    assert not rows["fashion_mnist"]["available"] and rows["fashion_mnist"]["error"] is None
    assert str(sources.DEBIAN_FASHION_MNIST) in " ".join(rows["fashion_mnist"]["looked"])
    assert rows["cifar10"]["source"] == str(tmp_path / "cifar10.npz") and "not a readable" in rows["cifar10"]["error"]
    assert rows["fashion_mnist_mini"]["available"] and rows["fashion_mnist_mini"]["n_test"] == 1000
    assert isolated == []


def test_cli_datasets_table_and_json(isolated, tmp_path):
    from click.testing import CliRunner

    from invariance.cli import cli

    np.savez(tmp_path / "mnist.npz", **_arrays())
    runner = CliRunner()
    result = runner.invoke(cli, ["datasets", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["dataset", "available", "train", "test", "image", "source"]
    mnist = next(line for line in lines if line.startswith("mnist "))
    assert mnist.split()[:5] == ["mnist", "yes", "20", "10", "28x28x1"] and str(tmp_path / "mnist.npz") in mnist
    assert next(line for line in lines if line.startswith("fashion_mnist ")).split()[1] == "no"
    assert "apt-get install dataset-fashion-mnist" in result.output

    result = runner.invoke(cli, ["datasets", "--json", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["name"] for r in rows] == list(DATASETS)
    assert rows[1]["available"] and rows[1]["source"] == str(tmp_path / "mnist.npz")
    assert isolated == []
