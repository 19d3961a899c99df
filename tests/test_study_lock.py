import os
import socket
import subprocess
import sys

import pytest

from invariance.errors import InvarianceError
from invariance.study.lock import LOCK_NAME, StudyLock, lock_holder


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_lock_is_exclusive_and_released(tmp_path):
    with StudyLock(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text().split()[0] == str(os.getpid())
        assert lock_holder(tmp_path) == os.getpid()
        with pytest.raises(InvarianceError, match=f"being run by process {os.getpid()}"):
            StudyLock(tmp_path).acquire()
    assert not (tmp_path / LOCK_NAME).exists()
    assert lock_holder(tmp_path) is None


def test_live_holder_in_another_process_is_a_clear_error(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / LOCK_NAME).write_text(f"{holder.pid} {socket.gethostname()}\n")
        with pytest.raises(InvarianceError) as err:
            StudyLock(tmp_path).acquire()
        message = str(err.value)
        assert str(holder.pid) in message and str(tmp_path / LOCK_NAME) in message
        assert (tmp_path / LOCK_NAME).read_text().split()[0] == str(holder.pid)  # untouched
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("content", ["{dead} {host}\n", "", "garbage"])
def test_stale_lock_is_taken_over(tmp_path, content):
    lock = tmp_path / LOCK_NAME
    lock.write_text(content.format(dead=_dead_pid(), host=socket.gethostname()))
    if not content.startswith("{"):
        old = lock.stat().st_mtime - 60
        os.utime(lock, (old, old))  # an empty lock is only stale once its writer had time to write
    with StudyLock(tmp_path):
        assert lock.read_text().split()[0] == str(os.getpid())


def test_lock_of_another_host_is_not_taken(tmp_path):
    (tmp_path / LOCK_NAME).write_text("12345 some-other-host\n")
    with pytest.raises(InvarianceError, match="on host some-other-host"):
        StudyLock(tmp_path).acquire()


def test_release_leaves_a_lock_that_is_not_ours(tmp_path):
    lock = StudyLock(tmp_path)
    lock.acquire()
    (tmp_path / LOCK_NAME).write_text("999999 elsewhere\n")  # someone forcibly replaced it
    lock.release()
    assert (tmp_path / LOCK_NAME).exists()
