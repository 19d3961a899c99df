import pytest

from invariance.yaml_io import dump_yaml, load_yaml_text


@pytest.mark.parametrize("text, expected", [
    ("a: -8:8:1", "-8:8:1"),          # YAML 1.1 would read -29281
    ("a: 0.6:1.4:0.1", "0.6:1.4:0.1"),
    ("a: 1:2", "1:2"),
    ("a: 12", 12),
    ("a: -3", -3),
    ("a: 1.0e-3", 1e-3),
    ("a: 1e-3", 1e-3),
    ("a: .5", 0.5),
    ("a: 0x10", 16),
    ("a: true", True),
    ("a: null", None),
    ("a: 1_000", "1_000"),
])
def test_yaml12_numbers(text, expected):
    assert load_yaml_text(text)["a"] == expected


def test_round_trip_keeps_ranges_as_strings():
    data = {"sweeps": {"dx": "-8:8:1", "angle": "-45:45:5"}, "n": [1, 2]}
    assert load_yaml_text(dump_yaml(data)) == data
