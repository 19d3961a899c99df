"""``invariance pack RESULTS_DIR DEST``: carry a study's finished runs to another machine."""
from __future__ import annotations

from pathlib import Path

import click


@click.command("pack")
@click.argument("study_dir", metavar="RESULTS_DIR", type=click.Path(file_okay=False))
@click.argument("dest", metavar="DEST", type=click.Path(file_okay=False))
def command(study_dir, dest):
    """Copy the records of RESULTS_DIR's completed runs (not their models) to DEST.

    DEST is small enough to commit or copy (a few kB per run). On the next machine,
    `invariance run STUDY.yaml --resume-from DEST` takes those runs and trains only the rest.
    DEST is replaced whole.
    """
    from invariance.study.carry import pack_runs

    done = pack_runs(study_dir, dest)
    size = sum(p.stat().st_size for p in Path(dest).rglob("*") if p.is_file())
    click.echo(f"{study_dir} -> {dest}: {len(done.taken)} completed run(s), {size / 1e6:.2f} MB")
    for line in done.skipped:
        click.secho(f"  not packed: {line}", fg="yellow", err=True)
