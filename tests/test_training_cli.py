"""`invariance train`: a tiny real run, a stored rerun, a failed run, and clean errors."""
import json

import pytest

from invariance.cli import main

TINY = ["train", "--model", "cnn_pool", "--set", "channels=4", "--set", "dense_units=16", "--dataset", "fashion_mnist_mini",
        "--n-train", "100", "--epochs", "1", "--batch-size", "25"]


def _main(argv, capsys):
    code = 0
    try:
        main(argv)
    except SystemExit as exit_:
        code = exit_.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_train_writes_a_run_and_a_summary_then_reuses_it(tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, _ = _main(TINY + ["--augment", "geometric:shift=2,rotate=10", "--seed", "3", "--out", str(out)],
                            capsys)
    assert code == 0
    assert stdout.strip().splitlines()[-1].startswith("test accuracy ") and str(out) in stdout
    assert "Epoch 1/1" in stdout or "1/" in stdout  # the progress bar
    spec = json.loads((out / "spec.json").read_text())
    assert spec["model"]["channels"] == 4 and spec["seed"] == 3 and spec["augmentation"]["kind"] == "geometric"
    code, stdout, _ = _main(TINY + ["--augment", "geometric:shift=2,rotate=10", "--seed", "3", "--out", str(out),
                                    "--quiet"], capsys)
    assert code == 0 and stdout.startswith("already finished: test accuracy")


def test_augmentation_and_model_from_yaml_files(tmp_path, capsys):
    (tmp_path / "aug.yaml").write_text("albumentations:\n  - HorizontalFlip: {p: 0.5}\n")
    (tmp_path / "model.yaml").write_text("family: mlp\nhidden: [16]\n")
    code, stdout, _ = _main(["train", "--model", str(tmp_path / "model.yaml"), "--dataset", "fashion_mnist_mini",
                             "--n-train", "50", "--epochs", "1", "--augment", str(tmp_path / "aug.yaml"),
                             "--out", str(tmp_path / "run"), "--quiet"], capsys)
    assert code == 0, stdout
    spec = json.loads((tmp_path / "run" / "spec.json").read_text())
    assert spec["augmentation_label"] == "albumentations[HorizontalFlip(p=0.5)]" and spec["model"]["family"] == "mlp"


def test_a_diverging_run_exits_1_with_its_reason(tmp_path, capsys):
    (tmp_path / "model.yaml").write_text("family: mlp\nhidden: [16]\nactivation: linear\n")
    code, _, stderr = _main(["train", "--model", str(tmp_path / "model.yaml"), "--dataset", "fashion_mnist_mini",
                             "--n-train", "100", "--epochs", "5", "--batch-size", "10", "--optimizer", "sgd",
                             "--lr", "10", "--out", str(tmp_path / "run"), "--quiet"], capsys)
    assert code == 1 and "run failed: diverged" in stderr


@pytest.mark.parametrize("args, message", [
    (["--model", "cnn_poool"], "model.preset: must be one of 'cnn_pool'"),
    (["--set", "depth=99"], "model.depth"),
    (["--set", "pooling=maxx"], "model.pooling: must be one of"),
    (["--augment", "geometric:shfit=2"], "--augment.shfit: is not a known key"),
    (["--augment", "sideways"], "--augment: must be 'none', 'geometric:KEY=VALUE"),
    (["--augment", "missing.yaml"], "file not found"),
    (["--epochs", "0"], "--epochs: must be between 1"),
    (["--lr", "-1"], "--lr: must be > 0"),
    (["--optimizer", "rmsprop"], "--optimizer: must be one of 'adam'"),
    (["--dataset", "imagenet"], "dataset"),
    (["--n-train", "0"], "n_train: must be a positive integer"),
])
def test_bad_input_is_a_clean_error(tmp_path, capsys, args, message):
    argv = TINY + ["--out", str(tmp_path / "run")]
    for i in range(0, len(args), 2):  # later options win in click
        argv += args[i:i + 2]
    code, _, stderr = _main(argv, capsys)
    assert code == 2 and message in stderr and "Traceback" not in stderr
    assert not (tmp_path / "run").exists()
