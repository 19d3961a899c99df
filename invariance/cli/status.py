"""``invariance status results/<name>``: how many runs of a study are done, failed and pending."""
from __future__ import annotations

import click


@click.command("status")
@click.argument("study_dir", metavar="RESULTS/NAME", type=click.Path(file_okay=False))
@click.option("--failed", "show_failed", is_flag=True, help="List the failed runs and why.")
def command(study_dir, show_failed):
    """Count the runs of a study folder: completed, failed and pending (not yet finished)."""
    from invariance.results import NotAStudyFolder
    from invariance.study import study_status

    try:
        status = study_status(study_dir)
    except NotAStudyFolder as err:
        raise err.for_field("RESULTS/NAME") from None
    running = f"; running now (pid {status['running_pid']})" if status["running_pid"] else ""
    click.echo(f"study {status['name']} ({status['study_dir']}): {status['total']} runs: "
               f"{status['completed']} done, {status['failed']} failed, {status['pending']} pending{running}")
    if show_failed or 0 < len(status["failed_runs"]) <= 10:
        for run in status["failed_runs"]:
            click.echo(f"  failed {run['run_id']} {run['model']} | {run['augmentation']} | n={run['n_train']} "
                       f"| seed {run['seed']}: {run['reason']}")
