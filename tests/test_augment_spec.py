"""AugmentationSpec: every accepted form, labels, round trips, and clear errors up front."""
import pytest

from invariance.augment import (
    NONE,
    AugmentationSpec,
    GeometricSpec,
    augmentation_label,
    execution_path,
    resolve_augmentation,
)
from invariance.config import to_dict
from invariance.errors import SpecError

FORMS = [
    (None, "none"),
    ("none", "none"),
    ("None", "none"),
    (False, "none"),
    ({"shift": 0}, "none"),  # identity ranges are no augmentation
    ({"shift": 4, "rotate": 20, "scale": [0.8, 1.2]}, "geometric[shift=4,rotate=20,scale=0.8-1.2]"),
    ({"shift": [-2, 3]}, "geometric[shift=-2-3]"),
    ({"shift": 0.1}, "geometric[shift=0.1]"),
    ({"scale": 0.1}, "geometric[scale=0.9-1.1]"),
    ({"rotate": 15, "fill": "wrap", "interpolation": "nearest", "path": "device"},
     "geometric[rotate=15,fill=wrap,interpolation=nearest,path=device]"),
    ({"geometric": {"shift": 4}}, "geometric[shift=4]"),
    ("geometric:shift=4,rotate=15,scale=0.9-1.1", "geometric[shift=4,rotate=15,scale=0.9-1.1]"),
    ("geometric:shift=-2:3,fill=reflect", "geometric[shift=-2-3,fill=reflect]"),
    ({"albumentations": [{"HorizontalFlip": {"p": 0.5}}, {"Affine": {"rotate": [-15, 15]}}]},
     "albumentations[HorizontalFlip(p=0.5),Affine(rotate=[-15,15])]"),
    ({"albumentations": ["Transpose", {"HorizontalFlip": None}]}, "albumentations[Transpose,HorizontalFlip]"),
    (GeometricSpec(rotate=10), "geometric[rotate=10]"),
    ({"shift": 4, "shift_mode": "integer", "p": 0.5}, "geometric[shift=4,shift_mode=integer,p=0.5]"),
    ("geometric:shift=4,shift_mode=integer,p=0.5", "geometric[shift=4,shift_mode=integer,p=0.5]"),
    ({"shift": 4, "p": 0}, "none"),  # never applied is no augmentation
]


@pytest.mark.parametrize("obj, label", FORMS)
def test_forms_resolve_and_label(obj, label):
    spec = resolve_augmentation(obj)
    assert isinstance(spec, AugmentationSpec)
    assert augmentation_label(spec) == label
    # the plain form reads back to the same spec
    assert resolve_augmentation(to_dict(spec)) == spec
    assert resolve_augmentation(spec) is spec


def test_number_conventions():
    g = resolve_augmentation({"shift": 3, "rotate": 10, "scale": 0.25}).geometric
    assert g.shift == (-3.0, 3.0) and g.rotate == (-10.0, 10.0) and g.scale == (0.75, 1.25)
    assert not g.shift_is_fraction
    assert resolve_augmentation({"shift": 0.2}).geometric.shift_is_fraction
    assert not resolve_augmentation({"shift": 1.0}).geometric.shift_is_fraction  # 1 px, not 100 %
    assert NONE.kind == "none" and NONE.path is None


def test_execution_path():
    assert execution_path("none") is None
    assert execution_path({"shift": 2, "path": "albumentations"}) == "albumentations"
    assert execution_path({"shift": 2, "path": "device"}) == "device"
    assert execution_path({"shift": 2}, backend="tensorflow") in ("device", "albumentations")
    assert execution_path({"albumentations": ["HorizontalFlip"]}) == "albumentations"


# (input, field named in the error, a fragment of the message)
BAD = [
    ({"shfit": 3}, "augmentation.shfit", "allowed keys are shift, rotate, scale"),
    ({"shift": -1}, "augmentation.shift", "must be >= 0"),
    ({"shift": [3, 1]}, "augmentation.shift", "min <= max"),
    ({"shift": "big"}, "augmentation.shift", "must be"),
    ({"rotate": [10, 5]}, "augmentation.rotate", "min <= max"),
    ({"rotate": 400}, "augmentation.rotate", "between -360.0 and 360.0"),
    ({"scale": 1.2}, "augmentation.scale", "[1 - s, 1 + s]"),
    ({"scale": [0, 1.2]}, "augmentation.scale", "0 < min"),
    ({"fill": "zero", "shift": 1}, "augmentation.fill", "'constant', 'wrap', 'reflect', 'nearest'"),
    ({"interpolation": "cubic"}, "augmentation.interpolation", "'bilinear', 'nearest'"),
    ({"path": "gpu"}, "augmentation.path", "'auto', 'device', 'albumentations'"),
    ({"shift": 2, "albumentations": ["HorizontalFlip"]}, "augmentation.albumentations", "cannot be combined"),
    ({"albumentations": "HorizontalFlip"}, "augmentation.albumentations", "must be a list"),
    ({"albumentations": []}, "augmentation.albumentations", "at least one"),
    ({"albumentations": ["HorizontalFlip", "Afine"]}, "augmentation.albumentations[1]", "did you mean Affine"),
    ({"albumentations": [{"HorizontalFlip": {}}, {"Affine": {"rotat": 5}}]}, "augmentation.albumentations[1].Affine",
     "unknown argument 'rotat'; Affine accepts scale"),
    ({"albumentations": [{"Affine": {"rotate": "x"}}]}, "augmentation.albumentations[0].Affine",
     "albumentations rejected"),
    ({"albumentations": [{"HorizontalFlip": {"p": 2}}]}, "augmentation.albumentations[0].HorizontalFlip",
     "less than or equal to 1"),
    ({"albumentations": [{"HorizontalFlip": 0.5}]}, "augmentation.albumentations[0].HorizontalFlip",
     "mapping of keyword arguments"),
    ({"albumentations": [["HorizontalFlip"]]}, "augmentation.albumentations[0]", "transform name"),
    ({"kind": "geometric"}, "augmentation.geometric", "is required"),
    ("geometric", "augmentation", "geometric:shift=4"),
    ("geometric:shift", "augmentation", "key=value"),
    ("rotate=5", "augmentation", "'none', 'geometric:KEY=VALUE"),
    (3, "augmentation", "must be 'none'"),
]


def test_every_geometric_field_has_a_bad_case():
    fields = {f for f in ("shift", "rotate", "scale", "fill", "interpolation", "path")}
    covered = {b[1].split(".")[1] for b in BAD if b[1].count(".") == 1 and b[1].split(".")[1] in fields}
    assert covered == fields


@pytest.mark.parametrize("obj, field, fragment", BAD)
def test_bad_input_names_field_rule_and_value(obj, field, fragment):
    with pytest.raises(SpecError) as err:
        resolve_augmentation(obj)
    assert err.value.field == field, str(err.value)
    assert fragment in str(err.value)
    assert "received" in str(err.value)


def test_custom_path_prefix():
    with pytest.raises(SpecError) as err:
        resolve_augmentation({"albumentations": ["Afine"]}, path="augmentation[2]")
    assert err.value.field == "augmentation[2].albumentations[0]"
