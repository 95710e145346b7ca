"""Calendar features (issue 23): future_covariates=["calendar"] derives sin/cos pairs from the
time index, for the training windows and the horizon, so predict needs no future=."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autoforecast import AutoCellForecaster, GRUForecaster, load, save
from autoforecast.calendar import calendar_columns, calendar_values

from forecasters import TINY_SEARCH, TINY_TORCH

H = 4
HOURLY = ["hour_of_day_sin", "hour_of_day_cos", "day_of_week_sin", "day_of_week_cos"]


def hourly(n=200, seed=0) -> pd.DataFrame:
    index = pd.date_range("2021-01-04", periods=n, freq="h")  # a Monday, midnight
    rng = np.random.default_rng(seed)
    y = np.sin(2 * np.pi * index.hour / 24) + 0.1 * rng.normal(size=n)
    return pd.DataFrame({"y": y, "promo": (rng.random(n) < 0.3).astype(float)}, index=index)


def gru(**kw):
    return GRUForecaster(**{**dict(lookback=12, horizon=H, hidden_size=4, segment_length=4,
                                   target="y", future_covariates=["calendar"]), **TINY_TORCH,
                            **kw})


@pytest.mark.parametrize("freq, cycles", [
    ("h", ["hour_of_day", "day_of_week"]), ("15min", ["hour_of_day", "day_of_week"]),
    ("D", ["day_of_week", "day_of_year"]), ("B", ["day_of_week", "day_of_year"]),
    ("W", ["day_of_year"]), ("MS", ["month_of_year"]), ("QS", ["month_of_year"]),
])
def test_the_frequency_chooses_the_cycles(freq, cycles):
    assert calendar_columns(pd.tseries.frequencies.to_offset(freq)) == [
        f"{c}_{p}" for c in cycles for p in ("sin", "cos")]


def test_values_at_known_timestamps():
    times = pd.DatetimeIndex(["2021-01-04 06:00", "2021-01-09 18:00", "2021-01-10 00:30"])
    values = calendar_values(times, HOURLY)
    week = 2 * np.pi / 7
    expected = [[1, 0, 0, 1],  # Monday 06:00: a quarter of the day, the week's start
                [-1, 0, np.sin(5 * week), np.cos(5 * week)],  # Saturday 18:00
                [np.sin(np.pi / 24), np.cos(np.pi / 24), np.sin(6 * week), np.cos(6 * week)]]
    assert np.allclose(values, expected)
    year = calendar_values(pd.DatetimeIndex(["2021-01-01", "2021-07-02", "2024-12-31"]),
                           ["day_of_year_sin", "day_of_year_cos", "month_of_year_cos"])
    assert np.allclose(year[:, 0], [0, np.sin(2 * np.pi * 182 / 365), np.sin(2 * np.pi * 365 / 366)])
    assert np.allclose(year[:, 2], [1, np.cos(2 * np.pi * 6 / 12), np.cos(2 * np.pi * 11 / 12)])
    periods = pd.period_range("2021-01-04 06:00", periods=1, freq="h")
    assert np.allclose(calendar_values(periods, HOURLY), values[:1])


def test_the_same_as_the_columns_given_by_hand():
    """Fitting with "calendar" is fitting with those columns in the data and in future=."""
    df = hourly()[["y"]]
    by_hand = df.join(pd.DataFrame(calendar_values(df.index, HOURLY), df.index, HOURLY))
    times = pd.date_range(df.index[-1], periods=H + 1, freq="h")[1:]
    future = pd.DataFrame(calendar_values(times, HOURLY), times, columns=HOURLY)
    auto = gru().fit(df)
    manual = gru(future_covariates=HOURLY).fit(by_hand)
    assert auto.calendar_ == HOURLY and list(auto.future_idx_) == [1, 2, 3, 4]
    assert np.allclose(auto.predict(), manual.predict(future=future))
    assert np.allclose(auto.predict(df.iloc[:150]), manual.predict(by_hand.iloc[:150], future=(
        pd.DataFrame(calendar_values(df.index[150:150 + H], HOURLY), df.index[150:150 + H],
                     columns=HOURLY))))
    assert auto.backtest(df, start=190).forecast.tolist() == pytest.approx(
        manual.backtest(by_hand, start=190).forecast.tolist())


def test_predict_needs_no_future_and_refuses_one():
    df = hourly()[["y"]]
    est = gru(future_covariates="calendar").fit(df)  # the string alone: the same
    forecast = est.predict()
    assert list(forecast.index) == list(pd.date_range("2021-01-12 08:00", periods=H, freq="h"))
    assert est.predict_interval(coverage=0.8).shape == (H, 2)
    with pytest.raises(ValueError, match="reads only the calendar features"):
        est.predict(future=pd.DataFrame({"promo": np.zeros(H)}, index=forecast.index))


def test_beside_a_column_future_gives_that_column_only():
    df = hourly()
    est = gru(future_covariates=["promo", "calendar"]).fit(df.iloc[:-H])
    assert [est._fitted_columns()[i] for i in est.future_idx_] == ["promo", *HOURLY]
    future = df.iloc[-H:][["promo"]]
    assert est.predict(future=future).shape == (H, 1)
    with pytest.raises(ValueError, match="predict needs their values over the horizon"):
        est.predict()


def test_long_frames_get_each_series_own_calendar():
    df = hourly()[["y"]]
    long = pd.concat([df.iloc[i:].reset_index(names="ds").assign(unique_id=k, y=lambda d, i=i:
                                                                  d.y + i)
                      for i, k in enumerate("ab")], ignore_index=True)
    long = long[~((long.unique_id == "b") & (long.ds > long.ds.max() - pd.Timedelta("5h")))]
    est = gru(target=None).fit(long)
    forecast = est.predict()
    assert forecast.groupby("unique_id").ds.min().tolist() == [
        pd.Timestamp("2021-01-12 08:00"), pd.Timestamp("2021-01-12 03:00")]
    assert est.predict_interval().shape == (2 * H, 5)
    assert est.predict(long[long.ds < "2021-01-10"]).shape == (2 * H, 3)
    assert est.backtest(long, start=-H - 2).shape == (2 * 3 * H, 7)


def test_joblib_and_the_safe_format_round_trip(tmp_path):
    df = hourly()
    cell = AutoCellForecaster(lookback=12, horizon=H, target="y", segment_length=4,
                              future_covariates=["calendar"], **TINY_SEARCH).fit(df)
    expected = cell.predict()
    for name in ("m.joblib", "m.afm"):
        save(cell, tmp_path / name)
        back = load(tmp_path / name)
        assert back.calendar_ == HOURLY
        assert np.allclose(back.predict(), expected)
        assert np.allclose(back.predict(df.iloc[:120]), cell.predict(df.iloc[:120]))


@pytest.mark.parametrize("data, message", [
    ("integer", "integer times"),
    ("array", "no regular timestamps"),
    ("yearly", "steps by a year or more"),
    ("clash", "has a column named 'hour_of_day_sin'"),
    ("named", "has a column named 'calendar'"),
])
def test_data_without_a_calendar_is_one_error(data, message):
    df = hourly()[["y"]]
    if data == "integer":
        X, kw = (df.reset_index(drop=True).reset_index(names="ds")
                 .assign(unique_id="a", ds=lambda d: d.ds + 1)), {"target": None}
    elif data == "array":
        X, kw = df.to_numpy(), {"target": None}
    elif data == "yearly":
        X, kw = df.set_index(pd.date_range("1800", periods=len(df), freq="YS")), {}
    else:
        X, kw = df.assign(**{"hour_of_day_sin" if data == "clash" else "calendar": 0.0}), {}
    with pytest.raises(ValueError, match=message):
        gru(**kw).fit(X)


def test_bad_values_are_refused():
    with pytest.raises(ValueError, match='"calendar" or a non-empty list'):
        gru(future_covariates="promo").fit(hourly())
