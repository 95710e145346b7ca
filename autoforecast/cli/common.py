"""What every command shares: error reporting, output verbosity, progress, data and models."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import warnings
from dataclasses import dataclass, field, replace
from functools import cached_property
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                           TimeElapsedColumn)
from rich.table import Table

from ..events import ProgressEvent
from ..models import model_class

# ------------------------------------------------------------------------------------ errors
def _user_error_types() -> tuple:
    """The exception types that mean "the input or the environment is wrong", not "a bug": the
    CLI shows them as one line. Anything else keeps its traceback."""
    from ..training import TrainingDivergedError

    return (ValueError, OSError, TrainingDivergedError)


@contextlib.contextmanager
def user_errors():
    """Turn known errors into ``error: ...`` on stderr and exit 1 (Ctrl-C: exit 130)."""
    try:
        yield
    except KeyboardInterrupt:
        typer.echo("error: interrupted; no output file was written or changed.", err=True)
        raise typer.Exit(code=130) from None
    except _user_error_types() as error:
        typer.echo(f"error: {_one_line(error)}", err=True)
        raise typer.Exit(code=1) from None


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, OSError) and error.filename and str(error.filename) not in text:
        text = f"{text}: {error.filename}"
    return in_cli_terms(text)


# The library's messages name its parameters as Python does (``missing='ffill'``); on the
# command line they read as the options that set them (``--missing ffill``). Phrases about a
# parameter the command line has no option for are said in its terms.
CLI_PHRASES = (
    (r"a conformal quantile at level ([0-9.]+)",
     lambda m: f"a {_percent(m[1])} interval (--level {100 * float(m[1]):g})"),
    (r"the last calibration_size=([0-9.]+) of the training part; refit with a larger "
     r"calibration_size or a longer series\.",
     lambda m: f"the last {_percent(m[1])} of the training part (the command line keeps this "
               "share); fit on a longer series, or ask for a lower --level."),
    (r"refit with a larger validation_size \(e\.g\. 0\.2\)\.",
     "fit with a larger --validation-size or on a longer series, or ask for a lower --level."),
    (r"set the time column as the index", "name the time column with --time-column"),
    (r"compare models on a long frame with compare_models or backtest",
     "compare models with `autoforecast evaluate`"),
    (r"Pass the separator: read_series_csv\(path, sep=[^)]*\), or (?P<flag>--sep .+?) on the "
     r"command line\.", r"Pass the separator: \g<flag>."),
    (r"\b(id|time)_col(?:umn)?=(?=['\w])", r"--\1-column "),
    (r"\b(id|time)_col(?:umn)?=", r"--\1-column"),
    (r"\btarget_col=(?=['\w])", "--target "),
    (r"\btarget_col=", "--target"),
    (r"predict\(future=\.\.\.\)", "`predict --future FILE`"),
    (r"`future_covariates`", "--future-covariate"),
    (r"\bfuture=(?=[\s(])", "--future"),
    (r"\bX's\b", "the data's"),
    (r"\bX (contains|must|has)\b", r"the data \1"),
)
CLI_OPTIONS = ("missing", "validation_size", "test_size", "lookback", "horizon", "time_format",
               "target", "sep", "max_time")


def in_cli_terms(text: str) -> str:
    """A library message as the command line says it: option names for parameter names."""
    for pattern, replacement in CLI_PHRASES:
        text = re.sub(pattern, replacement, text)
    names = "|".join(CLI_OPTIONS)
    flag = lambda m: "--" + m["name"].replace("_", "-")  # noqa: E731
    text = re.sub(rf"(?<![-\w])(?P<name>{names})=(?P<q>'?)(?P<value>[^'\s,;)]*)(?P=q)",
                  lambda m: f"{flag(m)} {m['value']}", text)
    text = re.sub(rf"`(?P<name>{names})`", flag, text)
    return re.sub(r"(?<![-\w])(?P<name>validation_size|test_size)\b", flag, text)


def _percent(fraction: str) -> str:
    value = float(fraction)
    return f"{100 * value:g} %" if value < 1 else f"{value:g} rows"


@contextlib.contextmanager
def notes_from_warnings(output: "Output"):
    """Show the library's :class:`~autoforecast.data.InputWarning` s as notes on stderr, each
    once, in the command line's terms (other warnings pass as they are)."""
    from ..data.errors import InputWarning

    caught: list = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", InputWarning)
            yield
    finally:
        shown = set()
        for item in caught:
            if not issubclass(item.category, InputWarning):
                warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)
                continue
            text = in_cli_terms(" ".join(str(item.message).split()))
            if text not in shown:
                shown.add(text)
                output.note(f"note: {text}")


def fail(message: str):
    """Stop a command with ``error: message`` (the command's own checks use this)."""
    raise ValueError(message)


def check_writable(*paths: Optional[Path]) -> None:
    """Fail now, not after a long fit, when one of ``paths`` (None: not asked for) cannot be
    written."""
    for path in paths:
        if path is None:
            continue
        if path.is_dir():
            fail(f"cannot write to {path}: it is a folder; give a file name.")
        folder = path.parent
        if folder.exists() and not folder.is_dir():
            fail(f"cannot write {path}: {folder} is a file, not a folder; give a path in an "
                 "existing folder.")
        if not folder.is_dir():
            fail(f"cannot write {path}: the folder {folder} does not exist; create it first.")
        if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
            raise PermissionError(f"cannot write {path}: permission denied; choose another path.")


# ------------------------------------------------------------------------------ training options
class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


DeviceOpt = Annotated[Device, typer.Option(help="Where to train.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed (same seed, same result).")]


# ------------------------------------------------------------------------------------ output
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q",
                                        help="Show no progress and no notes; results and errors only.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v",
                                          help="Also log every progress event (epochs, growth).")]


@dataclass
class Output:
    """How much a command shows: results go to stdout, progress and notes to stderr."""

    quiet: bool = False
    verbose: bool = False
    console: Console = field(default_factory=lambda: Console(stderr=True, soft_wrap=True))
    stdout: Console = field(default_factory=lambda: Console(soft_wrap=True))

    @classmethod
    def from_flags(cls, ctx: typer.Context, quiet: bool, verbose: bool) -> "Output":
        """The command's flags, or the ones given before the command (``autoforecast -q fit``)."""
        defaults = ctx.find_root().obj or {}
        quiet = quiet or defaults.get("quiet", False)
        verbose = (verbose or defaults.get("verbose", False)) and not quiet
        return cls(quiet=quiet, verbose=verbose)

    @property
    def bars(self) -> bool:
        return not self.quiet and self.console.is_terminal

    def note(self, text: str) -> None:
        if not self.quiet:
            self.console.print(text, highlight=False, markup=False)

    def table(self, frame, title: str) -> None:
        """A DataFrame result: a rich table on a terminal, plain aligned text otherwise (no
        truncated columns in pipes and logs)."""
        if self.stdout.is_terminal:
            self.result(frame_table(frame, title=title))
        else:
            self.result(f"{title}\n{frame.to_string(float_format=lambda v: f'{v:.4g}')}")

    def result(self, renderable) -> None:
        """Print a result: plain text as it is (no markup), or a rich table."""
        self.stdout.print(renderable, markup=False, highlight=False)


class ProgressView:
    """Renders :class:`ProgressEvent` s: bars on a terminal, log lines with ``--verbose``.

    A stage that stops before its planned steps (a search that found its cell early, training
    stopped early) has its bar completed when its fit ends, with why it stopped. Figures that
    were never computed (``selection_val_loss=nan`` after a single search) are not shown, and
    the skill report's table is left to the command (it prints it once)."""

    def __init__(self, output: Output, max_time=None):
        self.output = output
        self.max_time = max_time  # the fit's time cap: a reason a stage may stop early
        self.progress: Progress | None = None
        self.tasks: dict[str, int] = {}
        self.totals: dict[str, int | None] = {}  # planned steps of each stage (None: open-ended)
        self.done: dict[str, int] = {}  # steps done in each stage
        self.reasons: dict[str, str] = {}  # why a stage may stop before its planned steps

    def __enter__(self):
        if self.output.bars:
            self.progress = Progress(
                SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[message]}"),
                console=self.output.console,
            )
            self.progress.start()
        return self

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.stop()
        return False

    def __call__(self, event: ProgressEvent) -> None:
        message = shown_message(event.message)
        if event.data.get("reason"):
            self.reasons[event.stage] = in_cli_terms(str(event.data["reason"]))
        elif "val_loss" in event.data and event.total is not None:  # an epoch of training
            # training names why it stops on the epoch it stops after; a stage that ends
            # after an epoch without a reason was stopped by the time cap before its next
            # epoch's first batch
            self.reasons[event.stage] = "--max-time reached" if self.max_time is not None else None
        if event.total is not None or self.totals.get(event.stage) is None:
            self.done[event.stage] = event.step  # (growth, a search's end: between the steps)
        if event.total is not None or event.stage not in self.totals:
            self.totals[event.stage] = event.total
        if self.progress is not None:
            self._draw(event, message)
        if self.output.verbose and not is_report(event):
            self._log(str(replace(event, message=message)))
        if event.stage.endswith("fit") and event.total and event.step >= event.total:
            self._finish(event.stage[:-len("fit")])

    def _log(self, line: str) -> None:
        if self.progress is not None:
            self.progress.console.log(line, highlight=False)
        else:
            print(line, file=sys.stderr, flush=True)

    def _draw(self, event: ProgressEvent, message: str) -> None:
        task = self.tasks.get(event.stage)
        if task is None:
            task = self.tasks[event.stage] = self.progress.add_task(
                event.stage, total=event.total, message="")
        first_line = (message.splitlines() or [""])[0].rstrip(":")
        self.progress.update(task, completed=self.done[event.stage],
                             total=self.totals[event.stage], message=first_line[:60])

    def _finish(self, prefix: str) -> None:
        """Complete the stages of one fit (those starting with ``prefix``) that stopped before
        their planned steps, and say why."""
        for stage, total in self.totals.items():
            done = self.done.get(stage, 0)
            if not stage.startswith(prefix) or total is None or done >= total:
                continue
            reason = self.reasons.get(stage)  # none: a stage that reports no steps
            message = f"stopped after {done} of {total}: {reason}" if reason else "done"
            self.done[stage] = total
            if self.progress is not None:
                self.progress.update(self.tasks[stage], completed=total, message=message)
            if self.output.verbose and reason:
                self._log(f"[{stage}] {message}")


def shown_message(message: str) -> str:
    """An event's message without the figures never computed (``selection_val_loss=nan``)."""
    return re.sub(r"(, )?\bselection_val_loss=nan(, )?",
                  lambda m: ", " if m[1] and m[2] else "", message)


def is_report(event: ProgressEvent) -> bool:
    """The skill report's event: its table is the command's result, printed once, not logged."""
    return event.stage.endswith("report")


def fit_with_progress(estimator, frame, output: Output, **keywords):
    """``estimator.fit(frame, **keywords)`` with its progress events drawn (every estimator
    reports), and its :class:`~autoforecast.data.InputWarning` s as notes."""
    max_time = getattr(estimator, "max_time", None)
    with notes_from_warnings(output), ProgressView(output, max_time) as view:
        return estimator.fit(frame, callback=view, **keywords)


def frame_table(frame, title: str | None = None, digits: int = 4) -> Table:
    """A pandas DataFrame as a rich table (index first)."""
    table = Table(title=title, title_justify="left")
    table.add_column(str(frame.index.name or ""), style="bold")
    for column in frame.columns:
        table.add_column(str(column), justify="right")
    for label, row in frame.iterrows():
        table.add_row(str(label), *(_cell(v, digits) for v in row))
    return table


def _cell(value, digits: int) -> str:
    if isinstance(value, float):
        return "nan" if value != value else f"{value:.{digits}g}"
    return str(value)


# -------------------------------------------------------------------------------------- data
class Missing(str, Enum):
    raise_ = "raise"
    ffill = "ffill"
    interpolate = "interpolate"


DataArg = Annotated[Optional[Path], typer.Argument(
    help="CSV file: a header line, a time column, one numeric column per series.",
    show_default=False)]
DatasetOpt = Annotated[Optional[str], typer.Option(
    "--dataset", help="Use a data set shipped with the package instead of a file "
    "(see `autoforecast datasets`).", show_default=False)]
TimeColumnOpt = Annotated[str, typer.Option(
    "--time-column", help="Name of the time column; 'auto' finds it, 'none' means no time column.")]
TimeFormatOpt = Annotated[Optional[str], typer.Option(
    "--time-format", help="strftime format of the time column, e.g. '%d/%m/%Y %H:%M' "
    "(default: inferred).", show_default=False)]
ColumnsOpt = Annotated[Optional[list[str]], typer.Option(
    "--column", "-c", help="Column to use as input (repeat for several; default: all).",
    show_default=False)]
LastOpt = Annotated[Optional[int], typer.Option(
    "--last", min=1, help="Use only the last N rows (a quick run on a long series).",
    show_default=False)]
SepOpt = Annotated[str, typer.Option(
    "--sep", help="Field separator of the CSV file, e.g. ';' or '\\t' for tabs.")]
MissingOpt = Annotated[Missing, typer.Option(
    "--missing", help="What to do with empty cells: fail, carry the last value forward, "
    "or interpolate.")]


IdColumnOpt = Annotated[Optional[str], typer.Option(
    "--id-column", help="Long data (one row per series and time): the series id column "
    "(default: unique_id, recognised with a time column ds).", show_default=False)]


@dataclass
class DataSpec:
    path: Optional[Path]
    dataset: Optional[str]
    time_column: str = "auto"
    time_format: Optional[str] = None
    columns: Optional[list] = None
    last: Optional[int] = None
    sep: str = ","
    id_column: Optional[str] = None  # long data: its id column (None: recognised)
    target: Optional[str] = None  # long data: its target column (None: y)
    long: Optional[bool] = None  # True/False: long or wide whatever the file; None: recognised

    def load(self):
        """The series as a DataFrame, from the file or the shipped data set: wide (indexed by
        time), or long (:attr:`long_names` then names its columns)."""
        from ..data import read_series_csv
        from ..datasets import load_dataset

        if (self.path is None) == (self.dataset is None):
            fail("give either a CSV file or --dataset NAME (not both, not neither); "
                 "`autoforecast datasets` lists the shipped data sets.")
        if self.long_names is not None:
            return self._load_long()
        if self.dataset is not None:
            frame = load_dataset(self.dataset)
            if self.columns:
                missing = [c for c in self.columns if c not in frame.columns]
                if missing:
                    fail(f"data set {self.dataset!r} has no column(s) {missing}; its columns are "
                         f"{', '.join(map(str, frame.columns))}.")
                frame = frame[list(self.columns)]
        else:
            time_column = None if self.time_column.lower() == "none" else self.time_column
            frame = read_series_csv(self.path, time_column=time_column, columns=self.columns,
                                    time_format=self.time_format, sep=self._sep)
        return frame.iloc[-self.last:] if self.last else frame

    @property
    def _sep(self) -> str:
        return "\t" if self.sep == "\\t" else self.sep

    @cached_property
    def long_names(self):
        """The long data's columns (:class:`~autoforecast.data.long.LongColumns`), or None for
        wide data: long when ``long`` says so, else when ``--id-column`` is given or the file
        has the columns ``unique_id`` and ``ds``. Read once (the file's header): change a spec
        with ``dataclasses.replace``, not by setting its fields."""
        from ..data import is_long_csv
        from ..data.long import ID_COL, TIME_COL, TARGET_COL, LongColumns

        time = self.time_column if self.time_column.lower() not in ("auto", "none") else TIME_COL
        names = LongColumns(self.id_column or ID_COL, time, self.target or TARGET_COL)
        long = self.long if self.long is not None else (
            self.id_column is not None or (self.path is not None and is_long_csv(
                self.path, names.id, names.time, self._sep)))
        if not long:
            return None
        if self.dataset is not None:
            fail(("--id-column is for" if self.long is None else "this model was fitted on")
                 + " a CSV file in long format (one row per series and time); the shipped data "
                 "sets are wide. Give a long CSV file instead of --dataset.")
        return names

    def _load_long(self):
        from ..data import read_long_csv

        names = self.long_names
        if self.time_column.lower() == "none":
            fail("long data needs a time column (--time-column NAME, default ds).")
        frame = read_long_csv(self.path, names.id, names.time, time_format=self.time_format,
                              sep=self._sep)
        if names.target not in frame.columns:
            fail(f"{self.path} has no target column {names.target!r}; its columns are "
                 f"{', '.join(map(str, frame.columns))}. Name it with --target.")
        if self.columns is not None:  # the covariates to keep (the target is always kept)
            keep = [names.target] + [c for c in self.columns if c != names.target]
            missing = [c for c in keep if c not in frame.columns]
            if missing:
                fail(f"{self.path} has no column(s) {missing}; its columns are "
                     f"{', '.join(map(str, frame.columns))}.")
            frame = frame[[names.id, names.time, *keep]]
        if self.last:
            frame = (frame.sort_values([names.id, names.time], kind="stable")
                     .groupby(names.id, sort=False).tail(self.last).reset_index(drop=True))
        return frame

    def load_future(self):
        """The known-future values (``--future FILE``) in the data's layout: long with its id
        and time columns, or wide indexed by time (no target column needed)."""
        from ..data import read_long_csv, read_series_csv

        names = self.long_names
        if names is not None:
            return read_long_csv(self.path, names.id, names.time, time_format=self.time_format,
                                 sep=self._sep)
        time_column = None if self.time_column.lower() == "none" else self.time_column
        return read_series_csv(self.path, time_column=time_column, time_format=self.time_format,
                               sep=self._sep)

    def keywords(self) -> dict:
        """The keyword arguments of ``fit`` and ``predict`` that name a long frame's columns
        (none for wide data)."""
        names = self.long_names
        if names is None:
            return {}
        return {"id_col": names.id, "time_col": names.time, "target_col": names.target}

    def describe(self, frame) -> str:
        """The data's size, as a note says it."""
        names = self.long_names
        if names is None:
            return f"{frame.shape[0]} rows x {frame.shape[1]} columns"
        return (f"{frame[names.id].nunique()} series, {frame.shape[0]} rows (long data: "
                f"{names.id}, {names.time}, target {names.target})")

    @property
    def name(self) -> str:
        return str(self.path) if self.path is not None else f"data set {self.dataset!r}"


def long_target(targets: Optional[list]) -> Optional[str]:
    """Long data's one target column from ``--target`` (None: the default, y)."""
    if targets and len(targets) > 1:
        fail(f"long data has one target column; give one --target, got {len(targets)} "
             f"({', '.join(targets)}).")
    return targets[0] if targets else None


# --------------------------------------------------------------------------------- intervals
LevelOpt = Annotated[Optional[list[float]], typer.Option(
    "--level", help="Prediction interval in percent, e.g. 95 (repeat for several).",
    show_default=False)]


def coverages_of(levels: Optional[list[float]], output: "Output") -> list[float]:
    """The ``--level`` percents as fractions (the library's ``coverage``); a note when every
    level is below 1 (``--level 0.9``: a 0.9 % interval, most likely meant as 90 %)."""
    for level in levels or []:
        if not 0 < level < 100:
            fail(f"--level must be a percent between 0 and 100 (both excluded), e.g. 90, got "
                 f"{level:g}.")
    if levels and all(level < 1 for level in levels):
        shown = ", ".join(f"{level:g}" for level in levels)
        output.note(f"note: --level is in percent: {shown} asks for {shown} % interval(s), "
                    f"which hold almost nothing; did you mean {100 * levels[0]:g}?")
    return [round(level / 100, 10) for level in dict.fromkeys(levels or [])]


# ------------------------------------------------------------------------------------ models
def given_options(ctx: typer.Context, names) -> list[str]:
    """Those of the command's options ``names`` that the user gave (not left at their default)."""
    given = ("COMMANDLINE", "ENVIRONMENT")  # by name: typer may ship its own copy of click
    return [n for n in names if getattr(ctx.get_parameter_source(n), "name", None) in given]


def check_options_apply(given: dict, models) -> None:
    """Fail when an option the user gave applies to none of ``models`` (registry names).

    ``given``: option name -> the estimator parameters it sets (an option applies to a model
    that takes at least one of them)."""
    params = {name: model_class(name)().get_params() for name in models}
    unused = [option for option, names in given.items()
              if not any(p in params[m] for m in models for p in names)]
    if unused:
        flags = ", ".join("--" + option.replace("_", "-") for option in unused)
        what = f"--model {models[0]}" if len(models) == 1 else f"the models {', '.join(models)}"
        fail(f"{flags} {'does' if len(unused) == 1 else 'do'} not apply to {what}; leave "
             f"{'it' if len(unused) == 1 else 'them'} out.")


def build_model(name: str, settings: dict):
    """An unfitted estimator ``name`` of the registry with those of ``settings`` it takes
    (None: its default; ``search__x``: the search setting x, over a preset's ``search``).
    Options given for other models are refused before, by :func:`check_options_apply`."""
    estimator = model_class(name)()
    accepted = estimator.get_params()
    return estimator.set_params(**{k: v for k, v in settings.items()
                                   if k in accepted and v is not None})


def check_device(device: str) -> None:
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            fail("--device cuda was asked for, but torch sees no CUDA device here; "
                 "use --device cpu or --device auto.")
