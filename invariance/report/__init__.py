"""A study's report: ``report.md`` and one self-contained ``report.html``.

Typical use::

    html_path, md_path = write_report("results/quickstart")

It reads the folder (:func:`invariance.results.load_study_tables`), makes the figures first
(:mod:`invariance.report.figures`), computes the key findings from the tables
(:mod:`invariance.report.findings`) and renders both files (:mod:`invariance.report.render`),
each written atomically.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from invariance.io import write_text
from invariance.results import (FIGURES_DIR, REPORT_HTML, REPORT_MD, StudyTables, load_study_tables,
                                read_figure_index)
from invariance.report.findings import key_findings, per_run_table
from invariance.report.render import FigureEntry, ReportContent, Section, to_html, to_markdown
from invariance.report.tables import curves_table, failed_table, format_seconds, summary_table

__all__ = ["write_report", "build_content", "key_findings"]


def write_report(study_dir: str | os.PathLike, *, figures: bool = True) -> tuple[Path, Path]:
    """Writes ``report.html`` and ``report.md`` into a study folder.

    Args:
        study_dir: The study results folder (``results/<name>``, with ``runs.csv``).
        figures: Make the figures first; False reuses those listed in ``figures/index.json``.

    Returns:
        (html path, markdown path).

    Raises:
        NotAStudyFolder: if the folder or its ``runs.csv`` is missing.
    """
    from invariance.report.figures import make_figures

    tables = load_study_tables(study_dir)
    if figures:
        make_figures(tables)
    content = build_content(tables)
    html_path = tables.study_dir / REPORT_HTML
    md_path = tables.study_dir / REPORT_MD
    write_text(md_path, to_markdown(content))
    write_text(html_path, to_html(content))
    return html_path, md_path


def build_content(tables: StudyTables) -> ReportContent:
    """Everything the report shows, from a study's tables and its ``figures/index.json``.

    Args:
        tables: The study folder, as :func:`invariance.results.load_study_tables` reads it.
    """
    from invariance.yaml_io import dump_yaml

    study_dir = tables.study_dir
    name = tables.name
    spec_yaml = tables.study_yaml() or dump_yaml(tables.study)
    per_run = per_run_table(tables.runs, tables.invariance)
    findings = key_findings(tables.runs, tables.invariance, curves=tables.curves,
                            learning=tables.learning_curves, k=tables.random_k,
                            num_classes=tables.num_classes)
    index = read_figure_index(study_dir)
    figure_entries = [FigureEntry(name=f["name"], title=f.get("title", f["name"]), caption=f.get("caption", ""),
                                  png=study_dir / FIGURES_DIR / f["png"])
                      for f in index.get("figures", []) if (study_dir / FIGURES_DIR / f.get("png", "")).is_file()]
    n_train_note = ""
    if "n_train" in per_run.columns and per_run["n_train"].nunique() > 1:
        n_train_note = (f" Findings compare runs at the largest n_train ({int(per_run['n_train'].max()):,}); the "
                        "summary table has every size.")
    sections = [
        Section("summary", "Summary table",
                "Mean ± standard deviation over seeds of test accuracy and of each sweep's mean consistency.",
                summary_table(per_run), "No completed runs."),
    ]
    curves = curves_table(tables.curves)
    if not curves.empty:
        sections.append(Section("curves", "Learning-curve fits",
                                "err(n) = a + b·n^(−c) fitted per model and augmentation, n the images trained on "
                                "(after the validation split), with seed-cluster bootstrap intervals in brackets and "
                                "the range of samples-to-target when each size is left out in turn.", curves))
    sections.append(Section("failed", "Failed runs", "Each failed run and why; the other runs went on.",
                            failed_table(tables.runs), "None: every finished run completed."))
    notes = ["Levels are mean ± standard deviation over seeds. Every comparison is a difference paired by seed "
             "(same training subset, initial weights and evaluation images) with its 95% t-interval and its number "
             "of seeds; where the interval covers 0 the finding says there is no detectable difference, and a "
             "design is called highest or lowest only when it is separable from every other. Accuracies set beside "
             "consistency, grid or worst-of-k numbers are measured on the same evaluation images. Learning-curve "
             "intervals resample whole seeds; a samples-to-target beyond 2× the largest measured size is reported as "
             "not reached. Figure bands are 95% bootstrap intervals over seeds; with two or three seeds, read them "
             "as the spread of the seeds." + n_train_note]
    return ReportContent(title=f"Study report: {name}", run_info=run_info(tables), spec_yaml=spec_yaml,
                         findings=findings, figures=figure_entries, sections=sections,
                         skipped=[(s["name"], s["reason"]) for s in index.get("skipped", [])], notes=notes)


def _join(values) -> str:
    return ", ".join(str(v) for v in values) if len(values) else "–"


def run_info(tables: StudyTables) -> list[tuple[str, str]]:
    """What was run, as (label, text) rows: spec summary, run counts, time and provenance.

    Reads ``manifest.json`` as the study runner writes it (``provenance`` nested), and also
    accepts provenance keys at its top level.
    """
    runs, manifest = tables.runs, tables.manifest
    prov: dict[str, Any] = {**{k: manifest[k] for k in ("backend", "device", "versions", "git_sha") if k in manifest},
                            **(manifest.get("provenance") or {})}
    dataset = manifest.get("dataset") or {}
    rows = [("Study", tables.name)]
    ds_text = str(dataset.get("name") or tables.dataset.name or "–")
    details = []
    if dataset.get("n_train") is not None:
        details.append(f"{int(dataset['n_train']):,} train / {int(dataset.get('n_test') or 0):,} test images")
    if dataset.get("image_shape"):
        details.append("×".join(str(s) for s in dataset["image_shape"]))
    if dataset.get("canvas") or tables.dataset.canvas:
        details.append(f"canvas {dataset.get('canvas') or tables.dataset.canvas} px")
    if dataset.get("source"):
        details.append(f"from {dataset['source']}")
    rows.append(("Dataset", ds_text + (f" ({', '.join(details)})" if details else "")))
    if manifest.get("evaluation"):
        ev = manifest["evaluation"]
        rows.append(("Evaluated on", str(ev.get("images") or f"{ev.get('samples')} test images")))
    for label, column in (("Models", "model"), ("Augmentations", "augmentation")):
        if column in runs.columns:
            rows.append((label, _join(sorted(set(runs[column].astype(str))))))
    if "n_train" in runs.columns:
        rows.append(("Training-set sizes", _join([f"{int(n):,}" for n in sorted(runs["n_train"].dropna().unique())])))
    if "seed" in runs.columns:
        rows.append(("Seeds", _join(sorted(int(s) for s in runs["seed"].dropna().unique()))))
    status = runs["status"].astype(str) if "status" in runs.columns else pd.Series(["completed"] * len(runs))
    counts = manifest.get("counts") or {}
    total = int(counts.get("total") or len(runs))
    done, failed = int((status == "completed").sum()), int((status == "failed").sum())
    pending = max(total - done - failed, 0)
    rows.append(("Runs", f"{total} in all: {done} completed, {failed} failed, {pending} pending"))
    times = []
    if manifest.get("started"):
        times.append(f"started {manifest['started']}")
    if manifest.get("finished"):
        times.append(f"finished {manifest['finished']}")
    if manifest.get("wall_seconds") is not None:
        times.append(f"wall time {format_seconds(manifest['wall_seconds'])}")
    if "train_seconds" in runs.columns and runs["train_seconds"].notna().any():
        times.append(f"training time summed over runs {format_seconds(runs['train_seconds'].sum())}")
    if times:
        rows.append(("Time", "; ".join(times)))
    executor = manifest.get("executor") or {}
    if executor:
        rows.append(("Executor", f"{executor.get('name', '–')} ({executor.get('jobs', 1)} job(s))"))
    rows.append(("Backend", str(prov.get("backend") or "–")))
    rows.append(("Device", str(prov.get("device") or "–")))
    versions = prov.get("versions") or {}
    rows.append(("Versions", ", ".join(f"{k} {v}" for k, v in versions.items()) or "–"))
    rows.append(("Git commit", str(prov.get("git_sha") or "–")))
    return rows
