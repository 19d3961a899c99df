"""One process per results folder: ``<study_dir>/.lock`` holds the running process's pid.

The lock file is created with ``O_CREAT | O_EXCL`` (atomic on local file systems), so two
processes can never both hold it. A lock left by a process that died (``kill -9``) is taken
over: its pid no longer exists on this host. A lock from another host cannot be checked and
is reported, with how to remove it.
"""
from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from invariance.errors import InvarianceError

LOCK_NAME = ".lock"
_WRITE_GRACE_S = 2.0


class StudyLock:
    """A context manager that holds ``<study_dir>/.lock`` for this process.

    Raises:
        InvarianceError: if a live process (or another host) holds the lock.
    """

    def __init__(self, study_dir: str | os.PathLike):
        self.path = Path(study_dir) / LOCK_NAME
        self._token: str | None = None

    def acquire(self) -> None:
        """Takes the lock, taking over a stale one; raises InvarianceError if it is held."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        token = f"{os.getpid()} {socket.gethostname()}\n"
        for _ in range(50):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = _read(self.path)
                if holder is None:
                    continue  # it vanished between the two calls: try again
                if holder[0] < 0 and _age(self.path) < _WRITE_GRACE_S:
                    time.sleep(0.1)  # just created, its pid not yet written
                    continue
                if _alive(holder):
                    pid, host = holder
                    where = "" if host == socket.gethostname() else f" on host {host}"
                    raise InvarianceError(
                        f"{self.path.parent}: this study is being run by process {pid}{where} "
                        f"(lock {self.path}); wait for it to finish, or stop it. If no such process "
                        f"runs any more, delete {self.path}.")
                # A stale lock: remove it only if it still holds what we read, then retry the
                # exclusive create (which only one contender can win).
                if _read(self.path) == holder:
                    try:
                        self.path.unlink()
                    except FileNotFoundError:
                        pass
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(token)
                fh.flush()
                os.fsync(fh.fileno())
            self._token = token
            return
        raise InvarianceError(f"{self.path}: could not take the study lock; another process keeps taking it")

    def release(self) -> None:
        """Removes the lock if this process still holds it."""
        if self._token is not None:
            try:
                if self.path.read_text() == self._token:
                    self.path.unlink()
            except FileNotFoundError:
                pass
            self._token = None

    def __enter__(self) -> "StudyLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def lock_holder(study_dir: str | os.PathLike) -> int | None:
    """The pid of the live process holding a study's lock, or None."""
    holder = _read(Path(study_dir) / LOCK_NAME)
    if holder is not None and _alive(holder):
        return holder[0]
    return None


def _read(path: Path) -> tuple[int, str] | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    parts = text.split()
    try:
        pid = int(parts[0])
    except (IndexError, ValueError):
        return (-1, "")  # empty or garbled (a writer killed mid-write): stale
    return pid, parts[1] if len(parts) > 1 else socket.gethostname()


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return float("inf")


def _alive(holder: tuple[int, str]) -> bool:
    pid, host = holder
    if pid <= 0:
        return False
    if host != socket.gethostname():
        return True  # cannot check another host's processes: assume it runs
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return _not_zombie(pid)


def _not_zombie(pid: int) -> bool:
    """A killed child that its parent has not reaped yet is dead for our purposes."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
