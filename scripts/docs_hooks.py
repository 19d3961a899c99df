"""mkdocs hooks: the pages and pictures of the documentation site that are made, not written.

* ``reference/schema.md``: the study-file reference, from the spec dataclasses
  (:mod:`schema_doc`).
* ``concepts/img/*.png``: the transform convention, drawn by the toolkit's own
  ``invariance.transforms.apply`` on a garment of the bundled ``fashion_mnist_mini``.
* ``reproductions/img/*.png``: the reference figures of ``results/reference/<study>/figures``.
* Sphinx roles left in rendered docstrings (``:func:`x```) become plain code.
* ``<!-- model-zoo -->`` in a page becomes the preset table of ``invariance models``
  (parameters and MACs counted on the built models, so they cannot drift from the code).
* ``<!-- reference-table NAME -->`` in a page becomes the README's generated block NAME
  (a table or verdict line of :mod:`readme_tables`, rendered from ``results/reference/``), so
  the site and the README show the same numbers, both written by the reference runs.

Nothing is written into ``docs/``: the generated files exist only in the build.
"""
from __future__ import annotations

import importlib.util
import io
import re
import warnings
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "results" / "reference"


def _load_script(name: str):
    # by path: mkdocs loads this hook from a file, and the gallery resets sys.path while it runs
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parent / f"{name}.py")
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
_ZOO = re.compile(r"<!--\s*model-zoo\s*-->")
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


def reference_table(name: str) -> str:
    """The README's generated block ``name`` (:data:`readme_tables.TABLES`), from ``results/reference/``."""
    return _load_script("readme_tables").render(name, REFERENCE)


def model_zoo_table() -> str:
    """The presets of ``invariance models`` for a 28×28×1 input, as a Markdown table."""
    from invariance.cli.models import preset_table

    lines = ["| preset | family | what | params | MACs |", "|---|---|---|---|---|"]
    for row in preset_table((28, 28, 1)):
        params = f"{row['params']:,}" if row["params"] is not None else "—"
        macs = f"{row['macs'] / 1e6:.2f}M" if row["macs"] is not None else "—"
        lines.append(f"| `{row['name']}` | {row['family']} | {row['description']} | {params} | {macs} |")
    return "\n".join(lines)


def on_config(config):
    # Keras' TensorFlow backend trips a NumPy 2 DeprecationWarning (``__array__`` without
    # ``copy``) on every conversion; the executed examples would print it in their output.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"keras\.")
    return config


def on_files(files, config):
    schema_markdown = _load_script("schema_doc").schema_markdown

    def add(src_uri: str, content):
        files.append(File.generated(config, src_uri, content=content))

    add("reference/schema.md", schema_markdown())
    for name, data in concept_figures().items():
        add(f"concepts/img/{name}", data)
    for study, stem in REPRODUCTION_FIGURES:
        add(f"reproductions/img/{study}_{stem}.png", (REFERENCE / study / "figures" / f"{stem}.png").read_bytes())
    return files


def on_page_markdown(markdown, page, config, files):
    if _ZOO.search(markdown):
        markdown = _ZOO.sub(lambda m: model_zoo_table(), markdown)
    return _TABLE.sub(lambda m: reference_table(m.group(1)), markdown)


def on_page_content(html, page, config, files):
    return _ROLE.sub(r"\1", html)
