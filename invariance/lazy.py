"""Packages whose public names load on first use.

A package's ``__init__`` that imported every submodule would load keras for anyone who only
wants a constant or a spec (the command line's start-up, the results layer reading a CSV).
Instead it names where each public name lives, and the module loads when the name is first
read. The cost: a submodule must not share its name with a public attribute of the package
(importing the submodule would set that attribute to the module).
"""
from __future__ import annotations

import importlib
import sys
from typing import Callable, Mapping


def lazy_exports(package: str, names: Mapping[str, str]) -> tuple[Callable[[str], object], Callable[[], list]]:
    """``__getattr__`` and ``__dir__`` for ``package``, exporting ``name -> module`` lazily.

    Args:
        package: The package's ``__name__``.
        names: Public name -> the full name of the module that defines it.

    Returns:
        (``__getattr__``, ``__dir__``) to assign at the package's top level.
    """
    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(names[name]), name)
        setattr(sys.modules[package], name, value)  # later reads skip this function
        return value

    def __dir__() -> list:
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
