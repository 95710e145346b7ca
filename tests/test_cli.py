"""The command line: every command on small CSVs, every bad input as one line and exit code 1,
Ctrl-C without half-written files, progress rendering, and real subprocess runs."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

import autoforecast
from autoforecast.baselines import NaiveForecaster
from autoforecast.cli import app
from autoforecast.cli.common import Output, ProgressView, fit_with_progress
from autoforecast.events import ProgressEvent
from autoforecast.search import DartsNode, Genotype, TwoInputNode

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def make_csv(tmp_path, n=120, name="s.csv", freq="h"):
    t = np.arange(n)
    frame = pd.DataFrame({
        "date": pd.date_range("2021-01-01", periods=n, freq=freq).strftime("%Y-%m-%d %H:%M"),
        "a": np.sin(t / 4) + 0.1 * np.random.default_rng(0).normal(size=n),
        "b": np.cos(t / 7),
    })
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def assert_one_line_error(result, *fragments, code=1):
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()  # notes may come first; the error is one line
    assert [line for line in lines if line.startswith("error: ")] == lines[-1:], result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[-1], (fragment, lines[-1])


@pytest.fixture
def csv(tmp_path):
    return make_csv(tmp_path)


@pytest.fixture
def naive_model(tmp_path, csv):
    path = tmp_path / "naive.joblib"
    result = invoke("fit", csv, "--model", "naive", "-H", 3, "--out", path)
    assert result.exit_code == 0, result.output
    return path


# ---------------------------------------------------------------------------------- basics
def test_no_args_shows_help():
    result = invoke()
    assert "Usage" in result.output and "fit" in result.output


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"autoforecast {autoforecast.__version__}"


@pytest.mark.parametrize("command", ["fit", "predict", "evaluate", "inspect", "datasets"])
def test_help_everywhere(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0 and "Usage" in result.stdout


# -------------------------------------------------------------------------- fit / predict
def test_fit_predict_round_trip(tmp_path, csv, naive_model):
    model = joblib.load(naive_model)  # plain joblib still reads our files
    assert isinstance(model, NaiveForecaster) and model.horizon == 3
    out, picture = tmp_path / "forecast.csv", tmp_path / "forecast.png"
    result = invoke("predict", naive_model, csv, "--out", out, "--plot", picture)
    assert result.exit_code == 0, result.output
    forecast = pd.read_csv(out, index_col=0, parse_dates=True)
    assert list(forecast.columns) == ["a", "b"]
    last = pd.read_csv(csv)["date"].iloc[-1]
    expected = pd.date_range(last, periods=4, freq="h")[1:]
    assert list(forecast.index) == list(expected)
    np.testing.assert_allclose(forecast["a"], pd.read_csv(csv)["a"].iloc[-1])
    assert picture.stat().st_size > 1000
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_predict_prints_csv_without_out(csv, naive_model):
    result = invoke("predict", naive_model, csv)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == "date,a,b"
    assert len(result.stdout.strip().splitlines()) == 4


def test_predict_levels_write_bounds_beside_the_forecast_and_shade_the_picture(tmp_path):
    csv = make_csv(tmp_path, n=300)
    model, out, picture = tmp_path / "m.joblib", tmp_path / "f.csv", tmp_path / "f.png"
    assert invoke("fit", csv, "--model", "naive", "-H", 3, "-o", model).exit_code == 0
    result = invoke("predict", model, csv, "--level", 80, "--level", 95, "-o", out,
                    "--plot", picture)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, index_col=0)
    assert list(table.columns) == ["a", "a_lo_80", "a_hi_80", "a_lo_95", "a_hi_95",
                                   "b", "b_lo_80", "b_hi_80", "b_lo_95", "b_hi_95"]
    assert (table.a_lo_95 < table.a_lo_80).all() and (table.a_lo_80 <= table.a).all()
    assert (table.a <= table.a_hi_80).all() and (table.a_hi_80 < table.a_hi_95).all()
    expected = autoforecast.load(model).predict_interval(pd.read_csv(
        csv, index_col=0, parse_dates=True), coverage=0.95)
    np.testing.assert_allclose(table.b_hi_95, expected[("b", 0.95, "upper")])
    assert picture.stat().st_size > 1000
    plain = invoke("predict", model, csv)
    assert plain.stdout.splitlines()[0] == "date,a,b"


def test_predict_with_levels_forecasts_once(tmp_path, monkeypatch):
    csv = make_csv(tmp_path, n=300)
    model = tmp_path / "m.joblib"
    assert invoke("fit", csv, "--model", "naive", "-H", 3, "-o", model).exit_code == 0
    calls, predict = [], NaiveForecaster.predict

    def counted(self, *args, **kw):
        calls.append(1)
        return predict(self, *args, **kw)

    monkeypatch.setattr(NaiveForecaster, "predict", counted)
    assert invoke("predict", model, csv, "--level", 80, "--level", 95).exit_code == 0
    assert len(calls) == 1  # the bands are around that forecast, not a second one


@pytest.mark.parametrize("level", ["0", "100", "150"])
def test_predict_level_outside_percent_range(csv, naive_model, level):
    assert_one_line_error(invoke("predict", naive_model, csv, "--level", level),
                          "--level must be a percent between 0 and 100")


def test_predict_level_without_residuals_says_how_many(tmp_path, csv):
    model = tmp_path / "lin.joblib"
    assert invoke("fit", csv, "--model", "linear", "-l", 6, "-o", model).exit_code == 0
    result = invoke("predict", model, csv, "--level", 99)
    assert_one_line_error(result, "a 99 % interval (--level 99) needs at least 99",
                          "and there are 24",  # the last 20 % of all 120 rows
                          "last 20 % of the training part", "lower --level")
    assert "calibration_size" not in result.stderr  # no such option on the command line


def test_fit_lstm_prints_and_inspect_draws_training_history(tmp_path, csv):
    path = tmp_path / "lstm.joblib"
    result = invoke("fit", csv, "--model", "lstm", "--target", "a", "--epochs", 1,
                    "--hidden-size", 4, "--lookback", 8, "--device", "cpu",
                    "--normalization", "auto", "-o", path)
    assert result.exit_code == 0, result.output
    assert "model saved to" in result.stderr
    result = invoke("inspect", path, "--history", tmp_path / "h.svg")
    assert result.exit_code == 0, result.output
    assert "LSTMForecaster" in result.stdout and "targets: a" in result.stdout
    chosen = joblib.load(path).normalization_  # chosen by --normalization auto
    assert f"normalisation {chosen} (auto)," in result.stdout
    assert (tmp_path / "h.svg").read_text().lstrip().startswith("<?xml")
    assert_one_line_error(invoke("inspect", path, "--graph", tmp_path / "g.png"),
                          "no searched cell")


def test_quiet_fit_writes_no_notes(tmp_path, csv):
    result = invoke("fit", csv, "--model", "naive", "--quiet", "-o", tmp_path / "m.joblib")
    assert result.exit_code == 0 and result.stderr == ""
    result = invoke("--quiet", "fit", csv, "--model", "naive", "-o", tmp_path / "m.joblib")
    assert result.exit_code == 0 and result.stderr == ""


def test_verbose_fit_logs_events_when_not_a_terminal(tmp_path, csv):
    result = invoke("fit", csv, "--model", "naive", "--verbose", "-o", tmp_path / "m.joblib")
    assert "[fit 1/1] NaiveForecaster fitted" in result.stderr


def test_missing_values_need_a_policy(tmp_path):
    path = make_csv(tmp_path)
    frame = pd.read_csv(path)
    frame.loc[50, "a"] = np.nan
    frame.to_csv(path, index=False)
    assert_one_line_error(invoke("fit", path, "--model", "naive", "-o", tmp_path / "m.joblib"),
                          "missing value", "column(s) 'a', first at 2021-01-03 02:00:00",
                          "--missing ffill or --missing interpolate")
    result = invoke("fit", path, "--model", "naive", "--missing", "ffill", "-o", tmp_path / "m.joblib")
    assert result.exit_code == 0, result.output


# --------------------------------------------------------------------------------- inspect
def searched_model(tmp_path, genotype):
    """A fitted model file carrying what a searched model has (a genotype, a history)."""
    model = NaiveForecaster(horizon=2).fit(pd.read_csv(make_csv(tmp_path), index_col=0,
                                                       parse_dates=True))
    model.genotype_ = genotype
    model.search_history_ = [
        {"epoch": 0, "val_loss": 1.0, "n_nodes": 1, "event": None},
        {"epoch": 1, "val_loss": 0.8, "n_nodes": 2, "event": "grow"},
        {"epoch": 2, "val_loss": 0.7, "n_nodes": 2, "event": None},
        {"epoch": 3, "val_loss": 0.6, "n_nodes": 1, "event": "prune"},
    ]
    model.report_ = pd.DataFrame({"mae": [0.1, 0.2], "skill_mae": [0.0, 0.5]},
                                 index=pd.Index(["autocell", "naive"], name="model"))
    path = tmp_path / "searched.joblib"
    autoforecast.save(model, path)
    return path


@pytest.mark.parametrize("genotype", [
    Genotype("darts", (DartsNode("tanh", 0), DartsNode("relu", 1), DartsNode("sigmoid", 1))),
    Genotype("two_input", (TwoInputNode("add", "x"), TwoInputNode("gate", "h", "relu", "tanh"), TwoInputNode("hadamard", "skip"))),
])
def test_inspect_searched_model(tmp_path, genotype):
    path = searched_model(tmp_path, genotype)
    result = invoke("inspect", path, "--graph", tmp_path / "cell.png",
                    "--history", tmp_path / "search.png")
    assert result.exit_code == 0, result.output
    assert f"cell: {genotype}" in result.stdout
    assert "skill_mae" in result.stdout
    assert (tmp_path / "cell.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "search.png").stat().st_size > 1000
    result = invoke("inspect", path, "--json")
    assert Genotype.from_json(result.stdout) == genotype


def test_fit_takes_the_network_settings_and_inspect_shows_them(tmp_path, csv):
    path = tmp_path / "gru.joblib"
    result = invoke("fit", csv, "--model", "gru", "-H", 3, "--lookback", 12, "--budget", "tiny",
                    "--segment-length", 4, "--normalization", "revin", "--covariates", "none",
                    "--device", "cpu", "-o", path)
    assert result.exit_code == 0, result.output
    model = joblib.load(path)
    assert (model.segment_length_, model.normalization, model.covariates) == (4, "revin", "none")
    shown = invoke("inspect", path).stdout
    assert "network: segments of 4 steps, normalisation revin, covariates none" in shown
    assert_one_line_error(invoke("fit", csv, "--model", "linear", "--segment-length", 4),
                          "--segment-length does not apply to --model linear")


def test_inspect_unknown_picture_format(tmp_path):
    path = searched_model(tmp_path, Genotype("darts", (DartsNode("tanh", 0),)))
    assert_one_line_error(invoke("inspect", path, "--graph", tmp_path / "cell.bmpx"),
                          "unknown picture format", ".png")
    assert not (tmp_path / "cell.bmpx").exists()


# -------------------------------------------------------------------------------- evaluate
def test_evaluate_writes_table(tmp_path, csv):
    table_csv, table_md = tmp_path / "t.csv", tmp_path / "t.md"
    result = invoke("evaluate", csv, "--model", "linear", "--model", "naive", "-H", 2,
                    "--lookback", 12, "--test-size", 30, "--csv", table_csv, "--markdown", table_md)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(table_csv, index_col=0)
    assert list(table.index) == ["linear", "naive"]
    assert {"mae", "rmse", "rse", "corr", "skill_rmse"} <= set(table.columns)
    assert table.loc["linear", "skill_rmse"] == 0.0
    assert table[["coverage_90", "width_90"]].notna().all().all()  # the default --level 90
    assert table_md.read_text().startswith("| model | mae |")
    assert "linear" in result.stdout and "naive" in result.stdout


def test_evaluate_reference_must_be_compared(csv):
    assert_one_line_error(invoke("evaluate", csv, "--model", "naive", "--reference", "lstm"),
                          "--reference 'lstm'")


# -------------------------------------------------------------------------------- datasets
def test_datasets_list_and_write(tmp_path):
    result = invoke("datasets")
    assert result.exit_code == 0 and "appliances" in result.stdout
    out = tmp_path / "pm.csv"
    result = invoke("datasets", "beijing_pm25", "--out", out)
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out, index_col=0, parse_dates=True)
    assert frame.shape == (43824, 7)
    assert_one_line_error(invoke("datasets", "nope"), "Unknown data set 'nope'")


def test_fit_on_shipped_dataset(tmp_path):
    result = invoke("fit", "--dataset", "appliances", "--target", "Appliances", "--model",
                    "naive", "--last", 500, "-o", tmp_path / "m.joblib")
    assert result.exit_code == 0, result.output
    assert "500 rows x 28 columns" in result.stderr


# ------------------------------------------------------------------------------ bad input
def bad_file(tmp_path, text, name="bad.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


BAD_DATA = {
    "missing file": (lambda p: p / "nope.csv", ["does not exist"]),
    "empty file": (lambda p: bad_file(p, ""), ["is empty"]),
    "header only": (lambda p: bad_file(p, "date,a\n"), ["no data rows"]),
    "unparsable dates": (lambda p: bad_file(p, "date,a\n2021-01-01,1\nsoon,2\n"),
                         ["'date'", "'soon'", "line 3"]),
    "non-numeric column": (lambda p: bad_file(p, "date,a,b\n" + "".join(
        f"2021-01-{d:02d},{d},x\n" for d in range(1, 29))), ["non-numeric", "'b'"]),
    "too few rows": (lambda p: make_csv(p, n=10), ["rows"]),
}


@pytest.mark.parametrize("case", BAD_DATA)
@pytest.mark.parametrize("command", ["fit", "evaluate"])
def test_bad_data(tmp_path, case, command):
    make_path, fragments = BAD_DATA[case]
    args = [command, make_path(tmp_path), "--model", "naive", "--lookback", 24]
    if command == "fit":
        args += ["-o", tmp_path / "m.joblib"]
    assert_one_line_error(invoke(*args), *fragments)
    assert not (tmp_path / "m.joblib").exists()


@pytest.mark.parametrize("option, fragment", [
    (["--target", "nope"], "unknown target 'nope'"),
    (["--column", "nope"], "no column(s) ['nope']"),
    (["--time-column", "stamp"], "no time column 'stamp'"),
])
def test_missing_columns(tmp_path, csv, option, fragment):
    assert_one_line_error(invoke("fit", csv, "--model", "naive", *option), fragment)


def test_data_and_dataset_are_exclusive(csv):
    assert_one_line_error(invoke("fit", "--model", "naive"), "either a CSV file or --dataset")
    assert_one_line_error(invoke("fit", csv, "--dataset", "appliances"), "not both")


@pytest.mark.parametrize("content, fragment", [
    (b"", "is empty"),
    (b"not a pickle at all", "could not be read"),
])
def test_predict_bad_model_file(tmp_path, csv, content, fragment):
    path = tmp_path / "model.joblib"
    path.write_bytes(content)
    assert_one_line_error(invoke("predict", path, csv), fragment)


def test_model_file_not_ours_or_truncated(tmp_path, csv, naive_model):
    foreign = tmp_path / "dict.joblib"
    joblib.dump({"a": 1}, foreign)
    assert_one_line_error(invoke("inspect", foreign), "not an autoforecast estimator")
    assert_one_line_error(invoke("inspect", tmp_path / "absent.joblib"), "does not exist")


@pytest.mark.parametrize("keep", [0.05, 0.5, 0.99, 200])  # 200 bytes: a struct.error inside
def test_truncated_model_file(tmp_path, csv, naive_model, keep):
    data = naive_model.read_bytes()
    truncated = tmp_path / "cut.joblib"
    truncated.write_bytes(data[:keep if isinstance(keep, int) else int(keep * len(data))])
    assert_one_line_error(invoke("predict", truncated, csv), "truncated")


def test_predict_needs_the_model_columns(tmp_path, naive_model):
    other = bad_file(tmp_path, "date,a\n2021-01-01,1\n2021-01-02,2\n")
    assert_one_line_error(invoke("predict", naive_model, other), "no column(s) ['b']")


@pytest.mark.parametrize("where", ["missing folder", "a folder"])
def test_unwritable_output_fails_before_work(tmp_path, csv, naive_model, where):
    out = tmp_path / "no" / "m.joblib" if where == "missing folder" else tmp_path
    assert_one_line_error(invoke("fit", csv, "--model", "naive", "-o", out), str(out))
    assert_one_line_error(invoke("predict", naive_model, csv, "-o", out), str(out))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_permission_denied(tmp_path, csv):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert_one_line_error(invoke("fit", csv, "--model", "naive", "-o", locked / "m.joblib"),
                          "permission denied")


def test_ctrl_c_leaves_no_file(tmp_path, csv, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(joblib, "dump", interrupted)  # interrupted in the middle of saving
    out = tmp_path / "m.joblib"
    assert_one_line_error(invoke("fit", csv, "--model", "naive", "-o", out), "interrupted", code=130)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"]


def test_bugs_keep_their_traceback(csv, monkeypatch):
    def broken(self, X, y=None, callback=None):
        raise RuntimeError("a bug")

    monkeypatch.setattr(NaiveForecaster, "fit", broken)
    result = invoke("fit", csv, "--model", "naive")
    assert isinstance(result.exception, RuntimeError)


@pytest.mark.parametrize("args, fragment", [
    (["fit", "--model", "lstm", "--backbone", "darts"], "--backbone does not apply to --model lstm"),
    (["fit", "--model", "gru", "--derivation", "prefer_nondegenerate"],
     "--derivation does not apply to --model gru"),
    (["fit", "--model", "naive", "--budget", "tiny", "--seed", "3"],
     "--budget, --seed do not apply to --model naive"),
    (["evaluate", "--model", "naive", "--model", "linear", "--hidden-size", "8"],
     "--hidden-size does not apply to the models naive, linear"),
])
def test_options_for_another_model_are_refused(csv, tmp_path, args, fragment):
    assert_one_line_error(invoke(*args[:1], csv, *args[1:], "--out" if args[0] == "fit" else
                                 "--csv", tmp_path / "out"), fragment)
    assert not (tmp_path / "out").exists()


def test_evaluate_takes_forecasters_only(csv):
    assert_one_line_error(invoke("evaluate", csv, "--model", "language_model"),
                          "unknown model 'language_model'", "naive")


def test_model_choices_come_from_the_registry():
    from autoforecast.cli.fitting import FitModel
    from autoforecast.models import model_names

    assert [m.value for m in FitModel] == list(model_names())


def test_semicolon_file_is_explained_and_read_with_sep(tmp_path, csv):
    semi = tmp_path / "semi.csv"
    semi.write_text(csv.read_text().replace(",", ";"))
    assert_one_line_error(invoke("fit", semi, "--model", "naive"), "looks ';'-separated",
                          "--sep ';'")
    result = invoke("fit", semi, "--model", "naive", "--sep", ";", "-o", tmp_path / "m.joblib")
    assert result.exit_code == 0, result.output


def test_choices_are_the_librarys():
    """The command line lists its choices without importing torch; every value it offers must
    pass the library's own check, and the library must offer nothing the command line lacks."""
    from autoforecast import AutoCellForecaster, AutoCellLanguageModel, GRUForecaster
    from autoforecast.cli.fitting import Backbone, Budget, Covariates, Derivation, Mode, Normalization
    from autoforecast.cli.lm import LMBudget, Tokenizer
    from autoforecast.data.text import TOKENIZERS, tokenizer_of
    from autoforecast.presets import preset as preset_of
    from autoforecast.search import BACKBONES, SearchConfig

    assert {b.value for b in Backbone} == set(BACKBONES)  # the registry: every backbone
    assert {t.value for t in Tokenizer} == set(TOKENIZERS)
    checks = [(Backbone, lambda v: SearchConfig(backbone=v)),
              (Mode, lambda v: SearchConfig(mode=v)),
              (Derivation, lambda v: SearchConfig(derivation=v)),
              (Normalization, lambda v: GRUForecaster(normalization=v)._check_common_params()),
              (Covariates, lambda v: GRUForecaster(covariates=v)._check_common_params()),
              (Tokenizer, tokenizer_of)]
    for choice, check in checks:
        for value in choice:
            check(value.value)
        with pytest.raises(ValueError):
            check("no-such-choice")
    for budget in Budget:  # every named budget builds the estimator it sizes
        AutoCellForecaster(**preset_of(budget.value)).get_params()
    for budget in LMBudget:
        AutoCellLanguageModel(**preset_of(budget.value, "language_model")).get_params()


def _commands(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_help_texts_keep_their_square_brackets():
    """Help is rendered as rich markup, where `[ptb]` would vanish unless escaped (DEFECTS 1)."""
    from rich.text import Text
    from typer.main import get_command

    texts = [text for _, command in _commands(get_command(app))
             for text in [command.help] + [getattr(p, "help", None) for p in command.params]
             if text and "[" in text]
    assert texts  # the lm --dataset help names autoforecast[ptb]
    for text in texts:
        assert Text.from_markup(text).plain == text.replace("\\[", "["), text
    assert "autoforecast[ptb]" in invoke("lm", "fit", "--help").stdout


def test_importing_the_command_line_loads_no_torch():
    code = "import sys, autoforecast.cli; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# -------------------------------------------------------------------------------- progress
class EventfulForecaster(NaiveForecaster):
    def fit(self, X, y=None, callback=None):
        for step in range(1, 4):
            callback(ProgressEvent("search", step, 3, f"epoch {step}"))
        callback(ProgressEvent("retrain", 1, None, "open-ended"))
        return super().fit(X)


def test_progress_bars_on_a_terminal(series):
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    output = Output(console=console)
    fit_with_progress(EventfulForecaster(), series, output)
    text = buffer.getvalue()
    assert "search" in text and "3/3" in text and "retrain" in text


def test_progress_lines_and_silence(series, capsys):
    fit_with_progress(EventfulForecaster(), series, Output(verbose=True))
    assert "[search 2/3] epoch 2" in capsys.readouterr().err
    with ProgressView(Output(quiet=True)) as view:
        view(ProgressEvent("search", 1, 3, "x"))
    assert capsys.readouterr().err == ""


# ------------------------------------------------------------------------------ subprocess
def run(*args, cwd):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_python_dash_m_subprocess(tmp_path, csv):
    model = tmp_path / "m.joblib"
    done = run(sys.executable, "-m", "autoforecast", "fit", csv, "--model", "naive", "-H", 2,
               "-o", model, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = run(sys.executable, "-m", "autoforecast", "predict", model, bad_file(tmp_path, ""),
               cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


def test_console_script_subprocess(tmp_path, csv):
    script = shutil.which("autoforecast") or os.path.join(os.path.dirname(sys.executable),
                                                          "autoforecast")
    if not os.path.exists(script):
        pytest.skip("the autoforecast console script is not installed")
    assert run(script, "--version", cwd=tmp_path).stdout.strip().endswith(autoforecast.__version__)
    done = run(script, "predict", tmp_path / "absent.joblib", csv, cwd=tmp_path)
    assert done.returncode == 1 and done.stderr == f"error: model file {str(tmp_path / 'absent.joblib')!r} does not exist.\n"


# ---------------------------------------------------------------------------- AutoCell, real
def test_autocell_fit_inspect_predict(tmp_path, csv):
    pytest.importorskip("autoforecast.estimators")
    model = tmp_path / "cell.joblib"
    result = invoke("fit", csv, "-H", 2, "--lookback", 8, "--budget", "tiny", "--epochs", 1,
                    "--hidden-size", 4, "--search-epochs", 2, "--baseline", "naive",
                    "--derivation", "prefer_nondegenerate", "--device", "cpu", "-o", model)
    assert result.exit_code == 0, result.output
    fitted = joblib.load(model)
    assert fitted.search_settings_.derivation == "prefer_nondegenerate"
    assert f"cell: {fitted.genotype_}" in result.stdout
    assert list(fitted.report_.index) == ["autocell", "naive"]
    assert "skill_rmse" in result.stdout
    result = invoke("inspect", model, "--graph", tmp_path / "g.svg", "--history", tmp_path / "h.png")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "g.svg").stat().st_size > 1000 and (tmp_path / "h.png").stat().st_size > 1000
    assert invoke("predict", model, csv).stdout.count("\n") == 3


def test_growth_events_from_node_counts():
    from autoforecast.cli.plots import _growth_events

    frame = pd.DataFrame({"search": [0, 0, 0, 1, 1], "epoch": [0, 1, 2, 0, 1],
                          "n_nodes": [1, 2, 1, 3, 3], "val_loss": [1.0] * 5})
    events = _growth_events(frame, "search")
    assert list(zip(events["epoch"], events["event"])) == [(1, "grow"), (2, "prune")]


# ---------------------------------------------------------------- defects found in 0.2 (DEFECTS.md)
def test_value_too_large_is_refused_by_column_and_timestamp(tmp_path):
    path = make_csv(tmp_path)
    frame = pd.read_csv(path)
    frame.loc[5, "b"] = 1e300
    frame.to_csv(path, index=False)
    out = tmp_path / "m.joblib"
    assert_one_line_error(invoke("fit", path, "--model", "linear", "-l", 4, "-o", out),
                          "too large to standardise", "column 'b' at 2021-01-01 05:00:00")
    assert not out.exists()


def test_rows_missing_from_the_time_index_are_named_or_filled(tmp_path):
    path = make_csv(tmp_path)
    frame = pd.read_csv(path).drop([30, 31])
    frame.to_csv(path, index=False)
    assert_one_line_error(invoke("fit", path, "--model", "naive", "-o", tmp_path / "m.joblib"),
                          "steps by 1 hour but 2 timestamp(s) are missing, first between "
                          "2021-01-02 05:00:00 and 2021-01-02 08:00:00", "--missing ffill")
    model, out = tmp_path / "m.joblib", tmp_path / "f.csv"
    assert invoke("fit", path, "--model", "naive", "-H", 2, "--missing", "ffill",
                  "-o", model).exit_code == 0
    result = invoke("predict", model, path, "-o", out)
    assert result.exit_code == 0, result.output
    forecast = pd.read_csv(out, index_col=0, parse_dates=True)
    assert list(forecast.index) == list(pd.date_range("2021-01-06 00:00", periods=2, freq="h"))


def test_irregular_timestamps_are_refused_before_they_are_lost(tmp_path, naive_model, csv):
    path = make_csv(tmp_path, name="odd.csv")
    frame = pd.read_csv(path)
    frame.loc[40, "date"] = "2021-01-02 16:37"
    frame.to_csv(path, index=False)
    for args in (["fit", path, "--model", "naive"], ["predict", naive_model, path]):
        assert_one_line_error(invoke(*args), "odd.csv: the time column 'date' steps irregularly "
                              "(by 1 hour, 97 minutes, 23 minutes)", "--time-column none")
    result = invoke("fit", path, "--model", "naive", "--time-column", "none", "-c", "a", "-c", "b")
    assert result.exit_code == 0, result.output


def test_unknown_picture_format_writes_nothing(tmp_path, csv, naive_model):
    out = tmp_path / "f.csv"
    assert_one_line_error(invoke("predict", naive_model, csv, "-o", out, "--plot",
                                 tmp_path / "f.xyz"), "unknown picture format '.xyz'")
    assert not out.exists()


def test_each_interval_level_is_scored_on_its_own(tmp_path, csv):
    table = tmp_path / "t.csv"
    result = invoke("evaluate", csv, "-m", "linear", "-m", "naive", "-l", 6, "--level", 80,
                    "--level", 99, "--csv", table)
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(table, index_col=0)
    assert scores.loc["linear", ["coverage_80", "width_80"]].notna().all()
    assert scores.loc["linear", ["coverage_99", "width_99"]].isna().all()
    notes = [line for line in result.stderr.splitlines() if "a 99 % interval" in line]
    assert [line.split(":")[1] for line in notes] == [" LinearForecaster", " NaiveForecaster"]
    assert "--level 99" in notes[0] and "smaller --test-size" in notes[1]
    assert "coverage_80" in result.stdout


def test_reference_models_fit_on_all_rows_unless_parts_are_asked_for(tmp_path, csv):
    model = tmp_path / "m.joblib"
    result = invoke("fit", csv, "--model", "linear", "-l", 6, "-o", model)
    assert result.exit_code == 0 and "trained on" not in result.stderr
    assert joblib.load(model).split_.train_end == 120
    result = invoke("fit", csv, "--model", "linear", "-l", 6, "--test-size", 0.25, "-o", model)
    assert ("note: LinearForecaster was trained on the first 90 of 120 rows; the last 30 "
            "(--test-size 0.25) held out, unused: no skill report is made") in result.stderr
    result = invoke("fit", csv, "--model", "gru", "-l", 8, "--epochs", 1, "--hidden-size", 4,
                    "--device", "cpu", "-o", model)
    assert result.exit_code == 0, result.output
    assert ("trained on the first 96 of 120 rows; the next 24 (--validation-size 0.2) for "
            "validation (early stopping)") in result.stderr


def test_repeated_column_names_are_refused(tmp_path):
    rows = "".join(f"2021-01-{d:02d},{d},1\n" for d in range(1, 29))
    path = bad_file(tmp_path, "date,y,y\n" + rows)
    assert_one_line_error(invoke("fit", path, "--model", "naive"), "names the column 'y' 2 times")


@pytest.mark.parametrize("make, args, fragments", [
    (lambda p, c: c, ["--sep", ""], ["--sep must be a single character", "got ''"]),
    (lambda p, c: c, ["--sep", ";;"], ["--sep must be a single character", "got ';;'"]),
    (lambda p, c: bad_file(p, "").write_bytes(bytes(range(256)) * 4) and p / "bad.csv", [],
     ["is not a text CSV file"]),
    (lambda p, c: bad_file(p, "".join(line + ",\n" for line in c.read_text().splitlines())), [],
     ["every line ends with ','", "after 'b'"]),
    (lambda p, c: c, ["--out", "s.csv/m.joblib"], ["s.csv is a file, not a folder"]),
    (lambda p, c: bad_file(p, "date,a,b\n" + "".join(f"2021-01-{d:02d},{d},x\n" for d in
                                                        range(1, 29))),
     [], ["the data must hold numeric columns", "--time-column"]),
])
def test_messages_speak_the_command_line(tmp_path, csv, monkeypatch, make, args, fragments):
    monkeypatch.chdir(tmp_path)
    result = invoke("fit", make(tmp_path, csv), "--model", "naive", *args)
    assert_one_line_error(result, *fragments)
    assert "Py_UCS4" not in result.stderr and "X " not in result.stderr


def test_too_few_validation_residuals_says_something_true(tmp_path, csv):
    model = tmp_path / "m.joblib"
    assert invoke("fit", csv, "--model", "gru", "-l", 8, "--epochs", 1, "--hidden-size", 4,
                  "--device", "cpu", "-o", model).exit_code == 0
    assert_one_line_error(invoke("predict", model, csv, "--level", 99),
                          "(--validation-size 0.2)", "fit with a larger --validation-size or on "
                          "a longer series, or ask for a lower --level")


@pytest.mark.parametrize("args, fragment", [
    (["fit", "CSV", "-H", "0"], "invalid value for '--horizon' / '-H'"),
    (["fit", "CSV", "--model", "prophet"], "'prophet' is not one of 'autocell'"),
    (["predict", "MODEL", "CSV", "--level", "abc"], "invalid value for '--level'"),
    (["evaluate", "CSV", "--nope"], "no such option: --nope"),
    (["evaluate", "CSV", "-m", "prophet"], "unknown model 'prophet'"),
])
def test_usage_errors_are_one_line_with_exit_code_1(csv, naive_model, args, fragment):
    args = [{"CSV": csv, "MODEL": naive_model}.get(a, a) for a in args]
    assert_one_line_error(invoke(*args), fragment)


def test_levels_below_one_get_a_note(csv, naive_model):
    result = invoke("predict", naive_model, csv, "--level", 0.9)
    assert result.exit_code == 0
    assert "did you mean 90?" in result.stderr
    assert "did you mean" not in invoke("predict", naive_model, csv, "--level", 90).stderr


def test_fit_without_out_says_the_model_is_not_saved(csv):
    result = invoke("fit", csv, "--model", "naive")
    assert result.exit_code == 0 and "the model was not saved (no --out)" in result.stderr


@pytest.mark.parametrize("value", ["auto", "12"])
@pytest.mark.parametrize("model", ["linear", "arima", "naive", "lstm"])
def test_lookback_auto_or_a_number_for_every_model(tmp_path, csv, model, value):
    out = tmp_path / "m.joblib"
    extra = ["--epochs", 1, "--hidden-size", 4, "--device", "cpu"] if model == "lstm" else []
    result = invoke("fit", csv, "--model", model, "--lookback", value, *extra, "-o", out)
    assert result.exit_code == 0, result.output
    fitted = joblib.load(out)
    default = type(fitted)().lookback
    if value == "12":
        assert fitted.lookback_ == 12
    elif default == "auto":
        assert fitted.lookback == "auto" and "has no automatic lookback" not in result.stderr
    else:
        assert fitted.lookback_ == default and "has no automatic lookback" in result.stderr


def test_lookback_must_be_a_number_or_auto(csv):
    assert_one_line_error(invoke("fit", csv, "--model", "naive", "--lookback", "many"),
                          "--lookback must be a whole number of steps >= 1 or 'auto'")
    assert_one_line_error(invoke("evaluate", csv, "-m", "naive", "--lookback", "0"),
                          "--lookback must be")


class EarlyStoppingForecaster(NaiveForecaster):
    def fit(self, X, y=None, callback=None):
        callback(ProgressEvent("search", 1, 6, "run 0: 1 nodes"))
        callback(ProgressEvent("search", 2, None, "search_done: reason",
                               {"reason": "architecture stable"}))
        callback(ProgressEvent("search", 1, None, "selected: selection_val_loss=nan, two_input[x]"))
        callback(ProgressEvent("retrain", 7, 15, "train 0.1, val 0.2", {"val_loss": 0.2}))
        callback(ProgressEvent("retrain", 8, 15, "train 0.1, val 0.2",
                               {"val_loss": 0.2,
                                "reason": "early stopping (patience 3: no better validation loss)"}))
        callback(ProgressEvent("refit", 2, 4, "train 0.1, val 0.2",
                               {"val_loss": 0.2, "reason": "`max_time` reached"}))
        callback(ProgressEvent("baselines", 0, 1, "fitting the baselines: naive"))
        callback(ProgressEvent("report", 1, 1, "skill on the test part:\n  a table"))
        callback(ProgressEvent("fit", 1, 1, "fitted"))
        return super().fit(X)


def test_bars_that_stop_early_finish_and_say_why(series):
    buffer = io.StringIO()
    output = Output(console=Console(file=buffer, force_terminal=True, width=200))
    fit_with_progress(EarlyStoppingForecaster(), series, output)
    text = buffer.getvalue()
    assert "6/6" in text and "stopped after 1 of 6: architecture stable" in text
    assert "15/15" in text and "stopped after 8 of 15: early stopping (patience 3" in text
    assert "stopped after 2 of 4: --max-time reached" in text  # the library's reason, CLI terms
    assert "1/1" in text and "stopped after 0" not in text  # the baselines' bar: done
    assert "selection_val_loss" not in text


def test_verbose_lines_say_why_and_leave_the_report_table_to_the_result(series, capsys):
    fit_with_progress(EarlyStoppingForecaster(), series, Output(verbose=True))
    err = capsys.readouterr().err
    assert "[search 1] selected: two_input[x]" in err and "nan" not in err
    assert "[retrain] stopped after 8 of 15: early stopping" in err
    assert "[baselines] stopped" not in err  # a stage without steps simply ends
    assert "skill on the test part" not in err
