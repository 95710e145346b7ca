"""Long-format data (issue 23): recognition, bad input, global and per-series fits, predict,
intervals, backtests, and the refusal of row splitters."""

from __future__ import annotations

import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import TimeSeriesSplit, cross_val_score

from autoforecast import (ARIMAForecaster, AutoCellForecaster, GRUForecaster, LinearForecaster,
                          NaiveForecaster, compare_models)
from autoforecast.data import InputWarning, MissingValuesError, NotEnoughDataError
from autoforecast.data.long import check_long, long_columns

from forecasters import TINY_SEARCH, TINY_TORCH

STARTS = (("a", "2021-01-01", 60), ("b", "2021-01-02", 50), ("c", "2021-01-01 12:00", 40))


def make_long(starts=STARTS, freq="h", seed=0) -> pd.DataFrame:
    """Series of different lengths and starts, levels far apart."""
    rng = np.random.default_rng(seed)
    parts = []
    for k, (key, start, n) in enumerate(starts):
        parts.append(pd.DataFrame({
            "unique_id": key, "ds": pd.date_range(start, periods=n, freq=freq),
            "y": 10.0 * k + np.sin(np.arange(n) / 3 + k) + 0.1 * rng.normal(size=n)}))
    return pd.concat(parts, ignore_index=True)


def gru(**kw):
    return GRUForecaster(**{**dict(lookback=8, horizon=3, hidden_size=4, segment_length=4),
                            **TINY_TORCH, **kw})


def error_of(df, **kw) -> str:
    with pytest.raises(ValueError) as info:
        NaiveForecaster(lookback=2, horizon=2).fit(df, **kw)
    return str(info.value)


# ------------------------------------------------------------------------------- bad input
def test_duplicated_pair_is_refused_even_when_identical():
    df = make_long()
    df = pd.concat([df, df.iloc[[5]]], ignore_index=True)
    message = error_of(df)
    assert "duplicated" in message and "'a'" in message and "2021-01-01 05:00:00" in message


def test_non_numeric_target_ids_of_mixed_types_and_bad_times():
    df = make_long()
    assert "target column 'y' must be numeric" in error_of(df.assign(y=df.y.astype(str)))
    mixed = df.assign(unique_id=df.unique_id.astype(object))
    mixed.loc[mixed.unique_id == "b", "unique_id"] = 7
    assert "mixes id types" in error_of(mixed)
    assert "timestamps (datetime64) or integers" in error_of(df.assign(ds=df.ds.astype(str)))


def test_different_frequencies_are_refused():
    df = pd.concat([make_long(STARTS[:1]), make_long(STARTS[1:2], freq="2h")])
    message = error_of(df)
    assert "different frequencies" in message and "'a'" in message and "'b'" in message


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_the_step_is_read_in_the_timestamps_own_unit(unit):
    """A two-row series has no inferred frequency: its step comes from its time difference,
    which must be read in the column's unit (pandas 3 parses timestamps to microseconds)."""
    two = pd.DataFrame({"unique_id": "z", "ds": pd.date_range("2021-01-01", periods=2,
                                                                freq="h"), "y": [1.0, 2.0]})
    df = pd.concat([make_long(), two], ignore_index=True)
    df["ds"] = df.ds.astype(f"datetime64[{unit}]")
    with pytest.warns(InputWarning, match=r"1 of 4 series dropped.*'z' \(2 rows\)"):
        est = NaiveForecaster(lookback=2, horizon=3).fit(df)
    assert est.long_freq_ == pd.offsets.Hour()
    apart = two.assign(ds=pd.to_datetime(["2021-01-01 00:00", "2021-01-01 03:00"])
                       .astype(f"datetime64[{unit}]"))
    panel = check_long(apart, long_columns(apart), "ffill")  # alone: steps by 3 hours
    assert panel.freq == pd.Timedelta(hours=3) and list(panel.lengths) == [2]


def test_time_zone_aware_times_are_refused_with_the_conversion():
    df = make_long()
    df["ds"] = df.ds.dt.tz_localize("Europe/Paris")
    message = error_of(df)
    assert "time-zone aware" in message and "datetime64[us, Europe/Paris]" in message
    assert "df['ds'].dt.tz_convert(None)" in message
    with pytest.raises(ValueError, match="time-zone aware"):
        LinearForecaster(lookback=4, horizon=2).fit(df)
    df["ds"] = df.ds.dt.tz_convert(None)  # as suggested: then it fits
    assert len(NaiveForecaster(lookback=2, horizon=2).fit(df).predict()) == 3 * 2


def test_gaps_follow_the_missing_policy():
    df = make_long().drop(index=[10, 11])
    with pytest.raises(MissingValuesError, match="'a'.*2 missing time"):
        NaiveForecaster().fit(df)
    panel = check_long(df, long_columns(df), "interpolate")
    assert list(panel.lengths) == [60, 50, 40]
    full = make_long()
    assert np.isfinite(panel.values).all()
    assert panel.values[9, 0] == full.y[9] and panel.values[12, 0] == full.y[12]


def test_gaps_are_placed_in_one_pass_per_series(monkeypatch):
    """At a calendar frequency, a gap's rows are placed by one search per series, not one date
    range per row (10,000 series of 1,000 rows would take minutes)."""
    from autoforecast.data import long

    months = pd.date_range("2020-01-01", periods=12, freq="MS")
    df = pd.DataFrame({"unique_id": np.repeat(["a", "b"], 10),
                       "ds": np.r_[months[[0, 1, 2, 4, 5, 6, 7, 8, 10, 11]], months[:10]],
                       "y": np.arange(20.0)})
    calls, real = [], pd.date_range

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(long.pd, "date_range", counted)
    panel = check_long(df, long_columns(df), "ffill")
    assert list(panel.lengths) == [12, 10] and panel.freq == pd.offsets.MonthBegin()
    np.testing.assert_array_equal(panel.series(0)[:, 0], [0, 1, 2, 2, 3, 4, 5, 6, 7, 7, 8, 9])
    assert len(calls) <= 2 * len(panel)  # a series' length and its gaps' places
    with pytest.raises(MissingValuesError, match="first between 2020-03-01 00:00:00 and "
                                                 "2020-05-01 00:00:00"):
        check_long(df, long_columns(df))


def test_dropping_short_series_is_linear_in_the_number_of_series():
    import time

    n = 20_000
    panel = check_long(pd.DataFrame({"unique_id": np.repeat(np.arange(n), 2),
                                     "ds": np.tile([0, 1], n), "y": 1.0}),
                       long_columns(pd.DataFrame(columns=["unique_id", "ds", "y"])))
    started = time.perf_counter()
    with pytest.warns(InputWarning, match="1 of 20000 series dropped"):
        kept = NaiveForecaster()._drop_short(panel, list(range(1, n)))
    assert len(kept) == n - 1 and time.perf_counter() - started < 2  # was 10 s


def test_unsorted_rows_are_sorted():
    df = make_long()
    shuffled = df.sample(frac=1.0, random_state=0)
    a = LinearForecaster(lookback=6, horizon=2).fit(df).predict()
    b = LinearForecaster(lookback=6, horizon=2).fit(shuffled).predict()
    pd.testing.assert_frame_equal(a, b)


def test_short_series_are_dropped_with_a_warning_and_all_short_is_an_error():
    df = make_long()
    with pytest.warns(InputWarning, match=r"1 of 3 series dropped.*'c' \(40 rows\)"):
        est = NaiveForecaster(lookback=40, horizon=3).fit(df)
    assert list(est.predict().unique_id.unique()) == ["a", "b"]
    with pytest.warns(InputWarning, match="1 of 3 series dropped"):
        assert list(gru(lookback=40, validation_size=3).fit(df).series_ids_) == ["a", "b"]
    with pytest.raises(NotEnoughDataError, match="every series"):
        LinearForecaster(lookback=60, horizon=3).fit(df)


def test_the_constructor_target_is_refused_with_a_long_frame():
    with pytest.raises(ValueError, match="target_col"):
        NaiveForecaster(target="y").fit(make_long())


def test_row_splitters_are_refused_and_point_to_backtest():
    df = make_long()
    with pytest.raises(ValueError, match="TimeSeriesSplit.*backtest"):
        cross_val_score(NaiveForecaster(lookback=2, horizon=2), df, cv=TimeSeriesSplit(3),
                        error_score="raise")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = cross_val_score(NaiveForecaster(lookback=2, horizon=2), df, cv=TimeSeriesSplit(3))
    assert np.isnan(scores).all() and any("backtest" in str(w.message) for w in caught)
    est = NaiveForecaster(lookback=2, horizon=2).fit(df)
    with pytest.raises(ValueError, match="backtest"):
        est.predict_at(df, [5])


# ----------------------------------------------------------------------- names and times
def test_columns_named_by_keywords_and_integer_times():
    df = make_long().rename(columns={"unique_id": "store", "ds": "t", "y": "sales"})
    df["t"] = df.groupby("store").cumcount() + 100  # integers, per series
    est = LinearForecaster(lookback=6, horizon=2).fit(df, id_col="store", time_col="t",
                                                      target_col="sales")
    out = est.predict()
    assert list(out.columns) == ["store", "t", "sales"]
    assert isinstance(out.index, pd.RangeIndex)
    assert out.t.tolist() == [160, 161, 150, 151, 140, 141]  # each continues by +1
    assert est.predict(df).equals(out)


def test_other_columns_are_covariates():
    df = make_long().assign(temp=lambda d: np.cos(np.arange(len(d))))
    est = gru(covariates="others").fit(df)
    assert est.covariate_idx_ == [1] and est.long_features_ == ["y", "temp"]
    with pytest.raises(ValueError, match="covariate columns"):
        est.predict(df.drop(columns="temp"))


# ---------------------------------------------------------------------- global training
def test_global_parts_are_the_last_steps_of_each_series():
    est = gru(validation_size=6, test_size=3).fit(make_long())
    split = est.split_
    for s, n in zip(split.splits, (60, 50, 40)):
        assert (s.n_rows, s.train_end, s.val_end) == (n, n - 9, n - 3)
    val = split.origins("val", 8, 3)
    assert len(val) == 3 * 4  # 6 - 3 + 1 windows per series
    starts = np.array(split.starts)
    series = np.searchsorted(starts, val, side="right") - 1
    assert np.all(val - 8 >= starts[series]) and np.all(val + 3 <= starts[series + 1])


def test_a_batch_holds_at_most_batch_size_windows_of_one_series_each():
    est = gru(batch_size=5).fit(make_long())
    train, _ = est._split_windows(est.scaler_.transform(
        check_long(make_long(), long_columns(make_long())).values, [60, 50, 40]), est.split_)
    sizes = [len(x) for x, _ in train.batches(5)]
    assert max(sizes) == 5 and sum(sizes) == len(train)
    starts = np.asarray(est.split_.starts)  # each window's rows (inputs and targets) lie in
    first = train.origins - est.lookback_   # one series: they start and end in the same one
    end = train.origins + est.horizon - 1
    assert (np.searchsorted(starts, first, "right") == np.searchsorted(starts, end, "right")).all()
    x, y = next(train.batches(len(train)))
    values = check_long(make_long(), long_columns(make_long())).values[:, 0]
    scaled = est.scaler_.transform(values[:, None], [60, 50, 40])[:, 0]
    np.testing.assert_allclose(y[:, :, 0], scaled[train.origins[:, None] + np.arange(est.horizon)],
                               rtol=1e-5, atol=1e-6)


def test_each_series_is_scaled_on_its_own():
    df = make_long()
    a = LinearForecaster(lookback=6, horizon=2).fit(df).predict()
    shifted = df.assign(y=np.where(df.unique_id == "b", df.y * 1000 + 5, df.y))
    b = LinearForecaster(lookback=6, horizon=2).fit(shifted).predict()
    np.testing.assert_allclose(b.y[b.unique_id == "b"], a.y[a.unique_id == "b"] * 1000 + 5,
                               rtol=1e-9)
    np.testing.assert_allclose(b.y[b.unique_id != "b"], a.y[a.unique_id != "b"], rtol=1e-9)


def test_the_panel_scaler_reads_no_validation_or_test_row():
    df = make_long()
    est = LinearForecaster(lookback=6, horizon=2, validation_size=0.2, test_size=0.2).fit(df)
    position = df.groupby("unique_id").cumcount().to_numpy()
    train_end = np.array([s.train_end for s in est.split_.splits])
    held = position >= train_end[df.unique_id.map({"a": 0, "b": 1, "c": 2}).to_numpy()]
    assert held.sum() == sum(n - s.train_end for n, s in zip([60, 50, 40], est.split_.splits))
    wild = df.assign(y=np.where(held, 1e4 * np.sin(position), df.y))
    other = clone(est).fit(wild)
    np.testing.assert_array_equal(other.scaler_.mean_, est.scaler_.mean_)
    np.testing.assert_array_equal(other.scaler_.scale_, est.scaler_.scale_)
    for key, n in zip("abc", train_end):  # the training rows' statistics
        rows = df.y[df.unique_id == key].to_numpy()[:n]
        np.testing.assert_allclose(est.scaler_.mean_[ord(key) - ord("a"), 0], rows.mean())
        np.testing.assert_allclose(est.scaler_.scale_[ord(key) - ord("a"), 0], rows.std())


# ------------------------------------------------------------------------------ predict
@pytest.mark.parametrize("make", [lambda: LinearForecaster(lookback=6, horizon=3),
                                  lambda: gru(),
                                  lambda: NaiveForecaster(lookback=2, horizon=3),
                                  lambda: ARIMAForecaster(lookback=10, horizon=3, order=(1, 0, 0))])
def test_predict_and_intervals_continue_each_series(make):
    df = make_long()
    est = make().fit(df)
    out = est.predict()
    assert isinstance(out.index, pd.RangeIndex) and list(out.columns) == ["unique_id", "ds", "y"]
    first = out.groupby("unique_id").ds.first()
    last = df.groupby("unique_id").ds.max()
    assert (first == last + pd.Timedelta(hours=1)).all()
    bands = est.predict_interval(coverage=[0.8, 0.9])
    assert list(bands.columns) == ["unique_id", "ds", "y", "y_lo_80", "y_hi_80", "y_lo_90",
                                   "y_hi_90"]
    assert (bands.y_lo_90 <= bands.y).all() and (bands.y <= bands.y_hi_90).all()
    assert ((bands.y_hi_90 - bands.y_lo_90) >= (bands.y_hi_80 - bands.y_lo_80) - 1e-12).all()
    pd.testing.assert_frame_equal(est.predict(df), out)


def test_arima_fits_per_series_and_n_jobs_does_not_change_them():
    df = make_long()
    one = ARIMAForecaster(lookback=10, horizon=2, order=(1, 0, 0), n_jobs=1).fit(df)
    with joblib.parallel_config(backend="threading"):  # two workers, without process start-up
        two = ARIMAForecaster(lookback=10, horizon=2, order=(1, 0, 0), n_jobs=2).fit(df)
    assert sorted(one.series_models_) == ["a", "b", "c"]
    assert one.series_models_["b"].split_.n_rows == 50
    pd.testing.assert_frame_equal(one.predict(), two.predict())


def test_a_global_model_forecasts_a_new_series_and_a_local_one_refuses_it():
    df = make_long()
    new = make_long((("z", "2021-02-01", 20),))
    assert len(LinearForecaster(lookback=6, horizon=2).fit(df).predict(new)) == 2
    with pytest.raises(ValueError, match="'z' was not fitted"):
        NaiveForecaster(horizon=2).fit(df).predict(new)


def test_wide_and_long_do_not_mix():
    df = make_long()
    wide = df.pivot(index="ds", columns="unique_id", values="y").dropna()
    with pytest.raises(ValueError, match="fitted on a wide series"):
        NaiveForecaster().fit(wide).predict(df)


# ----------------------------------------------------------------------------- backtests
def test_backtest_and_compare_models_on_a_long_frame():
    df = make_long()
    est = LinearForecaster(lookback=6, horizon=2).fit(df)
    table = est.backtest(df, start=-5, coverage=0.9)
    assert list(table.columns[:3]) == ["unique_id", "origin", "step"]
    assert table.groupby("unique_id").size().tolist() == [8, 8, 8]  # 4 origins x 2 steps
    report = compare_models({"naive": NaiveForecaster(horizon=2),
                             "linear": LinearForecaster(lookback=6, horizon=2)},
                            df, test_size=6, coverage=0.9)
    assert list(report.index) == ["naive", "linear"] and report.rmse.notna().all()
    named = df.rename(columns={"unique_id": "store", "ds": "week", "y": "sales"})
    again = compare_models({"naive": NaiveForecaster(horizon=2),
                            "linear": LinearForecaster(lookback=6, horizon=2)},
                           named, test_size=6, coverage=0.9, id_col="store", time_col="week",
                           target_col="sales")
    scores = ["mae", "rmse", "coverage_90", "width_90"]
    pd.testing.assert_frame_equal(again[scores], report[scores])  # the names change nothing


def test_autocell_fits_a_long_frame():
    events = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # test_size=0: nothing held out, nothing to warn of
        est = AutoCellForecaster(lookback=8, horizon=2, validation_size=6, test_size=0,
                                 segment_length=4, **TINY_SEARCH).fit(make_long(),
                                                                      callback=events.append)
    assert est.report_ is None
    assert len(est.predict()) == 6
    assert "baselines" not in {e.stage for e in events}


def test_autocell_warns_that_a_long_frames_test_part_is_unused():
    """On a long frame there is no skill report: a test part held out without a refit is
    used by nothing, which a warning says (once), and no baseline is announced or fitted."""
    events = []
    with pytest.warns(InputWarning, match=r"test part \(the last test_size=6 of each series, "
                      r"18 rows in all\) is held out and used by nothing.*test_size=0") as caught:
        est = AutoCellForecaster(lookback=8, horizon=2, validation_size=6, test_size=6,
                                 segment_length=4, **TINY_SEARCH).fit(make_long(),
                                                                      callback=events.append)
    assert sum("test part" in str(w.message) for w in caught) == 1
    assert est.report_ is None and est.baselines_ == {}
    assert "baselines" not in {e.stage for e in events}


@pytest.mark.parametrize("freq, starts", [
    (2, [0, 10, 7]),
    (pd.tseries.frequencies.to_offset("h"),
     pd.to_datetime(["2024-01-01 00:00", "2024-03-31 23:00", "2024-06-01 05:00"])),
    (pd.tseries.frequencies.to_offset("MS"),  # a calendar frequency: months of unequal length
     pd.to_datetime(["2024-01-01", "2024-11-01", "2023-02-01"])),
])
@pytest.mark.parametrize("include", [False, True])
def test_times_after_each_is_times_after_of_each_start(freq, starts, include):
    from autoforecast.data.long import times_after, times_after_each

    counts = [3, 1, 4]
    expected = np.concatenate([np.asarray(times_after(t, freq, n, include))
                               for t, n in zip(starts, counts)])
    np.testing.assert_array_equal(times_after_each(starts, freq, counts, include), expected)
    np.testing.assert_array_equal(  # one count for every start
        times_after_each(starts, freq, 2, include),
        np.concatenate([np.asarray(times_after(t, freq, 2, include)) for t in starts]))
