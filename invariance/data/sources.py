"""The named datasets: where each may be found on this machine, in order, and how to read it.

A small registry (:data:`DATASETS`) maps a name to a :class:`DatasetSource`, which lists
candidate :class:`Location` s in the order they are tried:

1. ``data_dir`` (the argument, else ``$INVARIANCE_DATA_DIR``), in the layouts people keep
   these files in (idx files, keras' ``.npz``, ``cifar-10-batches-py``);
2. the Keras cache, ``$KERAS_HOME/datasets`` or ``~/.keras/datasets``, under the file names
   ``keras.datasets`` uses, so that a dataset keras downloaded once is found again;
3. for Fashion-MNIST, Debian's ``/usr/share/datasets/fashion-mnist``
   (``apt-get install dataset-fashion-mnist``).

Only when all of them are absent does :func:`fetch` download with ``keras.datasets`` (unless
``INVARIANCE_OFFLINE=1``); if that fails too, the error lists every place looked and how to
get the data. Nothing here imports keras unless it downloads.
"""
from __future__ import annotations

import dataclasses
import importlib
import os
from pathlib import Path
from typing import Callable

from invariance.data.cifar import CIFAR_FILES, CIFAR_TAR_FOLDER, read_cifar_folder, read_cifar_tar
from invariance.data.idx import read_idx
from invariance.data.npz import read_npz
from invariance.errors import InvarianceError, SpecError

#: Debian's dataset-fashion-mnist package installs the four idx .gz files here.
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
#: Files shipped inside the package.
BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"

IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
MNIST_CLASSES = tuple(str(i) for i in range(10))
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")


def keras_datasets_dir() -> Path:
    """Keras' download cache: ``$KERAS_HOME/datasets``, else ``~/.keras/datasets``."""
    return Path(os.environ.get("KERAS_HOME") or "~/.keras").expanduser() / "datasets"


def user_data_dir(data_dir: str | os.PathLike | None) -> Path | None:
    """``data_dir`` if given, else ``$INVARIANCE_DATA_DIR`` if set, else None."""
    if data_dir is None:
        data_dir = os.environ.get("INVARIANCE_DATA_DIR") or None
    return None if data_dir is None else Path(data_dir).expanduser()


# --- locations and layouts ---------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Location:
    """One candidate place for a dataset.

    Attributes:
        layout: How the files are laid out: ``idx`` (a folder of the four idx files, each
            plain or ``.gz``), ``npz`` (one file with x_train, y_train, x_test, y_test),
            ``cifar`` (a ``cifar-10-batches-py`` folder) or ``cifar_tar`` (the
            ``cifar-10-python.tar.gz`` archive).
        path: The folder or file.
        origin: Which kind of place it is: ``data_dir``, ``keras cache``, ``debian``,
            ``bundled`` or ``npz``.
    """

    layout: str
    path: Path
    origin: str

    def files(self) -> dict[str, Path | None]:
        """Each file the layout needs -> its existing path, or None when absent."""
        return _LAYOUTS[self.layout].files(self.path)

    def missing(self) -> list[str]:
        """Names of the needed files that are absent (empty when the location is complete)."""
        return [name for name, p in self.files().items() if p is None]

    def found(self) -> bool:
        """True when every needed file exists."""
        return not self.missing()

    def stamp(self) -> tuple:
        """(path, mtime, size) of every file: a cache key that changes when a file does."""
        out = []
        for p in self.files().values():
            st = p.stat()
            out.append((str(p.resolve()), st.st_mtime_ns, st.st_size))
        return tuple(out)

    def describe(self) -> str:
        """E.g. ``keras cache: /root/.keras/datasets/mnist.npz``."""
        return f"{self.origin}: {self.path} ({_LAYOUTS[self.layout].what})"

    def read(self):
        """Reads the arrays: ``(x_train, y_train, x_test, y_test, class_names or None)``,
        as stored (normalised later by :func:`invariance.data.npz.validate_arrays`)."""
        return _LAYOUTS[self.layout].read(self.path)


@dataclasses.dataclass(frozen=True)
class _Layout:
    what: str
    files: Callable[[Path], dict]
    read: Callable[[Path], tuple]


def _idx_files(folder: Path) -> dict:
    out = {}
    for stem in IDX_FILES.values():
        gz, plain = folder / f"{stem}.gz", folder / stem
        out[f"{stem}[.gz]"] = gz if gz.is_file() else plain if plain.is_file() else None
    return out


def _read_idx_folder(folder: Path):
    files = list(_idx_files(folder).values())
    x_train, y_train, x_test, y_test = (read_idx(p) for p in files)
    return x_train, y_train, x_test, y_test, None


def _one_file(path: Path) -> dict:
    return {path.name: path if path.is_file() else None}


def _read_npz_file(path: Path):
    return read_npz(path)


def _cifar_files(folder: Path) -> dict:
    return {name: (folder / name if (folder / name).is_file() else None) for name in CIFAR_FILES}


_LAYOUTS = {
    "idx": _Layout("idx files", _idx_files, _read_idx_folder),
    "npz": _Layout(".npz with x_train, y_train, x_test, y_test", _one_file, _read_npz_file),
    "cifar": _Layout("CIFAR-10 python batches", _cifar_files, read_cifar_folder),
    "cifar_tar": _Layout("CIFAR-10 python archive", _one_file, read_cifar_tar),
}


# --- the registry -------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class DatasetSource:
    """A named dataset: its classes, shape, candidate locations and how to obtain it.

    Attributes:
        name: The name ``load_dataset`` takes.
        class_names: One name per label.
        image_shape: (H, W, C) of the unpadded images.
        sizes: (n_train, n_test) of the real dataset, for messages.
        locations: ``locations(data_dir)`` -> the candidate places, in search order.
        keras_module: ``keras.datasets.<keras_module>.load_data`` downloads it; None when
            it is never downloaded (bundled data).
        how_to_get: Sentences telling a user how to make it available offline.
        derive: For a variant of another dataset (e.g. rotated): ``derive(x_train, x_test,
            canvas) -> (x_train, x_test, canvas)`` turns the read (unpadded) images into the
            variant's, on its canvas; None for a dataset used as read.
    """

    name: str
    class_names: tuple[str, ...]
    image_shape: tuple[int, int, int]
    sizes: tuple[int, int]
    locations: Callable[[Path | None], list[Location]]
    keras_module: str | None
    how_to_get: str
    derive: Callable | None = None


DATASETS: dict[str, DatasetSource] = {}


def register_dataset(source: DatasetSource) -> DatasetSource:
    """Adds ``source`` to :data:`DATASETS` under its name (replacing any earlier entry)."""
    DATASETS[source.name] = source
    return source


def get_source(name: str) -> DatasetSource:
    """The registry entry for ``name``; SpecError naming the allowed names otherwise."""
    if not isinstance(name, str) or name not in DATASETS:
        allowed = ", ".join(repr(n) for n in DATASETS)
        raise SpecError("dataset", f"must be one of {allowed}, or 'npz:PATH' for your own .npz", name)
    return DATASETS[name]


def _fashion_locations(data_dir: Path | None) -> list[Location]:
    out = []
    if data_dir is not None:
        out += [Location("idx", data_dir / "fashion-mnist", "data_dir"),
                Location("idx", data_dir / "fashion_mnist", "data_dir"),
                Location("idx", data_dir, "data_dir"),
                Location("npz", data_dir / "fashion_mnist.npz", "data_dir"),
                Location("npz", data_dir / "fashion-mnist.npz", "data_dir")]
    out.append(Location("idx", keras_datasets_dir() / "fashion-mnist", "keras cache"))
    out.append(Location("idx", DEBIAN_FASHION_MNIST, "debian"))
    return out


def _mnist_locations(data_dir: Path | None) -> list[Location]:
    out = []
    if data_dir is not None:
        # MNIST's idx files have the same names as Fashion-MNIST's, so top-level idx files in
        # data_dir are read as Fashion-MNIST only; MNIST's must sit in data_dir/mnist/.
        out += [Location("npz", data_dir / "mnist.npz", "data_dir"),
                Location("idx", data_dir / "mnist", "data_dir")]
    out.append(Location("npz", keras_datasets_dir() / "mnist.npz", "keras cache"))
    return out


def _cifar10_locations(data_dir: Path | None) -> list[Location]:
    out = []
    if data_dir is not None:
        out += [Location("cifar", data_dir / CIFAR_TAR_FOLDER, "data_dir"),
                Location("cifar", data_dir / "cifar-10-batches-py-target" / CIFAR_TAR_FOLDER, "data_dir"),
                Location("cifar", data_dir, "data_dir"),
                Location("cifar_tar", data_dir / "cifar-10-python.tar.gz", "data_dir"),
                Location("npz", data_dir / "cifar10.npz", "data_dir")]
    keras_dir = keras_datasets_dir()
    out += [Location("cifar", keras_dir / "cifar-10-batches-py-target" / CIFAR_TAR_FOLDER, "keras cache"),
            Location("cifar", keras_dir / CIFAR_TAR_FOLDER, "keras cache")]
    return out


def _mini_locations(data_dir: Path | None) -> list[Location]:
    return [Location("npz", BUNDLED_DIR / "fashion_mnist_mini.npz", "bundled")]


_DATA_DIR_HINT = ("or put the files in a folder and pass --data-dir DIR (Python: data_dir=DIR; "
                  "or set INVARIANCE_DATA_DIR=DIR)")

register_dataset(DatasetSource(
    "fashion_mnist", FASHION_MNIST_CLASSES, (28, 28, 1), (60000, 10000), _fashion_locations, "fashion_mnist",
    "On Debian/Ubuntu: `sudo apt-get install dataset-fashion-mnist` (installs "
    f"{DEBIAN_FASHION_MNIST}); or run once with internet access (keras downloads to ~/.keras/datasets); "
    f"{_DATA_DIR_HINT} holding train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
    "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz. "
    "For a small offline set use the bundled 'fashion_mnist_mini'."))
register_dataset(DatasetSource(
    "mnist", MNIST_CLASSES, (28, 28, 1), (60000, 10000), _mnist_locations, "mnist",
    "Run once with internet access (keras downloads mnist.npz to ~/.keras/datasets); "
    f"{_DATA_DIR_HINT} holding mnist.npz, or the four idx files in DIR/mnist/."))
register_dataset(DatasetSource(
    "cifar10", CIFAR10_CLASSES, (32, 32, 3), (50000, 10000), _cifar10_locations, "cifar10",
    "Run once with internet access (keras downloads to ~/.keras/datasets); "
    f"{_DATA_DIR_HINT} holding cifar-10-python.tar.gz or its extracted cifar-10-batches-py/ "
    "(from https://www.cs.toronto.edu/~kriz/cifar.html)."))
register_dataset(DatasetSource(
    "fashion_mnist_mini", FASHION_MNIST_CLASSES, (28, 28, 1), (6000, 1000), _mini_locations, None,
    "It ships inside the package (invariance/data/bundled/); reinstall the package, or rebuild it "
    "with scripts/make_mini_dataset.py."))


# --- finding and fetching -----------------------------------------------------------------

def locate(name: str, *, data_dir: str | os.PathLike | None = None) -> tuple[Location | None, list[Location]]:
    """Finds a named dataset locally. Never downloads.

    Returns:
        (the first complete location or None, every location looked at up to it).
    """
    source = get_source(name)
    looked = []
    for loc in source.locations(user_data_dir(data_dir)):
        looked.append(loc)
        if loc.found():
            return loc, looked
    return None, looked


def _download(name: str):
    """Downloads with ``keras.datasets`` (the only place the loader touches the network).

    Returns:
        ``(x_train, y_train, x_test, y_test, None)`` as keras gives them.
    """
    module = importlib.import_module(f"keras.datasets.{DATASETS[name].keras_module}")
    (x_train, y_train), (x_test, y_test) = module.load_data()
    return x_train, y_train, x_test, y_test, None


def fetch(name: str, looked: list[Location]):
    """Downloads a dataset that :func:`locate` did not find; a clear error if that fails.

    Returns:
        ``(arrays, source)``: the arrays as :func:`_download` gives them, and a description.
    """
    source = get_source(name)
    if source.keras_module is None:
        raise InvarianceError(_absent_message(source, looked, ""))
    if os.environ.get("INVARIANCE_OFFLINE", "").strip() not in ("", "0"):
        raise InvarianceError(_absent_message(source, looked, "downloads are off (INVARIANCE_OFFLINE is set)"))
    try:
        arrays = _download(name)
    except Exception as err:  # noqa: BLE001  (any failure, e.g. offline: report it with the places looked)
        raise InvarianceError(_absent_message(
            source, looked, f"keras.datasets.{source.keras_module}.load_data() failed: {err}")) from None
    return arrays, f"downloaded by keras.datasets.{source.keras_module}.load_data() to {keras_datasets_dir()}"


def _absent_message(source: DatasetSource, looked: list[Location], download: str) -> str:
    could = "could not be downloaded" if source.keras_module is not None else "it is never downloaded"
    lines = [f"dataset {source.name!r} was not found on this machine and {could}.", "Looked in:"]
    for loc in looked:
        files = loc.files()
        missing = [k for k, p in files.items() if p is None]
        state = "absent" if len(missing) == len(files) else "incomplete, missing " + ", ".join(missing)
        lines.append(f"  - {loc.describe()}: {state}")
    if source.keras_module is not None:
        lines.append(f"  - download: {download}")
    lines.append(f"To get it: {source.how_to_get}")
    return "\n".join(lines)


def absent_message(name: str, *, data_dir: str | os.PathLike | None = None) -> str:
    """The message :func:`fetch` would give for ``name`` if it could not download."""
    _, looked = locate(name, data_dir=data_dir)
    return _absent_message(get_source(name), looked, "not attempted")
