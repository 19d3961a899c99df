"""mkdocs hooks: the pages and pictures of the documentation site that are made, not written.

* ``reference/schema.md``: the study-file reference, from the spec dataclasses
  (:mod:`schema_doc`).
* ``concepts/img/*.png``: the transform convention, drawn by the toolkit's own
  ``invariance.transforms.apply`` on a garment of the bundled ``fashion_mnist_mini``.
* ``reproductions/img/*.png``: the reference figures of ``results/reference/<study>/figures``.
* Sphinx roles left in rendered docstrings (``:func:`x```) become plain code.
* ``<!-- reference-table STUDY -->`` in a page becomes the table of
  ``results/reference/STUDY/summary.csv`` (mean ± std over seeds), so the numbers shown are
  the ones the reference runs wrote.

Nothing is written into ``docs/``: the generated files exist only in the build.
"""
from __future__ import annotations

import importlib.util
import io
import re
import warnings
from pathlib import Path

import pandas as pd
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "results" / "reference"


def _load_schema_doc():
    # by path: mkdocs loads this hook from a file, and the gallery resets sys.path while it runs
    spec = importlib.util.spec_from_file_location("schema_doc", Path(__file__).resolve().parent / "schema_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

# (study folder, figure stem) shown on the reproduction pages
REPRODUCTION_FIGURES = [
    ("engstrom2019", "engstrom"),
    ("zhang2019", "invariance_curves"),
    ("zhang2019", "examples_dx"),
    ("azulay2019", "walks"),
    ("kauderer2017", "radial_translation_map"),
    ("kauderer2017", "translation_map_translation_map"),
    ("fashion_mnist_benchmark", "test_accuracy"),
    ("data_hunger", "learning_curves"),
]
_TABLE = re.compile(r"<!--\s*reference-table\s+([\w-]+)\s*-->")
# the docstrings use Sphinx cross-reference roles (:func:`x`), which Markdown leaves as text
_ROLE = re.compile(r":(?:func|class|mod|meth|data|attr|obj|exc):(<code>)~?")


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def concept_figures() -> dict[str, bytes]:
    """The transform-convention pictures, made with the toolkit on one bundled garment."""
    import matplotlib

    matplotlib.use("Agg")
    import invariance
    from invariance.plots import plot_example_strip

    ds = invariance.load_dataset("fashion_mnist_mini")
    # one ankle boot (asymmetric, so every transform is visible) and one trouser
    picks = [int((ds.y_test == c).nonzero()[0][0]) for c in (9, 1)]
    images, labels = ds.x_test[picks], ds.y_test[picks]
    names = list(ds.class_names)
    one_axis = [(0, 0, 0, 1), (6, 0, 0, 1), (0, 6, 0, 1), (0, 0, 30, 1), (0, 0, 0, 1.3), (0, 0, 0, 0.7)]
    composed = [(0, 0, 0, 1), (0, 0, 0, 0.8), (0, 0, 30, 0.8), (6, 0, 30, 0.8)]
    fills = [(8, 0, 0, 1), (8.5, 0, 0, 1)]
    return {
        "transform_axes.png": _png(plot_example_strip(
            images, one_axis, labels=labels, class_names=names,
            title="dx > 0 right, dy > 0 down, angle > 0 counter-clockwise, scale > 1 enlarges")),
        "transform_order.png": _png(plot_example_strip(
            images[:1], composed, labels=labels[:1], class_names=names,
            title="composition: scale, then rotate, then shift")),
        "transform_fill_constant.png": _png(plot_example_strip(
            images[:1], fills, labels=labels[:1], class_names=names, fill="constant", title="fill: constant (zeros)")),
        "transform_fill_wrap.png": _png(plot_example_strip(
            images[:1], fills, labels=labels[:1], class_names=names, fill="wrap", title="fill: wrap (circular)")),
    }


def _header(column: str) -> str:
    """``sweep/metric`` as a readable two-line header: the metric, then the sweep it is over."""
    sweep, metric = column.split("/", 1)
    return metric.replace("_", " ") + ("" if sweep == "clean" else f"<br><small>{sweep.replace('_', ' ')}</small>")


def reference_table(study: str) -> str:
    """``results/reference/<study>/summary.csv`` as a Markdown table: mean ± std (seeds)."""
    path = REFERENCE / study / "summary.csv"
    if not path.exists():
        raise FileNotFoundError(f"reference-table {study}: no {path.relative_to(ROOT)}")
    df = pd.read_csv(path)
    df["column"] = df["sweep"] + "/" + df["metric"]
    df["cell"] = [f"{m:.3f} ± {s:.3f} ({n})" if n > 1 else f"{m:.3f} (1)"
                  for m, s, n in zip(df["mean"], df["std"].fillna(0), df["seeds"])]
    keys = ["model", "augmentation"] + (["n_train"] if df["n_train"].nunique() > 1 else [])
    wide = df.pivot_table(index=keys, columns="column", values="cell", aggfunc="first", sort=False)
    head = "| " + " | ".join(keys + [_header(c) for c in wide.columns]) + " |"
    rows = [head, "|" + "---|" * (len(keys) + len(wide.columns))]
    for idx, row in wide.iterrows():
        idx = idx if isinstance(idx, tuple) else (idx,)
        rows.append("| " + " | ".join([f"`{v}`" if i < 2 else str(v) for i, v in enumerate(idx)]
                                      + [str(v) if isinstance(v, str) else "—" for v in row]) + " |")
    note = (f"\n\n<small>Generated from `results/reference/{study}/summary.csv`: mean ± std over seeds "
            "(number of seeds), on the study's evaluation images; `clean accuracy` is measured on those "
            "images, the test accuracy on all test images is in `runs.csv`.</small>")
    return "\n".join(rows) + note


def on_config(config):
    # Keras' TensorFlow backend trips a NumPy 2 DeprecationWarning (``__array__`` without
    # ``copy``) on every conversion; the executed examples would print it in their output.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"keras\.")
    return config


def on_files(files, config):
    schema_markdown = _load_schema_doc().schema_markdown

    def add(src_uri: str, content):
        files.append(File.generated(config, src_uri, content=content))

    add("reference/schema.md", schema_markdown())
    for name, data in concept_figures().items():
        add(f"concepts/img/{name}", data)
    for study, stem in REPRODUCTION_FIGURES:
        add(f"reproductions/img/{study}_{stem}.png", (REFERENCE / study / "figures" / f"{stem}.png").read_bytes())
    return files


def on_page_markdown(markdown, page, config, files):
    return _TABLE.sub(lambda m: reference_table(m.group(1)), markdown)


def on_page_content(html, page, config, files):
    return _ROLE.sub(r"\1", html)
