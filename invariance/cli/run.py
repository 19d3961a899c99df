"""``invariance run STUDY.yaml``: train and evaluate every run of a study, resumably."""
from __future__ import annotations

import sys
from collections import Counter

import click


@click.command("run")
@click.argument("study_file", metavar="STUDY.yaml", type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", default="results", show_default=True, type=click.Path(file_okay=False),
              help="The study writes OUT/<name>/.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a study value before validation, e.g. --set train.epochs=1 (repeatable).")
@click.option("--dry-run", is_flag=True, help="Print the expanded runs and a time estimate; write nothing.")
@click.option("--fresh", is_flag=True, help="Delete this study's earlier results and start over.")
@click.option("--resume-from", "resume_from", default=None, type=click.Path(file_okay=False),
              help="Take the finished runs of this study from a folder written by `invariance pack` "
                   "(e.g. on another machine) instead of training them.")
@click.option("--carry-to", "carry_to", default=None, type=click.Path(file_okay=False),
              help="After every finished run, write this study's completed runs (records, no models) "
                   "to this folder, as `invariance pack` does: a machine that stops without warning "
                   "leaves it current. It may be the --resume-from folder.")
@click.option("--retry-failed", is_flag=True, help="Run again the runs that failed before.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default=None,
              help="Where runs execute (default: the study's execution.executor, else local).")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Parallel worker processes for the local executor.")
@click.option("--address", default=None, help="Ray cluster address (default: start a local Ray).")
@click.option("--quiet", is_flag=True, help="Plain log lines instead of a progress bar.")
def command(study_file, out_dir, sets, dry_run, fresh, resume_from, carry_to, retry_failed, executor, jobs, address,
            quiet):
    """Run the study in STUDY.yaml and write OUT/<name>/: runs.csv, invariance.csv, figures and a report.

    A rerun skips finished runs and completes interrupted ones.
    """
    import logging

    from invariance.cli._options import parse_set
    from invariance.study import load_study

    # TensorFlow's retracing warnings say nothing a study's user can act on.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    overrides = parse_set(sets)
    study = load_study(study_file, overrides=overrides)
    if resume_from is not None:
        from invariance.study.carry import check_carried

        check_carried(resume_from)
    if carry_to is not None:
        from pathlib import Path

        from invariance.study.carry import check_pack_dest

        check_pack_dest(carry_to, study_dir=Path(out_dir) / study.name, what="--carry-to")
    if dry_run:
        _dry_run(study, jobs=jobs if jobs is not None else study.execution.jobs,
                 executor=executor or study.execution.executor, out_dir=out_dir, resume_from=resume_from)
        return
    from invariance.study import run_study

    summary = run_study(study, out_dir=out_dir, executor=executor, jobs=jobs, address=address, fresh=fresh,
                        quiet=quiet, retry_failed=retry_failed, resume_from=resume_from, carry_to=carry_to)
    _print_summary(summary)
    if not summary.ok:
        sys.exit(1)


def _finished_runs(runs, folders, eval_hash: str) -> dict[str, tuple[str, float | None]]:
    """run_id -> (the folder that holds it completed with these evaluation settings, the seconds
    it took), for the runs a real ``run`` would not redo: those in the study's output folder or
    carried in ``--resume-from``. Reads only; a dry run writes nothing."""
    from invariance.results.layout import run_dir
    from invariance.results.records import COMPLETED, run_state

    done: dict[str, tuple[str, float | None]] = {}
    for folder in folders:
        for run in runs:
            path = run_dir(folder, run.run_id)
            if run.run_id not in done and run_state(path, eval_hash, verify=False) == COMPLETED:
                done[run.run_id] = (str(folder), _run_seconds(path.read_record() or {}))
    return done


def _evaluated_otherwise(runs, folders, done) -> tuple[dict[str, float], int, dict[str, float | None]]:
    """The runs not in ``done`` that some folder holds completed under other evaluation settings:
    (run_id -> the seconds of its last evaluation, for those the output folder ``folders[0]``
    holds with their saved model, which a real ``run`` evaluates again; how many others, which it
    trains again: a carried record has no model; run_id -> what each of them took)."""
    from invariance.results.layout import run_dir
    from invariance.results.records import COMPLETED

    again: dict[str, float] = {}
    took: dict[str, float | None] = {}
    retrain = 0
    for run in runs:
        if run.run_id in done:
            continue
        for i, folder in enumerate(folders):
            path = run_dir(folder, run.run_id)
            record = path.read_record() or {}
            if record.get("status") == COMPLETED:
                took[run.run_id] = _run_seconds(record)
                if i == 0 and path.model.is_file():
                    seconds = record.get("eval_seconds")
                    again[run.run_id] = float(seconds) if isinstance(seconds, (int, float)) else 0.0
                else:
                    retrain += 1
                break
    return again, retrain, took


def _run_seconds(record) -> float | None:
    """What a finished run cost: its training and its evaluation. Not the record's ``seconds``,
    which for a run re-evaluated from its saved model is the re-evaluation alone."""
    train, evaluation = record.get("train_seconds"), record.get("eval_seconds")
    if isinstance(train, (int, float)):
        return float(train) + (float(evaluation) if isinstance(evaluation, (int, float)) else 0.0)
    seconds = record.get("seconds")
    return float(seconds) if isinstance(seconds, (int, float)) else None


def _dry_run(study, *, jobs: int, executor: str, out_dir: str, resume_from: str | None = None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from invariance.study.estimate import calibrate, estimate_study
    from invariance.study.expand import expand_runs
    from invariance.study.context import build_context

    context = build_context(study)
    runs = expand_runs(study, context.dataset.fingerprint(), n_total=len(context.dataset.y_train))
    folders = [f"{out_dir}/{study.name}"] + ([resume_from] if resume_from is not None else [])
    done = _finished_runs(runs, folders, context.eval_hash)
    again, retrain, took = _evaluated_otherwise(runs, folders, done)
    took.update({run_id: seconds for run_id, (_, seconds) in done.items()})
    estimate = calibrate(estimate_study(runs, context), [run.model_label for run in runs],
                         {i: took[run.run_id] for i, run in enumerate(runs) if run.run_id in took})
    table = Table(title=f"study {study.name}: {len(runs)} runs (dry run: nothing is written)")
    for col in ("#", "run_id", "model", "augmentation", "n_train", "seed", "est. s"):
        table.add_column(col, justify="right" if col in ("#", "n_train", "seed", "est. s") else "left")
    for run, seconds in zip(runs, estimate.per_run):
        table.add_row(str(run.index), run.run_id, escape(run.label), escape(run.augmentation_label),
                      "all" if run.n_train is None else str(run.n_train), str(run.seed),
                      "finished" if run.run_id in done else
                      f"{again[run.run_id]:.0f} (re-evaluate)" if run.run_id in again else f"{seconds:.0f}")
    # Piped output (a log, a test) gets the table's natural width instead of 80 columns.
    console = Console(width=None if sys.stdout.isatty() else 200)
    console.print(table)
    parallel = jobs if executor == "local" else 1
    left = sum(again.get(run.run_id, seconds) for run, seconds in zip(runs, estimate.per_run)
               if run.run_id not in done)
    total = left / max(1, parallel)
    where = " and ".join(f"{n} in {escape(folder)}" for folder, n in
                         sorted(Counter(folder for folder, _ in done.values()).items(),
                                key=lambda kv: folders.index(kv[0])))
    finished = f"{len(done)} finished ({where}), {len(runs) - len(done)} left; " if done else ""
    parts = ([f"{len(again)} to re-evaluate from their saved models"] if again else []) \
        + ([f"{retrain} to train again (no saved model)"] if retrain else [])
    if parts:
        finished += f"{len(again) + retrain} finished under other evaluation settings ({', '.join(parts)}); "
    console.print(f"{len(runs)} runs; {finished}estimated time {_duration(total)}"
                  + (f" with --jobs {parallel}" if parallel > 1 else "")
                  + f" ({estimate.basis}). Results would go to {out_dir}/{study.name}/.")


def _print_summary(summary) -> None:
    out = click.echo
    out("")
    out(f"study {summary.name}: {summary.completed}/{summary.total} runs completed, {len(summary.failed)} failed"
        + (f", {summary.pending} pending" if summary.pending else "")
        + f" ({summary.ran} run now, {summary.skipped} finished before; {_duration(summary.wall_seconds)})")
    labels = {"runs_csv": "runs table", "invariance_csv": "invariance table", "learning_curves_csv": "learning curves",
              "curves_csv": "curve fits", "figures": "figures", "report_html": "report", "report_md": "report (md)"}
    for key, label in labels.items():
        if key in summary.paths:
            out(f"  {label + ':':<18} {summary.paths[key]}")
    for run in summary.failed:
        click.secho(f"  FAILED {run['run_id']} {run['model']} | {run['augmentation']} | n={run['n_train']} "
                    f"| seed {run['seed']}: {run.get('reason') or ''}", fg="red", err=True)
    for error in summary.errors:
        click.secho(f"  {error}", fg="red", err=True)
    if summary.failed:
        click.secho(f"{len(summary.failed)} run(s) failed; the others are saved. Details are in each run's "
                    f"status.json and error.txt; --retry-failed runs them again.", fg="red", err=True)


def _duration(seconds: float) -> str:
    seconds = float(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
