"""``autoforecast evaluate``: backtest several models on the last part of a series, side by side."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import pandas as pd
import typer

from .common import (ColumnsOpt, DataArg, DatasetOpt, DataSpec, Device, DeviceOpt, LastOpt, Missing,
                     MissingOpt, Output, QuietOpt, SeedOpt, TimeColumnOpt, TimeFormatOpt, VerboseOpt,
                     build_model, check_device, check_writable, fail, fit_with_progress, user_errors)
from .fitting import BUDGETS, Budget, TargetOpt

DEFAULT_MODELS = ["autocell", "lstm", "arima", "naive"]


def n_test_rows(n_rows: int, test_size: float) -> int:
    """Rows in the test part: a fraction of ``n_rows`` when < 1, else a count."""
    from ..data.splits import n_rows_of

    n_test = n_rows_of(test_size if test_size < 1 else int(test_size), n_rows, "--test-size")
    if not 1 <= n_test < n_rows:
        fail(f"--test-size {test_size} gives {n_test} test row(s) out of {n_rows}; expected at "
             "least 1 and fewer than all rows. Pass a fraction such as 0.2 or a row count.")
    return n_test


def backtest_models(models: dict, frame: pd.DataFrame, n_test: int, output: Output):
    """Fit each model on the rows before the last ``n_test`` and forecast from every origin in
    them. Returns ``truth`` and ``{name: forecast}`` as ``(n_origins, horizon, n_targets)``,
    and the fit times in seconds."""
    from ..evaluation import backtest_arrays

    train_end = len(frame) - n_test
    truth, forecasts, seconds = None, {}, {}
    for name, estimator in models.items():
        started = time.perf_counter()
        fit_with_progress(estimator, frame.iloc[:train_end], output, stage=f"fit {name}")
        seconds[name] = time.perf_counter() - started
        _, origins, truth, forecasts[name] = backtest_arrays(estimator, frame, start=train_end)
        output.note(f"{name}: fitted in {seconds[name]:.1f} s, {len(origins)} forecast origin(s)")
    return truth, forecasts, seconds


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
        "--model", "-m", help="Model to compare: autocell, lstm, arima, linear, naive (repeat; "
        "default: autocell, lstm, arima, naive).", show_default=False)] = None,
    reference: Annotated[Optional[str], typer.Option(
        help="Model whose skill the table shows against the others (default: the first).",
        show_default=False)] = None,
    dataset: DatasetOpt = None,
    target: TargetOpt = None,
    column: ColumnsOpt = None,
    time_column: TimeColumnOpt = "auto",
    time_format: TimeFormatOpt = None,
    horizon: Annotated[int, typer.Option("--horizon", "-H", min=1, help="Steps to forecast.")] = 1,
    lookback: Annotated[int, typer.Option("--lookback", "-l", min=1,
                                          help="Past steps the models read.")] = 24,
    test_size: Annotated[float, typer.Option(
        min=0.0, help="Last part backtested: a fraction (0.2) or a number of rows.")] = 0.2,
    budget: Annotated[Budget, typer.Option(help="Training size of the neural models.")] = Budget.small,
    epochs: Annotated[Optional[int], typer.Option(min=1, help="Training epochs (overrides the budget).",
                                                  show_default=False)] = None,
    hidden_size: Annotated[Optional[int], typer.Option(min=1, help="Hidden units (overrides the budget).",
                                                       show_default=False)] = None,
    seed: SeedOpt = 0,
    device: DeviceOpt = Device.auto,
    missing: MissingOpt = Missing.raise_,
    last: LastOpt = None,
    csv: Annotated[Optional[Path], typer.Option(help="Also write the table as CSV.",
                                                show_default=False)] = None,
    markdown: Annotated[Optional[Path], typer.Option(help="Also write the table as Markdown.",
                                                     show_default=False)] = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
):
    """Backtest models on the last part of the series and print a comparison table."""
    from ..data import write_frame_csv
    from ..evaluation import skill_table
    from ..files import atomic_path

    output = Output.from_flags(ctx, quiet, verbose)
    with user_errors():
        check_writable(csv, markdown)
        check_device(device.value)
        names = list(dict.fromkeys(model or DEFAULT_MODELS))
        reference = reference or names[0]
        if reference not in names:
            fail(f"--reference {reference!r} is not among the models compared ({', '.join(names)}).")
        frame = DataSpec(data, dataset, time_column, time_format, column, last).load()
        n_test = n_test_rows(len(frame), test_size)
        settings = {**BUDGETS[budget.value], "lookback": lookback, "horizon": horizon,
                    "target": target or None, "test_size": 0.0, "baselines": (), "missing": missing.value,
                    "device": device.value, "random_state": seed}
        settings.update({k: v for k, v in dict(epochs=epochs, hidden_size=hidden_size).items()
                         if v is not None})
        models = {name: build_model(name, settings) for name in names}
        truth, forecasts, seconds = backtest_models(models, frame, n_test, output)
        table = skill_table(truth, forecasts, reference, fit_seconds=seconds)
        output.table(table, f"backtest on the last {n_test} rows, horizon {horizon}; "
                            f"skill_*: {reference} against each")
        if csv is not None:
            write_frame_csv(table, csv)
            output.note(f"table written to {csv}")
        if markdown is not None:
            with atomic_path(markdown, suffix=".md") as tmp:
                tmp.write_text(markdown_table(table))
            output.note(f"table written to {markdown}")
