"""``load_dataset``: one call from a name to a validated, cached :class:`Dataset`."""
from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from invariance.data.dataset import Dataset, pad_to_canvas
from invariance.data.npz import _Shown, validate_arrays
from invariance.data.sources import DATASETS, Location, fetch, get_source, locate
from invariance.errors import InvarianceError, SpecError


def load_dataset(name: str, *, data_dir: str | os.PathLike | None = None, canvas: int | None = None) -> Dataset:
    """Loads a dataset by name, looking locally first and downloading only as a last resort.

    Args:
        name: ``fashion_mnist``, ``mnist``, ``cifar10``, ``fashion_mnist_mini`` (bundled) or
            ``npz:PATH`` (your own file; see :mod:`invariance.data.npz` for its rules).
        data_dir: A folder searched first (default ``$INVARIANCE_DATA_DIR``); see
            :mod:`invariance.data.sources` for the layouts and the search order.
        canvas: Zero-pad every image to ``canvas``×``canvas``, centred (the black canvas, so
            shifts move content without cropping it); None keeps the original size.

    Returns:
        A :class:`Dataset` with read-only uint8 (N, H, W, C) images and int64 labels. The same
        call in the same process returns the same (cached) object.

    Raises:
        SpecError: For an unknown name, a bad canvas or a malformed file.
        InvarianceError: When the data is absent and cannot be downloaded; the message lists
            every place looked and how to get the data.
    """
    if not isinstance(name, str):
        raise SpecError("dataset", "must be a dataset name (a string)", name)
    if canvas is not None and (isinstance(canvas, bool) or not isinstance(canvas, (int, np.integer)) or canvas < 1):
        raise SpecError("canvas", "must be a positive integer (the canvas side in pixels) or None", canvas)
    canvas = None if canvas is None else int(canvas)
    if name.startswith("npz:"):
        raw = name[len("npz:"):]
        if not raw.strip():
            raise SpecError("dataset", "'npz:PATH' needs a path after 'npz:'", name)
        path = Path(raw).expanduser()
        if not path.is_file():
            raise InvarianceError(f"dataset {name!r}: no such file {path.resolve()} "
                                  "(an .npz with keys x_train, y_train, x_test, y_test)")
        loc = Location("npz", path.resolve(), "npz")
        return _cached_dataset(name, loc, loc.stamp(), canvas)
    get_source(name)  # unknown names fail here, before any file is touched
    loc, looked = locate(name, data_dir=data_dir)
    if loc is not None:
        return _cached_dataset(name, loc, loc.stamp(), canvas)
    arrays, where = fetch(name, looked)
    return _build(name, arrays, where, canvas, display=f"{name} (downloaded)")


def dataset_status(*, data_dir: str | os.PathLike | None = None) -> list[dict]:
    """Which named datasets are on this machine, where, and their sizes. Never downloads.

    Returns:
        One dict per registered dataset: name, available, source (path or None), n_train,
        n_test, image_shape, num_classes, downloadable (keras can fetch it), looked (the
        places checked, as strings) and error (why a present file could not be read).
    """
    rows = []
    for name, source in DATASETS.items():
        loc, looked = locate(name, data_dir=data_dir)
        row = {"name": name, "available": False, "source": None, "n_train": None, "n_test": None,
               "image_shape": None, "num_classes": len(source.class_names),
               "downloadable": source.keras_module is not None,
               "looked": [f"{loc_.describe()}" for loc_ in looked], "error": None}
        if loc is not None:
            row["source"] = str(loc.path)
            try:
                if source.derive is None:
                    ds = _cached_dataset(name, loc, loc.stamp(), None)
                else:  # a variant: count the files it reads; deriving it (e.g. rotating) waits for a load
                    arrays = _cached_arrays(loc, loc.stamp())
            except InvarianceError as err:
                row["error"] = str(err)
            else:
                if source.derive is None:
                    row.update(available=True, n_train=len(ds.y_train), n_test=len(ds.y_test),
                               image_shape=list(ds.image_shape), num_classes=ds.num_classes)
                else:
                    row.update(available=True, n_train=len(arrays[1]), n_test=len(arrays[3]))
        rows.append(row)
    return rows


def clear_cache() -> None:
    """Forgets the datasets cached in this process (e.g. after a file changed in place)."""
    _cached_arrays.cache_clear()
    _cached_dataset.cache_clear()


@functools.lru_cache(maxsize=4)
def _cached_arrays(loc: Location, stamp: tuple):
    # ``stamp`` (mtime and size of each file) is only part of the key: an edited file reloads
    arrays = validate_arrays(dict(zip(("x_train", "y_train", "x_test", "y_test", "class_names"), loc.read())),
                             display=str(loc.path))
    for a in arrays[:4]:
        a.flags.writeable = False
    return arrays


@functools.lru_cache(maxsize=8)
def _cached_dataset(name: str, loc: Location, stamp: tuple, canvas: int | None) -> Dataset:
    arrays = _cached_arrays(loc, stamp)
    return _build(name, arrays, str(loc.path), canvas, display=str(loc.path), validated=True)


def _build(name, arrays, source: str, canvas, *, display: str, validated: bool = False) -> Dataset:
    if not validated:
        arrays = validate_arrays(dict(zip(("x_train", "y_train", "x_test", "y_test", "class_names"), arrays)),
                                 display=display)
    x_train, y_train, x_test, y_test, file_names = arrays
    if name in DATASETS:
        entry = DATASETS[name]
        if x_train.shape[1:] != entry.image_shape:
            raise SpecError(f"{display}[x_train]", f"must hold {entry.image_shape} images for {name!r}",
                            _Shown(f"images of shape {x_train.shape[1:]}"))
        class_names = entry.class_names
    elif file_names is not None:
        class_names = file_names
    else:
        k = int(max(y_train.max(), y_test.max())) + 1
        class_names = tuple(str(i) for i in range(k))
    derive = DATASETS[name].derive if name in DATASETS else None
    if derive is not None:
        x_train, x_test, canvas = derive(x_train, x_test, canvas)
    elif canvas is not None:
        x_train, x_test = pad_to_canvas(x_train, canvas), pad_to_canvas(x_test, canvas)
    arrays = []
    for a in (x_train, y_train, x_test, y_test):
        if a.flags.writeable:
            a.flags.writeable = False
        arrays.append(a)
    return Dataset(name=name, x_train=arrays[0], y_train=arrays[1], x_test=arrays[2], y_test=arrays[3],
                   class_names=tuple(class_names), source=source, canvas=canvas)
