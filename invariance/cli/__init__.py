"""The ``invariance`` command line.

Each subcommand lives in its own module ``invariance/cli/<name>.py`` that defines a
click command called ``command``. The group finds them lazily, so ``invariance --help``
stays fast and a new subcommand needs no registration here.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys

import click

from invariance.errors import InvarianceError


class _LazyGroup(click.Group):
    def list_commands(self, ctx):
        names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
        return sorted(n.replace("_", "-") for n in names)

    def get_command(self, ctx, name):
        if name not in self.list_commands(ctx):
            return None
        module = importlib.import_module(f"{__name__}.{name.replace('-', '_')}")
        return module.command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="invariance")
def cli():
    """Measure how architecture and augmentation shape a CNN's invariance to shifts,
    rotations and scalings, and how much data each design needs."""


def main(argv=None) -> None:
    """Console entry point: runs the CLI and turns user errors into clean messages."""
    import invariance  # noqa: F401  (chooses the Keras backend before keras loads)

    try:
        cli.main(args=argv, standalone_mode=False, prog_name="invariance")
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except InvarianceError as err:
        click.secho(f"Error: {err}", fg="red", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
