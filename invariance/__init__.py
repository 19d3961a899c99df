"""invariance: measure how architecture and augmentation shape a CNN's invariance.

``import invariance`` is light: it chooses the Keras backend before keras loads and imports
nothing of keras itself. When keras does load (whoever imports it), the toolkit's custom
layers register themselves, so that plain ``keras.saving.load_model(path)`` (safe mode on)
reads any model the toolkit saved. The other top-level names are imported lazily, on first use.
"""
from __future__ import annotations

from invariance import backend as _backend
from invariance.errors import InvarianceError, SpecError
from invariance.lazy import lazy_exports

_backend.configure()
# By module name, so that only loading keras loads the zoo (see backend.after_keras_loads).
_backend.after_keras_loads("invariance.models.layers", "invariance.models.aps", "invariance.models.group")

__version__ = "0.1.0"

# public name -> module that defines it
_LAZY = {
    "Dataset": "invariance.data",
    "load_dataset": "invariance.data",
    "build_model": "invariance.models",
    "create_model": "invariance.models",
    "register_model": "invariance.models",
    "resolve_model_spec": "invariance.models",
    "model_cost": "invariance.models",
    "model_label": "invariance.models",
    "save_model": "invariance.models",
    "load_model": "invariance.models",
    "PRESETS": "invariance.models",
    "train": "invariance.training",
    "TrainSpec": "invariance.training",
    "AugmentationSpec": "invariance.augment",
    "evaluate": "invariance.harness",
    "load_study": "invariance.study",
    "run_study": "invariance.study",
}

__all__ = ["InvarianceError", "SpecError", "__version__", *_LAZY]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
