"""Unquoted ranges in a study file stay strings (YAML 1.2 ints), and mean what they say."""
import numpy as np
import yaml

from invariance.cli._options import parse_set
from invariance.harness import parse_axis
from invariance.study import load_study

STUDY = """
name: ranges
dataset: fashion_mnist_mini
models: [mlp]
evaluate:
  samples: 50
  sweeps: {dx: -8:8:1, angle: -45:45:5, scale: 0.6:1.4:0.1}
  grids:
    translation_map: {dx: -6:6:1, dy: -6:6:1}
"""


def test_pyyaml_alone_would_read_a_base60_integer():
    # The trap the loader avoids: YAML 1.1 sexagesimal ints.
    assert yaml.safe_load("dx: -8:8:1")["dx"] == -29281


def test_unquoted_ranges_stay_strings_in_a_study(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(STUDY)
    study = load_study(path)
    sweeps = study.evaluate.sweeps
    assert sweeps == {"dx": "-8:8:1", "angle": "-45:45:5", "scale": "0.6:1.4:0.1"}
    assert study.evaluate.grids["translation_map"] == {"dx": "-6:6:1", "dy": "-6:6:1"}
    np.testing.assert_array_equal(parse_axis(sweeps["dx"], field="dx"), np.arange(-8, 9))
    assert len(parse_axis(sweeps["angle"], field="angle")) == 19
    np.testing.assert_allclose(parse_axis(sweeps["scale"], field="scale"), np.round(np.arange(6, 15) / 10, 10))


def test_set_override_of_a_range_stays_a_string(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(STUDY)
    study = load_study(path, overrides=parse_set(("evaluate.sweeps.dx=-4:4:2", "train.epochs=1")))
    assert study.evaluate.sweeps["dx"] == "-4:4:2"
    assert study.train["epochs"] == 1


def test_resolved_study_yaml_round_trips(tmp_path):
    from invariance.study.schema import study_to_dict
    from invariance.yaml_io import dump_yaml, load_yaml_text

    path = tmp_path / "s.yaml"
    path.write_text(STUDY)
    study = load_study(path)
    again = load_study(load_yaml_text(dump_yaml(study_to_dict(study))))
    assert again == study or study_to_dict(again) == study_to_dict(study)
