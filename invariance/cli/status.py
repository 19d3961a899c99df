"""``invariance status results/<name>``: how many runs of a study are done, failed and pending."""
from __future__ import annotations

import click


@click.command("status")
@click.argument("study_dir", metavar="RESULTS/NAME", type=click.Path(file_okay=False))
@click.option("--failed", "show_failed", is_flag=True, help="List the failed runs and why.")
def command(study_dir, show_failed):
    """Count the runs of a study folder: completed, failed and pending (not yet finished).

    Completed runs are verified against the sha256 of their files recorded when they
    finished; those that fail (a file missing or changed) are listed, and count as pending.
    """
    from invariance.results import NotAStudyFolder
    from invariance.study import study_status

    try:
        status = study_status(study_dir)
    except NotAStudyFolder as err:
        raise err.for_field("RESULTS/NAME") from None
    running = f"; running now (pid {status['running_pid']})" if status["running_pid"] else ""
    click.echo(f"study {status['name']} ({status['study_dir']}): {status['total']} runs: "
               f"{status['completed']} done, {status['failed']} failed, {status['pending']} pending{running}")
    if status["invalid_runs"]:
        click.secho(f"{len(status['invalid_runs'])} finished run(s) fail verification (their files went missing or "
                    f"changed since they finished); `invariance run` redoes them:", fg="yellow")
        for run in status["invalid_runs"]:
            click.secho(f"  invalid {run['run_id']} {run['model']} | {run['augmentation']} | n={run['n_train']} "
                        f"| seed {run['seed']}: {'; '.join(run['problems'])}", fg="yellow")
    if show_failed or 0 < len(status["failed_runs"]) <= 10:
        for run in status["failed_runs"]:
            click.echo(f"  failed {run['run_id']} {run['model']} | {run['augmentation']} | n={run['n_train']} "
                       f"| seed {run['seed']}: {run['reason']}")
