"""Carrying a study's finished runs to another machine: their records, without the models.

A CPU-scale study can outlast the machine it started on (a session that ends, a lease that runs
out), and often only a small, committed folder survives. :func:`pack_runs` copies each completed
run's records (``run.json``, ``spec.json``, ``metrics.json``, ``history.csv``,
``invariance.csv``, ``status.json``) into ``<dest>/runs/<run_id>/``: a few kilobytes per run,
because ``model.keras`` and the resume backup stay behind. :func:`unpack_runs` puts them back
into a study folder, so that ``invariance run STUDY.yaml --resume-from <dest>`` trains only what
is missing and ends with the same tables as one uninterrupted run. ``invariance run STUDY.yaml
--carry-to <dest>`` packs after every finished run, so a machine that stops without warning
leaves ``<dest>`` current to its last finished run.

A carried run's ``status.json`` vouches for the files that were carried (its ``artifacts`` no
longer name ``model.keras``) and says so under ``carried``. Without its model a run cannot be
evaluated again, so a carried run is taken only when the study evaluates exactly as it did
(the same ``eval_hash``); otherwise it is trained again. A run is matched by its id, a hash of
everything that defines it (:func:`invariance.study.expand.run_id`), so a changed study never
takes a run that is not its own. Each run keeps the git SHA it was trained at in its
``metrics.json``: an exported reference lists them all.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from invariance.errors import InvarianceError
from invariance.io import read_json, write_json
import invariance.results.layout as L
from invariance.results.records import COMPLETED, as_run_dir, now, verify_run

CARRIED_FILES = ("run.json", "spec.json", "metrics.json", "history.csv", "invariance.csv", "status.json")
"""What a carried run keeps, in the order it is written (``status.json``, the marker, last)."""
LEFT_BEHIND = ("model.keras",)
"""Artifacts a carried run's record stops vouching for."""


@dataclass
class Carried:
    """What :func:`pack_runs` or :func:`unpack_runs` did."""

    taken: list[str] = field(default_factory=list)
    """Run ids copied."""
    skipped: list[str] = field(default_factory=list)
    """One line per run left out, saying why."""


def pack_runs(study_dir: str | os.PathLike, dest: str | os.PathLike) -> Carried:
    """Copies the records of every completed, intact run of ``study_dir`` into ``dest``.

    ``dest`` gets ``study.yaml``, ``manifest.json`` and ``runs.csv`` (to read how far the study
    is) and ``runs/<run_id>/`` per run (:data:`CARRIED_FILES`). What ``dest`` held before is
    replaced: it is written in a temporary folder beside it and swapped in whole, so an
    interruption leaves the old pack or the new one.

    Raises:
        InvarianceError: when ``study_dir`` is not a study folder, or ``dest`` is not a folder
            that may be replaced (:func:`check_pack_dest`).
    """
    source = Path(study_dir)
    if not (source / L.STUDY_FILE).is_file() or not (source / L.RUNS_DIR).is_dir():
        raise InvarianceError(f"study folder: expected a folder with {L.STUDY_FILE} and {L.RUNS_DIR}/ "
                              f"(as `invariance run` writes); got {str(source)!r}")
    dest = check_pack_dest(dest, study_dir=source)
    staging = dest.with_name(f".{dest.name}.packing-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    out = Carried()
    try:
        for name in (L.STUDY_FILE, L.MANIFEST_FILE, L.RUNS_FILE):
            if (source / name).is_file():
                shutil.copy2(source / name, staging / name)
        for run_path in sorted(p for p in (source / L.RUNS_DIR).iterdir() if p.is_dir()):
            why = _not_carriable(run_path)
            if why:
                if why != "not finished":
                    out.skipped.append(f"run {run_path.name}: {why}")
                continue
            _copy_run(run_path, staging / L.RUNS_DIR / run_path.name, origin=str(source))
            out.taken.append(run_path.name)
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        if dest.exists():
            os.replace(dest, old)
        os.replace(staging, dest)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out


def unpack_runs(source: str | os.PathLike, study_dir: str | os.PathLike, run_ids: Iterable[str], *,
                eval_hash: str | None) -> Carried:
    """Copies into ``study_dir`` the carried runs of ``source`` that this study lacks.

    A run is taken when its id is one of ``run_ids``, it completed, its carried files match
    its record, it was evaluated under ``eval_hash`` and ``study_dir`` has not completed it
    itself (a completed run here always wins). A failed or half-trained run here is replaced.

    Raises:
        InvarianceError: when ``source`` is not a folder of carried runs.
    """
    source = check_carried(source)
    out = Carried()
    for run_id in run_ids:
        carried = as_run_dir(source / L.RUNS_DIR / run_id)
        if not carried.path.is_dir():
            continue
        record = carried.read_record()
        if record is None or record.get("status") != COMPLETED:
            out.skipped.append(f"run {run_id}: not completed where it was carried from")
            continue
        problems = verify_run(carried, record)
        if problems:
            out.skipped.append(f"run {run_id}: {'; '.join(why for _, why in problems)}")
            continue
        if eval_hash is not None and record.get("eval_hash") != eval_hash:
            out.skipped.append(f"run {run_id}: evaluated under other settings (eval_hash "
                               f"{record.get('eval_hash')!r}, this study {eval_hash!r}) and carried without "
                               f"its model, so it is trained again")
            continue
        here = L.run_dir(study_dir, run_id)
        if (here.read_record() or {}).get("status") == COMPLETED:
            continue
        if here.path.exists():
            shutil.rmtree(here.path)
        _copy_files(carried.path, here.path)
        out.taken.append(run_id)
    return out


PACK_ENTRIES = (L.STUDY_FILE, L.MANIFEST_FILE, L.RUNS_FILE, L.RUNS_DIR)
"""What a pack holds, and all that a folder may hold for a pack to replace it."""


def check_pack_dest(dest: str | os.PathLike, *, study_dir: str | os.PathLike, what: str = "pack destination") -> Path:
    """``dest`` as a Path when a pack of ``study_dir`` may be written there.

    A pack replaces its destination whole, so the destination must be new, empty or an
    earlier pack (nothing but :data:`PACK_ENTRIES`), and lie apart from the study folder: a
    slip such as ``results/reference`` for ``results/reference/in_progress/<study>`` is refused
    instead of deleting what that folder holds.

    Raises:
        InvarianceError: otherwise, naming ``what`` (the option or argument), the folder and
            what is in the way.
    """
    dest, study = Path(dest), Path(study_dir)
    where, source = dest.resolve(), study.resolve()
    if where == source or source in where.parents or where in source.parents:
        raise InvarianceError(f"{what}: must lie outside the study folder {str(study)!r} and not "
                              f"contain it (the pack replaces it whole); got {str(dest)!r}")
    if dest.exists() and not dest.is_dir():
        raise InvarianceError(f"{what}: must be a folder; got {str(dest)!r}, a file")
    if dest.is_dir():
        other = sorted(p.name for p in dest.iterdir() if p.name not in PACK_ENTRIES)
        if other:
            shown = ", ".join(other[:5]) + (f" and {len(other) - 5} more" if len(other) > 5 else "")
            entries = ", ".join(PACK_ENTRIES[:-1]) + f" and {PACK_ENTRIES[-1]}/"
            raise InvarianceError(f"{what}: must be new, empty or an earlier pack (holding only "
                                  f"{entries}), because the pack replaces it whole; got "
                                  f"{str(dest)!r}, which also holds {shown}")
    return dest


def check_carried(source: str | os.PathLike) -> Path:
    """``source`` as a Path when it is a folder of carried runs.

    Raises:
        InvarianceError: otherwise, naming the folder.
    """
    source = Path(source)
    if not (source / L.RUNS_DIR).is_dir():
        raise InvarianceError(f"--resume-from: expected a folder of carried runs with {L.RUNS_DIR}/ (as "
                              f"`invariance pack` writes); got {str(source)!r}")
    return source


def _not_carriable(run_path: Path) -> str:
    run = as_run_dir(run_path)
    record = run.read_record()
    if record is None or record.get("status") != COMPLETED:
        return "not finished"
    problems = verify_run(run, record)
    if problems:
        return "; ".join(why for _, why in problems)
    return ""


def _copy_run(src: Path, dst: Path, *, origin: str) -> None:
    dst.mkdir(parents=True)
    for name in CARRIED_FILES[:-1]:
        if (src / name).is_file():
            shutil.copy2(src / name, dst / name)
    record = read_json(src / "status.json")
    artifacts = record.get("artifacts") or {}
    record["artifacts"] = {k: v for k, v in artifacts.items() if k not in LEFT_BEHIND}
    # A run carried twice (packed, resumed elsewhere, packed again) keeps its first stamp: where
    # it was trained, when it left, what it lacks; so packing the same runs again writes the
    # same bytes, and a carry committed every few minutes changes only the runs that are new.
    if not record.get("carried"):
        left = [n for n in LEFT_BEHIND if n in artifacts]
        record["carried"] = {"from": origin, "packed": now(), "left_behind": left}
    write_json(dst / "status.json", record)


def _copy_files(src: Path, dst: Path) -> None:
    """Copies a carried run's files, its record last: the run is finished only once it is there."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in CARRIED_FILES:
        if (src / name).is_file():
            tmp = dst / f".{name}.tmp{os.getpid()}"
            shutil.copy2(src / name, tmp)
            os.replace(tmp, dst / name)
