"""Reading CIFAR-10's python batches, from their folder or their archive, without trusting pickle."""
from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np

from invariance.errors import InvarianceError

CIFAR_FILES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch")
CIFAR_TAR_FOLDER = "cifar-10-batches-py"


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles CIFAR batches, refusing every global except numpy's array rebuilders.

    CIFAR-10's python batches are pickles; a plain ``pickle.load`` of a tampered file
    could run code, so only what a numpy array needs is allowed.
    """

    # _codecs.encode only turns a str into bytes: Python 3 uses it for bytes in protocol 2
    _ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
                ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar")}

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR batch")
        if module == "numpy.core.multiarray" and hasattr(np, "_core"):
            module = "numpy._core.multiarray"  # numpy 2 renamed it; avoid the deprecation shim
        return super().find_class(module, name)


def _cifar_batch(fh, name: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        batch = _NumpyOnlyUnpickler(fh, encoding="bytes").load()
    except Exception as err:  # noqa: BLE001  (any unpickling failure means a bad file)
        raise InvarianceError(f"{name}: not a readable CIFAR-10 python batch ({err})") from None
    batch = {(k.decode() if isinstance(k, bytes) else k): v for k, v in dict(batch).items()} \
        if isinstance(batch, dict) else {}
    if "data" not in batch or "labels" not in batch:
        raise InvarianceError(f"{name}: not a CIFAR-10 python batch: needs keys 'data' and 'labels'; "
                              f"received keys {sorted(batch)}")
    data = np.asarray(batch["data"], dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise InvarianceError(f"{name}: CIFAR-10 'data' must have shape (N, 3072); received {data.shape}")
    # stored as N x (R, G, B planes of 32x32); keras transposes to channels-last the same way
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), np.asarray(batch["labels"])


def _join_cifar(parts):
    x_train = np.concatenate([p[0] for p in parts[:-1]])
    y_train = np.concatenate([p[1] for p in parts[:-1]])
    return x_train, y_train, parts[-1][0], parts[-1][1], None


def read_cifar_folder(folder: Path):
    """``(x_train, y_train, x_test, y_test, None)`` from a ``cifar-10-batches-py`` folder, as the other readers."""
    parts = []
    for name in CIFAR_FILES:
        with open(folder / name, "rb") as fh:
            parts.append(_cifar_batch(fh, str(folder / name)))
    return _join_cifar(parts)


def read_cifar_tar(path: Path):
    """The same, from the ``cifar-10-python.tar.gz`` archive itself."""
    try:
        with tarfile.open(path, "r:*") as tar:
            parts = []
            for name in CIFAR_FILES:
                member = f"{CIFAR_TAR_FOLDER}/{name}"
                try:
                    fh = tar.extractfile(member)
                except KeyError:
                    fh = None
                if fh is None:
                    raise InvarianceError(f"{path}: the archive must contain {member}; it does not")
                parts.append(_cifar_batch(io.BytesIO(fh.read()), f"{path}:{member}"))
    except (tarfile.TarError, OSError, EOFError) as err:
        raise InvarianceError(f"{path}: not a readable CIFAR-10 archive ({err})") from None
    return _join_cifar(parts)
