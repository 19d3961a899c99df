"""invariance: measure how architecture and augmentation shape a CNN's invariance."""
from invariance.backend import configure as _configure

_configure()

from invariance.errors import InvarianceError, SpecError  # noqa: E402

__version__ = "0.1.0"
__all__ = ["InvarianceError", "SpecError", "__version__"]
