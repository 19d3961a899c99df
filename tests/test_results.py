"""invariance.results: the study folder's layout, its one table reader/writer, its loader and
the per-run records; and the one per-run summary pivot (invariance.curves.run_summary)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from invariance.curves.run_summary import mean_consistency, run_summaries, sweeps_of
from invariance.harness import COLUMNS, EvaluationSpec
from invariance.results import (HARNESS_COLUMNS, KEY_COLUMNS, RUN_COLUMNS, NotAStudyFolder, load_study_tables,
                                read_run, read_table, record_result, run_dir, run_state, write_study_tables,
                                write_table)
from invariance.training import RunDir


def test_columns_are_written_down_once():
    assert HARNESS_COLUMNS is COLUMNS
    assert RUN_COLUMNS[:len(KEY_COLUMNS)] == KEY_COLUMNS and len(RUN_COLUMNS) == len(set(RUN_COLUMNS)) == 18


@pytest.mark.parametrize("content, expected", [
    (None, None),                      # absent
    ("", None),                        # empty: not even a header
    ("run_id,model\n", ["run_id", "model"]),  # header only: an empty table with its columns
])
def test_read_table_has_one_rule_for_absent_and_empty_files(tmp_path, content, expected):
    path = tmp_path / "t.csv"
    if content is not None:
        path.write_text(content)
    table = read_table(path)
    assert (table is None) if expected is None else (list(table.columns) == expected and table.empty)


def test_write_then_read_keeps_labels_layers_and_reasons(tmp_path):
    frame = pd.DataFrame({"run_id": ["007", "1e5"], "augmentation": ["none", "NA"], "layer": ["", "conv"],
                          "reason": ["", "diverged"], "value": [0.5, np.nan]})
    write_table(tmp_path / "t.csv", frame)
    back = read_table(tmp_path / "t.csv")
    assert back["run_id"].tolist() == ["007", "1e5"] and back["augmentation"].tolist() == ["none", "NA"]
    assert back["layer"].tolist() == ["", "conv"] and back["reason"].tolist() == ["", "diverged"]
    assert math.isnan(back["value"].iloc[1])
    assert not list(tmp_path.glob(".*.tmp*"))


def test_not_a_study_folder_is_typed_and_worded_once(tmp_path):
    with pytest.raises(NotAStudyFolder, match="^study_dir: must be a study results folder.*it does not exist") as err:
        load_study_tables(tmp_path / "missing")
    assert str(err.value.for_field("RESULTS_DIR")).startswith("RESULTS_DIR: must be a study results folder")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotAStudyFolder, match="^study_dir: must contain runs.csv.*it has no runs.csv"):
        load_study_tables(tmp_path / "empty")
    (tmp_path / "empty" / "runs.csv").write_text("")
    with pytest.raises(NotAStudyFolder, match="not a study results folder"):
        load_study_tables(tmp_path / "empty")


def test_loader_resolves_the_evaluation_settings(tmp_path):
    pd.DataFrame({"run_id": ["a"], "status": ["completed"]}).to_csv(tmp_path / "runs.csv", index=False)
    tables = load_study_tables(tmp_path)
    assert tables.evaluation == EvaluationSpec() and tables.invariance is None and tables.name == tmp_path.name
    (tmp_path / "study.yaml").write_text("name: s\ndataset: mnist\nevaluate: {fill: wrap, random_k: 5}\n")
    tables = load_study_tables(tmp_path)
    assert tables.evaluation.fill == "wrap" and tables.evaluation.interpolation == "bilinear"
    assert tables.evaluation.random_k.k == 5 and tables.dataset.name == "mnist" and tables.name == "s"


class _Run:
    def __init__(self, run_id, n_train=100):
        self.run_id, self.n_train = run_id, n_train

    def key(self):
        return {"run_id": self.run_id, "model": "mlp", "augmentation": "none", "n_train": self.n_train, "seed": 0}


def _rows(*sweeps):
    return pd.DataFrame([{"sweep": s, "dx": np.nan, "dy": np.nan, "angle": np.nan, "scale": np.nan,
                          "metric": "mean_consistency", "value": v, "n": 10, "layer": ""} for s, v in sweeps])


def test_records_and_study_tables_round_trip(tmp_path):
    done, failed, pending = _Run("a", n_train=None), _Run("b"), _Run("c")
    record_result(run_dir(tmp_path, "a"), {**done.key(), "n_train": 60, "status": "completed", "eval_hash": "h",
                                           "rows": _rows(("dx", 0.5)), "test_accuracy": np.float32(0.75)})
    record_result(run_dir(tmp_path, "b"), {**failed.key(), "status": "failed", "reason": "diverged",
                                           "traceback": "Traceback ...", "rows": None})
    assert [run_state(run_dir(tmp_path, r), "h") for r in "abc"] == ["completed", "failed", "pending"]
    assert run_state(run_dir(tmp_path, "a"), "other") == "pending"  # evaluated otherwise: again
    record, table = read_run(RunDir(tmp_path / "runs" / "a"))
    assert record["test_accuracy"] == 0.75 and list(table.columns) == list(HARNESS_COLUMNS)
    assert (tmp_path / "runs" / "b" / "error.txt").read_text() == "Traceback ..."

    out = write_study_tables(tmp_path, [done, failed, pending])
    assert out["counts"] == {"total": 3, "completed": 1, "failed": 1, "pending": 1}
    runs, inv = read_table(tmp_path / "runs.csv"), read_table(tmp_path / "invariance.csv")
    assert list(runs.columns) == list(RUN_COLUMNS) and runs["run_id"].tolist() == ["a", "b"]
    assert runs["n_train"].tolist() == [60, 100] and runs["reason"].tolist() == ["", "diverged"]
    assert list(inv.columns) == list(KEY_COLUMNS) + list(HARNESS_COLUMNS) and inv["n_train"].tolist() == [60]


def test_run_dir_has_one_read_status_and_a_record():
    run = RunDir("/nonexistent/run")
    assert run.read_status() is None and run.read_record() is None and run.read_run_spec() is None
    assert {run.record.name, run.run_spec.name, run.table.name, run.status.name} == {
        "status.json", "run.json", "invariance.csv", "status"}


def test_run_summaries_pivot_exact_values():
    inv = pd.concat([_rows(("dx", 0.2), ("angle", 0.4)).assign(run_id="r1"),
                     _rows(("dx", 0.6)).assign(run_id="r2"),
                     pd.DataFrame([{"run_id": "r1", "sweep": "tm", "metric": "grid_accuracy", "value": 0.3, "layer": ""},
                                   {"run_id": "r2", "sweep": "random_k", "metric": "worst_of_k_accuracy",
                                    "value": 0.1, "layer": ""},
                                   {"run_id": "r2", "sweep": "equivariance", "metric": "mean_consistency",
                                    "value": 9.0, "layer": "conv"}])])  # per-layer rows never count
    wide = run_summaries(inv)
    assert list(wide.columns) == ["mean_consistency_dx", "mean_consistency_angle", "grid_accuracy_tm",
                                  "worst_of_k_accuracy"]
    assert wide.loc["r1"].tolist()[:3] == [0.2, 0.4, 0.3] and wide.loc["r2", "mean_consistency_dx"] == 0.6
    assert sweeps_of(wide) == ["dx", "angle"]
    assert list(run_summaries(inv, run_metrics=()).columns)[-1] == "grid_accuracy_tm"
    assert mean_consistency(_rows(("dx", 0.2), ("angle", 0.4))) == pytest.approx(0.3)
    assert math.isnan(mean_consistency(None)) and run_summaries(None) is None
