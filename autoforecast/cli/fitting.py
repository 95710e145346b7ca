"""``autoforecast fit`` and ``autoforecast predict``."""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import (ColumnsOpt, DataArg, DatasetOpt, DataSpec, Device, DeviceOpt, IdColumnOpt,
                     LastOpt, LevelOpt, Missing, MissingOpt, Output, SepOpt, QuietOpt, SeedOpt,
                     TimeColumnOpt, TimeFormatOpt, VerboseOpt, build_model, check_device,
                     check_options_apply, check_writable, coverages_of, fail, fit_with_progress,
                     given_options, long_target, user_errors)
from ..models import model_class, model_names
from ..presets import FORECASTER_PRESETS, preset
from ..settings import BACKBONES, COVARIATES, DERIVATIONS, MODES, NORMALIZATIONS


def choices(name: str, values) -> type[Enum]:
    """A Typer choice type of the library's ``values`` (read from :mod:`autoforecast.settings`,
    :mod:`autoforecast.models` and :mod:`autoforecast.presets`, which import no torch)."""
    return Enum(name, {value: value for value in values}, type=str)


Backbone = choices("Backbone", BACKBONES)
Mode = choices("Mode", MODES)
Derivation = choices("Derivation", DERIVATIONS)
Normalization = choices("Normalization", NORMALIZATIONS)
Covariates = choices("Covariates", COVARIATES)
FitModel = choices("FitModel", model_names())
Budget = choices("Budget", FORECASTER_PRESETS)

DerivationOpt = Annotated[Optional[Derivation], typer.Option(
    metavar="|".join(DERIVATIONS),
    help="How the search's weights become a cell: the argmax op of each node (docs/method.md), "
    "or prefer_nondegenerate: a node whose argmax op passes one input through (left/right, "
    "DARTS' identity) takes the best other op when that op's weight is at least half the "
    "argmax's. Default: argmax.", show_default=False)]
BudgetOpt = Annotated[Budget, typer.Option(
    help="Named sizes of search and training (autoforecast.presets): tiny (seconds), small "
    "(the library's defaults: what AutoCellForecaster() fits), medium, large. The single "
    "options (--epochs, ...) override them.")]

# The estimator parameters each option of `fit` sets ("search__x": the search setting x): an
# option given for a model that takes none of them is refused (``--backbone darts --model
# lstm``).
FIT_OPTIONS = {"lookback": ("lookback",), "backbone": ("search__backbone",),
               "mode": ("search__mode",), "derivation": ("search__derivation",),
               "segment_length": ("segment_length",), "normalization": ("normalization",),
               "covariates": ("covariates",), "linear_skip": ("linear_skip",),
               "budget": ("epochs", "hidden_size", "search"), "epochs": ("epochs",),
               "search_epochs": ("search__epochs",), "hidden_size": ("hidden_size",),
               "max_nodes": ("search__max_nodes",), "max_time": ("max_time",),
               "validation_size": ("validation_size",), "test_size": ("test_size",),
               "baseline": ("baselines",), "seed": ("random_state",), "device": ("device",),
               "future_covariate": ("future_covariates",)}

FutureCovariateOpt = Annotated[Optional[list[str]], typer.Option(
    "--future-covariate", help="A column whose future values are known (prices, holidays; "
    "repeat for several): the recurrent models (autocell, gru, lstm) read its values over the "
    "horizon, which `predict` takes with --future FILE and `evaluate` from the data. "
    "'calendar': sin/cos features of the time index (hour of day, day of week, ... by its "
    "frequency), which are computed, not given.",
    show_default=False)]


def future_covariates_of(values: Optional[list[str]]) -> list[str] | None:
    """The ``--future-covariate`` options as ``future_covariates`` (None: none given)."""
    return list(dict.fromkeys(values or [])) or None


LookbackOpt = Annotated[Optional[str], typer.Option(
    "--lookback", "-l", metavar="INTEGER|auto", help="Past steps the model reads (default: the "
    "model's own; 'auto' for the recurrent models: 30 segments, as far as the data allow; the "
    "others take their own default).", show_default=False)]


def lookback_of(value: Optional[str]):
    """The ``--lookback`` option as the estimators take it: None, "auto" or an int >= 1."""
    if value is None or value.strip().lower() == "auto":
        return None if value is None else "auto"
    try:
        lookback = int(value)
    except ValueError:
        lookback = 0
    if lookback < 1:
        fail(f"--lookback must be a whole number of steps >= 1 or 'auto', got {value!r}.")
    return lookback


def lookback_for(name: str, lookback, output: Output):
    """The lookback to give model ``name``: "auto" only to a model whose own default is "auto"
    (the recurrent ones); another one keeps its default lookback, said in a note."""
    if lookback != "auto":
        return lookback
    def default(model: str):
        return model_class(model)().get_params().get("lookback")

    if default(name) != "auto":
        shown = "its season" if default(name) is None else default(name)
        takers = ", ".join(m for m in model_names() if default(m) == "auto")
        output.note(f"note: --lookback auto: --model {name} has no automatic lookback; it reads "
                    f"its default, {shown} (auto works for {takers}).")
        return None
    return lookback
OutOpt = Annotated[Optional[Path], typer.Option(
    "--out", "-o", help="Write the fitted model here (joblib file).", show_default=False)]
TargetOpt = Annotated[Optional[list[str]], typer.Option(
    "--target", "-t", help="Column to forecast (repeat for several; default: all; long data: "
    "its one target column, default y).",
    show_default=False)]


def fit(
    ctx: typer.Context,
    data: DataArg = None,
    out: OutOpt = None,
    dataset: DatasetOpt = None,
    target: TargetOpt = None,
    column: ColumnsOpt = None,
    id_column: IdColumnOpt = None,
    time_column: TimeColumnOpt = "auto",
    time_format: TimeFormatOpt = None,
    sep: SepOpt = ",",
    horizon: Annotated[int, typer.Option("--horizon", "-H", min=1,
                                         help="Steps to forecast.")] = 1,
    lookback: LookbackOpt = None,
    segment_length: Annotated[Optional[int], typer.Option(
        min=1, help="Steps a segment of the recurrent network (default: from the time index; "
        "24 for hourly data).", show_default=False)] = None,
    normalization: Annotated[Optional[Normalization], typer.Option(
        help="How the model normalises each window: minus its last value (the recurrent models' "
        "default), RevIN (mean and standard deviation), none (the linear model's default), or "
        "auto: the one whose least-squares map forecasts the last fifth of the training "
        "windows best.", show_default=False)] = None,
    covariates: Annotated[Optional[Covariates], typer.Option(
        help="Columns the recurrent network reads beside each target: the non-target columns "
        "(others, the default), those and the other targets (all), or none.",
        show_default=False)] = None,
    linear_skip: Annotated[bool, typer.Option(
        "--linear-skip/--no-linear-skip", help="Add a linear highway from each normalised window "
        "to its forecast.")] = False,
    future_covariate: FutureCovariateOpt = None,
    model: Annotated[FitModel, typer.Option(
        help="What to fit: the searched cell (autocell) or a reference model.")] = FitModel("autocell"),
    backbone: Annotated[Optional[Backbone], typer.Option(
        help="Search space of the cell (default: two_input).", show_default=False)] = None,
    mode: Annotated[Optional[Mode], typer.Option(
        help="How the search grows and prunes nodes (default: grow_then_prune).",
        show_default=False)] = None,
    derivation: DerivationOpt = None,
    budget: BudgetOpt = Budget("small"),
    epochs: Annotated[Optional[int], typer.Option(min=1, help="Retraining epochs (overrides the budget).",
                                                  show_default=False)] = None,
    search_epochs: Annotated[Optional[int], typer.Option(min=1, help="Search epochs (overrides the budget).",
                                                         show_default=False)] = None,
    hidden_size: Annotated[Optional[int], typer.Option(min=1, help="Hidden units (overrides the budget).",
                                                       show_default=False)] = None,
    max_nodes: Annotated[Optional[int], typer.Option(min=1, help="Largest cell (overrides the budget).",
                                                     show_default=False)] = None,
    max_time: Annotated[Optional[float], typer.Option(min=1, help="Stop searching/training after "
                                                      "this many seconds.", show_default=False)] = None,
    validation_size: Annotated[float, typer.Option(min=0.0, max=0.9,
                                                   help="Part of the rows used to select.")] = 0.2,
    test_size: Annotated[float, typer.Option(min=0.0, max=0.9,
                                             help="Last part of the rows held out for the skill report.")] = 0.2,
    baseline: Annotated[Optional[list[str]], typer.Option(
        "--baseline", "-b", help="Reference model in the skill report: "
        f"{', '.join(model_names(baseline=True))} (repeat; default: the library's, naive, lstm "
        "and arima; 'none' for no report).", show_default=False)] = None,
    seed: SeedOpt = 0,
    device: DeviceOpt = Device.auto,
    missing: MissingOpt = Missing.raise_,
    last: LastOpt = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
):
    """Search a recurrent cell for the series (or fit a reference model) and save the model."""
    output = Output.from_flags(ctx, quiet, verbose)
    with user_errors():
        check_options_apply({o: FIT_OPTIONS[o] for o in given_options(ctx, FIT_OPTIONS)},
                            [model.value])
        check_writable(out)
        check_device(device.value)
        given = given_options(ctx, ["validation_size", "test_size"])
        lookback = lookback_for(model.value, lookback_of(lookback), output)
        spec = data_spec(data, dataset, time_column, time_format, column, last, sep, id_column,
                         target)
        frame = spec.load()
        long = spec.long_names is not None
        if not long:
            check_regular_times(frame, spec.name)
        settings = {**preset(budget.value), "lookback": lookback, "horizon": horizon,
                    "target": None if long else target or None, "validation_size": validation_size,
                    "test_size": test_size, "missing": missing.value,
                    "search__backbone": value_of(backbone), "search__mode": value_of(mode),
                    "search__derivation": value_of(derivation), "device": device.value,
                    "max_time": max_time, "segment_length": segment_length,
                    "normalization": value_of(normalization),
                    "covariates": value_of(covariates), "linear_skip": linear_skip,
                    "future_covariates": future_covariates_of(future_covariate),
                    "random_state": seed, "baselines": baselines_of(baseline),
                    "epochs": epochs, "search__epochs": search_epochs,
                    "hidden_size": hidden_size, "search__max_nodes": max_nodes}
        if model.value != "autocell":  # no skill report: the model's own parts, unless asked
            settings.update({k: None for k in ("validation_size", "test_size") if k not in given})
        estimator = build_model(model.value, settings)
        output.note(f"fitting {type(estimator).__name__} on {spec.name}: {spec.describe(frame)}, "
                    f"horizon {horizon}, lookback {lookback or 'the model default'}")
        fit_with_progress(estimator, frame, output, **spec.keywords())
        held_out = held_out_note(estimator)
        if held_out:
            output.note(held_out)
        show_fitted(estimator, output)
        if out is not None:
            from .. import save

            save(estimator, out)
            output.note(f"model saved to {out}")
        else:
            output.note("note: the model was not saved (no --out); pass --out FILE to keep it.")


def data_spec(data, dataset, time_column, time_format, column, last, sep, id_column,
              target) -> DataSpec:
    """The data of `fit` and `evaluate`: wide, or long (recognised, or ``--id-column``), whose
    ``--target`` is one column."""
    spec = DataSpec(data, dataset, time_column, time_format, column, last, sep, id_column)
    return spec if spec.long_names is None else replace(spec, target=long_target(target))


def held_out_note(estimator) -> str | None:
    """What a model was not trained on, and why (None: it saw every row, or its skill report
    shows the held-out part)."""
    split = getattr(estimator, "split_", None)
    if split is None or getattr(estimator, "report_", None) is not None:
        return None
    parts = []
    if split.n_val:
        use = ("for validation (the search and early stopping)"
               if hasattr(estimator, "search") else
               "for validation (early stopping)" if hasattr(estimator, "patience") else "unused")
        each = " (the last ones of each series)" if hasattr(split, "splits") else ""
        parts.append(f"the next {split.n_val}{each} (--validation-size "
                     f"{estimator.validation_size:g}) {use}")
    warned = hasattr(estimator, "search") and hasattr(split, "splits")  # autocell, long: a note
    if split.n_test and not warned:
        parts.append(f"the last {split.n_test} (--test-size {estimator.test_size:g}) held out, "
                     "unused: no skill report is made")
    if not parts:
        return None
    splits = getattr(split, "splits", None)  # a long frame's: one split per series
    trained = (f"the first {split.train_end} of {split.n_rows} rows" if splits is None else
               f"the first {sum(s.train_end for s in splits)} of {split.n_rows} rows, the "
               f"first part of each of its {len(splits)} series")
    return f"note: {type(estimator).__name__} was trained on {trained}; {'; '.join(parts)}."


def check_regular_times(frame, name: str) -> None:
    """Refuse timestamps without a regular step (missing rows are fine: ``--missing`` fills
    them): the forecast's own timestamps could not be known, and would be row numbers."""
    import pandas as pd

    from ..data.timeindex import describe_steps, gapless_index, infer_freq

    index = frame.index
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 3 or infer_freq(index) is not None:
        return  # not timestamps, or regular ones
    if gapless_index(index) is None:
        fail(f"{name}: the time column {index.name!r} steps irregularly (by "
             f"{describe_steps(index)}), so the forecast's timestamps cannot be known; expected "
             "a regular step (rows missing from it are fine: --missing fills them). Resample the "
             "data to a regular step, or forecast by row number with --time-column none and "
             "--column for the value columns.")


def baselines_of(names: Optional[list[str]]) -> Optional[tuple]:
    """The ``baselines`` parameter from the ``--baseline`` options (None: the library's)."""
    if not names:
        return None
    return () if names == ["none"] else tuple(dict.fromkeys(names))


def value_of(choice: Optional[Enum]):
    """A choice option's value; None when it was not given (the library's default)."""
    return None if choice is None else choice.value


def show_fitted(estimator, output: Output) -> None:
    """The discovered cell and the skill report of a fitted estimator (what it has of them)."""
    genotype = getattr(estimator, "genotype_", None)
    if genotype is not None:
        output.result(f"cell: {genotype}")
    report = getattr(estimator, "report_", None)
    if report is not None:
        output.table(report, "skill on the held-out part")
    if genotype is None and report is None:
        output.result(f"fitted {type(estimator).__name__}: a reference model, with no searched "
                      "cell and no skill report (`autoforecast evaluate` compares models).")


def predict(
    ctx: typer.Context,
    model: Annotated[Path, typer.Argument(help="A model file written by `autoforecast fit`.",
                                          show_default=False)],
    data: DataArg = None,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Write the forecast here (CSV); default: print it.",
        show_default=False)] = None,
    plot: Annotated[Optional[Path], typer.Option(
        help="Draw the recent history and the forecast to this picture (.png, .svg, .pdf).",
        show_default=False)] = None,
    history: Annotated[int, typer.Option(min=1, help="Rows of history the picture shows (of "
                                         "each series).")] = 200,
    series: Annotated[Optional[list[str]], typer.Option(
        "--series", help="Long data: a series the picture shows (repeat; default: the first "
        f"{PLOTTED_SERIES}).", show_default=False)] = None,
    level: LevelOpt = None,
    future: Annotated[Optional[Path], typer.Option(
        "--future", help="CSV file of the known-future covariates' values over the horizon "
        "(a model fitted with --future-covariate): the same layout as the data, wide (a time "
        "column) or long (id and time columns).", show_default=False)] = None,
    dataset: DatasetOpt = None,
    id_column: IdColumnOpt = None,
    time_column: TimeColumnOpt = "auto",
    time_format: TimeFormatOpt = None,
    sep: SepOpt = ",",
    missing: Annotated[Optional[Missing], typer.Option(
        help="Policy for empty cells (default: the one the model was fitted with).",
        show_default=False)] = None,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
):
    """Forecast the `horizon` steps after the end of the data, with their timestamps, and with
    --level the prediction intervals (columns <target>_lo_<level>, <target>_hi_<level>)."""
    from .. import load
    from ..data import write_frame_csv

    output = Output.from_flags(ctx, quiet, verbose)
    with user_errors():
        check_writable(out, plot)
        from .plots import check_picture_paths

        check_picture_paths(plot)
        coverages = coverages_of(level, output)
        estimator = load(model)
        fitted = getattr(estimator, "long_columns_", None)  # the long frame's columns, or None
        if fitted is None and series:
            fail("--series picks series of long data; this model was fitted on a wide series "
                 "(its picture shows every target).")
        if fitted is not None:
            spec = DataSpec(data, dataset, time_column if time_column != "auto" else fitted.time,
                            time_format, estimator.long_features_[1:], sep=sep,
                            id_column=id_column or fitted.id, target=fitted.target, long=True)
        else:
            columns = getattr(estimator, "feature_names_in_", None)
            spec = DataSpec(data, dataset, time_column, time_format,
                            [str(c) for c in columns] if columns is not None else None, sep=sep,
                            id_column=id_column)
            if spec.long_names is not None:
                fail(f"{spec.name} is long data (columns {spec.long_names.id}, "
                     f"{spec.long_names.time}), but this {type(estimator).__name__} was fitted "
                     "on a wide series; refit it on the long file to forecast its series.")
        frame = spec.load()
        if spec.long_names is None:
            check_regular_times(frame, spec.name)
        if missing is not None:
            estimator.set_params(missing=missing.value)
        keywords = spec.keywords()
        if future is not None:
            keywords["future"] = replace(spec, path=future, dataset=None, columns=None,
                                         target=None, last=None).load_future()
        if fitted is not None:
            ids = plotted_series(frame, spec.long_names.id, series) if plot is not None else None
            table = (estimator.predict_interval(frame, coverages, **keywords) if coverages
                     else estimator.predict(frame, **keywords))
            write_long(table, spec.long_names, out, output)
            if plot is not None:
                from .plots import draw_long_forecast, save_figure

                save_figure(draw_long_forecast(frame, table, spec.long_names, ids, history,
                                               coverages), plot)
                output.note(f"picture written to {plot}")
            return
        forecast = estimator.predict(frame, **keywords)
        bands = estimator._intervals_around(frame, forecast, coverages) if coverages else None
        label = frame.index.name or ("time" if hasattr(frame.index, "tz") else "step")
        table = with_interval_columns(forecast, bands)
        table.index.name = label
        if out is None:
            output.result(table.to_csv(index_label=label).rstrip("\n"))
        else:
            write_frame_csv(table, out, index_label=label)
            output.note(f"forecast of {len(forecast)} step(s) written to {out}")
        if plot is not None:
            from .plots import draw_forecast, save_figure

            save_figure(draw_forecast(frame[forecast.columns].iloc[-history:], forecast, bands),
                        plot)
            output.note(f"picture written to {plot}")


PLOTTED_SERIES = 4  # series a picture of long data shows without --series


def plotted_series(frame, id_column: str, asked: Optional[list[str]]) -> list:
    """The ids of the series to draw: those ``asked`` (matched as text), else the first
    ``PLOTTED_SERIES`` in id order; an unknown one fails (before the forecast)."""
    ids = sorted(frame[id_column].unique())
    if not asked:
        return ids[:PLOTTED_SERIES]
    by_text = {str(key): key for key in ids}
    unknown = [name for name in asked if name not in by_text]
    if unknown:
        shown = ", ".join(map(str, ids[:10])) + (", ..." if len(ids) > 10 else "")
        fail(f"--series {unknown[0]}: no such series in the data ({len(ids)} series: {shown}).")
    return [by_text[name] for name in dict.fromkeys(asked)]


def write_long(table, names, out: Optional[Path], output: Output) -> None:
    """A long forecast as CSV (columns id, time, target and the bounds): printed, or written
    to ``out``."""
    from ..data import write_frame_csv

    if out is None:
        output.result(table.to_csv(index=False).rstrip("\n"))
        return
    write_frame_csv(table.set_index(names.id), out)
    output.note(f"forecast of {table[names.id].nunique()} series x "
                f"{len(table) // max(table[names.id].nunique(), 1)} step(s) written to {out}")


def with_interval_columns(forecast, bands):
    """The forecast with, after each target's column, its bounds as plain columns
    ``<target>_lo_<level>``, ``<target>_hi_<level>`` (``bands``: ``predict_interval``'s frame,
    or None)."""
    import pandas as pd

    from ..intervals import level_label

    if bands is None:
        return forecast.copy()
    columns = {}
    for target in forecast.columns:
        columns[str(target)] = forecast[target]
        for coverage in bands.columns.unique("coverage"):
            for side, bound in (("lo", "lower"), ("hi", "upper")):
                columns[f"{target}_{side}_{level_label(coverage)}"] = bands[(target, coverage,
                                                                             bound)]
    return pd.DataFrame(columns, index=forecast.index)
