"""Seeds: checking them, turning them into numpy generators, and deriving sub-seeds.

Randomness in this package is always an argument. A seed is a non-negative int; every
stream of random numbers is named by the seed plus *keys* (ints, or strings hashed with a
fixed CRC-32), and everything goes through one derivation:

    ``np.random.SeedSequence([seed, *keys])``

* :func:`make_rng` is a ``numpy.random.Generator`` on that sequence; with no keys it equals
  ``np.random.default_rng(seed)``, with keys ``np.random.default_rng([seed, *keys])``.
* :func:`derive_seed` is the sequence's first 32-bit word masked to 31 bits: an int seed
  for code that wants one (keras initializers and ``SeedGenerator`` states,
  albumentations), for example one per (seed, epoch, batch).

Seeding each unit of work from its own coordinates, not from a shared stream, keeps results
identical whatever order worker threads run in, and lets a resumed run redraw exactly what
an uninterrupted one drew. Distinct keys give independent streams, so for example the
shift pairs of the harness (key :data:`SHIFT_PAIRS`) never repeat its random-k draws (no key).
"""
from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from invariance.errors import SpecError

SHIFT_PAIRS = 0x5A1F
"""Key of the harness's shift-pair draws (the random-k draws use the bare seed)."""


def check_seed(seed: Any, *, field: str = "seed", optional: bool = False) -> int | None:
    """Returns ``seed`` as an int if it is a non-negative integer (or None when ``optional``).

    Raises:
        SpecError: naming ``field``, on a bool, a float, a negative or any other value.
    """
    if seed is None and optional:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        rule = "must be an integer >= 0 or None" if optional else "must be an integer >= 0"
        raise SpecError(field, rule, seed)
    return int(seed)


def stream_key(text: str) -> int:
    """A stable 32-bit key for a text (CRC-32 of its UTF-8 bytes), the same on every run and machine."""
    return zlib.crc32(str(text).encode("utf-8"))


def seed_words(seed: int, *keys: int | str) -> list[int]:
    """The entropy ``[seed, *keys]`` of a stream, string keys turned into :func:`stream_key`."""
    return [int(seed), *(stream_key(k) if isinstance(k, str) else int(k) for k in keys)]


def seed_sequence(seed: int, *keys: int | str) -> np.random.SeedSequence:
    """``np.random.SeedSequence(seed_words(seed, *keys))``: the one derivation of every stream."""
    return np.random.SeedSequence(seed_words(seed, *keys))


def make_rng(seed: Any, *keys: int | str) -> np.random.Generator:
    """A numpy Generator for ``seed`` and ``keys``.

    Args:
        seed: An int seed; or a Generator (returned as is, ``keys`` must be empty); or a
            sequence of ints (the words of a stream, as :func:`seed_words` returns).
        keys: Names of the sub-stream.

    Returns:
        ``np.random.default_rng(seed)`` with no keys, else the generator of
        :func:`seed_sequence`.
    """
    if isinstance(seed, np.random.Generator):
        if keys:
            raise TypeError("make_rng: keys need an int seed, not a Generator")
        return seed
    if not keys:
        return np.random.default_rng(seed)
    return np.random.default_rng(seed_sequence(seed, *keys))


def derive_seed(seed: int, *keys: int | str) -> int:
    """A 31-bit int seed that depends on ``seed`` and every key, e.g. ``derive_seed(seed, epoch, batch)``."""
    return int(seed_sequence(seed, *keys).generate_state(1)[0] & 0x7FFFFFFF)


class SeedStream:
    """Distinct, reproducible int seeds, drawn one after another from ``make_rng(seed)``.

    For code that seeds many things in a fixed order (the initializers of one model, in
    layer-creation order). With ``seed=None`` every call returns None (unseeded).
    """

    def __init__(self, seed: int | None):
        self._rng = None if seed is None else make_rng(seed)

    def __call__(self) -> int | None:
        return None if self._rng is None else int(self._rng.integers(0, 2**31 - 1))

