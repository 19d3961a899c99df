"""Saving and loading zoo models as ``.keras`` files, with ``safe_mode`` on."""
from __future__ import annotations

import os
from pathlib import Path

import keras

import invariance.models.aps  # noqa: F401  (these three register the custom layers before loading)
import invariance.models.group  # noqa: F401
import invariance.models.layers  # noqa: F401
from invariance.errors import InvarianceError
from invariance.io import keras_archive_problem, write_with


def load_model(path: str | os.PathLike) -> keras.Model:
    """Loads a model saved with ``model.save("x.keras")``, with ``safe_mode=True``.

    Works for zoo models and for any Keras model whose custom objects are registered.

    Raises:
        InvarianceError: if the file is missing, is not a ``.keras`` file, is not a valid
            ``.keras`` archive (e.g. truncated by a partial copy), or cannot be read.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise InvarianceError(f"model: must be a .keras file (saved with model.save('model.keras')); "
                              f"received {str(path)!r}")
    if not path.is_file():
        raise InvarianceError(f"model: file not found; received {str(path)!r}")
    problem = keras_archive_problem(path)
    if problem is not None:
        raise InvarianceError(f"model: not a valid .keras archive: {str(path)!r}: {problem}")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as err:  # keras raises ValueError, TypeError, zipfile errors, ...
        raise InvarianceError(f"model: could not load {str(path)!r}: {err}") from err


def save_model(model: keras.Model, path: str | os.PathLike) -> Path:
    """Saves ``model`` to ``path`` (a ``.keras`` file) atomically.

    Returns:
        The path written.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise InvarianceError(f"model path: must end in .keras; received {str(path)!r}")
    write_with(path, model.save)
    return path
