"""Progress over a study's runs: one rich bar (done, failed, ETA) and a line per finished run.

``quiet=True`` prints plain log lines only (for log files and CI), one per finished run.
"""
from __future__ import annotations

import sys
import time
from typing import Any, Mapping


def run_line(result: Mapping[str, Any]) -> str:
    """The one-line summary of a finished run.

    Example: ``done cnn_pool | none | n=200 | seed 0 | test acc 0.712 | consistency 0.654 (mean
    of dx, angle) | 12.3 s``. The consistency is the run's ``mean_consistency``, averaged over
    every sweep of the evaluation (shifts and rotations alike), so the line names those sweeps
    when the result carries its harness ``rows``.
    """
    head = (f"{result.get('model')} | {result.get('augmentation')} | n={_n(result.get('n_train'))} "
            f"| seed {result.get('seed')}")
    seconds = result.get("seconds")
    tail = f" | {seconds:.1f} s" if isinstance(seconds, (int, float)) else ""
    if result.get("status") != "completed":
        return f"FAILED {head} | {result.get('reason') or 'unknown reason'}{tail}"
    acc = result.get("test_accuracy")
    cons = result.get("mean_consistency")
    acc_text = f"test acc {acc:.3f}" if isinstance(acc, (int, float)) else "test acc -"
    cons_text = f"consistency {cons:.3f}" if isinstance(cons, (int, float)) and cons == cons else "consistency -"
    if result.get("rows") is not None and cons_text != "consistency -":
        from invariance.curves.run_summary import consistency_sweeps  # pandas: not at CLI start-up

        sweeps = consistency_sweeps(result["rows"])
        cons_text += f" (mean of {', '.join(sweeps)})" if len(sweeps) > 1 else f" ({sweeps[0]})" if sweeps else ""
    return f"done {head} | {acc_text} | {cons_text}{tail}"


class StudyProgress:
    """Reports a study's progress; use as a context manager around the runs.

    Args:
        total: Runs in the study. already_done: Runs finished before this invocation
            (counted, not redone). already_failed: Of those, how many failed.
        quiet: Plain lines instead of a live bar.
        stream: Where plain lines go (default stderr).
    """

    def __init__(self, *, total: int, already_done: int = 0, already_failed: int = 0, quiet: bool = False,
                 title: str = "runs", stream=None):
        self.total = total
        self.done = already_done
        self.failed = already_failed
        self.quiet = quiet
        self.title = title
        self.stream = stream or sys.stderr
        self._start = time.perf_counter()
        self._progress = None
        self._task = None

    def __enter__(self) -> "StudyProgress":
        if self.quiet:
            self.log(f"{self.title}: {self.total} runs, {self.done} already finished, "
                     f"{self.total - self.done} to run")
            return self
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
            TimeRemainingColumn

        console = Console(file=self.stream)
        self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TextColumn("[red]{task.fields[failed]} failed"), TimeElapsedColumn(),
                                  TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=False)
        self._progress.start()
        self._task = self._progress.add_task(self.title, total=self.total, completed=self.done, failed=self.failed)
        return self

    def run_finished(self, result: Mapping[str, Any]) -> None:
        """Counts a finished run and prints its line."""
        self.done += 1
        if result.get("status") != "completed":
            self.failed += 1
        line = run_line(result)
        if self._progress is not None:
            style = "red" if result.get("status") != "completed" else ""
            self._progress.console.print(f"[{style}]{_escape(line)}[/{style}]" if style else _escape(line),
                                         soft_wrap=True)
            self._progress.update(self._task, completed=self.done, failed=self.failed)
        else:
            self.log(f"[{self.done}/{self.total}] {line}")

    def log(self, message: str) -> None:
        """A plain line (through the live bar's console when there is one)."""
        if self._progress is not None:
            self._progress.console.print(_escape(message), soft_wrap=True)
        else:
            print(message, file=self.stream, flush=True)

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()
        elif exc[0] is None:
            self.log(f"{self.title}: {self.done}/{self.total} finished, {self.failed} failed, "
                     f"{time.perf_counter() - self._start:.1f} s")


def _n(n) -> str:
    return "all" if n is None else str(n)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
