"""`invariance curves RESULTS_DIR`: prints the fits and the sentences, writes curves.csv."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from invariance.cli import main
from invariance.curves import format_ratio, power_law


def write_study(folder, *, ns=(250, 1000, 4000, 16000, 60000), seeds=(0, 1)):
    laws = {"cnn_pool": (0.08, 2.0, 0.45), "mlp": (0.11, 3.0, 0.35)}
    rng = np.random.default_rng(0)
    rows = []
    for model, law in laws.items():
        for n in ns:
            for seed in seeds:
                acc = 1 - float(power_law(n, *law)) + rng.normal(0, 0.002)
                rows.append(dict(run_id=f"{model}{n}{seed}", model=model, augmentation="none", n_train=n,
                                 n_fit=int(0.9 * n), seed=seed,
                                 status="completed", reason="", test_accuracy=acc, train_accuracy=acc + 0.03,
                                 params=1, macs=1, train_seconds=1.0, epochs_run=2))
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(folder / "runs.csv", index=False)
    return folder


def run_cli(args, capsys):
    try:
        main(["curves", *map(str, args)])
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_prints_the_sentences_and_writes_curves(tmp_path, capsys):
    study = write_study(tmp_path / "study")
    code, out, err = run_cli([study, "--boot", "20", "--target", "0.83"], capsys)
    assert code == 0, err
    curves = pd.read_csv(study / "curves.csv")
    mlp = curves.set_index("model").loc["mlp"]
    assert mlp["target_status"] == "extrapolated"  # within 2x the largest measured n_fit
    sentence = (f"mlp needs {format_ratio(mlp['efficiency_ratio'])}x the data of cnn_pool to reach 83% (95% CI "
                f"{format_ratio(mlp['efficiency_ratio_lo'])}x to {format_ratio(mlp['efficiency_ratio_hi'])}x, "
                f"2 seeds")
    assert sentence in out
    assert "cnn_pool reaches 83% at ≈" in out and "leave-one-size-out range" in out
    assert "Learning curves" in out and "data vs cnn_pool" in out and "n = images trained on" in out


def test_cli_says_not_reached_beyond_twice_the_measured_range(tmp_path, capsys):
    study = write_study(tmp_path / "study")
    code, out, err = run_cli([study, "--boot", "10", "--target", "0.85"], capsys)
    assert code == 0, err
    assert "mlp: 85% not reached within the measured range (the fit suggests ≈ " in out
    assert "mlp: no efficiency ratio to cnn_pool at 85%" in out
    assert "mlp needs" not in out
    assert (study / "learning_curves.csv").exists()


def test_cli_reference_option(tmp_path, capsys):
    study = write_study(tmp_path / "study")
    code, out, _ = run_cli([study, "--boot", "0", "--reference", "mlp", "--target", "0.83"], capsys)
    assert code == 0
    assert "cnn_pool needs 0." in out and "the data of mlp to reach 83%" in out


@pytest.mark.parametrize("args, message", [
    (["{missing}"], "does not exist"),
    (["{empty}"], "has no runs.csv"),
    (["{study}", "--reference", "resnet"], "--reference: must be one of 'cnn_pool', 'mlp'; received 'resnet'"),
    (["{study}", "--target", "85"], "--target: must be an accuracy between 0 and 1"),
    (["{study}", "--boot", "-3"], "--boot: must be >= 0"),
])
def test_cli_errors_are_clean(tmp_path, capsys, args, message):
    (tmp_path / "empty").mkdir()
    paths = {"missing": tmp_path / "missing", "empty": tmp_path / "empty", "study": write_study(tmp_path / "study")}
    code, out, err = run_cli([a.format(**paths) for a in args], capsys)
    assert code == 2
    assert err.startswith("Error: ") and message in err
    assert "Traceback" not in err + out


def test_cli_fails_clearly_when_nothing_can_be_fitted(tmp_path, capsys):
    study = write_study(tmp_path / "study", ns=(1000, 2000))
    code, out, err = run_cli([study], capsys)
    assert code == 2
    assert "no learning curve could be fitted" in err and "a power law needs at least 3" in err
    assert (study / "learning_curves.csv").exists()
