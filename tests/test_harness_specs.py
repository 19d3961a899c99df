"""EvaluationSpec parses its sweeps and grids once; random_k_count reads every random_k form."""
import pytest

from invariance.config import parse_spec, to_dict
from invariance.errors import SpecError
from invariance.harness import EvaluationSpec, Grid, RandomKSpec, Sweep, random_k_count


def test_evaluation_spec_keeps_the_written_form_and_the_resolved_one():
    spec = parse_spec(EvaluationSpec, {"sweeps": {"dx": "-2:2:2"}, "grids": {"m": {"dx": "0:1:1", "dy": 0}}})
    assert spec.sweeps == {"dx": "-2:2:2"}
    assert spec.resolved_sweeps == (Sweep("dx", (-2.0, 0.0, 2.0)),)
    assert spec.resolved_grids == (Grid("m", (("dx", (0.0, 1.0)), ("dy", (0.0,)))),)
    kwargs = spec.evaluate_kwargs()
    assert kwargs["sweeps"] is spec.resolved_sweeps and kwargs["grids"] is spec.resolved_grids
    assert "resolved_sweeps" not in kwargs and "resolved_sweeps" not in to_dict(spec)
    assert parse_spec(EvaluationSpec, to_dict(spec)) == spec


def test_a_sweep_and_a_grid_may_name_their_own_fill():
    written = {"fill": "wrap", "sweeps": {"dx": "-1:1:1", "angle": {"values": "0:90:45", "fill": "constant"}},
               "grids": {"m": {"dx": [0, 2], "angle": 45, "fill": "constant"}}}
    spec = parse_spec(EvaluationSpec, written)
    assert spec.resolved_sweeps == (Sweep("dx", (-1.0, 0.0, 1.0)), Sweep("angle", (0.0, 45.0, 90.0), fill="constant"))
    assert spec.resolved_grids == (Grid("m", (("dx", (0.0, 2.0)), ("angle", (45.0,))), fill="constant"),)
    assert to_dict(spec)["sweeps"] == written["sweeps"] and parse_spec(EvaluationSpec, to_dict(spec)) == spec
    # a spec without its own fills writes as before, so studies that do not use them keep their eval hash
    assert to_dict(parse_spec(EvaluationSpec, {"sweeps": {"dx": "-1:1:1"}}))["sweeps"] == {"dx": "-1:1:1"}


def test_evaluation_spec_without_sweeps_passes_none():
    kwargs = EvaluationSpec().evaluate_kwargs()
    assert kwargs["sweeps"] is None and kwargs["grids"] is None


def test_evaluation_spec_errors_name_the_field():
    with pytest.raises(SpecError) as err:
        EvaluationSpec(sweeps={"dx": "1:2:0"})
    assert err.value.field == "sweeps.dx"


@pytest.mark.parametrize("obj, expected", [
    (None, None), (5, 5), ({"k": 7}, 7), ({"k": 3, "limits": {"dx": 1}}, 3), ({"limits": {"dx": 1}}, 10),
    (RandomKSpec(k=4), 4),
])
def test_random_k_count(obj, expected):
    assert random_k_count(obj) == expected


def test_random_k_count_rejects_bad_forms():
    with pytest.raises(SpecError, match="random_k.k"):
        random_k_count({"k": 0})
