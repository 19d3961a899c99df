"""``invariance datasets``: which datasets this machine has, where, and how big. Never downloads."""
from __future__ import annotations

import json

import click


@click.command("datasets")
@click.option("--data-dir", default=None, type=click.Path(file_okay=False),
              help="Also look in this folder first (default: $INVARIANCE_DATA_DIR).")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON instead.")
@click.option("--verbose", "-v", is_flag=True, help="Also list every place looked.")
def command(data_dir, as_json, verbose):
    """List the named datasets: available or not, where, sizes and image shape.

    Only local places are checked (the data folder, the Keras cache, Debian's
    /usr/share/datasets); nothing is downloaded. Your own files load as npz:PATH.
    """
    from invariance.data import dataset_status
    from invariance.data.sources import DATASETS

    rows = dataset_status(data_dir=data_dir)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    header = ("dataset", "available", "train", "test", "image", "source")
    table = [header]
    for row in rows:
        if row["available"]:
            state, where = "yes", row["source"]
        elif row["error"]:
            state, where = "broken", f"{row['source']}: {row['error'].splitlines()[0]}"
        else:
            state = "no"
            where = "not here (keras downloads it on first use, if online)" if row["downloadable"] else "missing"
        shape = "x".join(str(s) for s in row["image_shape"]) if row["image_shape"] else "-"
        table.append((row["name"], state, _n(row["n_train"]), _n(row["n_test"]), shape, where))
    widths = [max(len(r[i]) for r in table) for i in range(len(header) - 1)]
    for i, r in enumerate(table):
        line = "  ".join(cell.ljust(w) for cell, w in zip(r[:-1], widths)) + "  " + r[-1]
        click.echo(click.style(line, bold=True) if i == 0 else line)
        if verbose and i > 0:
            for place in rows[i - 1]["looked"]:
                click.echo(f"    looked: {place}")
    missing = [row["name"] for row in rows if not row["available"]]
    if missing:
        click.echo("")
        for name in missing:
            click.echo(f"{name}: {DATASETS[name].how_to_get}")


def _n(value) -> str:
    return "-" if value is None else str(value)
