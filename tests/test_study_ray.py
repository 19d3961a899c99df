"""The Ray executor on a local Ray instance gives the same tables as the local executor.

The local side runs in two worker processes (``jobs=2``), as Ray's workers do, each with one
compute thread, so the two executors do the same arithmetic.
"""
import os

import pandas as pd
import pytest

from invariance.study import run_study
from study_helpers import read_tables, tiny_study

ray = pytest.importorskip("ray") if not os.environ.get("CI") else __import__("ray")

STUDY = tiny_study("ray2", models=[{"preset": "mlp", "hidden": [16]},
                                   {"preset": "cnn_pool", "channels": 4, "dense_units": 16}])


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_and_local_executors_write_equal_tables(local_ray, tmp_path):
    on_ray = run_study(STUDY, out_dir=tmp_path / "ray", executor="ray", progress=False, post=False)
    assert on_ray.ok and on_ray.ran == 2
    local = run_study(STUDY, out_dir=tmp_path / "local", executor="local", jobs=2, progress=False, post=False)
    assert local.ok and local.ran == 2
    for got, want in zip(read_tables(tmp_path / "ray" / "ray2"), read_tables(tmp_path / "local" / "ray2")):
        pd.testing.assert_frame_equal(got, want)
    for run_dir in (tmp_path / "ray" / "ray2" / "runs").iterdir():
        assert (run_dir / "model.keras").is_file() and (run_dir / "status.json").is_file()
