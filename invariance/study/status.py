"""How far a study is: its runs completed, failed and pending, from its results folder alone."""
from __future__ import annotations

import os
from typing import Any

from invariance.io import read_json
import invariance.results.layout as L
from invariance.results.loader import check_study_dir
from invariance.results.records import FAILED, PENDING, run_state, verify_run
from invariance.study.expand import expand_runs


def study_status(study_dir: str | os.PathLike) -> dict[str, Any]:
    """Counts of runs completed, failed and pending in a results folder.

    Pending runs are those the stored ``study.yaml`` expands to that have not finished.
    The dataset fingerprint comes from ``manifest.json`` (no data loading) when present.

    A completed run whose files no longer match its record (a missing or changed
    ``model.keras``, ``metrics.json``, ... : :func:`~invariance.results.records.verify_run`)
    counts as pending and is listed in ``invalid_runs`` with why; ``invariance run`` redoes it.

    Returns:
        ``{"name", "study_dir", "total", "completed", "failed", "pending", "failed_runs": [...],
        "invalid_runs": [{<key columns>, "problems": [str, ...]}, ...], "running_pid": int | None}``.

    Raises:
        NotAStudyFolder: if the folder is absent or has no ``study.yaml``.
    """
    from invariance.study.loader import load_study
    from invariance.study.lock import lock_holder

    study_dir = check_study_dir(study_dir, needs=(L.STUDY_FILE,))
    study = load_study(study_dir / L.STUDY_FILE)
    manifest = read_json(study_dir / L.MANIFEST_FILE) if (study_dir / L.MANIFEST_FILE).is_file() else {}
    fingerprint = (manifest.get("dataset") or {}).get("fingerprint")
    n_total = (manifest.get("dataset") or {}).get("n_train")
    eval_hash = (manifest.get("evaluation") or {}).get("eval_hash")
    if fingerprint is None:
        from invariance.study.context import build_context

        context = build_context(study)
        fingerprint, eval_hash = context.dataset.fingerprint(), context.eval_hash
        n_total = len(context.dataset.y_train)
    runs = expand_runs(study, fingerprint, n_total=n_total)
    counts = {"completed": 0, "failed": 0, "pending": 0}
    failed, invalid = [], []
    for run in runs:
        run_dir = L.run_dir(study_dir, run.run_id)
        problems = verify_run(run_dir)
        state = PENDING if problems else run_state(run_dir, eval_hash, verify=False)
        counts[state] += 1
        if problems:
            invalid.append({**run.key(), "problems": [why for _, why in problems]})
        elif state == FAILED:
            record = run_dir.read_record() or {}
            failed.append({**run.key(), "reason": record.get("reason", "")})
    return {"name": study.name, "study_dir": str(study_dir), "total": len(runs), **counts, "failed_runs": failed,
            "invalid_runs": invalid, "running_pid": lock_holder(study_dir)}
