"""The command line on long data (issue 23): fit, predict (long CSV, --level bands, --plot of a
few series), evaluate, columns named by options, and bad input as one line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from test_cli import assert_one_line_error, invoke
from test_long import make_long

STARTS = (("a", "2021-01-01", 60), ("b", "2021-01-02", 50), ("c", "2021-01-01 12:00", 40))


@pytest.fixture
def long_csv(tmp_path):
    path = tmp_path / "long.csv"
    make_long(STARTS).to_csv(path, index=False)
    return path


@pytest.fixture
def named_csv(tmp_path):
    path = tmp_path / "named.csv"
    make_long(STARTS).rename(columns={"unique_id": "store", "ds": "week", "y": "sales"}).to_csv(
        path, index=False)
    return path


def fit_ok(*args):
    result = invoke("fit", *args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def test_fit_recognises_long_data_and_predict_writes_a_long_csv(tmp_path, long_csv):
    model = tmp_path / "lin.joblib"
    result = fit_ok(long_csv, "--model", "linear", "-H", 3, "-l", 8, "--out", model)
    assert "3 series, 150 rows (long data: unique_id, ds, target y)" in result.stderr
    out = tmp_path / "forecast.csv"
    result = invoke("predict", model, long_csv, "--level", 90, "--level", 50, "--out", out)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, parse_dates=["ds"])
    assert list(table.columns) == ["unique_id", "ds", "y", "y_lo_90", "y_hi_90", "y_lo_50",
                                   "y_hi_50"]
    assert table.groupby("unique_id").size().tolist() == [3, 3, 3]
    last = make_long(STARTS).groupby("unique_id").ds.max()
    first = table.groupby("unique_id").ds.min()
    assert (first - last == pd.Timedelta("1h")).all()  # each series from its own end
    assert (table.y_lo_90 <= table.y_lo_50).all() and (table.y_hi_50 <= table.y_hi_90).all()
    printed = invoke("predict", model, long_csv)  # to stdout: the same forecast, no bands
    assert printed.stdout.splitlines()[0] == "unique_id,ds,y"
    assert len(printed.stdout.splitlines()) == 10


def test_columns_named_by_options(tmp_path, named_csv):
    model = tmp_path / "naive.joblib"
    fit_ok(named_csv, "--id-column", "store", "--time-column", "week", "--target", "sales",
           "--model", "naive", "-H", 2, "--out", model)
    result = invoke("predict", model, named_csv, "--level", 80)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "store,week,sales,sales_lo_80,sales_hi_80"


def test_plot_shows_the_series_asked_for(tmp_path, long_csv):
    model = tmp_path / "naive.joblib"
    fit_ok(long_csv, "--model", "naive", "-H", 2, "--out", model)
    picture = tmp_path / "p.png"
    result = invoke("predict", model, long_csv, "--plot", picture, "--series", "c",
                    "--level", 90, "--history", 10)
    assert result.exit_code == 0, result.output
    assert picture.stat().st_size > 0
    from autoforecast.cli.plots import draw_long_forecast
    from autoforecast.data.long import LongColumns
    from autoforecast.baselines import NaiveForecaster

    frame = make_long(STARTS)
    est = NaiveForecaster(horizon=2).fit(frame)
    figure = draw_long_forecast(frame, est.predict_interval(coverage=0.9), LongColumns(),
                                ["c", "a"], 10, [0.9])
    assert [ax.get_title(loc="left") for ax in figure.axes] == ["c", "a"]
    assert len(figure.axes[0].lines[0].get_xdata()) == 10  # the last 10 rows of c


def test_plot_shows_the_first_series_by_default(tmp_path):
    from autoforecast.cli.fitting import PLOTTED_SERIES, plotted_series

    frame = pd.DataFrame({"unique_id": [f"s{i}" for i in range(9, 0, -1)]})
    assert plotted_series(frame, "unique_id", None) == [f"s{i}" for i in
                                                        range(1, PLOTTED_SERIES + 1)]
    ints = pd.DataFrame({"unique_id": [3, 1, 2]})
    assert plotted_series(ints, "unique_id", ["2"]) == [2]  # matched as text


def test_evaluate_on_long_data(long_csv):
    result = invoke("evaluate", long_csv, "-m", "naive", "-m", "linear", "-H", 3, "-l", 8,
                    "--test-size", 6)
    assert result.exit_code == 0, result.output
    assert "backtest on the last 6 rows of each of 3 series, horizon 3" in result.stdout
    assert "naive" in result.stdout and "linear" in result.stdout


def test_evaluate_reads_future_covariates(tmp_path):
    frame = make_long(STARTS).assign(promo=lambda d: (np.arange(len(d)) % 5 == 0).astype(float))
    data = tmp_path / "data.csv"
    frame.to_csv(data, index=False)
    tables = {}
    for name, extra in (("none", []), ("promo", ["--future-covariate", "promo"]),
                        ("both", ["--future-covariate", "promo", "--future-covariate",
                                  "calendar"])):
        tables[name] = tmp_path / f"{name}.csv"
        result = invoke("evaluate", data, "-m", "gru", "-m", "naive", "--budget", "tiny", "-H",
                        3, "-l", 6, "--test-size", 6, "--csv", tables[name], *extra)
        assert result.exit_code == 0, result.output
    mae = {name: pd.read_csv(path, index_col=0).loc["gru", "mae"] for name, path in tables.items()}
    assert len(set(mae.values())) == 3  # the network read them (naive takes none: no error)
    assert_one_line_error(invoke("evaluate", data, "-m", "gru", "--future-covariate", "price"),
                          "--future-covariate names ['price']")
    assert_one_line_error(invoke("evaluate", data, "-m", "naive", "--future-covariate", "promo"),
                          "does not apply to --model naive")


def test_calendar_features_need_no_future_file(tmp_path, csv):
    model = tmp_path / "gru.joblib"
    fit_ok(csv, "--model", "gru", "--budget", "tiny", "-H", 3, "-l", 6, "--future-covariate",
           "calendar", "--out", model)
    result = invoke("predict", model, csv)
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 1 + 3
    frame = make_long(STARTS)
    integer = tmp_path / "integer.csv"
    frame.assign(ds=frame.groupby("unique_id").cumcount() + 1).to_csv(integer, index=False)
    assert_one_line_error(invoke("fit", integer, "--model", "gru", "-H", 3, "--future-covariate",
                                 "calendar"), "integer times")


def test_bad_long_input_is_one_line(tmp_path, long_csv, named_csv):
    frame = make_long(STARTS)
    duplicated = tmp_path / "dup.csv"
    pd.concat([frame, frame.iloc[[4]]]).to_csv(duplicated, index=False)
    assert_one_line_error(invoke("fit", duplicated, "--model", "naive"), "duplicated", "'a'")
    assert_one_line_error(invoke("fit", named_csv, "--id-column", "store", "--model", "naive"),
                          "no time column 'ds'", "--time-column")
    assert_one_line_error(invoke("fit", named_csv, "--id-column", "store", "--time-column",
                                 "week", "--model", "naive"), "no target column 'y'", "--target")
    assert_one_line_error(invoke("fit", long_csv, "-t", "y", "-t", "z", "--model", "naive"),
                          "one target column")
    assert_one_line_error(invoke("fit", "--dataset", "appliances", "--id-column", "x"),
                          "--id-column is for a CSV file in long format")
    model = tmp_path / "naive.joblib"
    fit_ok(long_csv, "--model", "naive", "-H", 2, "--out", model)
    assert_one_line_error(invoke("predict", model, long_csv, "--series", "zz", "--plot",
                                 tmp_path / "p.png"), "--series zz: no such series")
    assert_one_line_error(invoke("predict", model, named_csv), "no id column 'unique_id'",
                          "--id-column")
    assert_one_line_error(invoke("predict", model, "--dataset", "appliances"),
                          "this model was fitted on a CSV file in long format",
                          "the shipped data sets are wide")


def test_wide_and_long_models_do_not_mix(tmp_path, long_csv, csv):
    wide = tmp_path / "wide.joblib"
    fit_ok(csv, "--model", "naive", "-H", 2, "--out", wide)
    assert_one_line_error(invoke("predict", wide, long_csv), "fitted on a wide series")
    assert_one_line_error(invoke("predict", wide, csv, "--series", "a", "--plot",
                                 tmp_path / "p.png"), "--series picks series of long data")


@pytest.fixture
def csv(tmp_path):
    from test_cli import make_csv

    return make_csv(tmp_path)


def test_future_covariates_on_the_command_line(tmp_path):
    frame = make_long(STARTS).assign(promo=lambda d: (np.arange(len(d)) % 5 == 0).astype(float))
    last = frame.groupby("unique_id").cumcount(ascending=False) < 3
    data, future = tmp_path / "data.csv", tmp_path / "future.csv"
    frame[~last].to_csv(data, index=False)
    frame[last][["unique_id", "ds", "promo"]].to_csv(future, index=False)
    model = tmp_path / "gru.joblib"
    fit_ok(data, "--model", "gru", "--budget", "tiny", "-H", 3, "-l", 6, "--future-covariate",
           "promo", "--out", model)
    result = invoke("predict", model, data, "--future", future, "--level", 90)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "unique_id,ds,y,y_lo_90,y_hi_90"
    assert len(result.stdout.splitlines()) == 1 + 3 * 3
    assert_one_line_error(invoke("predict", model, data), "--future FILE")
    short = tmp_path / "short.csv"
    frame[last][["unique_id", "ds", "promo"]].iloc[:-1].to_csv(short, index=False)
    assert_one_line_error(invoke("predict", model, data, "--future", short), "too short",
                          "unique_id='c'")
    assert_one_line_error(invoke("fit", data, "--model", "gru", "--future-covariate", "price"),
                          "--future-covariate names ['price']")
    assert_one_line_error(invoke("fit", data, "--model", "naive", "--future-covariate", "promo"),
                          "does not apply to --model naive")


def test_autocell_on_long_data_notes_the_unused_test_part_once(long_csv):
    result = fit_ok(long_csv, "-H", 2, "-l", 8, "--budget", "tiny")
    assert result.stderr.count("--test-size") == 2  # the note and its advice, said once
    assert ("its test part (the last --test-size 0.2 of each series, 30 rows in all) is held "
            "out and used by nothing. Pass --test-size 0") in " ".join(result.stderr.split())
    assert "compare models with `autoforecast evaluate`" in result.stderr
    assert "baselines" not in result.stderr


def test_evaluate_reads_long_data_by_its_own_names(tmp_path):
    """evaluate passes the id, time and target names to compare_models: a covariate named
    like a default column (here y) is just a covariate."""
    path = tmp_path / "named.csv"
    frame = make_long(STARTS).rename(columns={"unique_id": "store", "ds": "week", "y": "sales"})
    frame.assign(y=np.arange(len(frame), dtype=float)).to_csv(path, index=False)
    names = ("--id-column", "store", "--time-column", "week", "--target", "sales")
    result = invoke("evaluate", path, *names, "-m", "naive", "-m", "linear", "-H", 2,
                    "-l", 4, "--test-size", 4)
    assert result.exit_code == 0, result.output
    assert "backtest on the last 4 rows of each of 3 series" in result.stdout
