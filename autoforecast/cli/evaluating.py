"""``autoforecast evaluate``: backtest several models on the last part of a series, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import pandas as pd
import typer

from ..files import atomic_path
from ..models import model_names
from .common import (ColumnsOpt, DataArg, DatasetOpt, Device, DeviceOpt, IdColumnOpt, LastOpt,
                     Missing, MissingOpt, Output, SepOpt, ProgressView, QuietOpt,
                     SeedOpt, TimeColumnOpt, TimeFormatOpt, VerboseOpt, build_model, check_device,
                     check_options_apply, check_writable, coverages_of, fail, given_options,
                     notes_from_warnings, user_errors)
from ..presets import preset
from .fitting import (FIT_OPTIONS, Budget, BudgetOpt, FutureCovariateOpt, LookbackOpt,
                      TargetOpt, data_spec, future_covariates_of, lookback_for, lookback_of)

DEFAULT_MODELS = ["autocell", "lstm", "arima", "naive"]
# The estimator parameters each option of `evaluate` sets: one that none of the models compared
# takes is refused.
EVALUATE_OPTIONS = {"budget": FIT_OPTIONS["budget"], "epochs": ("epochs",),
                    "hidden_size": ("hidden_size",), "seed": ("random_state",),
                    "device": ("device",), "future_covariate": FIT_OPTIONS["future_covariate"]}


def markdown_table(table: pd.DataFrame, digits: int = 4) -> str:
    """A DataFrame as a GitHub-flavoured Markdown table (index first)."""
    def cell(value):
        return f"{value:.{digits}g}" if isinstance(value, (float, np.floating)) else str(value)

    header = [str(table.index.name or "")] + [str(c) for c in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, row in table.iterrows():
        lines.append("| " + " | ".join([str(label)] + [cell(v) for v in row]) + " |")
    return "\n".join(lines) + "\n"


def evaluate(
    ctx: typer.Context,
    data: DataArg = None,
    model: Annotated[Optional[list[str]], typer.Option(
        "--model", "-m", help=f"Model to compare: {', '.join(model_names())} (repeat; default: "
        f"{', '.join(DEFAULT_MODELS)}).", show_default=False)] = None,
    reference: Annotated[Optional[str], typer.Option(
        help="Model whose skill the table shows against the others (default: the first).",
        show_default=False)] = None,
    dataset: DatasetOpt = None,
    target: TargetOpt = None,
    column: ColumnsOpt = None,
    id_column: IdColumnOpt = None,
    time_column: TimeColumnOpt = "auto",
    time_format: TimeFormatOpt = None,
    sep: SepOpt = ",",
    horizon: Annotated[int, typer.Option("--horizon", "-H", min=1, help="Steps to forecast.")] = 1,
    lookback: LookbackOpt = None,
    future_covariate: FutureCovariateOpt = None,
    test_size: Annotated[float, typer.Option(
        min=0.0, help="Last part backtested: a fraction (0.2) or a number of rows.")] = 0.2,
    budget: BudgetOpt = Budget("small"),
    epochs: Annotated[Optional[int], typer.Option(min=1, help="Training epochs (overrides the budget).",
                                                  show_default=False)] = None,
    hidden_size: Annotated[Optional[int], typer.Option(min=1, help="Hidden units (overrides the budget).",
                                                       show_default=False)] = None,
    seed: SeedOpt = 0,
    device: DeviceOpt = Device.auto,
    missing: MissingOpt = Missing.raise_,
    last: LastOpt = None,
    level: Annotated[Optional[list[float]], typer.Option(
        "--level", help="Prediction interval whose coverage and width the table shows, in "
        "percent (repeat; default: 90).", show_default=False)] = None,
    csv: Annotated[Optional[Path], typer.Option(help="Also write the table as CSV.",
                                                show_default=False)] = None,
    markdown: Annotated[Optional[Path], typer.Option(help="Also write the table as Markdown.",
                                                     show_default=False)] = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
):
    """Backtest models on the last part of the series and print a comparison table, with the
    empirical coverage and mean width of each model's prediction intervals (--level)."""
    from ..data import write_frame_csv  # the library loads torch: only when a command runs
    from ..evaluation import compare_models, n_test_rows

    output = Output.from_flags(ctx, quiet, verbose)
    with user_errors():
        names = list(dict.fromkeys(model or DEFAULT_MODELS))
        reference = reference or names[0]
        if reference not in names:
            fail(f"--reference {reference!r} is not among the models compared ({', '.join(names)}).")
        check_options_apply({o: EVALUATE_OPTIONS[o] for o in given_options(ctx, EVALUATE_OPTIONS)},
                            names)
        check_writable(csv, markdown)
        check_device(device.value)
        coverages = coverages_of(level or [90.0], output)
        lookback = lookback_of(lookback)
        spec = data_spec(data, dataset, time_column, time_format, column, last, sep, id_column,
                         target)
        frame = spec.load()
        long = spec.long_names
        settings = {**preset(budget.value), "lookback": lookback, "horizon": horizon,
                    "target": None if long is not None else target or None, "test_size": 0.0, "baselines": (), "missing": missing.value,
                    "device": device.value, "random_state": seed}
        settings.update(epochs=epochs, hidden_size=hidden_size,
                        future_covariates=future_covariates_of(future_covariate))
        models = {name: build_model(name, {**settings,
                                           "lookback": lookback_for(name, lookback, output)})
                  for name in names}
        test_rows = test_size if test_size < 1 else int(test_size)
        with notes_from_warnings(output), ProgressView(output) as view:
            table = compare_models(models, frame, test_rows, reference,
                                   callback=lambda event: _show(event, view, output),
                                   coverage=coverages, **spec.keywords())
        tested = (f"the last {n_test_rows(len(frame), test_rows)} rows" if long is None else
                  f"the last {f'{test_rows} rows' if test_size >= 1 else f'{100 * test_size:g} %'} "
                  "of each of "
                  f"{frame[long.id].nunique()} series")
        output.table(table, f"backtest on {tested}, horizon {horizon}; "
                            f"skill_*: {reference} against each; coverage_*, width_*: the "
                            "prediction intervals' (NaN: too few calibration residuals)")
        if csv is not None:
            write_frame_csv(table, csv)
            output.note(f"table written to {csv}")
        if markdown is not None:
            with atomic_path(markdown, suffix=".md") as tmp:
                tmp.write_text(markdown_table(table))
            output.note(f"table written to {markdown}")


def _show(event, view, output: Output) -> None:
    """Progress of the fits as bars; each model's result line as a note."""
    if event.stage == "evaluate":
        output.note(event.message)
    else:
        view(event)
