"""A model that rescales its own input (keras.io style) is fed 0..255 and gets its true accuracy;
a clean accuracy at chance is flagged; a broken .keras archive gets a clear message."""
import json
import warnings

import keras
import numpy as np
import pytest
from click.testing import CliRunner
from keras import layers

from invariance.cli import cli
from invariance.errors import InvarianceError, SpecError
from invariance.harness import chance_warning, detect_input_range, evaluate

CENTRES = np.array([0.16, 0.49, 0.88])  # mean brightness of classes 0, 1, 2 (in [0, 1])
MISLABELLED = (4, 5)  # images of classes 1 and 2 with their labels swapped: class counts stay 5, 5, 5


def _images(n=15, seed=0):
    """uint8 8x8 images whose mean brightness says the class; two labels are wrong."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = np.clip(CENTRES[y][:, None, None, None] * 255 + rng.integers(-15, 16, (n, 8, 8, 1)), 0, 255).astype(np.uint8)
    labels = y.copy()
    labels[list(MISLABELLED)] = y[list(MISLABELLED[::-1])]
    return x, labels


def _kerasio_model():
    """keras.io style: augmentation, then Rescaling(1/255) inside the model; a nearest-centre
    classifier on the mean brightness (logit_k = 2 c_k m - c_k^2), so its accuracy is known."""
    inp = keras.Input((8, 8, 1))
    h = keras.Sequential([layers.RandomFlip("horizontal")], name="augmentation")(inp)
    h = layers.Rescaling(1.0 / 255)(h)
    h = layers.GlobalAveragePooling2D(name="embedding")(h)
    out = layers.Dense(3, kernel_initializer=keras.initializers.Constant((2 * CENTRES)[None]),
                       bias_initializer=keras.initializers.Constant(-CENTRES ** 2), name="logits")(h)
    return keras.Model(inp, out)


def test_detects_rescaling_and_normalization_and_defaults_to_0_1():
    assert detect_input_range(_kerasio_model())[0] == "0-255"
    norm = layers.Normalization()
    norm.adapt(np.random.default_rng(0).random((8, 8, 8, 1)) * 255)
    assert detect_input_range(keras.Sequential([keras.Input((8, 8, 1)), norm, layers.Flatten(), layers.Dense(3)]))[0] \
        == "0-255"
    plain = keras.Sequential([keras.Input((8, 8, 1)), layers.Rescaling(2.0), layers.Flatten(), layers.Dense(3)])
    assert detect_input_range(plain)[0] == "0-1"
    assert detect_input_range(keras.Sequential([keras.Input((8, 8, 1)), layers.Flatten(), layers.Dense(3)]))[0] == "0-1"


def test_kerasio_model_gets_its_true_clean_accuracy():
    x, y = _images()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a correct feed must not warn
        frame = evaluate(_kerasio_model(), x, y, sweeps={"dx": [-1, 1]})
    clean = frame.loc[frame.sweep == "clean", "value"].item()
    assert clean == pytest.approx(1 - len(MISLABELLED) / len(y))  # 13/15
    assert frame.attrs["input_range"] == "0-255" and "Rescaling" in frame.attrs["input_range_source"]
    assert frame.attrs["warnings"] == []


def test_a_wrong_feed_is_at_chance_and_warned_about():
    x, y = _images()
    with pytest.warns(UserWarning, match="within 2 points of chance"):
        frame = evaluate(_kerasio_model(), x, y, sweeps={"dx": [-1, 1]}, input_range="0-1")
    # the broken measurement: every image in class 0, so "perfectly invariant"
    assert frame.loc[frame.sweep == "clean", "value"].item() == pytest.approx(1 / 3)
    assert frame.loc[frame.metric == "mean_consistency", "value"].item() == 1.0
    (text,) = frame.attrs["warnings"]
    assert "input range" in text and "channel order" in text and "wrong dataset" in text


def test_chance_warning_threshold():
    assert chance_warning(0.115, 10, input_range="0-1") is not None
    assert chance_warning(0.085, 10, input_range="0-1") is not None
    assert chance_warning(0.125, 10, input_range="0-1") is None
    assert "--input-range 0-1" in chance_warning(0.5, 2, input_range="0-255")


def test_bad_input_range_is_a_spec_error():
    x, y = _images()
    with pytest.raises(SpecError, match="input_range: must be one of '0-1', '0-255'"):
        evaluate(_kerasio_model(), x, y, input_range="0-256")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("input_range")
    x, y = _images()
    np.savez(root / "bright.npz", x_train=x, y_train=y, x_test=x, y_test=y)
    _kerasio_model().save(root / "kerasio.keras")
    return root


def _evaluate(files, *args):
    out = files / "out.csv"
    result = CliRunner().invoke(cli, ["evaluate", str(files / "kerasio.keras"), "--dataset",
                                      f"npz:{files / 'bright.npz'}", "--sweep", "dx=-1:1:1", "--out", str(out),
                                      "--quiet", *args])
    return result, out


def test_cli_detects_the_range_and_records_it(files):
    result, out = _evaluate(files)
    assert result.exit_code == 0, result.output + repr(result.exception)
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["input_range"] == "0-255" and record["warnings"] == []
    frame = __import__("pandas").read_csv(out)
    assert frame.loc[frame.sweep == "clean", "value"].item() == pytest.approx(13 / 15)


def test_cli_override_and_chance_warning_in_console_and_record(files):
    result, out = _evaluate(files, "--input-range", "0-1")
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert "Warning: clean accuracy 0.333 is within 2 points of chance" in result.output
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["input_range"] == "0-1" and record["input_range_source"] == "given"
    assert len(record["warnings"]) == 1 and "channel order" in record["warnings"][0]


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04truncated"])
def test_an_invalid_keras_archive_says_so(files, content):
    bad = files / "broken.keras"
    bad.write_bytes(content)
    result = CliRunner().invoke(cli, ["evaluate", str(bad), "--dataset", f"npz:{files / 'bright.npz'}",
                                      "--out", str(files / "x.csv")])
    assert isinstance(result.exception, InvarianceError)
    assert "not a valid .keras archive" in str(result.exception) and "File not found" not in str(result.exception)
    assert not (files / "x.csv").exists()


def test_load_model_of_a_truncated_archive(files):
    from invariance.models import load_model

    good = (files / "kerasio.keras").read_bytes()
    cut = files / "cut.keras"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(InvarianceError, match="not a valid .keras archive"):
        load_model(cut)
