"""Atomic writes: all or nothing, and readable like any other file."""
import os
import stat

import pytest

from invariance import io


def test_write_json_round_trips(tmp_path):
    io.write_json(tmp_path / "a" / "x.json", {"a": 1})
    assert io.read_json(tmp_path / "a" / "x.json") == {"a": 1}


def test_failure_leaves_old_file_and_no_temp(tmp_path):
    path = tmp_path / "x.txt"
    io.write_text(path, "old")
    with pytest.raises(RuntimeError):
        with io.atomic_path(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_permissions_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        io.write_text(tmp_path / "x.txt", "hi")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x.txt").stat().st_mode) == 0o644
