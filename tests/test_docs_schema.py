"""The generated study-schema page (scripts/schema_doc.py) lists every key the validator accepts."""
from __future__ import annotations

import dataclasses
import sys
import typing
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import schema_doc  # noqa: E402


@pytest.fixture(scope="module")
def page() -> str:
    return schema_doc.schema_markdown()


def _documented() -> list[type]:
    return [cls for _, _, classes in schema_doc.sections() for cls in classes]


def _block(page: str, cls: type) -> str:
    start = page.index(f"### `{cls.__name__}`")
    end = page.find("\n### ", start + 1)
    return page[start:end if end > 0 else None]


def test_every_field_of_every_spec_has_a_row(page):
    for cls in _documented():
        block = _block(page, cls)
        for f in dataclasses.fields(cls):
            if f.init:
                assert f"| `{f.name}` |" in block, f"{cls.__name__}.{f.name} is missing from the schema page"


def test_nested_spec_dataclasses_are_documented():
    # a spec that another spec's field takes must have its own table, or the page hides keys
    documented = set(_documented())
    for cls in list(documented):
        hints = typing.get_type_hints(cls)
        # only what a user writes: derived fields (init=False) are not keys of the file
        for tp in (hints[f.name] for f in dataclasses.fields(cls) if f.init):
            for arg in (tp, *typing.get_args(tp), *(a for t in typing.get_args(tp) for a in typing.get_args(t))):
                if dataclasses.is_dataclass(arg) and arg.__module__.startswith("invariance"):
                    assert arg in documented or arg.__name__ == "AlbumentationsTransform", \
                        f"{cls.__name__} takes {arg.__name__}, which has no table"


def test_descriptions_come_from_the_docstrings(page):
    assert "Number of conv blocks, 1 to 6." in _block(page, _documented()[1])  # CNNSpec's Attributes:
    train = next(c for c in _documented() if c.__name__ == "TrainSpec")
    assert "Patience in epochs on validation loss" in _block(page, train)
    evaluation = next(c for c in _documented() if c.__name__ == "EvaluationSpec")
    assert "Seed of the random-k and shift-pair draws" in _block(page, evaluation)  # evaluate()'s Args:


def test_rst_to_markdown_known_answers():
    assert schema_doc.rst_to_markdown("Use ``x`` and :func:`~a.b`.") == "Use `x` and `a.b`."
    assert schema_doc.rst_to_markdown("An example::\n\n    a: 1\n    b: 2\n\nAfter.") == \
        "An example:\n\n```yaml\na: 1\nb: 2\n```\n\nAfter."


def test_attribute_docs_reads_continuation_lines():
    class Spec:
        """Doc.

        Attributes:
            alpha: First line
                and its continuation.
            beta: Second.
        """

    assert schema_doc.attribute_docs(Spec) == {"alpha": "First line and its continuation.", "beta": "Second."}
