"""The CPU description in provenance names a worker's thread cap, and only a real cap."""
import platform

import pytest

from invariance import provenance

CASES = [  # (TF_NUM_INTRAOP_THREADS, OMP_NUM_THREADS, cores, usable) -> suffix inside the parentheses
    (None, None, 2, 2, ""),
    ("1", "1", 2, 2, ", 1 thread"),
    ("2", "2", 4, 4, ", 2 threads"),
    ("2", "2", 2, 2, ""),          # all the cores: no cap
    ("8", None, 2, 2, ""),         # more than the cores: no cap
    (None, "1", 16, 16, ", 1 thread"),
    ("", "x", 2, 2, ""),           # unset or unreadable: no claim
    (None, None, 2, 1, ", 1 thread"),   # pinned by taskset: the backend sizes its pool by the affinity
    ("4", "4", 8, 2, ", 2 threads"),    # a cap above the affinity: the affinity binds
    ("0", None, 2, 2, ""),         # 0 means "let the backend choose": no claim
]


@pytest.mark.parametrize("tf, omp, cores, usable, suffix", CASES)
def test_cpu_names_the_thread_cap(monkeypatch, tf, omp, cores, usable, suffix):
    for var, value in (("TF_NUM_INTRAOP_THREADS", tf), ("OMP_NUM_THREADS", omp)):
        if value is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, value)
    monkeypatch.setattr(provenance.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(provenance, "usable_cores", lambda: usable)
    assert provenance._cpu() == f"cpu ({cores} cores, {platform.machine()}{suffix})"


def test_a_worker_env_is_described_as_capped(monkeypatch):
    from invariance.study.executors import worker_env

    for var, value in worker_env(1, "tensorflow").items():
        monkeypatch.setenv(var, value)
    monkeypatch.setattr(provenance.os, "cpu_count", lambda: 2)
    assert provenance._cpu().endswith(", 1 thread)")


def test_usable_cores_is_the_affinity_where_the_platform_has_one(monkeypatch):
    monkeypatch.setattr(provenance.os, "sched_getaffinity", lambda pid: {1}, raising=False)
    assert provenance.usable_cores() == 1
    monkeypatch.delattr(provenance.os, "sched_getaffinity")
    monkeypatch.setattr(provenance.os, "cpu_count", lambda: 6)
    assert provenance.usable_cores() == 6
