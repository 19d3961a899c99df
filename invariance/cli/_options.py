"""Small helpers shared by CLI commands: ``--set`` pairs and help that lists registry names."""
from __future__ import annotations

from typing import Any

import click

from invariance.errors import SpecError


def parse_set(pairs: tuple[str, ...], *, option: str = "--set") -> list[tuple[str, Any]]:
    """Parses ``key=value`` pairs; values are read as YAML scalars (``3`` -> 3, ``[1,2]`` -> list).

    Returns:
        A list of (dotted key, value) pairs in the order given.
    """
    from invariance.yaml_io import load_yaml_text

    out = []
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise SpecError(option, "must look like key=value", pair)
        out.append((key.strip(), load_yaml_text(raw) if raw.strip() else ""))
    return out


class RegistryHelp(click.Option):
    """An option whose help lists names read from a registry, only when the help is shown.

    ``help`` holds ``{names}``; ``names`` is ``"presets"`` or ``"datasets"``. Reading the
    registry at help time keeps ``invariance --help`` from importing numpy or the data layer,
    and a new preset or dataset appears in the help without editing it here.
    """

    def __init__(self, *args, names: str, **kwargs):
        super().__init__(*args, **kwargs)
        self._template, self._names = self.help, names

    def get_help_record(self, ctx):
        self.help = self._template.format(names=", ".join(registry_names(self._names)))
        return super().get_help_record(ctx)


def registry_names(what: str) -> list[str]:
    """The preset names (keras-free) or the dataset names, bundled ones marked."""
    if what == "presets":
        from invariance.models.presets import PRESETS

        return list(PRESETS)
    from invariance.data import DATASETS

    return [f"{name} (bundled)" if source.keras_module is None else name for name, source in DATASETS.items()]
