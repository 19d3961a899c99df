"""Running a study: train and evaluate every run, resumably, into one tidy results folder.

The folder's layout is :mod:`invariance.results.layout`'s; this module orchestrates the jobs
that fill it, each in its own module: the run context (:mod:`~invariance.study.context`),
executing one run (:mod:`~invariance.study.execute`) on an executor
(:mod:`~invariance.study.executors`), the per-run records (:mod:`invariance.results.records`),
the study tables (:mod:`invariance.results.study_tables`), the folder's housekeeping
(:mod:`~invariance.study.folder`) and its status (:mod:`~invariance.study.status`).

Why it survives ``kill -9`` at any moment: every file is written atomically (a temporary file
renamed into place); a run counts as finished only once its ``status.json`` exists, and that is
written after its ``invariance.csv``; the trainer resumes an interrupted run and does not
retrain a completed one; and the two study tables are rebuilt from the per-run files, in
expansion order, while runs finish (at most every ``TABLE_INTERVAL_S``) and at the end. So a
rerun of the same command only does what is missing and ends with the same tables as an
uninterrupted run.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import invariance.results.layout as L
from invariance.errors import InvarianceError
from invariance.results.records import (FAILED, PENDING, discard_for_redo, now, record_result, run_state,
                                        verify_run)
from invariance.results.study_tables import write_study_tables as write_tables
from invariance.study.context import RunContext, build_context, context_args
from invariance.study.expand import RunSpec, expand_runs
from invariance.study.folder import (clear_study_dir, new_manifest, remove_leftovers, write_manifest,
                                     write_study_file)
from invariance.study.schema import StudySpec
from invariance.study.status import study_status

__all__ = ["RunContext", "StudySummary", "TABLE_INTERVAL_S", "build_context", "run_study", "study_status"]

#: Least seconds between two rebuilds of the study tables while runs finish.
TABLE_INTERVAL_S = 10.0


@dataclass
class StudySummary:
    """What :func:`run_study` did and where it put it."""

    name: str
    study_dir: Path
    total: int
    completed: int
    failed: list[dict[str, Any]]
    pending: int
    ran: int
    skipped: int
    wall_seconds: float
    paths: dict[str, Path] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    redone: list[str] = field(default_factory=list)
    """One line per finished run whose files failed verification and which was redone, saying why."""

    @property
    def ok(self) -> bool:
        """True when every run completed and the curves and report (if any) were written."""
        return not self.failed and not self.pending and not self.errors


def run_study(study: StudySpec | Mapping | str | os.PathLike, *, out_dir: str | os.PathLike = "results",
              executor: str | None = None, jobs: int | None = None, address: str | None = None,
              fresh: bool = False, quiet: bool = False, retry_failed: bool = False,
              overrides=(), progress: bool = True, post: bool = True,
              resume_from: str | os.PathLike | None = None,
              carry_to: str | os.PathLike | None = None) -> StudySummary:
    """Runs every run of a study that has not finished yet, then writes the tables.

    Args:
        study: A StudySpec, a mapping or a YAML path (validated first; nothing is written
            before validation passes).
        out_dir: The study writes ``out_dir/<name>/``.
        executor: ``"local"`` or ``"ray"`` (default: the study's ``execution.executor``).
        jobs: Parallel processes for the local executor (default: the study's).
        address: A Ray cluster address (default: the study's; none starts a local Ray).
        fresh: Throw away earlier results of this study first.
        quiet: Plain log lines instead of a live progress bar.
        retry_failed: Run again the runs that failed before (they are kept as failed otherwise).
        overrides: ``(dotted key, value)`` pairs applied to the study before validation.
        progress: Report progress at all (False: silent).
        post: Write the curves (more than one n_train) and the report at the end.
        resume_from: A folder of carried runs (:func:`invariance.study.carry.pack_runs`, e.g.
            from another machine): the runs of this study it holds, and this folder lacks,
            are taken instead of trained.
        carry_to: A folder to keep a pack of this study's completed runs in
            (:func:`invariance.study.carry.pack_runs`), rewritten after every finished run and at
            the end, so that a machine that stops without warning leaves it current. It may be
            ``resume_from`` itself. A failed pack does not stop the runs; it is listed in
            ``summary.errors`` when the last one fails.

    Returns:
        A :class:`StudySummary`; ``summary.ok`` is False if any run failed.

    Raises:
        InvarianceError: on a bad study, missing data, a held lock, or an executor that
            cannot start; on a ``carry_to`` that a pack may not replace. Failed runs do not
            raise; they are listed in the summary.
    """
    from invariance.study.executors import get_executor
    from invariance.study.loader import load_study
    from invariance.study.lock import StudyLock

    start = time.perf_counter()
    started = now()
    study = load_study(study, overrides=overrides)
    if resume_from is not None:
        from invariance.study.carry import check_carried

        check_carried(resume_from)  # before anything is loaded or written
    executor = executor or study.execution.executor
    jobs = jobs if jobs is not None else study.execution.jobs
    address = address if address is not None else study.execution.address
    runner = get_executor(executor, jobs=jobs, address=address, num_cpus=study.execution.num_cpus,
                          num_gpus=study.execution.num_gpus)
    context = build_context(study)
    runs = expand_runs(study, context.dataset.fingerprint(), n_total=len(context.dataset.y_train))

    study_dir = Path(out_dir) / study.name
    if carry_to is not None:
        from invariance.study.carry import check_pack_dest

        check_pack_dest(carry_to, study_dir=study_dir, what="carry_to")  # before anything is written
    study_dir.mkdir(parents=True, exist_ok=True)
    with StudyLock(study_dir):
        if fresh:
            clear_study_dir(study_dir)
        remove_leftovers(study_dir)
        write_study_file(study_dir, study)
        manifest = new_manifest(study, context, runs, started=started, executor=executor, jobs=jobs)
        write_manifest(study_dir, manifest)

        carried = None
        if resume_from is not None:
            from invariance.study.carry import unpack_runs

            carried = unpack_runs(resume_from, study_dir, [r.run_id for r in runs], eval_hash=context.eval_hash)
            manifest["carried"] = {"from": str(resume_from), "runs": len(carried.taken)}
            write_manifest(study_dir, manifest)
        redone = _discard_invalid_runs(study_dir, runs)
        states = {r.run_id: run_state(L.run_dir(study_dir, r.run_id), context.eval_hash, verify=False)
                  for r in runs}  # just verified
        todo = [r for r in runs if states[r.run_id] == PENDING
                or (retry_failed and states[r.run_id] == FAILED)]
        finished_before = len(runs) - len(todo)
        failed_before = sum(1 for r in runs if states[r.run_id] == FAILED and r not in todo)
        for r in todo:
            L.run_dir(study_dir, r.run_id).write_run_spec(r.to_dict())

        from invariance.study.progress import StudyProgress

        reporter = StudyProgress(total=len(runs), already_done=finished_before, already_failed=failed_before,
                                 quiet=quiet, title=study.name) if progress else None

        cache: dict[str, Any] = {}
        last_write = [time.monotonic()]
        carry_error: list[str] = []  # the last pack's failure, if the last pack failed

        def carry() -> None:
            if carry_to is None:
                return
            from invariance.study.carry import pack_runs

            try:
                pack_runs(study_dir, carry_to)
            except (OSError, InvarianceError) as err:  # the runs matter more than their pack
                message = f"carry to {carry_to} failed: {type(err).__name__}: {err}"
                if reporter is not None and message not in carry_error:
                    reporter.log(message)
                carry_error[:] = [message]
            else:
                carry_error.clear()

        def on_result(run: RunSpec, result: dict[str, Any]) -> None:
            record_result(L.run_dir(study_dir, run.run_id), result)
            cache.pop(run.run_id, None)
            # Keep the tables current while the study runs, but not at a cost that grows with
            # its size: at most every TABLE_INTERVAL_S (the final rebuild below always runs).
            if time.monotonic() - last_write[0] >= TABLE_INTERVAL_S:
                write_tables(study_dir, runs, cache=cache)
                last_write[0] = time.monotonic()
            carry()
            if reporter is not None:
                reporter.run_finished(result)

        if reporter is not None:
            reporter.__enter__()
            if carried is not None:
                reporter.log(f"took {len(carried.taken)} finished run(s) from {resume_from}")
                for line in carried.skipped:
                    reporter.log(f"not taken: {line}")
            for line in redone:
                reporter.log(line)
        try:
            runner.run([(r, str(L.run_dir(study_dir, r.run_id).path)) for r in todo], context=context,
                       context_args=context_args(study), on_result=on_result)
        finally:
            if reporter is not None:
                reporter.__exit__(None, None, None)
            tables = write_tables(study_dir, runs, cache=cache)
            carry()  # with the final runs.csv
        counts = tables["counts"]
        manifest.update(finished=now(), wall_seconds=round(time.perf_counter() - start, 3), counts=counts)
        write_manifest(study_dir, manifest)

        summary = StudySummary(name=study.name, study_dir=study_dir, total=len(runs), completed=counts["completed"],
                               failed=tables["failed"], pending=counts["pending"], ran=len(todo),
                               skipped=finished_before, wall_seconds=0.0,
                               paths={"runs_csv": study_dir / L.RUNS_FILE,
                                      "invariance_csv": study_dir / L.INVARIANCE_FILE}, redone=redone,
                               errors=list(carry_error))
        if post:
            _post_process(study, summary)
        summary.wall_seconds = time.perf_counter() - start
        return summary


def _discard_invalid_runs(study_dir: Path, runs: list[RunSpec]) -> list[str]:
    """Finds the completed runs whose files fail verification and clears what must be redone.

    Returns one line per such run, e.g. ``"run 3f2a...: model.keras is missing; redoing it
    (training again)"``. Their state is then pending, so this invocation redoes them.
    """
    lines = []
    for run in runs:
        run_dir = L.run_dir(study_dir, run.run_id)
        problems = verify_run(run_dir)
        if not problems:
            continue
        what = discard_for_redo(run_dir, problems)
        again = "training again" if what == "train" else "evaluating its saved model again"
        lines.append(f"run {run.run_id} ({run.label}, seed {run.seed}): {'; '.join(why for _, why in problems)}; "
                     f"redoing it ({again})")
    return lines


# ---------------------------------------------------------------------------------------------
# after the runs: curves and report


def _post_process(study: StudySpec, summary: StudySummary) -> None:
    """Curves (when the study varies n_train) and the report; a failure here keeps the results."""
    study_dir = summary.study_dir
    if summary.completed == 0:
        return
    if len(study.n_train) > 1:
        _guarded(summary, "curves", lambda: _call_curves(study_dir), paths={
            "learning_curves_csv": study_dir / L.LEARNING_CURVES_FILE, "curves_csv": study_dir / L.CURVES_FILE})
    _guarded(summary, "report", lambda: _call_report(study_dir), paths={
        "figures": study_dir / L.FIGURES_DIR, "report_html": study_dir / L.REPORT_HTML,
        "report_md": study_dir / L.REPORT_MD})


def _call_curves(study_dir: Path) -> bool:
    from invariance.results import write_curves

    write_curves(study_dir)
    return True


def _call_report(study_dir: Path) -> bool:
    try:
        from invariance.report import write_report
    except ImportError:  # the report needs the plotting extras
        return False
    write_report(study_dir)
    return True


def _guarded(summary: StudySummary, what: str, call: Callable[[], bool], *, paths: dict[str, Path]) -> None:
    try:
        done = call()
    except Exception as err:  # never lose the study's results to a plotting or report bug
        summary.errors.append(f"{what} failed: {type(err).__name__}: {err}")
        return
    if done:
        summary.paths.update({k: p for k, p in paths.items() if p.exists()})
