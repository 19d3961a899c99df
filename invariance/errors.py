"""The one exception type users see, and helpers that word it the same way everywhere.

Every message follows one rule: name the field, state what is allowed, then show what
was received. The CLI prints these messages without a traceback.
"""
from __future__ import annotations

from typing import Any, Iterable


class InvarianceError(ValueError):
    """A user-facing error: bad input, missing data, or a run that cannot proceed."""


class SpecError(InvarianceError):
    """A value in a spec (dict, YAML or CLI option) breaks a rule.

    Args:
        field: Dotted path of the offending value, e.g. ``models[1].pooling``.
        rule: What is allowed, e.g. ``"must be one of 'max', 'avg'"``.
        received: The value that was given.
    """

    def __init__(self, field: str, rule: str, received: Any):
        self.field = field
        self.rule = rule
        self.received = received
        super().__init__(f"{field or '<root>'}: {rule}; received {received!r}")

    def prefixed(self, prefix: str) -> "SpecError":
        """Returns the same error with ``prefix`` put in front of its field path."""
        if not prefix:
            return self
        if not self.field:
            field = prefix
        elif self.field.startswith("["):
            field = prefix + self.field
        else:
            field = f"{prefix}.{self.field}"
        return SpecError(field, self.rule, self.received)


def one_of(field: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Returns ``value`` if it is in ``allowed``; raises SpecError otherwise."""
    allowed = list(allowed)
    if value not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        raise SpecError(field, f"must be one of {shown}", value)
    return value


def in_range(field: str, value: Any, low: float | None = None, high: float | None = None) -> Any:
    """Returns ``value`` if ``low <= value <= high`` (either bound optional)."""
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            rule = f"must be between {low} and {high}"
        elif low is not None:
            rule = f"must be >= {low}"
        else:
            rule = f"must be <= {high}"
        raise SpecError(field, rule, value)
    return value
