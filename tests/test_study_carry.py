"""Carrying finished runs to another machine: pack the records, resume there, same tables."""
import json
import shutil

import pandas as pd
import pytest
import invariance.study.runner as runner
from invariance.cli import main
from invariance.errors import InvarianceError
from invariance.study import run_study
from invariance.study.carry import CARRIED_FILES, check_pack_dest, pack_runs, unpack_runs
from invariance.yaml_io import dump_yaml
from study_helpers import read_tables, tiny_study

FIRST = tiny_study("carry", seeds=[0, 1])
WHOLE = tiny_study("carry", seeds=[0, 1, 2])


@pytest.fixture(scope="module")
def machines(tmp_path_factory):
    """Machine A runs two seeds and packs them; machine B resumes the three-seed study from the pack."""
    root = tmp_path_factory.mktemp("carry")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runner, "_call_report", lambda study_dir: False)  # the report has its own tests
        first = run_study(FIRST, out_dir=root / "a", progress=False)
        packed = pack_runs(root / "a" / "carry", root / "pack")
        resumed = run_study(WHOLE, out_dir=root / "b", progress=False, resume_from=root / "pack")
    return root, first, packed, resumed


def test_pack_keeps_the_records_and_leaves_the_models(machines):
    root, first, packed, _ = machines
    assert first.ok and sorted(packed.taken) == sorted(p.name for p in (root / "a" / "carry" / "runs").iterdir())
    assert packed.skipped == []
    for run in (root / "pack" / "runs").iterdir():
        assert sorted(p.name for p in run.iterdir()) == sorted(CARRIED_FILES)
        record = json.loads((run / "status.json").read_text())
        assert "model.keras" not in record["artifacts"] and record["carried"]["left_behind"] == ["model.keras"]
    assert (root / "pack" / "study.yaml").is_file() and (root / "pack" / "runs.csv").is_file()


def test_resume_from_a_pack_trains_only_what_is_missing(machines):
    root, _, _, resumed = machines
    assert resumed.ok and resumed.ran == 1 and resumed.skipped == 2
    got_runs, got_inv = read_tables(root / "b" / "carry")
    want_runs, want_inv = read_tables(root / "a" / "carry")
    shared = got_runs["run_id"].isin(want_runs["run_id"])
    pd.testing.assert_frame_equal(got_runs[shared].reset_index(drop=True), want_runs.reset_index(drop=True))
    pd.testing.assert_frame_equal(got_inv[got_inv["run_id"].isin(want_runs["run_id"])].reset_index(drop=True),
                                  want_inv.reset_index(drop=True))
    manifest = json.loads((root / "b" / "carry" / "manifest.json").read_text())
    assert manifest["carried"]["runs"] == 2


def test_packing_carried_runs_again_writes_the_same_records(machines, tmp_path):
    root, _, packed, _ = machines
    again = pack_runs(root / "b" / "carry", tmp_path / "again")
    assert set(packed.taken) < set(again.taken)
    for run_id in packed.taken:
        first = (root / "pack" / "runs" / run_id / "status.json").read_bytes()
        assert (tmp_path / "again" / "runs" / run_id / "status.json").read_bytes() == first
    new, = set(again.taken) - set(packed.taken)
    record = json.loads((tmp_path / "again" / "runs" / new / "status.json").read_text())
    assert record["carried"]["from"] == str(root / "b" / "carry")


def test_a_pack_is_not_taken_under_other_evaluation_settings(machines, tmp_path):
    root, _, packed, _ = machines
    got = unpack_runs(root / "pack", tmp_path, packed.taken, eval_hash="another")
    assert got.taken == [] and len(got.skipped) == 2 and all("trained again" in s for s in got.skipped)
    assert not (tmp_path / "runs").exists()


def test_a_changed_carried_file_is_not_taken(machines, tmp_path):
    root, _, packed, _ = machines
    pack = tmp_path / "pack"
    shutil.copytree(root / "pack", pack)
    victim = pack / "runs" / packed.taken[0] / "metrics.json"
    victim.write_text(victim.read_text().replace("{", "{ ", 1))
    eval_hash = json.loads((pack / "runs" / packed.taken[1] / "status.json").read_text())["eval_hash"]
    got = unpack_runs(pack, tmp_path / "study", packed.taken, eval_hash=eval_hash)
    assert got.taken == [packed.taken[1]] and "metrics.json has changed" in got.skipped[0]


def test_a_finished_run_here_wins_over_a_carried_one(machines, tmp_path):
    root, _, packed, _ = machines
    study = tmp_path / "study"
    shutil.copytree(root / "a" / "carry", study)
    eval_hash = json.loads((root / "pack" / "runs" / packed.taken[0] / "status.json").read_text())["eval_hash"]
    got = unpack_runs(root / "pack", study, packed.taken, eval_hash=eval_hash)
    assert got.taken == [] and (study / "runs" / packed.taken[0] / "model.keras").is_file()


def test_a_carried_run_replaces_one_that_failed_here(machines, tmp_path):
    root, _, packed, _ = machines
    study = tmp_path / "study"
    shutil.copytree(root / "a" / "carry", study)
    run = study / "runs" / packed.taken[0]
    record = json.loads((run / "status.json").read_text())
    (run / "status.json").write_text(json.dumps({**record, "status": "failed", "reason": "diverged"}))
    got = unpack_runs(root / "pack", study, packed.taken[:1], eval_hash=record["eval_hash"])
    assert got.taken == packed.taken[:1] and json.loads((run / "status.json").read_text())["status"] == "completed"
    assert not (run / "model.keras").exists()  # the whole folder is the carried one


def test_resume_from_a_folder_that_is_not_a_pack_is_a_clean_error(tmp_path, capsys):
    study_file = tmp_path / "carry.yaml"
    study_file.write_text(dump_yaml(FIRST))
    with pytest.raises(SystemExit) as exit:
        main(["run", str(study_file), "--out", str(tmp_path / "out"), "--resume-from", str(tmp_path / "nowhere")])
    err = capsys.readouterr().err
    assert exit.value.code == 2 and "--resume-from" in err and "nowhere" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()
    with pytest.raises(InvarianceError, match="study folder"):
        pack_runs(tmp_path / "nowhere", tmp_path / "dest")


def test_pack_cli_says_what_it_packed_and_loads_no_keras(machines, tmp_path):
    import subprocess
    import sys

    root = machines[0]
    code = ("import sys; from invariance.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    print('keras' in sys.modules); raise\n"
            "print('keras' in sys.modules)\n")
    ok = subprocess.run([sys.executable, "-c", code, "pack", str(root / "a" / "carry"), str(tmp_path / "p")],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "2 completed run(s)" in ok.stdout and ok.stdout.strip().endswith("False")
    bad = subprocess.run([sys.executable, "-c", code, "pack", str(tmp_path / "nowhere"), str(tmp_path / "q")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "study folder" in bad.stderr and "Traceback" not in bad.stderr
    assert bad.stdout.strip() == "False" and not (tmp_path / "q").exists()


def test_dry_run_counts_the_finished_runs_and_estimates_only_the_rest(machines, tmp_path):
    from click.testing import CliRunner

    from invariance.cli import cli

    root, _, packed, _ = machines
    study = tmp_path / "whole.yaml"
    study.write_text(dump_yaml(WHOLE))
    out = tmp_path / "fresh"

    def dry(*args):
        result = CliRunner().invoke(cli, ["run", str(study), "--dry-run", *args])
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())  # rich wraps long lines

    carried = dry("--out", str(out), "--resume-from", str(root / "pack"))
    assert f"3 runs; 2 finished (2 in {root / 'pack'}), 1 left; estimated time" in carried
    assert "scaled to the 2 finished run(s), which took" in carried  # the machine's own pace
    assert carried.count("finished") == 1 + 2 + 1  # the summary, the two runs' rows, the basis
    assert not out.exists()  # a dry run writes nothing
    done_here = dry("--out", str(root / "b"))
    assert f"3 runs; 3 finished (3 in {root / 'b' / 'carry'}), 0 left; estimated time 0 s" in done_here
    nothing = dry("--out", str(out))
    assert "3 runs; estimated time" in nothing and "finished" not in nothing and "scaled" not in nothing
    # other evaluation settings: the output folder's runs are evaluated again from their models,
    # the carried records (no models) are trained again, and the dry run says which
    other = ("--set", "evaluate.samples=40")
    here = dry("--out", str(root / "b"), *other)
    assert ("3 runs; 3 finished under other evaluation settings (1 to re-evaluate from their saved models, "
            "2 to train again (no saved model)); estimated time") in here  # b trained one, carried two
    assert here.count("(re-evaluate)") == 1
    carried_other = dry("--out", str(out), "--resume-from", str(root / "pack"), *other)
    assert "3 runs; 2 finished under other evaluation settings (2 to train again (no saved model)); " in carried_other


def _runs_in(folder):
    return sorted(p.name for p in (folder / "runs").iterdir())


def test_carry_to_repacks_after_every_finished_run_and_may_be_the_resume_folder(machines, tmp_path, monkeypatch):
    import invariance.study.carry as carry

    root = machines[0]
    pack = tmp_path / "pack"
    shutil.copytree(root / "pack", pack)
    seen = []

    def pack_and_look(study_dir, dest):
        done = pack_runs(study_dir, dest)
        seen.append(_runs_in(dest))
        return done

    monkeypatch.setattr(carry, "pack_runs", pack_and_look)
    monkeypatch.setattr(runner, "_call_report", lambda study_dir: False)
    summary = run_study(WHOLE, out_dir=tmp_path / "c", progress=False, resume_from=pack, carry_to=pack)
    assert summary.ok and summary.ran == 1 and summary.errors == []
    every = _runs_in(tmp_path / "c" / "carry")
    assert seen == [every, every]  # once when the run finished, once with the final runs.csv
    assert len(every) == 3 and pd.read_csv(pack / "runs.csv")["status"].eq("completed").sum() == 3
    assert not list(tmp_path.glob(".pack.*"))  # no staging folder left beside it


def test_a_failing_pack_is_reported_and_the_runs_go_on(machines, tmp_path, monkeypatch):
    import invariance.study.carry as carry

    root = machines[0]
    shutil.copytree(root / "a", tmp_path / "a")  # two of the three runs finished

    def full(study_dir, dest):
        raise OSError("No space left on device")

    monkeypatch.setattr(carry, "pack_runs", full)
    monkeypatch.setattr(runner, "_call_report", lambda study_dir: False)
    summary = run_study(WHOLE, out_dir=tmp_path / "a", progress=False, carry_to=tmp_path / "pack")
    assert summary.ran == 1 and summary.completed == 3 and not summary.failed
    assert summary.errors == [f"carry to {tmp_path / 'pack'} failed: OSError: No space left on device"]


@pytest.mark.parametrize("where", ["holds other files", "the output folder"])
def test_carry_to_a_folder_a_pack_may_not_replace_is_refused_before_anything_is_written(tmp_path, capsys, where):
    study_file = tmp_path / "carry.yaml"
    study_file.write_text(dump_yaml(FIRST))
    out = tmp_path / "out"
    if where == "holds other files":
        dest = tmp_path / "reference"
        (dest / "zhang2019").mkdir(parents=True)
        want = "which also holds zhang2019"
    else:
        dest, want = out, "must lie outside the study folder"
    with pytest.raises(SystemExit) as exit:
        main(["run", str(study_file), "--out", str(out), "--carry-to", str(dest)])
    err = " ".join(capsys.readouterr().err.split())
    assert exit.value.code == 2 and "--carry-to" in err and want in err and "Traceback" not in err
    assert not (out / "carry").exists()
    if where == "holds other files":
        assert (dest / "zhang2019").is_dir()


def test_pack_replaces_only_a_new_or_empty_folder_or_an_earlier_pack(machines, tmp_path):
    study = machines[0] / "a" / "carry"
    (tmp_path / "empty").mkdir()
    (tmp_path / "other" / "zhang2019").mkdir(parents=True)
    cases = {  # dest -> the refusal, or None when a pack may go there
        tmp_path / "new": None,
        tmp_path / "empty": None,
        machines[0] / "pack": None,
        tmp_path / "other": "which also holds zhang2019",
        study: "must lie outside the study folder",
        study.parent: "must lie outside the study folder",
        study / "runs": "must lie outside the study folder",
    }
    for dest, refusal in cases.items():
        if refusal is None:
            assert check_pack_dest(dest, study_dir=study) == dest
            continue
        before = sorted(p.relative_to(dest) for p in dest.rglob("*"))
        with pytest.raises(InvarianceError, match=f"pack destination: .*{refusal}"):
            pack_runs(study, dest)
        assert sorted(p.relative_to(dest) for p in dest.rglob("*")) == before, dest
    assert pack_runs(study, tmp_path / "empty").taken == _runs_in(study)
