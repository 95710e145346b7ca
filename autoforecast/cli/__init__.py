"""The ``autoforecast`` command line (Typer): one function per command, each a thin shell over
the library. Errors of the input become one line on stderr and exit code 1 (Ctrl-C: 130);
progress is drawn as bars on a terminal, as log lines with ``--verbose``, and not at all with
``--quiet`` or when stderr is not a terminal.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from .. import __version__
from .evaluating import evaluate
from .fitting import fit, predict
from .inspection import datasets, inspect
from .lm import lm_app

class OneLineUsageErrors(TyperGroup):
    """A usage error (an unknown option, an invalid value: ``-H 0``, ``--level abc``) reads as
    every other error: one line ``error: ...`` on stderr and exit code 1, not a usage box."""

    def make_context(self, *args, **kwargs):
        with usage_errors_in_one_line():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx):
        with usage_errors_in_one_line():
            return super().invoke(ctx)


class usage_errors_in_one_line:  # noqa: N801 (a context manager, used like a function)
    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        # by name: typer may ship its own copy of click
        kinds = {cls.__name__ for cls in type(error).__mro__} if error is not None else set()
        if "UsageError" not in kinds or "NoArgsIsHelpError" in kinds:
            return False  # "no arguments" shows the help, as it should
        message = error.format_message().rstrip(".").replace("Value error, ", "")
        message = message[:1].lower() + message[1:]
        where = f"; see `{error.ctx.command_path} --help`" if error.ctx is not None else ""
        typer.echo(f"error: {message}{where}.", err=True)
        raise typer.Exit(1) from None


app = typer.Typer(
    cls=OneLineUsageErrors,
    name="autoforecast",
    no_args_is_help=True,
    help="Forecast time series with recurrent cells found by architecture search.",
    context_settings={"help_option_names": ["--help", "-h"]},
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"autoforecast {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[Optional[bool], typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version and exit.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Quiet for every command.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Verbose for every command.")] = False,
):
    """Forecast time series with recurrent cells found by architecture search.

    Start with `autoforecast datasets`, then `autoforecast fit --dataset appliances ...`.
    """
    ctx.obj = {"quiet": quiet, "verbose": verbose}


app.command()(fit)
app.command()(predict)
app.command()(evaluate)
app.command()(inspect)
app.command()(datasets)
app.add_typer(lm_app)

__all__ = ["app", "main"]
