"""``invariance train``: train one zoo model on one dataset into a run directory."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from invariance.cli._options import RegistryHelp
from invariance.errors import SpecError


def _model_spec(model: str, sets: tuple[str, ...]) -> Any:
    """A preset name or a YAML file, with ``--set`` overrides applied."""
    from invariance.cli._options import parse_set
    from invariance.config import set_dotted
    from invariance.yaml_io import load_yaml

    if model.endswith((".yaml", ".yml")) or Path(model).is_file():
        spec = load_yaml(model)
        if isinstance(spec, dict) and set(spec) == {"model"}:
            spec = spec["model"]  # a file may hold {model: {...}}
    else:
        spec = model
    overrides = parse_set(sets)
    if overrides:
        if isinstance(spec, str):
            spec = {"preset": spec}
        if not isinstance(spec, dict):
            raise SpecError("--model", "must be a preset name or a YAML mapping to apply --set to", spec)
        spec = dict(spec)
        for key, value in overrides:
            set_dotted(spec, key, value)
    return spec


def _augmentation(text: str) -> Any:
    from invariance.augment import resolve_augmentation
    from invariance.yaml_io import load_yaml

    if text.endswith((".yaml", ".yml")) or Path(text).is_file():
        data = load_yaml(text)
        if isinstance(data, dict) and set(data) == {"augmentation"}:
            data = data["augmentation"]  # a file may hold {augmentation: ...}
        return resolve_augmentation(data, path="--augment")
    return resolve_augmentation(text, path="--augment")


@click.command("train")
@click.option("--model", "model", required=True, metavar="PRESET_OR_YAML", cls=RegistryHelp, names="presets",
              help="A preset ({names}) or a YAML model spec.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a model field, e.g. --set depth=3 --set pooling=blur (repeatable).")
@click.option("--dataset", required=True, metavar="NAME", cls=RegistryHelp, names="datasets",
              help="{names} or npz:PATH.")
@click.option("--canvas", type=int, default=None, metavar="S", help="Zero-pad images to S x S, centred.")
@click.option("--n-train", type=int, default=None, metavar="N",
              help="Train on a class-balanced subset of N images (validation is carved from it).")
@click.option("--epochs", type=int, default=None, metavar="E", help="Epoch cap (default: 2 x the decay horizon + patience; early stopping usually ends sooner).")
@click.option("--batch-size", type=int, default=None, metavar="B", help="Batch size (default 128).")
@click.option("--lr", "learning_rate", type=float, default=None, metavar="LR", help="Peak learning rate (default 3e-3).")
@click.option("--optimizer", default=None, metavar="NAME", help="adam (default), adamw or sgd.")
@click.option("--schedule", default=None, metavar="NAME", help="warmup_cosine (default), none, cosine or step.")
@click.option("--early-stopping", type=int, default=None, metavar="PATIENCE",
              help="Stop after PATIENCE epochs without a better validation loss; keep the best weights (default 3).")
@click.option("--augment", default="none", show_default=True, metavar="SPEC",
              help="none, geometric:shift=4,rotate=15,scale=0.9-1.1[,fill=..,path=device|albumentations], "
                   "or a YAML file (geometric ranges or {albumentations: [...]}).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds the subset, weights, order and augmentation.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), metavar="DIR",
              help="The run directory (a finished run there is not redone; an interrupted one resumes).")
@click.option("--quiet", is_flag=True, help="No progress bar; only the summary line.")
def command(model, sets, dataset, canvas, n_train, epochs, batch_size, learning_rate, optimizer, schedule,
            early_stopping, augment, seed, out_dir, quiet):
    """Train a fresh model and write model.keras, history.csv, metrics.json and spec.json to DIR."""
    from invariance.data import load_dataset
    from invariance.training import resolve_train_spec, train

    model_spec = _model_spec(model, sets)
    options = {"epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate, "optimizer": optimizer,
               "schedule": schedule, "early_stopping": early_stopping}
    try:
        train_spec = resolve_train_spec({k: v for k, v in options.items() if v is not None}, path="")
    except SpecError as err:  # name the option the user typed
        name = {"learning_rate": "lr"}.get(err.field, err.field)
        raise SpecError(f"--{name.replace('_', '-')}", err.rule, err.received) from None
    augmentation = _augmentation(augment)
    data = load_dataset(dataset, canvas=canvas)
    stored = (Path(out_dir) / "metrics.json").is_file()
    result = train(model_spec, data, n_train=n_train, train=train_spec, augmentation=augmentation, seed=seed,
                   out_dir=out_dir, verbose=0 if quiet else 1)
    m = result.metrics
    prefix = "already finished: " if stored else ""
    if result.status == "completed":
        click.echo(f"{prefix}test accuracy {m['test_accuracy']:.4f} | params {m['params']:,} | "
                   f"{m['train_seconds']:.1f} s, {m['images_per_second']:,.0f} img/s over {m['epochs_run']} epochs "
                   f"| {result.run_dir}")
    else:
        click.secho(f"{prefix}run failed: {result.reason} | {result.run_dir}", fg="red", err=True)
        sys.exit(1)
