"""``invariance models``: the preset zoo with its size and cost."""
from __future__ import annotations

import json

import click

from invariance.errors import SpecError


def parse_input_shape(text: str) -> tuple[int, int, int]:
    """Reads ``"32,32,3"`` as (32, 32, 3); raises SpecError naming --input-shape otherwise."""
    parts = [p.strip() for p in text.replace("x", ",").split(",")]
    if len(parts) != 3 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise SpecError("--input-shape", "must be height,width,channels with positive integers, e.g. 28,28,1",
                        text)
    return tuple(int(p) for p in parts)


def preset_table(input_shape: tuple[int, int, int], num_classes: int = 10) -> list[dict]:
    """One row per preset: name, family, params, macs, description (and error if it does not fit).

    Returns:
        A list of dicts, in PRESETS order.
    """
    from invariance.models import DESCRIPTIONS, PRESETS
    from invariance.models.spec_cost import spec_cost

    rows = []
    for name, spec in PRESETS.items():
        row = {"name": name, "family": spec.family, "params": None, "macs": None,
               "description": DESCRIPTIONS.get(name, "")}
        try:
            # Counted from the spec (no keras); a registered family of the user's is built.
            cost = spec_cost(spec, input_shape, num_classes)
            if cost is None:
                from invariance.models import build_model, model_cost

                cost = model_cost(build_model(name, input_shape, num_classes, seed=0))
            row.update(cost)
        except SpecError as err:
            row["error"] = str(err)
        rows.append(row)
    return rows


@click.command("models")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@click.option("--input-shape", default="28,28,1", show_default=True, metavar="H,W,C",
              help="Image shape used to count parameters and MACs.")
@click.option("--num-classes", default=10, show_default=True, type=click.IntRange(min=2),
              help="Number of classes of the logits layer.")
def command(as_json: bool, input_shape: str, num_classes: int) -> None:
    """List the model presets with their parameters and MACs per image."""
    shape = parse_input_shape(input_shape)
    rows = preset_table(shape, num_classes)
    if as_json:
        click.echo(json.dumps({"input_shape": list(shape), "num_classes": num_classes, "models": rows}, indent=2))
        return
    header = ("preset", "family", "params", "MACs", "description")
    lines = [(r["name"], r["family"], _count(r["params"]), _count(r["macs"]),
              r["description"] if "error" not in r else f"does not fit: {r['error']}") for r in rows]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header[:-1])]
    click.echo(f"Presets for a {'x'.join(map(str, shape))} input, {num_classes} classes "
               "(params: trainable; MACs: multiply-accumulates per image)")
    for line in (header, *lines):
        cells = [c.rjust(w) if i in (2, 3) else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths))]
        click.echo("  ".join(cells) + "  " + line[-1])


def _count(value: int | None) -> str:
    if value is None:
        return "-"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:.2f}{unit}"
    return str(value)
