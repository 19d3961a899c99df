"""Atomic file writes: a reader never sees a half-written file, even after ``kill -9``."""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yields a temporary path beside ``path``; renames it over ``path`` on success.

    The temporary file lives in the same folder, so the final ``os.replace`` is atomic.
    On any error the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp" + path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    # mkstemp creates 0600; results are meant to be shared, so honour the umask instead.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(path: str | os.PathLike, text: str) -> None:
    """Writes ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Writes ``data`` as indented JSON atomically; numpy scalars become Python numbers."""
    write_text(path, json.dumps(data, indent=2, sort_keys=False, default=_json_default) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """Reads a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def file_sha256(path: str | os.PathLike, *, chunk: int = 1 << 20) -> str:
    """The hex sha256 of a file's bytes, read in chunks (memory does not grow with the file)."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def keras_archive_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` is not a readable ``.keras`` archive, or None when it looks like one.

    A ``.keras`` file is a zip archive holding ``config.json`` (and the weights). Checked
    without keras, so that a truncated or foreign file gets a clear message instead of
    whatever the loader raises (Keras says "File not found" for a file that is there).
    """
    import zipfile

    path = Path(path)
    if not path.is_file():
        return "file not found"
    if path.stat().st_size == 0:
        return "the file is empty"
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        return f"not a zip archive ({err}); a .keras file is the zip archive model.save('x.keras') writes"
    if "config.json" not in names:
        return "the zip archive has no config.json (it was not written by model.save('x.keras'))"
    return None


def write_with(path: str | os.PathLike, writer: Callable[[Path], None]) -> None:
    """Calls ``writer(tmp_path)`` and moves the result to ``path`` atomically.

    For writers that need a real file name, e.g. ``model.save`` or ``DataFrame.to_csv``.
    """
    with atomic_path(path) as tmp:
        writer(tmp)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
