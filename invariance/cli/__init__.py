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
    """Console entry point: runs the CLI and turns user errors into clean messages.

    Called without ``argv`` (the ``invariance`` console script), the process ends with
    :func:`_fast_exit` once the command is done: TensorFlow's interpreter teardown would
    otherwise add about 2 s to every command. With ``argv`` (tests, other Python code)
    it returns or raises ``SystemExit`` as usual.
    """
    if argv is not None:
        return _main(argv)
    try:
        _main(None)
        code = 0
    except SystemExit as exit:
        code = exit.code
    _fast_exit(code)


def _fast_exit(code) -> None:
    """Flushes every output, then ends the process without the interpreter's teardown.

    Only for a finished command: its files are closed (all writes are atomic), worker
    pools and Ray are shut down, so nothing is left for atexit handlers but slow cleanup.
    """
    import logging
    import os

    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message") prints it and exits 1
        print(code, file=sys.stderr)
        code = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (e.g. `| head`) or a closed stream
            pass
    os._exit(code)


def _main(argv) -> None:
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
