"""Short readable labels of augmentation specs, e.g. ``geometric[shift=4,rotate=20,scale=0.8-1.2]``.

A label names a spec in tables, figures and run folders; it leaves defaults out, and the
range forms it writes (``scale=0.8-1.2``, ``shift=4``) read back through
:func:`invariance.augment.resolve_augmentation` as the same ranges.
"""
from __future__ import annotations

from typing import Any

from invariance.augment.spec import resolve_augmentation

def augmentation_label(spec: Any) -> str:
    """A short readable label, e.g. ``none``, ``geometric[shift=4,rotate=20,scale=0.8-1.2]``.

    Args:
        spec: Anything :func:`resolve_augmentation` accepts.

    Returns:
        The label; defaults (constant fill, bilinear, path auto) are left out.
    """
    spec = resolve_augmentation(spec)
    if spec.kind == "none":
        return "none"
    if spec.kind == "albumentations":
        parts = []
        for t in spec.albumentations:
            args = ",".join(f"{k}={_fmt(v)}" for k, v in t.kwargs.items())
            parts.append(f"{t.name}({args})" if args else t.name)
        return f"albumentations[{','.join(parts)}]"
    g = spec.geometric
    parts = []
    for name, (lo, hi), identity in (("shift", g.shift, 0.0), ("rotate", g.rotate, 0.0)):
        if (lo, hi) != (identity, identity):
            parts.append(f"{name}={_fmt(hi)}" if lo == -hi else f"{name}={_fmt(lo)}-{_fmt(hi)}")
    if g.scale != (1.0, 1.0):
        parts.append(f"scale={_fmt(g.scale[0])}-{_fmt(g.scale[1])}")
    for name, default in (("fill", "constant"), ("interpolation", "bilinear"), ("path", "auto"),
                          ("shift_mode", "continuous"), ("p", 1.0)):
        if getattr(g, name) != default:
            parts.append(f"{name}={_fmt(getattr(g, name))}")
    return f"geometric[{','.join(parts)}]"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_fmt(x) for x in v) + "]"
    return str(v)
