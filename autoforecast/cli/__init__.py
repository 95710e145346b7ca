"""The ``autoforecast`` command line (Typer): one function per command, each a thin shell over
the library. Errors of the input become one line on stderr and exit code 1 (Ctrl-C: 130);
progress is drawn as bars on a terminal, as log lines with ``--verbose``, and not at all with
``--quiet`` or when stderr is not a terminal.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from .. import __version__
from .evaluating import evaluate
from .fitting import fit, predict
from .inspection import datasets, inspect
from .lm import lm_app

app = typer.Typer(
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
