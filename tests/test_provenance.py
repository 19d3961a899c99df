"""The CPU description in provenance names a worker's thread cap, and only a real cap."""
import platform

import pytest

from invariance import provenance

CASES = [  # (TF_NUM_INTRAOP_THREADS, OMP_NUM_THREADS, cores) -> suffix inside the parentheses
    (None, None, 2, ""),
    ("1", "1", 2, ", 1 thread"),
    ("2", "2", 4, ", 2 threads"),
    ("2", "2", 2, ""),          # all the cores: no cap
    ("8", None, 2, ""),         # more than the cores: no cap
    (None, "1", 16, ", 1 thread"),
    ("", "x", 2, ""),           # unset or unreadable: no claim
]


@pytest.mark.parametrize("tf, omp, cores, suffix", CASES)
def test_cpu_names_the_thread_cap(monkeypatch, tf, omp, cores, suffix):
    for var, value in (("TF_NUM_INTRAOP_THREADS", tf), ("OMP_NUM_THREADS", omp)):
        if value is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, value)
    monkeypatch.setattr(provenance.os, "cpu_count", lambda: cores)
    assert provenance._cpu() == f"cpu ({cores} cores, {platform.machine()}{suffix})"


def test_a_worker_env_is_described_as_capped(monkeypatch):
    from invariance.study.executors import worker_env

    for var, value in worker_env(1, "tensorflow").items():
        monkeypatch.setenv(var, value)
    monkeypatch.setattr(provenance.os, "cpu_count", lambda: 2)
    assert provenance._cpu().endswith(", 1 thread)")
