"""``invariance filters MODEL.keras --out PNG``: a model's first-layer filters as an image grid."""
from __future__ import annotations

from pathlib import Path

import click

from invariance.errors import InvarianceError, SpecError


@click.command("filters")
@click.argument("model_path", metavar="MODEL.keras")
@click.option("--out", "out", required=True, metavar="PNG",
              help="Output image (.png); an .svg is written beside it.")
@click.option("--pca", type=int, default=None,
              help="Also show this many principal components of the filters. "
                   "[default: 28 for a ViT's patch filters, none otherwise]")
@click.option("--max-filters", type=int, default=64, show_default=True, help="Show at most this many filters.")
def command(model_path, out, pca, max_filters):
    """Draw the first-layer filters of a saved model, as in the AlexNet and ViT papers.

    The layer named patch_embedding (a ViT) if there is one, else the first Conv2D, else a
    first Dense layer fed the flattened image (an MLP's templates). Each filter is scaled to
    its own range.
    """
    from invariance.models import load_model
    from invariance.plots import plot_model_filters, save_figure

    out = Path(out)
    if out.suffix.lower() != ".png":
        raise SpecError("--out", "must be a .png path", str(out))
    if pca is not None and pca < 1:
        raise SpecError("--pca", "must be >= 1", pca)
    if max_filters < 1:
        raise SpecError("--max-filters", "must be >= 1", max_filters)
    model = load_model(model_path)
    try:
        fig = plot_model_filters(model, pca=pca, max_filters=max_filters)
    except InvarianceError as err:
        if str(err).startswith("pca: "):  # name the option the user typed
            raise InvarianceError("--pca: " + str(err)[len("pca: "):]) from None
        raise
    paths = save_figure(fig, out.with_suffix(""))
    click.echo(str(paths["png"]))
    click.echo(str(paths["svg"]))
