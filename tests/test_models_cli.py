"""`invariance models`: the preset table as text and JSON, and clean errors."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from invariance.cli import cli, main
from invariance.errors import SpecError
from invariance.models import PRESETS, build_model, model_cost


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def test_models_json_lists_every_preset(runner):
    result = runner.invoke(cli, ["models", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["input_shape"] == [28, 28, 1]
    rows = {row["name"]: row for row in data["models"]}
    assert list(rows) == list(PRESETS)
    for name, row in rows.items():
        assert row["family"] == PRESETS[name].family
        assert row["params"] > 0 and row["macs"] > 0 and row["description"]
    assert rows["cnn_pool"] == {**rows["cnn_pool"], **model_cost(build_model("cnn_pool", (28, 28, 1), 10))}


def test_models_table_text(runner):
    result = runner.invoke(cli, ["models", "--input-shape", "32,32,3"])
    assert result.exit_code == 0, result.output
    assert "32x32x3" in result.output
    for name in PRESETS:
        assert name in result.output
    assert "MACs" in result.output and "params" in result.output


def test_models_that_do_not_fit_are_marked(runner):
    result = runner.invoke(cli, ["models", "--json", "--input-shape", "8,8,1"])
    rows = {row["name"]: row for row in json.loads(result.output)["models"]}
    assert "at most depth 1" in rows["lenet5"]["error"] and rows["lenet5"]["params"] is None
    assert rows["cnn_pool"]["params"] > 0


def test_bad_input_shape_is_a_clean_error(runner, capsys):
    result = runner.invoke(cli, ["models", "--input-shape", "28,28"])
    assert isinstance(result.exception, SpecError) and result.exception.field == "--input-shape"
    with pytest.raises(SystemExit) as info:
        main(["models", "--input-shape", "a,b,c"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Error: --input-shape" in err and "'a,b,c'" in err and "Traceback" not in err
