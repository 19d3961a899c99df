"""``invariance curves RESULTS_DIR``: learning-curve fits, samples to a target, efficiency ratios."""
from __future__ import annotations

import math

import click

from invariance.errors import InvarianceError, SpecError

# write_curves' argument names -> this command's option names, for error messages.
_OPTIONS = {"target": "--target", "reference": "--reference", "n_boot": "--boot", "seed": "--seed",
            "level": "--level"}


@click.command("curves")
@click.argument("results_dir", metavar="RESULTS_DIR")
@click.option("--target", type=float, default=0.85, show_default=True,
              help="Target test accuracy, between 0 and 1.")
@click.option("--reference", default=None,
              help="Reference model of the efficiency ratios (a model label of the study). "
                   "[default: cnn_pool if present, else the first model]")
@click.option("--boot", "n_boot", type=int, default=200, show_default=True,
              help="Bootstrap replicates (resampling whole seeds: a seed's runs at every size and for "
                   "every model move together); 0 for no CIs.")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--level", type=float, default=0.95, show_default=True, help="Confidence level of the CIs.")
def command(results_dir, target, reference, n_boot, seed, level):
    """Fit err(n) = a + b*n^-c to each model's learning curve in RESULTS_DIR.

    n is n_fit, the images a run trained on (its n_train subset less the validation split).
    Reads RESULTS_DIR/runs.csv (and invariance.csv), prints a table and the data each
    model needs to reach --target, and writes learning_curves.csv and curves.csv there. A
    target beyond 2x the largest measured n is reported as not reached, not as a number.
    """
    from invariance.results import NotAStudyFolder, write_curves

    written = []
    try:
        learning_curves, curves = write_curves(results_dir, target=target, reference=reference,
                                               n_boot=n_boot, seed=seed, level=level, log=written.append)
    except NotAStudyFolder as err:
        raise err.for_field("RESULTS_DIR") from None
    except SpecError as err:
        raise SpecError(_OPTIONS.get(err.field, err.field), err.rule, err.received) from None
    if len(curves) == 0:
        raise InvarianceError(f"{results_dir}: no completed runs in runs.csv, so no learning curve to fit "
                              f"(learning_curves.csv written with its header only)")
    _print_table(curves)
    fitted = curves["a"].notna()
    click.echo("")
    for line in curves.loc[fitted, "target_summary"]:
        click.echo(line)
    for line in curves["efficiency_summary"]:
        if line:
            click.echo(line)
    click.echo("")
    for line in written:
        click.echo(line)
    if not fitted.any():
        reasons = "; ".join(f"{r.model} / {r.augmentation}: {r.fit_note}" for r in curves.itertuples())
        raise InvarianceError(f"{results_dir}: no learning curve could be fitted ({reasons})")


def _print_table(curves) -> None:
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from invariance.curves import MAX_EXTRAPOLATION, format_n, format_ratio
    from invariance.curves.powerlaw import format_size, not_reached

    target = float(curves["target_accuracy"].iloc[0])
    reference = curves["reference"].iloc[0]
    table = Table(box=box.SIMPLE_HEAD, title=f"Learning curves: err(n) = a + b*n^-c, n = images trained on "
                                             f"(CIs: {round(100 * curves['ci_level'].iloc[0]):g}%, by seed)")
    for name in ("model", "augmentation", "n measured", "a (asymptote)", "c (rate)", "err at max n fit/obs",
                 f"n to {100 * target:g}%", "leave-one-size-out", f"data vs {reference}", "note"):
        table.add_column(name, overflow="fold")
    for r in curves.itertuples():
        sizes = (f"{format_n(r.min_n_fit)}-{format_n(r.max_n_fit)}\n[dim]{r.n_sizes} sizes, {r.n_seeds} seeds[/dim]"
                 if r.n_sizes else "-")
        if r.target_status == "unreachable":
            n_text, note = "unreachable", f"asymptote {100 * r.asymptotic_accuracy:.1f}% < {100 * target:g}%"
        elif r.target_status == "beyond_range":
            n_text = f"not reached\n[dim](beyond {MAX_EXTRAPOLATION:g}x max n)[/dim]"
            note = not_reached(r.samples_to_target, r.max_n_fit).removeprefix("not reached within the measured range ")
        else:
            n_text = _with_ci(r.samples_to_target, r.samples_to_target_lo, r.samples_to_target_hi, format_n)
            note = {"extrapolated": "extrapolated", "no_fit": r.fit_note}.get(r.target_status, "")
        loso = "-" if r.samples_to_target_loso_min != r.samples_to_target_loso_min else \
            (f"{format_size(r.samples_to_target_loso_min, r.max_n_fit)} to "
             f"{format_size(r.samples_to_target_loso_max, r.max_n_fit)}")
        if r.model == reference:
            ratio = "reference"
        elif math.isinf(r.efficiency_ratio):
            ratio = "never reaches"
        elif r.efficiency_note.startswith("excluded"):
            ratio = "excluded"
        else:
            ratio = _with_ci(r.efficiency_ratio, r.efficiency_ratio_lo, r.efficiency_ratio_hi,
                             lambda x: format_ratio(x) + ("x" if math.isfinite(x) else ""))
        # Labels such as cnn_pool[head=gap] look like rich markup; escape them.
        table.add_row(escape(r.model), escape(r.augmentation), sizes, _with_ci(r.a, r.a_lo, r.a_hi, "{:.3f}".format),
                      _with_ci(r.c, r.c_lo, r.c_hi, "{:.2f}".format),
                      f"{_num(r.err_at_max_n_fit)} / {_num(r.err_at_max_n_observed)}", n_text, loso, ratio,
                      escape(note))
    console = Console()
    if not console.is_terminal:
        console = Console(width=180)
    console.print(table)


def _with_ci(value, lo, hi, fmt) -> str:
    if value is None or math.isnan(value):
        return "-"
    text = fmt(value)
    if math.isfinite(value) and not (math.isnan(lo) or math.isnan(hi)):
        text += f"\n[dim]({fmt(lo)}-{fmt(hi) if math.isfinite(hi) else 'beyond range'})[/dim]"
    return text


def _num(value) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.3f}"
