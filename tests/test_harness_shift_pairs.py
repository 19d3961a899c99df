"""Random shift pairs (Zhang 2019's consistency): known answers on tiny models."""
import keras
import numpy as np
import pytest
from keras import layers

from invariance.config import parse_spec
from invariance.errors import SpecError
from invariance.harness import EvaluationSpec, evaluate
from invariance.harness.shift_pairs import ShiftPairsSpec, pair_metrics, resolve_shift_pairs

H = W = 12
N = 32


def _images(n=N, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, H, W, 1)).astype("float32")
    x[:, :4] = 0.0
    return x, rng.integers(0, 3, n)


def _mean_model():
    """Logits depend only on the image's mean intensity."""
    inp = keras.Input((H, W, 1))
    out = layers.Dense(3, kernel_initializer=keras.initializers.Constant([[4.0, -3.0, 1.0]]),
                       bias_initializer=keras.initializers.Constant([-2.0, 1.5, 0.0]))(
        layers.GlobalAveragePooling2D()(inp))
    return keras.Model(inp, out)


def _flat_model(seed=1):
    keras.utils.set_random_seed(seed)
    inp = keras.Input((H, W, 1))
    h = layers.Dense(16, activation="relu")(layers.Flatten()(inp))
    return keras.Model(inp, layers.Dense(3)(h))


def _value(frame, metric):
    rows = frame[(frame["sweep"] == "shift_pairs") & (frame["metric"] == metric)]
    assert len(rows) == 1
    return float(rows["value"].iloc[0])


def test_points_are_seeded_integer_shifts_in_range():
    spec = ShiftPairsSpec(max_shift=3, pairs=2)
    a, b = spec.points(50, seed=4), spec.points(50, seed=4)
    assert a.shape == (50, 2, 2, 4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, spec.points(50, seed=5))
    assert np.all(np.abs(a[..., :2]) <= 3) and np.all(a[..., :2] == np.round(a[..., :2]))
    assert set(np.unique(a[..., :2])) == set(range(-3, 4))
    np.testing.assert_array_equal(a[..., 2], 0.0)
    np.testing.assert_array_equal(a[..., 3], 1.0)


def test_pair_metrics_known_answer():
    top1 = np.array([[[0, 0]], [[1, 2]], [[2, 2]], [[0, 1]]])  # (4 images, 1 pair, 2 copies)
    out = pair_metrics(top1, np.array([0, 1, 0, 1]))
    assert out["pair_consistency"] == 0.5
    assert out["pair_accuracy"] == pytest.approx(4 / 8)  # 2 + 1 + 0 + 1 correct copies of 8


def test_mean_intensity_model_is_exactly_consistent_under_circular_pairs():
    x, y = _images()
    frame = evaluate(_mean_model(), x, y, shift_pairs={"max_shift": 4, "pairs": 3, "fill": "wrap"}, seed=1)
    assert _value(frame, "pair_consistency") == 1.0
    clean = float(frame.loc[frame["sweep"] == "clean", "value"].iloc[0])
    assert _value(frame, "pair_accuracy") == pytest.approx(clean)  # same prediction as the clean image
    assert set(frame.loc[frame["sweep"] == "shift_pairs", "n"]) == {N}


def test_flatten_model_is_not_consistent_and_results_are_seeded():
    x, y = _images()
    model = _flat_model()
    frame = evaluate(model, x, y, shift_pairs=4, seed=3)  # an int is max_shift; wrap by default
    assert _value(frame, "pair_consistency") < 1.0
    again = evaluate(model, x, y, shift_pairs=4, seed=3, batch_size=7)
    assert _value(again, "pair_consistency") == _value(frame, "pair_consistency")


def test_constant_fill_pairs_run_beside_another_fill():
    x, y = _images()
    frame = evaluate(_flat_model(), x, y, sweeps={"dx": [-1, 1]}, fill="wrap",
                     shift_pairs={"max_shift": 2, "fill": "constant"})
    assert 0.0 <= _value(frame, "pair_consistency") <= 1.0
    assert frame.attrs["shift_pairs_fill"] == "constant"


def test_evaluation_spec_takes_shift_pairs():
    spec = parse_spec(EvaluationSpec, {"shift_pairs": {"max_shift": 4, "pairs": 2}})
    assert spec.shift_pairs == ShiftPairsSpec(max_shift=4, pairs=2, fill="wrap")
    assert spec.evaluate_kwargs()["shift_pairs"] == spec.shift_pairs
    assert parse_spec(EvaluationSpec, {}).shift_pairs is None


@pytest.mark.parametrize("obj, field", [
    ({"max_shift": 0}, "max_shift"),
    ({"pairs": 0}, "pairs"),
    ({"fill": "mirror"}, "fill"),
    ({"max_shift": 2.5}, "max_shift"),
    ({"shifts": 2}, "shifts"),
])
def test_bad_shift_pairs_name_the_field(obj, field):
    with pytest.raises(SpecError, match=field):
        resolve_shift_pairs(obj)
    with pytest.raises(SpecError, match=f"shift_pairs.{field}"):
        parse_spec(EvaluationSpec, {"shift_pairs": obj})
