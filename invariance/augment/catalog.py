"""The albumentations transforms usable on a 2D image, found and built by introspection.

Specs name albumentations transforms by class name with keyword arguments; this module
checks both against the installed albumentations (so a typo fails when the spec is built,
before anything trains) and turns every problem into a :class:`~invariance.errors.SpecError`.
albumentations is imported on first use.
"""
from __future__ import annotations

import difflib
import functools
import inspect
import warnings
from typing import Any, Mapping

from invariance.errors import SpecError

# Abstract or non-2D classes that subclass BasicTransform but cannot be used on an image.
_NOT_USABLE = {"BasicTransform", "DualTransform", "ImageOnlyTransform", "NoOp", "Transform3D"}


@functools.lru_cache(maxsize=None)
def albumentations_names() -> tuple[str, ...]:
    """Names of the albumentations transform classes usable on a 2D image, sorted."""
    import albumentations as A

    base3d = getattr(A, "Transform3D", None)
    out = []
    for name in dir(A):
        obj = getattr(A, name)
        if not (isinstance(obj, type) and issubclass(obj, A.BasicTransform)) or name in _NOT_USABLE:
            continue
        if inspect.isabstract(obj) or (base3d is not None and issubclass(obj, base3d)):
            continue
        out.append(name)
    return tuple(sorted(out))


def build_albumentations_transform(name: str, kwargs: Mapping[str, Any]) -> Any:
    """Builds ``albumentations.<name>(**kwargs)``; every problem becomes a SpecError.

    Unknown kwargs only warn in albumentations; here they are errors.

    Raises:
        SpecError: ``name`` is not a usable transform (field ``""``, the parser adds the
            list position) or albumentations rejects the kwargs (field ``name``).
    """
    import albumentations as A

    names = albumentations_names()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise SpecError("", f"is not an albumentations transform; {hint}allowed names are {', '.join(names)}", name)
    cls = getattr(A, name)
    params = inspect.signature(cls.__init__).parameters
    accepted = [p for p in params if p != "self" and params[p].kind not in (inspect.Parameter.VAR_POSITIONAL,
                                                                           inspect.Parameter.VAR_KEYWORD)]
    unknown = [k for k in kwargs if k not in accepted]
    if unknown:
        raise SpecError(name, f"unknown argument {unknown[0]!r}; {name} accepts {', '.join(accepted)}", dict(kwargs))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            return cls(**dict(kwargs))
    except Exception as err:  # albumentations raises pydantic, Value and Type errors alike
        lines = [ln.strip() for ln in str(err).splitlines()
                 if ln.strip() and not ln.strip().startswith("For further information")]
        detail = "; ".join(lines[:6]) or type(err).__name__
        raise SpecError(name, f"albumentations rejected the arguments ({detail}); {name} accepts "
                              f"{', '.join(accepted)}", dict(kwargs)) from None
