"""invariance.seeding: seed checks, generators and the one sub-seed derivation, with pinned values.

The pinned numbers are the streams the package has always drawn (training order, keras seed
states, albumentations, shift pairs, bootstrap seeds): changing them changes every result.
"""
import zlib

import numpy as np
import pytest

from invariance import seeding
from invariance.errors import SpecError
from invariance.seeding import (SHIFT_PAIRS, SeedStream, check_seed, derive_seed, make_rng, seed_sequence, seed_words,
                                stream_key)


@pytest.mark.parametrize("seed, optional, expected", [
    (0, False, 0), (7, False, 7), (np.int64(3), False, 3), (2**40, False, 2**40), (None, True, None), (5, True, 5),
])
def test_check_seed_accepts(seed, optional, expected):
    out = check_seed(seed, optional=optional)
    assert out == expected and (out is None or type(out) is int)


@pytest.mark.parametrize("seed, optional, fragment", [
    (-1, False, "integer >= 0"), (1.5, False, "must be an integer"), (True, False, "integer"),
    ("3", False, "integer"), (None, False, "integer >= 0"), (-1, True, "or None"),
])
def test_check_seed_rejects(seed, optional, fragment):
    with pytest.raises(SpecError) as err:
        check_seed(seed, optional=optional, field="train.seed")
    assert err.value.field == "train.seed" and fragment in err.value.rule


DERIVED = [((0,), 821328062), ((0, 1), 1817441348), ((1, 2, 3), 1674706048), ((7, "x"), 145369803)]


@pytest.mark.parametrize("args, expected", DERIVED)
def test_derive_seed_pinned(args, expected):
    assert derive_seed(*args) == expected
    words = seed_words(*args)
    assert expected == int(np.random.SeedSequence(words).generate_state(1)[0] & 0x7FFFFFFF)


def test_derive_seed_keeps_the_streams_apart():
    seeds = {derive_seed(0, e, b) for e in range(10) for b in range(10)}
    assert len(seeds) == 100 and all(0 <= s < 2**31 for s in seeds)
    assert derive_seed(1, 2, 3) != derive_seed(1, 3, 2) != derive_seed(2, 2, 3)


def test_make_rng_streams_pinned():
    assert make_rng(0).integers(0, 100, 5).tolist() == [85, 63, 51, 26, 30]
    np.testing.assert_array_equal(make_rng(0).random(4), np.random.default_rng(0).random(4))
    # the harness's shift pairs: default_rng([seed, 0x5A1F])
    assert make_rng(5, SHIFT_PAIRS).integers(-4, 5, 6).tolist() == [-2, 1, 4, -1, 4, -4]
    np.testing.assert_array_equal(make_rng(5, SHIFT_PAIRS).random(3), np.random.default_rng([5, 0x5A1F]).random(3))
    # a string key is its CRC-32 (curves' bootstrap seeds)
    key = zlib.crc32("mlp\x1fnone".encode("utf-8"))
    assert stream_key("mlp\x1fnone") == key == 3583811283
    np.testing.assert_array_equal(make_rng(3, "mlp\x1fnone").random(3), np.random.default_rng([3, key]).random(3))
    assert seed_words(3, "a", 4) == [3, 3904355907, 4]
    assert seed_sequence(3, "a", 4).entropy == [3, 3904355907, 4]


def test_make_rng_passes_a_generator_through_and_takes_words():
    gen = np.random.default_rng(1)
    assert make_rng(gen) is gen
    with pytest.raises(TypeError):
        make_rng(gen, 1)
    np.testing.assert_array_equal(make_rng([3, 4]).random(2), make_rng(3, 4).random(2))


def test_seed_stream_pinned_and_unseeded():
    stream = SeedStream(0)
    assert [stream() for _ in range(3)] == [1826701614, 1367864806, 1097657231]
    assert SeedStream(None)() is None


def test_every_public_function_has_a_test():
    tested = {"check_seed", "derive_seed", "make_rng", "seed_sequence", "seed_words", "stream_key", "SeedStream"}
    public = {n for n, v in vars(seeding).items() if callable(v) and not n.startswith("_")
              and getattr(v, "__module__", "") == "invariance.seeding"}
    assert public == tested
