"""``invariance evaluate``: run the invariance harness on a saved model and write its tidy table."""
from __future__ import annotations

import hashlib
import math
import re
import time
import warnings
from pathlib import Path

import click

from invariance.cli._options import RegistryHelp
from invariance.errors import SpecError

_GRID_NAME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_\-]*)\s*:\s*(?=(dx|dy|angle|scale)\s*=)")


def parse_sweep_options(values: tuple[str, ...]) -> dict[str, str]:
    """``("dx=-8:8:1", "angle=-45:45:5")`` -> ``{"dx": "-8:8:1", "angle": "-45:45:5"}``; each axis once."""
    from invariance.harness import parse_assignments

    out: dict[str, str] = {}
    for text in values:
        for axis, raw in parse_assignments(text, field="--sweep").items():
            if axis in out:
                raise SpecError("--sweep", f"sweeps axis {axis!r} twice; give each axis one --sweep", text)
            out[axis] = raw
    return out


def parse_grid_options(values: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """``("translation_map:dx=-6:6:1,dy=-6:6:1", "dx=-1:1:1,angle=-5:5:5")`` -> named grids.

    A grid without a ``NAME:`` prefix is named ``grid_<axes>`` (``grid_dx_angle``).
    """
    from invariance.harness import parse_assignments

    out: dict[str, dict[str, str]] = {}
    for text in values:
        match = _GRID_NAME.match(text)
        name, body = (match.group(1), text[match.end():]) if match else (None, text)
        axes = parse_assignments(body, field="--grid")
        name = name or "grid_" + "_".join(axes)
        if name in out:
            raise SpecError("--grid", f"names grid {name!r} twice; prefix a name, e.g. map2:dx=-3:3:1,dy=-3:3:1", text)
        out[name] = axes
    return out


def summary_rows(frame) -> list[tuple[str, str, str]]:
    """(what, metric, value) lines for the console summary of a harness table."""
    rows = []
    for sweep, group in frame.groupby("sweep", sort=False):
        if sweep == "clean":
            rows.append(("clean", "accuracy", _fmt(group["value"].iloc[0])))
            continue
        if sweep == "equivariance":
            for layer, g in group.groupby("layer", sort=False):
                shifts = ", ".join(f"({dx:g},{dy:g}) {v:.3f}" for dx, dy, v in zip(g["dx"], g["dy"], g["value"]))
                rows.append((f"equivariance {layer}", "error at shift", shifts))
            continue
        summaries = group[group["dx"].isna()]
        for metric, value in zip(summaries["metric"], summaries["value"]):
            rows.append((sweep, metric, _fmt(value)))
        accuracy = group[(group["metric"] == "accuracy") & group["dx"].notna()]
        if len(accuracy):
            rows.append((sweep, "min accuracy", _fmt(accuracy["value"].min())))
    return rows


def _fmt(value: float) -> str:
    return "nan" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"


@click.command("evaluate")
@click.argument("model_path", metavar="MODEL.keras", type=click.Path(dir_okay=False))
@click.option("--dataset", required=True, cls=RegistryHelp, names="datasets", help="{names} or npz:PATH.")
@click.option("--data-dir", default=None, type=click.Path(file_okay=False), help="Folder searched first for the data.")
@click.option("--canvas", type=int, default=None, help="Zero-pad images to SxS first (the model must take that size).")
@click.option("--samples", type=int, default=None,
              help="Evaluate the first N test images in the fixed stratified order (default: all).")
@click.option("--sweep", "sweeps", multiple=True, metavar="AXIS=VALUES",
              help="A one-axis sweep, e.g. dx=-8:8:1, angle=-45:45:5, scale=0.6:1.4:0.1 or dx=[-2,0,2]. Repeatable.")
@click.option("--grid", "grids", multiple=True, metavar="[NAME:]AXIS=VALUES,...",
              help="A product grid, e.g. translation_map:dx=-6:6:1,dy=-6:6:1. Repeatable.")
@click.option("--random-k", type=int, default=None, help="K random draws per image (random and worst-of-K accuracy).")
@click.option("--limits", default=None, metavar="AXIS=L,...",
              help="Limits of the random draws, e.g. dx=3,dy=3,angle=30 or scale=0.8:1.2 [default: dx=3,dy=3,angle=30].")
@click.option("--walk", type=int, default=None, metavar="STEPS", help="1-px diagonal walk of STEPS steps (flip rate, MAC).")
@click.option("--equivariance", is_flag=True, help="Also measure per-layer feature-map equivariance error.")
@click.option("--fill", default="constant", show_default=True, help="constant, wrap, reflect or nearest.")
@click.option("--interpolation", default="bilinear", show_default=True, help="bilinear or nearest.")
@click.option("--metrics", default="accuracy,consistency,kl", show_default=True,
              help="Point metrics: accuracy, consistency, consistency_correct, kl, embedding_cosine, "
                   "embedding_distance.")
@click.option("--embedding-layer", default=None, help="Layer for the embedding metrics (default: auto).")
@click.option("--batch-size", type=int, default=512, show_default=True, help="(image, transform) pairs per pass.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random draws.")
@click.option("--input-range", type=click.Choice(["0-1", "0-255"]), default=None,
              help="Pixel range fed to the model [default: detected: 0-255 for a model whose first layer is "
                   "Rescaling(1/255) or a Normalization with a 0..255 mean, else 0-1].")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="CSV file to write (plus FILE.json).")
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
def command(model_path, dataset, data_dir, canvas, samples, sweeps, grids, random_k, limits, walk, equivariance,
            fill, interpolation, metrics, embedding_layer, batch_size, seed, input_range, out, quiet):
    """Measure MODEL.keras's invariance on a dataset's test images and write a tidy CSV.

    The model must take float32 NHWC images of the dataset's shape (after any canvas
    padding) and return one score per class. Images are fed in [0, 1], or 0..255 to a model
    that rescales its own input (detected; --input-range overrides). A clean accuracy
    within 2 points of chance prints a warning, also kept in FILE.json.
    """
    from invariance.harness import EvaluationSpec

    out = Path(out)
    if out.suffix.lower() != ".csv":
        raise SpecError("--out", "must be a .csv file", str(out))
    if limits is not None and random_k is None:
        raise SpecError("--limits", "only applies with --random-k K", limits)
    random_spec = None
    if random_k is not None:
        from invariance.harness import parse_assignments

        random_spec = {"k": random_k}
        if limits is not None:
            random_spec["limits"] = parse_assignments(limits, field="--limits")
    # Every option is checked here, before any data or model is loaded.
    spec = _spec(EvaluationSpec, samples=samples, sweeps=parse_sweep_options(sweeps),
                 grids=parse_grid_options(grids), random_k=random_spec, walks=walk,
                 metrics=[m.strip() for m in metrics.split(",") if m.strip()], fill=fill,
                 interpolation=interpolation, batch_size=batch_size, embedding_layer=embedding_layer,
                 equivariance=equivariance, seed=seed)
    _run(spec, model_path=model_path, dataset=dataset, data_dir=data_dir, canvas=canvas, out=out, quiet=quiet,
         input_range=input_range)


def _spec(cls, **fields):
    from invariance.config import parse_spec

    flags = {"samples": "--samples", "sweeps": "--sweep", "grids": "--grid", "random_k": "--random-k",
             "walks": "--walk", "metrics": "--metrics", "fill": "--fill", "interpolation": "--interpolation",
             "batch_size": "--batch-size", "embedding_layer": "--embedding-layer", "seed": "--seed"}
    try:
        return parse_spec(cls, {k: v for k, v in fields.items() if v is not None})
    except SpecError as err:
        head, _, rest = err.field.partition(".")
        field = flags.get(head.split("[")[0], head) + (f" {rest}" if rest else "")
        raise SpecError(field, err.rule, err.received) from None


def _load_model(path: str):
    try:
        from invariance.models import load_model
    except ImportError:  # the zoo is optional for auditing a plain Keras model
        import keras

        from invariance.errors import InvarianceError
        from invariance.io import keras_archive_problem

        if not Path(path).is_file():
            raise InvarianceError(f"model: file not found; received {path!r}") from None
        problem = keras_archive_problem(path)
        if problem is not None:
            raise InvarianceError(f"model: not a valid .keras archive: {path!r}: {problem}") from None
        return keras.saving.load_model(path, safe_mode=True)
    return load_model(path)


def _run(spec, *, model_path, dataset, data_dir, canvas, out: Path, quiet: bool, input_range: str | None) -> None:
    from invariance.data import load_dataset
    from invariance.harness import check_model_fits, evaluate, evaluation_set
    from invariance.io import write_json, write_with
    from invariance.provenance import provenance

    data = load_dataset(dataset, data_dir=data_dir, canvas=canvas)
    model = _load_model(model_path)
    check_model_fits(model, data.image_shape, num_classes=data.num_classes,
                     what=f"the images of dataset {data.name}" + (f" on a {canvas}x{canvas} canvas" if canvas else ""))
    x, y, indices, description = evaluation_set(data, spec.samples)
    start = time.perf_counter()
    with warnings.catch_warnings():  # the chance-level warning is printed below, once
        warnings.simplefilter("ignore", UserWarning)
        frame = evaluate(model, x, y, progress=not quiet, input_range=input_range, **spec.evaluate_kwargs())
    seconds = time.perf_counter() - start

    from invariance.config import to_dict

    record = {
        "model": str(model_path), "dataset": data.name, "source": data.source, "canvas": canvas,
        "fingerprint": data.fingerprint(), "evaluation_set": description, "samples": int(len(indices)),
        "test_indices_head": indices[:20].tolist(),
        "test_indices_sha256": hashlib.sha256(indices.astype("<i8").tobytes()).hexdigest(), "spec": to_dict(spec),
        "embedding_layer": frame.attrs.get("embedding_layer"), "outputs": frame.attrs.get("outputs"),
        "input_range": frame.attrs.get("input_range"), "input_range_source": frame.attrs.get("input_range_source"),
        "warnings": list(frame.attrs.get("warnings") or []),
        "rows": int(len(frame)), "seconds": round(seconds, 3), "provenance": provenance(),
    }
    write_with(out, lambda tmp: frame.to_csv(tmp, index=False))
    write_json(out.with_suffix(".json"), record)
    for text in record["warnings"]:  # even with --quiet: these numbers should not be trusted
        click.secho(f"Warning: {text}", fg="yellow", err=True)
    if quiet:
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{Path(model_path).name} on {description}", title_justify="left")
    for column in ("what", "metric", "value"):
        table.add_column(column)
    for row in summary_rows(frame):
        table.add_row(*row)
    console = Console()
    console.print(table)
    console.print(f"input range {record['input_range']} ({record['input_range_source']})")
    console.print(f"{len(frame)} rows in {seconds:.1f} s -> {out} (settings and evaluation set in "
                  f"{out.with_suffix('.json')})")
