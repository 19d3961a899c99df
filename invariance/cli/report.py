"""``invariance report RESULTS_DIR``: figures, then report.html (self-contained) and report.md."""
from __future__ import annotations

import click


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
    from invariance.report import write_report
    from invariance.results import NotAStudyFolder, read_figure_index

    try:
        html_path, md_path = write_report(results_dir, figures=not no_figures)
    except NotAStudyFolder as err:
        raise err.for_field("RESULTS_DIR") from None
    index = read_figure_index(html_path.parent)
    made, skipped = index.get("figures", []), index.get("skipped", [])
    click.echo(f"{len(made)} figure(s) in {html_path.parent / 'figures'}"
               + (f"; {len(skipped)} not made (see the report)" if skipped else ""))
    click.echo(str(html_path))
    click.echo(str(md_path))
