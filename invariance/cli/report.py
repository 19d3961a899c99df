"""``invariance report RESULTS_DIR``: figures, then report.html (self-contained) and report.md."""
from __future__ import annotations

import click

from invariance.errors import InvarianceError


@click.command("report")
@click.argument("results_dir", metavar="RESULTS_DIR")
@click.option("--no-figures", is_flag=True, help="Reuse the figures already in RESULTS_DIR/figures.")
def command(results_dir, no_figures):
    """Write RESULTS_DIR/report.html and RESULTS_DIR/report.md for a study.

    Makes every figure the study's tables support first (RESULTS_DIR/figures/*.png and .svg),
    then the report: what was run, the key findings in plain sentences, the figures and compact
    tables. report.html embeds its images and loads nothing, so it works offline. Prints the
    paths of both files.
    """
    from invariance.plots.study_figures import read_index
    from invariance.report import write_report

    try:
        html_path, md_path = write_report(results_dir, figures=not no_figures)
    except InvarianceError as err:
        if str(err).startswith("study_dir: "):  # name the argument the user typed
            raise InvarianceError("RESULTS_DIR: " + str(err)[len("study_dir: "):]) from None
        raise
    index = read_index(html_path.parent)
    made, skipped = index.get("figures", []), index.get("skipped", [])
    click.echo(f"{len(made)} figure(s) in {html_path.parent / 'figures'}"
               + (f"; {len(skipped)} not made (see the report)" if skipped else ""))
    click.echo(str(html_path))
    click.echo(str(md_path))
