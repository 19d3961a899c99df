"""make_study_figures on synthetic study folders: what is made, what is skipped and why."""
from __future__ import annotations

import pytest

import invariance.plots as P
import invariance.plots.style as style
from invariance.errors import InvarianceError
from invariance.io import read_json
from invariance.report.figures import make_figures as make_study_figures
from invariance.report.figures import representative_runs
from invariance.results import load_study_tables
from plot_tables import shared_study, write_study


@pytest.fixture(autouse=True)
def _few_resamples(monkeypatch):
    monkeypatch.setattr(style, "N_BOOT", 20)


def test_full_study_makes_every_supported_figure(tmp_path_factory):
    study = shared_study(tmp_path_factory)
    index = read_json(study / "figures" / "index.json")
    made = [f["name"] for f in index["figures"]]
    assert made == ["invariance_curves", "divergence_curves", "translation_map_translation_map",
                    "translation_map_translation_map_embedding_cosine", "radial_translation_map", "engstrom",
                    "equivariance", "learning_curves", "cost", "filters_cnn_pool", "examples_dx",
                    "examples_angle", "examples_scale"]
    for name in made:
        assert (study / "figures" / f"{name}.png").stat().st_size > 1000
        assert (study / "figures" / f"{name}.svg").is_file()
    assert all(f["title"] and f["caption"] for f in index["figures"])
    # the mlp runs kept no model.keras: their family is named, with the reason, not silently left out
    assert [s["name"] for s in index["skipped"]] == ["filters_mlp"]
    assert "no mlp run has a saved model.keras" in index["skipped"][0]["reason"]


def test_representative_runs_need_a_saved_model(tmp_path_factory):
    study = shared_study(tmp_path_factory)
    tables = load_study_tables(study)
    reps = representative_runs(tables.runs, study)
    assert list(reps) == ["cnn_pool"]  # mlp runs have no model.keras here
    row = tables.runs[tables.runs["run_id"] == reps["cnn_pool"]].iloc[0]
    assert (row["augmentation"], row["n_train"], row["seed"]) == ("none", 8000, 0)
    assert list(representative_runs(tables.runs, study, need_model=False)) == ["cnn_pool", "mlp"]


def test_small_study_skips_what_its_data_cannot_support(tmp_path):
    study = write_study(tmp_path / "s", models=("cnn_pool",), seeds=(0,), curves=False, failed=0)
    inv = load_study_tables(study).invariance
    keep = inv["sweep"].isin(["clean", "dx"])
    inv[keep].to_csv(study / "invariance.csv", index=False)
    (study / "study.yaml").write_text("name: s\ndataset: npz:/nonexistent/data.npz\n")
    made = make_study_figures(study)
    assert list(made) == ["invariance_curves", "divergence_curves", "cost"]
    skipped = {s["name"]: s["reason"] for s in read_json(study / "figures" / "index.json")["skipped"]}
    assert set(skipped) == {"engstrom", "equivariance", "filters", "examples_dx"}
    assert "random-k or grid accuracy" in skipped["engstrom"]
    assert "no completed run has a saved model.keras" in skipped["filters"]
    assert "is not available here" in skipped["examples_dx"]


def test_the_drift_figure_names_only_the_metrics_it_draws(tmp_path):
    import dataclasses

    from invariance.plots.study_figures import plan_figures

    tables = load_study_tables(write_study(tmp_path / "s", models=("cnn_pool",), seeds=(0,), curves=False, failed=0))
    inv = tables.invariance

    def drift(metrics):
        only = dataclasses.replace(tables, invariance=inv[~inv["metric"].isin({"kl", "embedding_cosine"} - metrics)])
        [planned] = [p for p in plan_figures(only) if p.name == "divergence_curves"]
        return planned.title, planned.caption, planned.draw().get_suptitle()

    title, caption, suptitle = drift({"kl"})
    assert title == "How far outputs move" and "cosine" not in caption and suptitle.startswith("Output drift")
    title, caption, suptitle = drift({"kl", "embedding_cosine"})
    assert title == "How far outputs and embeddings move" and "penultimate embeddings" in caption
    assert suptitle.startswith("Output and embedding drift")


def test_a_failing_figure_is_recorded_and_the_others_are_still_made(tmp_path, monkeypatch):
    study = write_study(tmp_path / "s", models=("cnn_pool",), seeds=(0,), curves=False, failed=0)
    (study / "study.yaml").write_text("name: s\n")
    inv = load_study_tables(study).invariance
    inv[inv["sweep"].isin(["clean", "dx"])].to_csv(study / "invariance.csv", index=False)  # few figures: fast

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(P.cost, "plot_cost", broken)
    made = make_study_figures(study)
    assert "cost" not in made and "invariance_curves" in made
    skipped = {s["name"]: s["reason"] for s in read_json(study / "figures" / "index.json")["skipped"]}
    assert skipped["cost"] == "failed: RuntimeError: boom"


def test_missing_study_folder_or_runs_table_is_a_clear_error(tmp_path):
    with pytest.raises(InvarianceError, match="study_dir: must be a study results folder"):
        make_study_figures(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvarianceError, match="study_dir: must contain runs.csv"):
        make_study_figures(tmp_path / "empty")


def test_labels_like_none_survive_the_csv_round_trip(tmp_path):
    study = write_study(tmp_path / "s", models=("cnn_pool",), seeds=(0,), curves=False, failed=0)
    tables = load_study_tables(study)
    assert set(tables.runs["augmentation"]) >= {"none"}
    assert (tables.invariance["layer"] == "").sum() > 0
