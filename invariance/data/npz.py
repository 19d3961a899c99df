"""Reading and validating a dataset stored as ``.npz`` (the ``npz:PATH`` form, keras' mnist.npz).

Required keys: ``x_train, y_train, x_test, y_test``; optional ``class_names``; other keys
are ignored. Rules, each checked with a message naming the key, the rule and what was
received:

- images: uint8, or float with every value in [0, 1] (converted to uint8 as
  ``round(x * 255)``); shape (N, H, W) or (N, H, W, C) with 1 <= C <= 4 (channels last);
  N >= 1; train and test share (H, W, C);
- labels: an integer array of shape (N,) (or (N, 1), as keras' CIFAR gives), one per image,
  in 0..K-1 with K >= 2 classes, where K is ``len(class_names)`` if given, else the
  largest label + 1;
- class_names: a 1-D string array of K distinct non-empty names.

Files are opened with ``allow_pickle=False``: object arrays are refused, never unpickled.
"""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np

from invariance.errors import InvarianceError, SpecError

REQUIRED_KEYS = ("x_train", "y_train", "x_test", "y_test")
OPTIONAL_KEYS = ("class_names",)


class _Shown(str):
    """A string that error messages show without quotes."""

    def __repr__(self) -> str:
        return str(self)


def describe(a) -> _Shown:
    """A short description of a value for an error message: dtype and shape of an array."""
    if isinstance(a, np.ndarray):
        return _Shown(f"{a.dtype} array of shape {a.shape}")
    return _Shown(f"{type(a).__name__} {a!r}"[:200])


def read_npz(path: str | os.PathLike, *, display: str | None = None):
    """Loads and validates a dataset ``.npz``.

    Args:
        path: The file.
        display: How errors name the file (default: the path).

    Returns:
        ``(x_train, y_train, x_test, y_test, class_names)``: uint8 (N, H, W, C) images,
        int64 (N,) labels, and a tuple of names or None when the file has none.

    Raises:
        SpecError: If a key is missing or breaks a rule above.
        InvarianceError: If the file is missing or not a readable ``.npz``.
    """
    path = Path(path)
    display = display or str(path)
    if not path.is_file():
        raise InvarianceError(f"{display}: no such file (an .npz with keys {', '.join(REQUIRED_KEYS)})")
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise InvarianceError(f"{display}: not a readable .npz file ({err})") from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise SpecError(display, "must be an .npz archive (np.savez) of arrays " + ", ".join(REQUIRED_KEYS),
                        _Shown("a single .npy array"))
    with npz:
        keys = list(npz.files)
        arrays = {}
        for key in REQUIRED_KEYS + OPTIONAL_KEYS:
            if key not in keys:
                if key in REQUIRED_KEYS:
                    raise SpecError(f"{display}[{key}]",
                                    f"is required; an .npz dataset needs keys {', '.join(REQUIRED_KEYS)} "
                                    f"(optional: {', '.join(OPTIONAL_KEYS)})", _Shown(f"keys {keys}"))
                continue
            try:
                arrays[key] = npz[key]
            except ValueError as err:
                rule = ("must be a plain array; object arrays are refused (they would need pickle)"
                        if "pickle" in str(err) else f"must be a readable array ({err})")
                raise SpecError(f"{display}[{key}]", rule, _Shown("an object array")) from None
            except (OSError, zipfile.BadZipFile, EOFError) as err:
                raise InvarianceError(f"{display}[{key}]: cannot read ({err})") from None
    return validate_arrays(arrays, display=display)


def validate_arrays(arrays: dict, *, display: str = "dataset"):
    """Checks and normalises the four arrays (and optional class_names) of a dataset.

    Returns:
        ``(x_train, y_train, x_test, y_test, class_names)`` as in :func:`read_npz`.
    """
    x_train = _images(arrays["x_train"], f"{display}[x_train]")
    x_test = _images(arrays["x_test"], f"{display}[x_test]")
    if x_test.shape[1:] != x_train.shape[1:]:
        raise SpecError(f"{display}[x_test]",
                        f"must have the same (H, W, C) as x_train {x_train.shape[1:]}", describe(x_test))
    y_train = _labels(arrays["y_train"], f"{display}[y_train]", len(x_train))
    y_test = _labels(arrays["y_test"], f"{display}[y_test]", len(x_test))
    class_names = None
    if arrays.get("class_names") is not None:
        class_names = _class_names(arrays["class_names"], f"{display}[class_names]")
        k = len(class_names)
        for key, y in (("y_train", y_train), ("y_test", y_test)):
            if y.max() >= k:
                raise SpecError(f"{display}[{key}]",
                                f"labels must lie in 0..{k - 1} (one per class name; {k} class_names)",
                                _Shown(f"largest label {int(y.max())}"))
    else:
        k = int(max(y_train.max(), y_test.max())) + 1
        if k < 2:
            raise SpecError(f"{display}[y_train]", "must hold at least 2 classes (labels 0..K-1, K >= 2)",
                            _Shown(f"labels in 0..{k - 1}"))
    return x_train, y_train, x_test, y_test, class_names


def _images(x, field: str) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.dtype.kind not in "uif" or x.dtype == np.bool_:
        raise SpecError(field, "must be a numeric image array, uint8 or float in [0, 1]", describe(x))
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise SpecError(field, "must have shape (N, H, W) or (N, H, W, C)", describe(x))
    if x.shape[-1] > 4 and x.shape[1] <= 4:
        raise SpecError(field, "must be channels-last (N, H, W, C), with C of 1 to 4; this looks channels-first",
                        describe(x))
    if not 1 <= x.shape[-1] <= 4:
        raise SpecError(field, "must have 1 to 4 channels, last: (N, H, W, C)", describe(x))
    if min(x.shape) < 1:
        raise SpecError(field, "must hold at least one image of at least 1x1 pixels", describe(x))
    if x.dtype == np.uint8:
        return x
    if x.dtype.kind != "f":
        raise SpecError(field, "must be uint8 (0..255) or float in [0, 1]", describe(x))
    lo, hi = float(np.min(x)), float(np.max(x))
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo < 0 or hi > 1:
        raise SpecError(field, "float images must have every value in [0, 1] (uint8 is also accepted)",
                        _Shown(f"{x.dtype} array with values in [{lo:g}, {hi:g}]"))
    return np.rint(x * 255.0).astype(np.uint8)


def _labels(y, field: str, n: int) -> np.ndarray:
    if not isinstance(y, np.ndarray) or y.dtype.kind not in "iu":
        raise SpecError(field, "must be an integer label array of shape (N,)", describe(y))
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise SpecError(field, "must have shape (N,): one integer class per image", describe(y))
    if len(y) != n:
        raise SpecError(field, f"must have one label per image ({n} images)", describe(y))
    if y.min() < 0:
        raise SpecError(field, "labels must be >= 0 (classes 0..K-1)", _Shown(f"smallest label {int(y.min())}"))
    return y.astype(np.int64)


def _class_names(names, field: str) -> tuple[str, ...]:
    if isinstance(names, tuple) and all(isinstance(n, str) for n in names):
        names = np.array(names, dtype=str)  # already validated once (validation is idempotent)
    if not isinstance(names, np.ndarray) or names.ndim != 1 or names.dtype.kind not in "US":
        raise SpecError(field, "must be a 1-D string array, e.g. np.array(['cat', 'dog'])", describe(names))
    out = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in names.tolist())
    if len(out) < 2 or any(not n for n in out) or len(set(out)) != len(out):
        raise SpecError(field, "must hold at least 2 distinct non-empty names", _Shown(repr(list(out))[:200]))
    return out


def save_npz(path: str | os.PathLike, arrays: dict, *, compresslevel: int = 9) -> None:
    """Writes ``arrays`` as a compressed ``.npz`` that ``np.load`` reads, byte-for-byte reproducibly.

    The same format as ``np.savez_compressed``, except that every zip entry carries a fixed
    timestamp (numpy stamps the current time), so rebuilding the same arrays gives the same
    file and the same sha256. Written atomically.

    Args:
        path: The target file.
        arrays: name -> array; object arrays are refused.
        compresslevel: zlib level, 0-9.
    """
    from invariance.io import atomic_path

    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w") as zf:
            for key, value in arrays.items():
                value = np.asanyarray(value)
                if value.dtype.hasobject:
                    raise SpecError(key, "must not be an object array (np.load would need pickle)", describe(value))
                info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                buf = io.BytesIO()
                np.lib.format.write_array(buf, value, allow_pickle=False)
                zf.writestr(info, buf.getvalue(), compresslevel=compresslevel)
