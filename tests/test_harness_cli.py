"""``invariance evaluate`` on a tiny saved model and a tiny npz dataset."""
import json
import re

import keras
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from keras import layers

from invariance.cli import cli, main
from invariance.errors import InvarianceError, SpecError
from invariance.harness import COLUMNS


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("harness_cli")
    rng = np.random.default_rng(0)
    np.savez(root / "tiny.npz", x_train=rng.integers(0, 256, (12, 8, 8, 1), dtype=np.uint8),
             y_train=np.arange(12) % 3, x_test=rng.integers(0, 256, (15, 8, 8, 1), dtype=np.uint8),
             y_test=np.arange(15) % 3)
    keras.utils.set_random_seed(0)
    inp = keras.Input((8, 8, 1))
    h = layers.MaxPooling2D(2)(layers.Conv2D(4, 3, padding="same", activation="relu")(inp))
    h = layers.Dense(8, activation="relu", name="embedding")(layers.Flatten()(h))
    keras.Model(inp, layers.Dense(3, name="logits")(h)).save(root / "model.keras")
    inp = keras.Input((8, 8, 1))
    keras.Model(inp, layers.Dense(5)(layers.Flatten()(inp))).save(root / "five.keras")
    return root


def _invoke(args):
    return CliRunner().invoke(cli, ["evaluate", *map(str, args)], catch_exceptions=True)


def test_writes_the_contract_csv_and_a_record(files):
    out = files / "out" / "inv.csv"
    result = _invoke([files / "model.keras", "--dataset", f"npz:{files / 'tiny.npz'}", "--samples", "9",
                      "--sweep", "dx=-2:2:1", "--sweep", "angle=[-90,90]", "--grid", "tm:dx=-1:1:1,dy=-1:1:1",
                      "--grid", "dx=0:1:1,scale=0.9:1.1:0.1", "--random-k", "3", "--limits", "dx=2,angle=10",
                      "--walk", "2", "--equivariance", "--metrics", "accuracy,consistency,kl,embedding_cosine",
                      "--batch-size", "16", "--seed", "1", "--out", out])
    assert result.exit_code == 0, result.output + repr(result.exception)
    frame = pd.read_csv(out, keep_default_na=False, na_values=[""])
    assert tuple(frame.columns) == COLUMNS
    assert list(dict.fromkeys(frame.sweep)) == ["clean", "dx", "angle", "tm", "grid_dx_scale", "random_k", "walk",
                                                "equivariance"]
    assert set(frame.metric) >= {"accuracy", "consistency", "kl", "embedding_cosine", "mean_consistency",
                                 "grid_accuracy", "random_accuracy", "worst_of_k_accuracy", "flip_rate", "mac",
                                 "equivariance_error"}
    on_correct = frame.metric.str.endswith("consistency_correct")  # n: the images correct untransformed
    assert (frame.loc[~on_correct, "n"] == 9).all()
    assert (frame.loc[on_correct, "n"] == round(9 * frame.value[0])).all()
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["samples"] == 9 and "first 9 of 15" in record["evaluation_set"]
    assert record["spec"]["random_k"] == {"k": 3, "limits": {"dx": "2", "angle": "10"}}
    assert record["embedding_layer"] == "embedding" and record["rows"] == len(frame)
    assert "clean" in result.output and "grid_accuracy" in result.output  # the summary table


@pytest.mark.parametrize("args, error, message", [
    (["--canvas", "10"], InvarianceError, r"\(8, 8, 1\).*\(10, 10, 1\)"),
    (["--sweep", "dx=1:2:0"], SpecError, "--sweep dx: a range's step must not be 0"),
    (["--sweep", "dz=1"], SpecError, "--sweep: must be one of 'dx', 'dy', 'angle', 'scale'; received 'dz'"),
    (["--sweep", "dx=1", "--sweep", "dx=2"], SpecError, "twice"),
    (["--grid", "g:dx=1,dy=1", "--grid", "g:dx=2"], SpecError, "names grid 'g' twice"),
    (["--metrics", "accuracy,foo"], SpecError, "--metrics"),
    (["--limits", "dx=3"], SpecError, "--limits: only applies with --random-k"),
    (["--random-k", "2", "--limits", "dx=-3"], SpecError, ">= 0"),
    (["--fill", "zeros"], SpecError, "--fill: must be one of"),
    (["--walk", "0"], SpecError, "--walk steps"),
])
def test_bad_options_fail_clearly_before_writing(files, args, error, message):
    out = files / "bad.csv"
    result = _invoke([files / "model.keras", "--dataset", f"npz:{files / 'tiny.npz'}", *args, "--out", out])
    assert isinstance(result.exception, error), result.output
    assert re.search(message, str(result.exception)), str(result.exception)
    assert not out.exists()


def test_class_count_mismatch_exits_2_with_a_message(files, capsys):
    with pytest.raises(SystemExit) as code:
        main(["evaluate", str(files / "five.keras"), "--dataset", f"npz:{files / 'tiny.npz'}",
              "--out", str(files / "five.csv"), "--quiet"])
    assert code.value.code == 2
    err = capsys.readouterr().err
    assert "Error:" in err and "5 outputs" in err and "3 classes" in err and "Traceback" not in err
