"""`invariance run` (--dry-run, --set, exit codes) and `invariance status`."""
import subprocess
import sys

import pytest
from click.testing import CliRunner

from invariance.cli import cli
from invariance.yaml_io import dump_yaml, load_yaml
from study_helpers import tiny_study

MLP = {"preset": "mlp", "hidden": [16]}


@pytest.fixture
def study_file(tmp_path):
    path = tmp_path / "cli.yaml"
    path.write_text(dump_yaml(tiny_study("cli", models=[MLP, "cnn_pool"])))
    return path


def test_dry_run_lists_runs_and_estimate_and_writes_nothing(study_file, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(study_file), "--out", str(out), "--dry-run",
                                      "--set", "seeds=[0, 1]", "--set", "train.epochs=2"])
    assert result.exit_code == 0, result.output
    assert "4 runs" in result.output and "estimated time" in result.output
    assert "mlp[hidden=16]" in result.output and "cnn_pool" in result.output
    assert not out.exists()


def test_estimate_grows_with_data_and_epochs():
    from invariance.study.estimate import DEFAULT_COST, run_seconds

    base = dict(macs=1e6, n=1000, epochs=2, batch_size=100, points=10, samples=100, cost=DEFAULT_COST)
    t = run_seconds(**base)
    assert t > DEFAULT_COST.per_run
    assert run_seconds(**dict(base, n=2000)) > t and run_seconds(**dict(base, epochs=4)) > t
    assert run_seconds(**dict(base, macs=1e7)) > t


def test_run_then_status(study_file, tmp_path, monkeypatch):
    import invariance.training as training

    def diverges(model, *args, **kwargs):
        if getattr(model, "family", "") == "cnn":
            raise FloatingPointError("loss became nan")
        return real(model, *args, **kwargs)

    import invariance.study.runner as runner

    def fake_report(study_dir):  # the report has its own tests; here only where it is announced
        (study_dir / "report.html").write_text("<html></html>")
        return True

    real = training.train
    monkeypatch.setattr(training, "train", diverges)
    monkeypatch.setattr(runner, "_call_report", fake_report)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(study_file), "--out", str(out), "--quiet"])
    assert result.exit_code == 1, result.output  # a failed run makes the command fail, at the end
    assert "1/2 runs completed, 1 failed" in result.output
    assert "FAILED" in result.output and "loss became nan" in result.output
    assert str(out / "cli" / "runs.csv") in result.output and str(out / "cli" / "invariance.csv") in result.output
    assert str(out / "cli" / "report.html") in result.output

    status = CliRunner().invoke(cli, ["status", str(out / "cli")])
    assert status.exit_code == 0, status.output
    assert "2 runs: 1 done, 1 failed, 0 pending" in status.output

    stored = load_yaml(out / "cli" / "study.yaml")  # two more seeds: pending, from the stored study
    stored["seeds"] = [0, 1]
    (out / "cli" / "study.yaml").write_text(dump_yaml(stored))
    status = CliRunner().invoke(cli, ["status", str(out / "cli")])
    assert "4 runs: 1 done, 1 failed, 2 pending" in status.output


def test_bad_study_is_a_clean_error_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(dump_yaml(tiny_study("bad", models=[{"preset": "cnn_pool", "pooling": "maxx"}])))
    proc = subprocess.run([sys.executable, "-c", "from invariance.cli import main; main()", "run", str(bad),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Error: models[0].pooling: must be one of 'none', 'max', 'avg', 'blur', 'aps', 'aps_blur', 'aps_l1', 'aps_blur_l1'; received 'maxx'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_status_of_a_folder_that_is_not_a_study(tmp_path):
    result = CliRunner().invoke(cli, ["status", str(tmp_path)])
    assert result.exit_code != 0 and "not a study results folder" in str(result.exception)


def test_ray_executor_without_ray_says_how_to_install(monkeypatch, study_file, tmp_path):
    from invariance.errors import InvarianceError
    from invariance.study import run_study

    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    with pytest.raises(InvarianceError, match=r"pip install 'invariance\[ray\]'"):
        run_study(study_file, out_dir=tmp_path / "out", executor="ray", progress=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text", ["", "# only a comment\n\n"])
def test_empty_study_file_says_so_and_loads_no_keras(tmp_path, text):
    empty = tmp_path / "empty.yaml"
    empty.write_text(text)
    code = ("import sys; from invariance.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    print('keras' in sys.modules); raise\n")
    proc = subprocess.run([sys.executable, "-c", code, "run", str(empty), "--dry-run"], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert "the study file is empty" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout.strip() == "False"


def test_dry_run_loads_no_keras(tmp_path):
    # The brief's rule: --help, --dry-run and bad input never wait for keras to load. The
    # study is costed from its specs (invariance.models.spec_cost), every family included.
    study = tmp_path / "families.yaml"
    study.write_text(dump_yaml(tiny_study("families", canvas=32, models=[
        "cnn_pool", "cnn_aps", "p4cnn", "mlp", "vit_tiny", {"preset": "cnn_pool", "pooling": "blur"}])))
    code = ("import sys; from invariance.cli import main\n"
            "try:\n    main(sys.argv[1:])\nfinally:\n    print('keras loaded:', 'keras' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code, "run", str(study), "--dry-run", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "6 runs; estimated time" in proc.stdout and proc.stdout.strip().endswith("keras loaded: False")
    assert not (tmp_path / "out").exists()
