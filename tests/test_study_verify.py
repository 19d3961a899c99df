"""Finished runs whose files went bad (a truncated metrics.json, a deleted model.keras, an edited
invariance.csv) are reported by `invariance status` and redone by `invariance run`."""
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from invariance.cli import cli
from invariance.results.records import verify_run
from invariance.study import run_study, study_status
from invariance.yaml_io import dump_yaml
from study_helpers import INVARIANCE_KEYS, RUN_DETERMINISTIC, read_tables, tiny_study

STUDY = tiny_study("verify", models=[{"preset": "mlp", "hidden": [16]}], seeds=[0, 1])


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    root = tmp_path_factory.mktemp("verify")
    study_file = root / "verify.yaml"
    study_file.write_text(dump_yaml(STUDY))
    summary = run_study(study_file, out_dir=root / "out", progress=False, post=False)
    assert summary.ok
    return study_file, summary.study_dir


def _copy(done, tmp_path):
    import shutil

    study_file, study_dir = done
    target = tmp_path / "out" / study_dir.name
    shutil.copytree(study_dir, target)
    return study_file, target


def test_the_record_holds_a_sha256_of_every_artifact(done):
    _, study_dir = done
    for record_path in study_dir.glob("runs/*/status.json"):
        artifacts = json.loads(record_path.read_text())["artifacts"]
        assert set(artifacts) == {"model.keras", "history.csv", "metrics.json", "spec.json", "invariance.csv"}
        assert all(len(v) == 64 for v in artifacts.values())
        assert verify_run(record_path.parent) == []


@pytest.mark.parametrize("damage, file, why, again", [
    ("truncate", "metrics.json", "metrics.json has changed", "training again"),
    ("delete", "model.keras", "model.keras is missing", "training again"),
    ("edit", "invariance.csv", "invariance.csv has changed", "evaluating its saved model again"),
])
def test_a_damaged_run_is_reported_then_redone(done, tmp_path, capsys, damage, file, why, again):
    study_file, study_dir = _copy(done, tmp_path)
    runs_before, inv_before = read_tables(study_dir)
    victim = sorted(study_dir.glob("runs/*/status.json"))[0].parent
    path = victim / file
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:20])
    elif damage == "delete":
        path.unlink()
    else:
        table = pd.read_csv(path)
        table.loc[table.metric == "accuracy", "value"] = 1.0  # a silently wrong table
        table.to_csv(path, index=False)

    status = study_status(study_dir)
    assert status["completed"] == 1 and status["pending"] == 1
    (bad,) = status["invalid_runs"]
    assert bad["run_id"] == victim.name and any(why in p for p in bad["problems"])
    shown = CliRunner().invoke(cli, ["status", str(study_dir)])
    assert "fail verification" in shown.output and why in shown.output

    summary = run_study(study_file, out_dir=study_dir.parent, quiet=True, post=False)
    assert summary.ok and summary.ran == 1 and summary.skipped == 1
    (line,) = summary.redone
    assert line.startswith(f"run {victim.name}") and why in line and again in line
    assert f"run {victim.name}" in capsys.readouterr().err  # the line is printed as it happens
    assert verify_run(victim) == []
    runs_after, inv_after = read_tables(study_dir)
    # Same seed, same data, deterministic CPU training: the redo gives back the same numbers.
    pd.testing.assert_frame_equal(runs_after[RUN_DETERMINISTIC], runs_before[RUN_DETERMINISTIC])
    pd.testing.assert_frame_equal(inv_after[INVARIANCE_KEYS], inv_before[INVARIANCE_KEYS])
    assert (inv_after["value"] - inv_before["value"]).abs().max() < 1e-6


def test_a_record_from_before_checksums_is_checked_for_what_it_can(done, tmp_path):
    _, study_dir = _copy(done, tmp_path)
    victim = sorted(study_dir.glob("runs/*/status.json"))[0].parent
    record = json.loads((victim / "status.json").read_text())
    del record["artifacts"]
    (victim / "status.json").write_text(json.dumps(record))
    assert verify_run(victim) == []
    (victim / "metrics.json").write_text('{"test_accuracy": 0.8')
    assert verify_run(victim) == [("metrics.json", "metrics.json is not valid JSON (truncated?)")]
