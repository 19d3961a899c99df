"""evaluate(): known answers on tiny models, and a cross-check of the batched path against
a plain per-point loop (transform, predict, metric functions)."""
import types

import keras
import numpy as np
import pandas as pd
import pytest
from keras import layers

from invariance import transforms as T
from invariance.errors import InvarianceError, SpecError
from invariance.harness import COLUMNS, evaluate, evaluation_set
from invariance.harness import metrics as M

H = W = 12
N = 24


def _images(n=N, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, H, W, 1)).astype("float32")
    x[:, :3] = 0.0  # some structure, so shifts and rotations change the content
    return x, rng.integers(0, 3, n)


def _mean_model():
    """Logits depend only on the image's mean intensity."""
    inp = keras.Input((H, W, 1))
    out = layers.Dense(3, kernel_initializer=keras.initializers.Constant([[4.0, -3.0, 1.0]]),
                       bias_initializer=keras.initializers.Constant([-2.0, 1.5, 0.0]), name="logits")(
        layers.GlobalAveragePooling2D(name="embedding")(inp))
    return keras.Model(inp, out)


def _flat_model(seed=1, activation=None):
    keras.utils.set_random_seed(seed)
    inp = keras.Input((H, W, 1))
    h = layers.Dense(6, activation="relu")(layers.Flatten()(inp))
    return keras.Model(inp, layers.Dense(3, activation=activation)(h))


def _cnn(seed=2):
    keras.utils.set_random_seed(seed)
    inp = keras.Input((H, W, 1))
    h = layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    h = layers.MaxPooling2D(2)(h)
    h = layers.Dense(8, activation="relu", name="embedding")(layers.Flatten()(h))
    return keras.Model(inp, layers.Dense(3, name="logits")(h))


@pytest.fixture(scope="module")
def data():
    return _images()


@pytest.fixture(scope="module")
def cnn():
    return _cnn()


def _value(frame, sweep, metric, **point):
    rows = frame[(frame.sweep == sweep) & (frame.metric == metric)]
    for axis, v in point.items():
        rows = rows[rows[axis] == v]
    assert len(rows) == 1, (sweep, metric, point, len(rows))
    return rows["value"].iloc[0]


def _reference_outputs(model, x, points, fill="constant"):
    """The slow, obvious way: transform every image with the shared transform, then predict."""
    out = []
    for p in points:
        moved = keras.ops.convert_to_numpy(T.apply(x, p, fill=fill))
        out.append(model.predict(moved, verbose=0, batch_size=len(x)))
    return np.stack(out, axis=1)  # (N, T, C)


def test_identity_gives_clean_accuracy_and_consistency_one(data, cnn):
    x, y = data
    frame = evaluate(cnn, x, y, sweeps={"dx": [-1, 0, 1]}, grids={"g": {"dx": [0], "angle": [0, 5]}},
                     metrics=("accuracy", "consistency", "kl", "embedding_cosine", "embedding_distance"))
    clean = _value(frame, "clean", "accuracy")
    assert clean == M.accuracy(cnn.predict(x, verbose=0), y)
    for sweep, point in [("dx", {"dx": 0.0}), ("g", {"dx": 0.0, "angle": 0.0})]:
        assert _value(frame, sweep, "accuracy", **point) == clean
        assert _value(frame, sweep, "consistency", **point) == 1.0
        assert _value(frame, sweep, "kl", **point) == 0.0
        assert _value(frame, sweep, "embedding_cosine", **point) == pytest.approx(1.0, abs=1e-12)
        assert _value(frame, sweep, "embedding_distance", **point) == 0.0


def test_batched_path_matches_a_per_point_loop(data, cnn):
    x, y = data
    sweep = [-2.0, 0.5, 3.0]
    grid = {"dx": [-1, 1], "angle": [0, 30]}
    frame = evaluate(cnn, x, y, sweeps={"dx": sweep}, grids={"g": grid}, walks=2, batch_size=7,
                     metrics=("accuracy", "consistency", "kl", "embedding_cosine"))
    clean = cnn.predict(x, verbose=0)
    ref = _reference_outputs(cnn, x, T.as_points([[d, 0, 0, 1] for d in sweep]))
    embed = keras.Model(cnn.inputs, cnn.get_layer("embedding").output)
    clean_emb = embed.predict(x, verbose=0)
    for i, d in enumerate(sweep):
        assert _value(frame, "dx", "accuracy", dx=d) == M.accuracy(ref[:, i], y)
        assert _value(frame, "dx", "consistency", dx=d) == M.consistency(ref[:, i], clean)
        assert _value(frame, "dx", "kl", dx=d) == pytest.approx(M.kl(ref[:, i], clean), rel=1e-4, abs=1e-7)
        moved_emb = embed.predict(keras.ops.convert_to_numpy(T.apply(x, (d, 0, 0, 1))), verbose=0)
        assert _value(frame, "dx", "embedding_cosine", dx=d) == pytest.approx(
            M.embedding_cosine(moved_emb, clean_emb), abs=1e-5)
    assert _value(frame, "dx", "mean_consistency") == pytest.approx(
        np.mean([M.consistency(ref[:, i], clean) for i in range(3)]))
    gpts = [[dx, 0, a, 1] for dx in grid["dx"] for a in grid["angle"]]
    gref = _reference_outputs(cnn, x, gpts)
    assert _value(frame, "g", "grid_accuracy") == M.grid_accuracy(gref, y)
    walk = np.concatenate([clean[:, None], _reference_outputs(cnn, x, [[1, 1, 0, 1], [2, 2, 0, 1]])], axis=1)
    assert _value(frame, "walk", "flip_rate") == M.flip_rate(walk)
    assert _value(frame, "walk", "mac") == pytest.approx(M.mac(walk), abs=1e-6)


def test_a_sweep_or_grid_with_its_own_fill_equals_evaluating_it_alone_with_that_fill(data, cnn):
    x, y = data
    mixed = evaluate(cnn, x, y, fill="wrap", batch_size=7,
                     sweeps={"dx": [-3, 0, 3], "angle": {"values": [0, 45, 90], "fill": "constant"}},
                     grids={"g": {"dx": [-3, 3], "angle": [0, 45], "fill": "constant"}, "h": {"dx": [3], "dy": [2]}})
    alone = pd.concat([evaluate(cnn, x, y, fill="wrap", sweeps={"dx": [-3, 0, 3]}, grids={"h": {"dx": [3], "dy": [2]}}),
                       evaluate(cnn, x, y, fill="constant", sweeps={"angle": [0, 45, 90]},
                                grids={"g": {"dx": [-3, 3], "angle": [0, 45]}})])
    key = ["sweep", "dx", "dy", "angle", "scale", "metric"]
    moved = alone[alone["sweep"] != "clean"]
    pd.testing.assert_frame_equal(mixed[mixed["sweep"] != "clean"].sort_values(key).reset_index(drop=True),
                                  moved.sort_values(key).reset_index(drop=True), atol=1e-6)
    assert mixed.attrs["sweep_fills"] == {"angle": "constant", "g": "constant"}
    # the same point under two fills is two measurements: dx = 3 wraps in the dx sweep, zero-fills in g
    wrapped, zero = (_reference_outputs(cnn, x, [[3, 0, 0, 1]], fill=f)[:, 0] for f in ("wrap", "constant"))
    assert not np.allclose(wrapped, zero)  # the fills differ here, so the test can fail
    assert _value(mixed, "dx", "kl", dx=3.0) != _value(mixed, "g", "kl", dx=3.0, angle=0.0)
    assert _value(mixed, "g", "accuracy", dx=3.0, angle=0.0) == M.accuracy(zero, y)
    assert _value(mixed, "dx", "accuracy", dx=3.0) == M.accuracy(wrapped, y)


def test_results_do_not_depend_on_batch_size(data, cnn):
    x, y = data
    kw = dict(sweeps={"angle": [-20, 20]}, grids={"g": {"dx": [-1, 1], "dy": [-1, 1]}}, random_k=3, walks=2)
    a = evaluate(cnn, x, y, batch_size=5, **kw)
    b = evaluate(cnn, x, y, batch_size=512, **kw)
    pd.testing.assert_frame_equal(a.drop(columns="value"), b.drop(columns="value"))
    np.testing.assert_allclose(a["value"], b["value"], atol=1e-6)


def test_mean_intensity_model_is_exactly_invariant_to_wrap_shifts_and_right_angles(data):
    x, y = data
    model = _mean_model()
    shifts = evaluate(model, x, y, sweeps={"dx": "-5:5:1"}, grids={"g": {"dx": [-3, 2], "dy": [-4, 1]}},
                      fill="wrap")
    rotations = evaluate(model, x, y, sweeps={"angle": [-180, -90, 90, 180, 270]})
    for frame in (shifts, rotations):
        assert set(frame.loc[frame.metric == "consistency", "value"]) == {1.0}
        clean = _value(frame, "clean", "accuracy")
        assert set(frame.loc[frame.metric == "accuracy", "value"]) == {clean}
        assert frame.loc[frame.metric == "kl", "value"].max() < 1e-10
    assert _value(shifts, "g", "grid_accuracy") == _value(shifts, "clean", "accuracy")
    assert _value(shifts, "dx", "mean_consistency") == 1.0


def test_translation_sensitive_model_is_not_consistent(data):
    x, y = data
    frame = evaluate(_flat_model(), x, y, sweeps={"dx": "-4:4:2"}, fill="wrap")
    assert _value(frame, "dx", "mean_consistency") < 1.0
    assert frame.loc[(frame.metric == "consistency") & (frame.dx != 0), "value"].min() < 1.0


def test_grid_accuracy_is_at_most_the_worst_point(data, cnn):
    x, y = data
    frame = evaluate(cnn, x, y, grids={"engstrom_like": {"dx": "-2:2:2", "dy": "-2:2:2", "angle": "-20:20:20"}})
    g = frame[frame.sweep == "engstrom_like"]
    assert len(g[(g.metric == "accuracy")]) == 27
    assert _value(frame, "engstrom_like", "grid_accuracy") <= g.loc[g.metric == "accuracy", "value"].min()


def test_random_k_is_seeded_and_worst_is_at_most_random(data, cnn):
    x, y = data
    spec = {"k": 4, "limits": {"dx": 3, "dy": 3, "angle": 30}}
    a = evaluate(cnn, x, y, random_k=spec, seed=3)
    b = evaluate(cnn, x, y, random_k=spec, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert _value(a, "random_k", "worst_of_k_accuracy") <= _value(a, "random_k", "random_accuracy")
    # limits of zero: every draw is the identity, which reuses the clean pass exactly
    z = evaluate(cnn, x, y, random_k={"k": 2, "limits": {"dx": 0}})
    assert _value(z, "random_k", "random_accuracy") == _value(z, "clean", "accuracy")
    assert _value(z, "random_k", "worst_of_k_accuracy") == _value(z, "clean", "accuracy")


def test_row_conventions(data, cnn):
    x, y = data
    frame = evaluate(cnn, x, y, sweeps={"dx": [-1, 1], "scale": "0.9:1.1:0.1"}, grids={"tm": {"dx": [0, 1], "dy": [0, 1]}},
                     random_k=2, walks=2, equivariance=True, metrics=("accuracy", "kl"))
    assert tuple(frame.columns) == COLUMNS
    assert frame.iloc[0][["sweep", "dx", "dy", "angle", "scale", "metric"]].tolist() == ["clean", 0, 0, 0, 1, "accuracy"]
    assert list(dict.fromkeys(frame.sweep)) == ["clean", "dx", "scale", "tm", "random_k", "walk", "equivariance"]
    summaries = {("dx", "mean_consistency"), ("scale", "mean_consistency"), ("tm", "mean_consistency"),
                 ("dx", "mean_consistency_correct"), ("scale", "mean_consistency_correct"),
                 ("tm", "mean_consistency_correct"), ("tm", "grid_accuracy"), ("random_k", "random_accuracy"), ("random_k", "worst_of_k_accuracy"),
                 ("walk", "flip_rate"), ("walk", "mac")}
    nan_rows = frame[frame.dx.isna()]
    assert set(zip(nan_rows.sweep, nan_rows.metric)) == summaries
    assert nan_rows[["dy", "angle", "scale"]].isna().all().all()
    point_rows = frame[frame.dx.notna() & (frame.sweep != "equivariance") & (frame.sweep != "clean")]
    assert set(point_rows.metric) == {"accuracy", "kl"}  # only the requested point metrics
    assert len(point_rows) == 2 * (2 + 3 + 4)
    assert (frame.loc[frame.sweep != "equivariance", "layer"] == "").all()
    eq = frame[frame.sweep == "equivariance"]
    assert set(eq.metric) == {"equivariance_error"} and (eq.layer != "").all()
    on_correct = frame.metric.str.endswith("consistency_correct")  # n: the images correct untransformed
    assert (frame.loc[~on_correct, "n"] == N).all()
    assert (frame.loc[on_correct, "n"] == round(N * _value(frame, "clean", "accuracy"))).all()
    assert frame.attrs["embedding_layer"] is None and frame.attrs["outputs"] == "logits"


def test_embedding_layer_defaults_and_choice(data):
    x, y = data
    flat = _flat_model()
    frame = evaluate(flat, x, y, sweeps={"dx": [1]}, metrics=("embedding_cosine",))
    last_dense = [l for l in flat.layers if isinstance(l, layers.Dense)][-1]
    assert frame.attrs["embedding_layer"] == f"input of {last_dense.name}"
    frame = evaluate(_cnn(), x, y, sweeps={"dx": [1]}, metrics=("embedding_distance",))
    assert frame.attrs["embedding_layer"] == "embedding"
    named = evaluate(flat, x, y, sweeps={"dx": [1]}, metrics=("embedding_cosine",), embedding_layer="flatten"
                     if "flatten" in [l.name for l in flat.layers] else flat.layers[1].name)
    assert named.attrs["embedding_layer"] in [l.name for l in flat.layers]
    with pytest.raises(SpecError, match="embedding_layer: must name a layer"):
        evaluate(flat, x, y, metrics=("embedding_cosine",), embedding_layer="nope")


def test_softmax_models_are_read_as_probabilities(data):
    x, y = data
    logits, probs = _flat_model(seed=5), _flat_model(seed=5, activation="softmax")
    probs.set_weights(logits.get_weights())
    kw = dict(sweeps={"dx": [-2, 2]}, fill="wrap")
    a, b = evaluate(logits, x, y, **kw), evaluate(probs, x, y, **kw)
    assert b.attrs["outputs"] == "probabilities"
    np.testing.assert_allclose(a["value"], b["value"], atol=1e-5)


def test_subclassed_models_work_without_embedding_metrics(data):
    class Mean(keras.Model):
        def call(self, inputs):
            m = keras.ops.mean(inputs, axis=(1, 2))
            return keras.ops.concatenate([m, 1 - m, 0.5 + 0 * m], axis=-1)

    x, y = data
    frame = evaluate(Mean(), x, y, sweeps={"dx": [-1, 1]}, fill="wrap")
    assert set(frame.loc[frame.metric == "consistency", "value"]) == {1.0}
    with pytest.raises(InvarianceError, match="subclassed"):
        evaluate(Mean(), x, y, metrics=("embedding_cosine",))


def test_uint8_images_equal_their_float_version(data, cnn):
    x, y = data
    x8 = np.round(x * 255).astype(np.uint8)
    a = evaluate(cnn, x8, y, sweeps={"dx": [1]})
    b = evaluate(cnn, x8.astype("float32") / 255, y, sweeps={"dx": [1]})
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"x": np.zeros((2, 10, 10, 1), "float32"), "y": [0, 1]}, InvarianceError, r"\(12, 12, 1\).*\(10, 10, 1\)"),
    ({"y": np.full(N, 7)}, InvarianceError, "3 outputs.*up to 7"),
    ({"x": np.full((N, H, W, 1), 255.0, "float32")}, SpecError, r"x: float images must be in \[0, 1\]"),
    ({"x": np.zeros((N, H, W), "float32")}, SpecError, "x: must be images of shape"),
    ({"y": np.zeros(3, int)}, SpecError, "y: must be integer labels of shape"),
    ({"metrics": ("accuracy", "acc")}, SpecError, r"metrics\[1\]: must be one of"),
    ({"sweeps": {"rot": "0:10:5"}}, SpecError, "sweeps.rot: must be one of 'dx'"),
    ({"sweeps": {"dx": "0:10:0"}}, SpecError, "sweeps.dx: a range's step must not be 0"),
    ({"grids": {"g": {"dx": "1:2"}}}, SpecError, "grids.g.dx"),
    ({"grids": {"walk": {"dx": 1}}}, SpecError, "grids.walk: a grid name must not be"),
    ({"random_k": {"k": 0}}, SpecError, "random_k.k"),
    ({"random_k": {"k": 2, "lims": {}}}, SpecError, "random_k.lims: is not a known key"),
    ({"walks": -1}, SpecError, "walks.steps"),
    ({"fill": "zeros"}, SpecError, "fill: must be one of"),
    ({"sweeps": {"angle": {"values": [0, 45], "fill": "zeros"}}}, SpecError, "sweeps.angle.fill: must be one of"),
    ({"sweeps": {"angle": {"vals": [0, 45]}}}, SpecError, "sweeps.angle: must be values .* or a mapping with 'values'"),
    ({"grids": {"g": {"dx": [1], "fill": "zeros"}}}, SpecError, "grids.g.fill: must be one of"),
    ({"grids": {"g": {"fill": "wrap"}}}, SpecError, "grids.g: must be a non-empty mapping of axis"),
    ({"interpolation": "cubic"}, SpecError, "interpolation: must be one of"),
    ({"batch_size": 0}, SpecError, "batch_size"),
    ({"seed": 1.5}, SpecError, "seed: must be an integer"),
])
def test_bad_input_fails_with_a_clear_error(data, cnn, kwargs, error, message):
    x, y = data
    kwargs = {"x": x, "y": y, **kwargs}
    with pytest.raises(error, match=message):
        evaluate(cnn, kwargs.pop("x"), kwargs.pop("y"), **kwargs)


def test_progress_bar_runs(data, cnn):
    x, y = data
    frame = evaluate(cnn, x[:4], y[:4], sweeps={"dx": [1, 2]}, progress=True)
    assert len(frame) == 1 + 2 * 3 + 2  # clean, 2 points x 3 metrics, mean_consistency(_correct)


def test_evaluation_set_takes_a_stratified_prefix():
    rng = np.random.default_rng(0)
    y_test = np.repeat(np.arange(4), 25)
    rng.shuffle(y_test)
    ds = types.SimpleNamespace(name="toy", x_test=rng.integers(0, 256, (100, 5, 5, 1), dtype=np.uint8), y_test=y_test)
    x, y, idx, text = evaluation_set(ds, samples=8)
    assert x.dtype == np.float32 and x.max() <= 1 and x.shape == (8, 5, 5, 1)
    np.testing.assert_array_equal(np.bincount(y, minlength=4), [2, 2, 2, 2])
    np.testing.assert_array_equal(y, y_test[idx])
    np.testing.assert_array_equal(x, ds.x_test[idx] / np.float32(255))
    assert "first 8 of 100" in text and "stratified" in text
    x2, _, idx2, _ = evaluation_set(ds, samples=8)
    np.testing.assert_array_equal(idx, idx2)
    _, y_all, idx_all, text_all = evaluation_set(ds)
    assert len(idx_all) == 100 and sorted(idx_all) == list(range(100)) and text_all.startswith("all 100")
    np.testing.assert_array_equal(idx_all[:8], idx)
    with pytest.raises(SpecError, match="samples"):
        evaluation_set(ds, samples=0)


def test_mean_consistency_is_the_mean_of_the_non_identity_points(data, cnn):
    x, y = data
    frame = evaluate(cnn, x, y, sweeps={"dx": [-2, 0, 3]}, grids={"g": {"dx": [0, 2], "dy": [0, 1]}})
    for sweep in ("dx", "g"):
        rows = frame[(frame.sweep == sweep) & (frame.metric == "consistency")]
        moved = rows[(rows.dx != 0) | (rows.dy != 0)]
        assert len(moved) == len(rows) - 1  # the identity point is left out
        assert _value(frame, sweep, "mean_consistency") == pytest.approx(moved["value"].mean())
    only_identity = evaluate(cnn, x, y, sweeps={"dx": [0]})
    assert np.isnan(_value(only_identity, "dx", "mean_consistency"))


def test_consistency_correct_counts_only_images_correct_untransformed(data, cnn):
    x, y = data
    sweep = [-2.0, 0.0, 3.0]
    frame = evaluate(cnn, x, y, sweeps={"dx": sweep}, metrics=("accuracy", "consistency", "consistency_correct"))
    clean = cnn.predict(x, verbose=0)
    ok = clean.argmax(-1) == y
    ref = _reference_outputs(cnn, x, T.as_points([[d, 0, 0, 1] for d in sweep]))
    expected = []
    for i, d in enumerate(sweep):
        want = float(np.mean(ref[ok, i].argmax(-1) == clean[ok].argmax(-1)))
        assert want == M.consistency_correct(ref[:, i], clean, y)
        row = frame[(frame.sweep == "dx") & (frame.metric == "consistency_correct") & (frame.dx == d)]
        assert row["value"].item() == pytest.approx(want)
        assert row["n"].item() == int(ok.sum())  # n: the images it averages over
        if d != 0:
            expected.append(want)
    assert _value(frame, "dx", "mean_consistency_correct") == pytest.approx(np.mean(expected))


def test_consistency_correct_on_a_hand_made_table():
    labels = np.array([0, 1, 2, 0])
    clean = np.eye(3)[[0, 1, 1, 2]]  # images 0 and 1 correct, 2 and 3 wrong
    moved = np.eye(3)[[0, 2, 1, 2]]  # image 0 keeps its class, image 1 flips; the wrong ones stay
    assert M.consistency(moved, clean) == 0.75
    assert M.consistency_correct(moved, clean, labels) == 0.5
    assert np.isnan(M.consistency_correct(moved, clean, np.array([2, 2, 0, 0])))
