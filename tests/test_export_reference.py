"""scripts/export_reference.py: compact copies, seed summaries and effect sizes on a tiny study folder;
it refuses a dirty checkout and runs made from one."""
import importlib.util
import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "export_reference.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("export_reference", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def export(script, monkeypatch):
    """The script with a clean checkout (the tests' own tree may have uncommitted edits)."""
    monkeypatch.setattr(script, "tree_changes", lambda: [])
    return script


CLEAN_SHA = "0123456789abcdef0123456789abcdef01234567"


def _manifest(d: Path, sha: str | None = CLEAN_SHA) -> None:
    (d / "manifest.json").write_text(json.dumps({"study": d.name, "provenance": {"git_sha": sha}}))


def _study(root: Path, name: str) -> Path:
    d = root / name
    (d / "figures").mkdir(parents=True)
    (d / "runs").mkdir()
    (d / "runs" / "model.keras").write_text("not exported")
    pd.DataFrame({"run_id": ["a", "b"], "model": ["base", "base"], "seed": [0, 1]}).to_csv(d / "runs.csv", index=False)
    rows = []
    for model, gain in (("base", 0.1), ("nopool", 0.0), ("k5", 0.05), ("depth3", 0.02)):
        for aug, a in (("none", 0.0), ("shift", 0.3)):
            for seed in (0, 1):
                key = {"model": model, "augmentation": aug, "n_train": 100, "seed": seed, "layer": np.nan}
                rows.append({**key, "sweep": "clean", "dx": 0, "dy": 0, "angle": 0, "scale": 1,
                             "metric": "accuracy", "value": 0.8 + 0.01 * seed})
                rows.append({**key, "sweep": "translation_map", "dx": np.nan, "dy": np.nan, "angle": np.nan,
                             "scale": np.nan, "metric": "mean_consistency", "value": 0.4 + gain + a})
                rows.append({**key, "sweep": "translation_map", "dx": 1, "dy": 0, "angle": 0, "scale": 1,
                             "metric": "consistency", "value": 0.9})
    pd.DataFrame(rows).to_csv(d / "invariance.csv", index=False)
    (d / "figures" / "map.png").write_bytes(b"png")
    (d / "figures" / "map.svg").write_text("<svg/>")
    (d / "report.md").write_text("# report")
    _manifest(d)
    return d


def test_export_copies_compact_files_and_summaries(tmp_path, export):
    out = export.export(_study(tmp_path, "kauderer2017"), tmp_path / "reference")
    assert (out / "runs.csv").is_file() and (out / "invariance.csv").is_file() and (out / "report.md").is_file()
    assert [p.name for p in (out / "figures").iterdir()] == ["map.png"]
    assert not list(out.rglob("*.keras"))
    summary = pd.read_csv(out / "summary.csv")
    clean = summary[(summary["model"] == "base") & (summary["augmentation"] == "none") & (summary["sweep"] == "clean")]
    assert clean["mean"].iloc[0] == pytest.approx(0.805) and clean["seeds"].iloc[0] == 2
    assert clean["std"].iloc[0] == pytest.approx(np.std([0.8, 0.81], ddof=1))
    effects = pd.read_csv(out / "effects.csv").set_index("factor")
    assert effects.loc["pooling (none -> 2x2 max)", "diff"] == pytest.approx(0.1)
    assert effects.loc["augmentation (none -> shift)", "diff"] == pytest.approx(0.3)
    assert effects.loc["augmentation (none -> shift)", "n_pairs"] == 8


def test_large_invariance_table_is_summarised(tmp_path, export):
    out = export.export(_study(tmp_path, "other"), tmp_path / "reference", max_mb=1e-6)
    assert not (out / "invariance.csv").exists() and (out / "invariance_points.csv").is_file()
    assert not (out / "effects.csv").exists()
    points = pd.read_csv(out / "invariance_points.csv")
    assert set(points["count"]) == {2}


def test_a_study_whose_tables_need_every_run_is_refused_when_too_large(tmp_path, export):
    d = _study(tmp_path, "exact_invariance")
    with pytest.raises(export.TooLarge, match=r"over --max-mb 1e-06.*export it with --max-mb 1"):
        export.export(d, tmp_path / "reference", max_mb=1e-6)
    assert not (tmp_path / "reference").exists()
    assert export.main([str(d), "--out", str(tmp_path / "reference"), "--max-mb", "1e-6"]) == 2
    assert not (tmp_path / "reference").exists()


@pytest.mark.parametrize("sha", ["0123abc+dirty", None])
def test_study_run_from_a_dirty_tree_is_refused(tmp_path, export, sha):
    d = _study(tmp_path, "zhang2019")
    _manifest(d, sha)
    with pytest.raises(export.DirtyTree, match="uncommitted tree"):
        export.export(d, tmp_path / "reference")
    assert not (tmp_path / "reference").exists()


def test_a_dirty_run_in_a_clean_manifest_is_refused(tmp_path, export):
    d = _study(tmp_path, "zhang2019")
    (d / "runs" / "abc").mkdir()
    # metrics.json as the trainer writes it: git_sha at the top level
    (d / "runs" / "abc" / "metrics.json").write_text(json.dumps({"test_accuracy": 0.9, "git_sha": "ff+dirty"}))
    with pytest.raises(export.DirtyTree, match="runs/abc/metrics.json"):
        export.export(d, tmp_path / "reference")


def test_clean_runs_as_the_trainer_writes_them_are_exported(tmp_path, export):
    d = _study(tmp_path, "zhang2019")
    sha = json.loads((d / "manifest.json").read_text())["provenance"]["git_sha"]
    (d / "runs" / "abc").mkdir()
    (d / "runs" / "abc" / "metrics.json").write_text(json.dumps({"test_accuracy": 0.9, "git_sha": sha}))
    export.export(d, tmp_path / "reference")
    assert (tmp_path / "reference" / "zhang2019" / "manifest.json").is_file()


def test_runs_carried_between_sessions_list_every_commit_and_their_cpu_time(tmp_path, export):
    d = _study(tmp_path, "zhang2019")
    other = "fedcba9876543210fedcba9876543210fedcba98"
    devices = {"a1": "cpu (2 cores, x86_64, 1 thread)", "b2": "cpu (2 cores, x86_64)"}
    for run, sha, carried, cpu in (("a1", CLEAN_SHA, False, [10.0, 20.0]), ("b2", other, True, [30.5])):
        (d / "runs" / run).mkdir()
        (d / "runs" / run / "metrics.json").write_text(json.dumps({"git_sha": sha, "device": devices[run]}))
        pd.DataFrame({"epoch": range(1, len(cpu) + 1), "cpu_seconds": cpu}).to_csv(d / "runs" / run / "history.csv",
                                                                                   index=False)
        record = {"status": "completed", **({"carried": {"from": "elsewhere"}} if carried else {})}
        (d / "runs" / run / "status.json").write_text(json.dumps(record))
    export.export(d, tmp_path / "reference")
    manifest = json.loads((tmp_path / "reference" / "zhang2019" / "manifest.json").read_text())
    assert manifest["runs_provenance"] == {"git_shas": sorted([CLEAN_SHA, other]), "carried_runs": 1,
                                           "devices": sorted(devices.values()), "train_cpu_seconds": 60.5}
    assert manifest["provenance"]["git_sha"] == CLEAN_SHA  # the study's own manifest is kept


def test_uncommitted_changes_are_refused_with_the_files_named(tmp_path, script, monkeypatch, capsys):
    monkeypatch.setattr(script, "tree_changes", lambda: [" M invariance/harness/metrics.py"])
    d = _study(tmp_path, "zhang2019")
    assert script.main([str(d), "--out", str(tmp_path / "reference")]) == 2
    err = capsys.readouterr().err
    assert "uncommitted changes" in err and "invariance/harness/metrics.py" in err
    assert not (tmp_path / "reference").exists()


def test_every_folder_is_checked_before_any_is_written(tmp_path, export):
    good, bad = _study(tmp_path, "a"), _study(tmp_path, "b")
    _manifest(bad, "ff+dirty")
    assert export.main([str(good), str(bad), "--out", str(tmp_path / "reference")]) == 2
    assert not (tmp_path / "reference").exists()


def test_as_names_the_reference_folder_and_its_extras_follow_the_name(tmp_path, export, capsys):
    d = _study(tmp_path, "kauderer2017_cpu")  # a study file's name beside the README's folder name
    assert export.main([str(d), "--out", str(tmp_path / "reference"), "--as", "kauderer2017"]) == 0
    out = tmp_path / "reference" / "kauderer2017"
    assert (out / "runs.csv").is_file() and (out / "effects.csv").is_file()  # EFFECTS is keyed by the reference
    assert not (tmp_path / "reference" / "kauderer2017_cpu").exists()


@pytest.mark.parametrize("args", [["--as", "../x"], ["--as", "a b"], ["SECOND", "--as", "ok"]])
def test_as_is_refused_for_a_bad_name_or_several_folders(tmp_path, export, capsys, args):
    d = _study(tmp_path, "a")
    args = [str(_study(tmp_path, "b")) if a == "SECOND" else a for a in args]
    assert export.main([str(d), *args, "--out", str(tmp_path / "reference")]) == 2
    err = capsys.readouterr().err
    assert "--as names one reference folder" in err and "received" in err
    assert not (tmp_path / "reference").exists()


def test_a_failed_export_leaves_the_previous_reference_as_it_was(tmp_path, export, monkeypatch):
    d = _study(tmp_path, "kauderer2017")
    out = export.export(d, tmp_path / "reference")
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (d / "report.md").write_text("# a newer report")

    def broken(*args, **kwargs):
        raise RuntimeError("figure failed half-way")

    monkeypatch.setattr(export, "walk_figure", broken)
    with pytest.raises(RuntimeError, match="half-way"):
        export.export(d, tmp_path / "reference")
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in (tmp_path / "reference").iterdir()) == ["kauderer2017"]  # no staging left
    monkeypatch.undo()
    monkeypatch.setattr(export, "tree_changes", lambda: [])
    assert (export.export(d, tmp_path / "reference") / "report.md").read_text() == "# a newer report"


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def test_uncommitted_changes_in_a_real_repository(tmp_path):
    from invariance.provenance import uncommitted_changes

    _git(tmp_path, "init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    _git(tmp_path, "add", "code.py")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    (tmp_path / "untracked.txt").write_text("not counted")
    assert uncommitted_changes(tmp_path) == []
    (tmp_path / "code.py").write_text("x = 2\n")
    assert uncommitted_changes(tmp_path) == [" M code.py"]
    assert uncommitted_changes(tmp_path.parent / "no-such-dir") is None


def test_an_unfinished_study_is_refused_and_names_the_way_to_carry_it(tmp_path, export):
    d = _study(tmp_path, "zhang2019")
    manifest = json.loads((d / "manifest.json").read_text())
    (d / "manifest.json").write_text(json.dumps({**manifest, "runs": ["a", "b", "c"]}))
    with pytest.raises(export.Unfinished, match=r"has run 2 of its 3 runs.*invariance pack .*in_progress/zhang2019"):
        export.export(d, tmp_path / "reference")
    assert not (tmp_path / "reference").exists()
    (d / "manifest.json").write_text(json.dumps({**manifest, "runs": ["a", "b"]}))
    export.export(d, tmp_path / "reference")  # every planned run is in runs.csv


def test_the_export_figures_are_the_same_every_time(tmp_path, script):
    """The walks draw their whiskers with the package's fixed-seed bootstrap, not seaborn's
    unseeded one, and the accuracy bars draw each seed as a dot, so re-exporting a study does not
    change its figures."""
    rng = np.random.default_rng(3)
    walk = pd.DataFrame([{"model": m, "augmentation": a, "seed": s, "sweep": "walk", "metric": metric,
                          "value": float(rng.random())}
                         for m in ("flat", "gap") for a in ("none", "shift") for s in range(5)
                         for metric in ("flip_rate", "mac")])
    runs = pd.DataFrame([{"model": m, "seed": s, "status": "completed", "test_accuracy": 0.85 + 0.05 * rng.random()}
                         for m in ("cnn_pool", "mlp") for s in range(5)])
    drawn = []
    for i in range(2):
        assert script.walk_figure(walk, tmp_path / f"walks{i}.png")
        script.accuracy_figure(runs, tmp_path / f"accuracy{i}.png", [(0.8, 0.9, "published")])
        drawn.append([(tmp_path / f"{name}{i}.png").read_bytes() for name in ("walks", "accuracy")])
    assert drawn[0] == drawn[1]
