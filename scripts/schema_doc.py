"""The study-file reference, generated from the typed spec dataclasses, so it cannot drift.

Every key a study accepts is a field of a frozen dataclass that ``invariance.config.parse_spec``
validates; this script walks those dataclasses and writes one Markdown page: each section's
fields with their type (in the words the validator's own errors use), default and the
description from the class's ``Attributes:`` docstring (or the comment beside the field).

The documentation site calls :func:`schema_markdown` from its build hook
(``scripts/docs_hooks.py``); ``python scripts/schema_doc.py`` prints the page.
"""
from __future__ import annotations

import dataclasses
import inspect
import re
import sys
import textwrap
import typing
from typing import Any

# (section title, the YAML key it documents, the dataclasses behind it)
def sections() -> list[tuple[str, str, list[type]]]:
    """The study file's sections and the spec dataclasses that validate them."""
    from invariance.augment import AugmentationSpec, GeometricSpec
    from invariance.harness import EvaluationSpec, RandomKSpec, WalkSpec
    from invariance.harness.shift_pairs import ShiftPairsSpec
    from invariance.models import CNNSpec, MLPSpec, ViTSpec
    from invariance.study.schema import ExecutionSpec, StudySpec, TrainPlan
    from invariance.training import TrainSpec

    return [
        ("The study file", "", [StudySpec]),
        ("models", "models", [CNNSpec, MLPSpec, ViTSpec]),
        ("augmentation", "augmentation", [AugmentationSpec, GeometricSpec]),
        ("train", "train", [TrainSpec, TrainPlan]),
        ("evaluate", "evaluate", [EvaluationSpec, RandomKSpec, WalkSpec, ShiftPairsSpec]),
        ("execution", "execution", [ExecutionSpec]),
    ]


def rst_to_markdown(text: str) -> str:
    """Docstring markup (reST literals, roles and ``::`` blocks) as Markdown."""
    text = textwrap.dedent(text).strip("\n")
    text = re.sub(r":(?:func|class|mod|meth|data|attr|obj):`~?([^`]+)`", r"`\1`", text)
    text = re.sub(r"``([^`]+)``", r"`\1`", text)
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::"):
            out.append(line.rstrip()[:-1])  # reST "text::" introduces a literal block
            i += 1
            block: list[str] = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
                block.append(lines[i])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            while block and not block[0].strip():
                block.pop(0)
            out += ["", "```yaml", textwrap.dedent("\n".join(block)), "```", ""]
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def attribute_docs(obj: Any, section: str = "Attributes") -> dict[str, str]:
    """Entries of a Google-style docstring section (``Attributes:`` of a class, ``Args:`` of a function)."""
    doc = inspect.getdoc(obj) or ""
    found = re.search(rf"^{section}:\n((?:[ \t]+.*\n?|\n)*)", doc, flags=re.M)
    if not found:
        return {}
    out: dict[str, str] = {}
    name = None
    for line in found.group(1).splitlines():
        entry = re.match(r"^ {4}\**(\w+)(?: \(.*?\))?:\s*(.*)$", line)
        if entry:
            name = entry.group(1)
            out[name] = entry.group(2).strip()
        elif name and line.strip():
            out[name] += " " + line.strip()
    return out


def comment_docs(cls: type) -> dict[str, str]:
    """Descriptions written as a comment beside a field (``samples: int = 1  # why``)."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"^\s+(\w+):[^#\n]*#\s*(.+)$", source, flags=re.M)}


def yaml_comment_docs(module_doc: str) -> dict[str, str]:
    """Descriptions of top-level keys from the annotated example in a module docstring."""
    out: dict[str, str] = {}
    for m in re.finditer(r"^ {4}(\w+):[^#\n]*#\s*(.+)$", module_doc or "", flags=re.M):
        out.setdefault(m.group(1), m.group(2).strip())
    return out


def _default(f: dataclasses.Field) -> str:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return "**required**"
    if dataclasses.is_dataclass(value):
        return "defaults below"
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        value = list(value)
    return f"`{value!r}`".replace("'", "").replace("None", "null")


def _cell(text: str) -> str:
    return rst_to_markdown(text).replace("|", "\\|").replace("\n", " ")


def field_table(cls: type, *, extra_docs: dict[str, str] | None = None) -> str:
    """One Markdown table row per init field of ``cls``: key, accepted values, default, meaning."""
    from invariance.config import describe

    hints = typing.get_type_hints(cls)
    docs = {**(extra_docs or {}), **comment_docs(cls), **attribute_docs(cls)}
    rows = ["| key | accepts | default | meaning |", "|---|---|---|---|"]
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        tp = hints[f.name]
        accepts = "any value (see meaning)" if tp is Any else describe(tp)
        if typing.get_origin(tp) in (typing.Union,) or " | " in str(tp):
            if type(None) in typing.get_args(tp):
                accepts += " or null"
        rows.append(f"| `{f.name}` | {_cell(accepts)} | {_default(f)} | {_cell(docs.get(f.name, '')) or '—'} |")
    return "\n".join(rows)


def class_block(cls: type, *, extra_docs: dict[str, str] | None = None) -> str:
    """A heading, the class summary and its field table."""
    doc = inspect.getdoc(cls) or ""
    summary = re.split(r"\n\s*Attributes:\n", doc)[0].strip()
    return "\n\n".join([f"### `{cls.__name__}`",
                        f"<small>`{cls.__module__}.{cls.__qualname__}`</small>",
                        rst_to_markdown(summary), field_table(cls, extra_docs=extra_docs)])


def presets_table() -> str:
    """The named model presets and what they are."""
    from invariance.models import DESCRIPTIONS, PRESETS

    rows = ["| preset | family | what |", "|---|---|---|"]
    for name, spec in PRESETS.items():
        rows.append(f"| `{name}` | `{spec.family}` | {_cell(DESCRIPTIONS.get(name, ''))} |")
    return "\n".join(rows)


def schema_markdown() -> str:
    """The whole study-schema reference page."""
    from invariance.study import schema

    module_doc = inspect.getmodule(schema.StudySpec).__doc__ or ""
    parts = [
        "# Study schema",
        "!!! info \"Generated\"\n    This page is generated at build time from the typed spec dataclasses "
        "(`scripts/schema_doc.py`), so it lists exactly the keys the validator accepts. "
        "Types are given in the words of the validator's own error messages.",
    ]
    for title, key, classes in sections():
        parts.append(f"## {title}" if not key else f"## `{key}:`")
        if not key:
            parts.append(rst_to_markdown(module_doc))
            parts.append(class_block(classes[0], extra_docs=yaml_comment_docs(module_doc)))
            continue
        if key == "models":
            parts.append("Each entry is a preset name, a mapping `{preset: NAME, field: value, ...}` that "
                         "overrides the preset's fields, or a full spec `{family: cnn|mlp|vit, ...}`. "
                         "The presets:")
            parts.append(presets_table())
        if key == "augmentation":
            parts.append(rst_to_markdown(inspect.getmodule(classes[0]).__doc__ or ""))
        extra = {}
        if key == "evaluate":
            from invariance.harness import evaluate

            extra = attribute_docs(evaluate, "Args")
        parts += [class_block(cls, extra_docs=extra) for cls in classes]
    return "\n\n".join(parts) + "\n"


if __name__ == "__main__":
    sys.stdout.write(schema_markdown())
