"""``autoforecast inspect`` (a saved model) and ``autoforecast datasets`` (the shipped data)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from .common import Output, QuietOpt, check_writable, fail, user_errors


def describe(estimator) -> list[str]:
    """A few lines on what a fitted model is and what it was fitted on."""
    lines = [f"model: {type(estimator).__name__}"]
    names = getattr(estimator, "feature_names_in_", None)
    inputs = [str(c) for c in names] if names is not None else None
    n_inputs = getattr(estimator, "n_features_in_", "?")
    lines.append(f"inputs: {n_inputs} column(s)" + (f" ({', '.join(inputs[:12])}"
                                                   f"{', ...' if len(inputs) > 12 else ''})"
                                                   if inputs else ""))
    lines.append(f"targets: {', '.join(map(str, getattr(estimator, 'target_names_', [])))}")
    lines.append(f"horizon: {estimator.horizon}, lookback: {getattr(estimator, 'lookback_', '?')}")
    if hasattr(estimator, "segment_length_"):  # the recurrent forecasters' network
        covs = [str(names[c]) if names is not None else str(c) for c in estimator.covariate_idx_]
        lines.append(f"network: segments of {estimator.segment_length_} steps, normalisation "
                     f"{estimator._normalization_note()}, covariates {', '.join(covs) or 'none'}"
                     f"{' and the other targets' if estimator.covariates == 'all' else ''}, "
                     f"hidden size {estimator.hidden_size}, highway "
                     f"{'yes' if estimator.linear_skip else 'no'}")
    return lines


def inspect(
    ctx: typer.Context,
    model: Annotated[Path, typer.Argument(help="A model file written by `autoforecast fit`.",
                                          show_default=False)],
    graph: Annotated[Optional[Path], typer.Option(
        help="Draw the cell's graph to this picture (.png, .svg, .pdf).", show_default=False)] = None,
    history: Annotated[Optional[Path], typer.Option(
        help="Draw the search history (validation loss, nodes, growth events) to this picture.",
        show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the genotype as JSON only.")] = False,
    quiet: QuietOpt = False,
):
    """Show a saved model's cell (genotype), its skill report, and draw its graph or history."""
    from .. import load
    from .plots import check_picture_paths

    output = Output.from_flags(ctx, quiet, False)
    with user_errors():
        check_writable(graph, history)
        check_picture_paths(graph, history)
        estimator = load(model)
        genotype = getattr(estimator, "genotype_", None)
        if genotype is None and (as_json or graph is not None):
            fail(_no_cell(estimator, model) + ("" if as_json else " Leave out --graph."))
        if as_json:
            output.stdout.print_json(json.dumps(genotype.to_dict()))
            return
        for line in describe(estimator):
            output.result(line)
        output.result(f"cell: {genotype}" if genotype is not None
                      else f"cell: none ({type(estimator).__name__} is not a searched model)")
        report = getattr(estimator, "report_", None)
        if report is not None:
            output.table(report, "skill on the held-out part")
        if graph is not None:
            _draw_graph(estimator, genotype, model, graph, output)
        if history is not None:
            _draw_history(estimator, model, history, output)


def _no_cell(estimator, model: Path) -> str:
    return (f"{model} holds a {type(estimator).__name__}, which has no searched cell; only "
            "models fitted with `autoforecast fit --model autocell` have one.")


def _draw_graph(estimator, genotype, model: Path, path: Path, output: Output) -> None:
    from .plots import draw_cell, save_figure

    save_figure(draw_cell(genotype), path)
    output.note(f"cell graph written to {path}")


def _draw_history(estimator, model: Path, path: Path, output: Output) -> None:
    from .plots import draw_search_history, draw_training_history, save_figure

    records = getattr(estimator, "search_history_", None)
    if records:
        figure = draw_search_history(records)
    elif getattr(estimator, "history_", None):
        figure = draw_training_history(estimator.history_)
        output.note(f"{type(estimator).__name__} has no search; drawing its training history")
    else:
        fail(f"{model} holds a {type(estimator).__name__}, which keeps no search or training "
             "history to draw. Leave out --history.")
    save_figure(figure, path)
    output.note(f"history written to {path}")


def datasets(
    ctx: typer.Context,
    name: Annotated[Optional[str], typer.Argument(
        help="A data set to describe or write out (default: list them all).",
        show_default=False)] = None,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Write the data set to this CSV file.", show_default=False)] = None,
    quiet: QuietOpt = False,
):
    """List the data sets shipped with the package, or write one out as CSV to try things on."""
    from ..data import write_frame_csv
    from ..datasets import list_datasets, load_dataset

    output = Output.from_flags(ctx, quiet, False)
    with user_errors():
        if name is None:
            if out is not None:
                fail("--out needs a data set name, e.g. `autoforecast datasets appliances "
                     "--out appliances.csv`.")
            table = Table("name", "description", title="data sets shipped with autoforecast",
                          title_justify="left")
            for key, description in list_datasets().items():
                table.add_row(key, description)
            output.result(table)
            return
        check_writable(out)
        frame = load_dataset(name)
        if out is None:
            output.result(f"{name}: {frame.shape[0]} rows x {frame.shape[1]} columns, "
                          f"{frame.index[0]} to {frame.index[-1]}")
            output.result(f"columns: {', '.join(map(str, frame.columns))}")
            output.result(f"missing values: {int(frame.isna().to_numpy().sum())}")
            return
        write_frame_csv(frame, out, index_label=frame.index.name or "date")
        output.note(f"{name} ({frame.shape[0]} rows x {frame.shape[1]} columns) written to {out}")
