"""The data layer: validation errors, missing-value policies, splits, scaling, lazy windows."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from autoforecast.baselines import NaiveForecaster
from autoforecast.data import (MissingValuesError, NotEnoughDataError, SeriesScaler, Windows,
                               check_series, future_index, resolve_split)

from conftest import make_series


def fit(X, **params):
    return NaiveForecaster(**{"lookback": 3, "horizon": 2, **params}).fit(X)


def test_non_numeric_column_is_named(series):
    bad = series.assign(label="x")
    with pytest.raises(ValueError, match=r"non-numeric column\(s\): \['label'\]"):
        fit(bad)


def test_unsorted_and_duplicated_timestamps(series):
    with pytest.raises(ValueError, match="not increasing.*sort_index"):
        fit(series.iloc[::-1])
    with pytest.raises(ValueError, match="duplicated label"):
        fit(pd.concat([series.iloc[:5], series.iloc[4:]]))


def test_too_few_rows_says_what_is_needed(series):
    with pytest.raises(NotEnoughDataError, match="X has 6 sample.*lookback \\+ horizon = 5"):
        fit(series.iloc[:6], validation_size=2)


def test_unknown_target_lists_columns(series):
    with pytest.raises(ValueError, match=r"unknown target 'nope'.*'s0'"):
        fit(series, target="nope")


def test_feature_count_must_match_at_predict(series):
    est = fit(series.to_numpy())
    with pytest.raises(ValueError, match="3 features"):
        est.predict(series.to_numpy()[:, :2])


def test_infinity_is_rejected(series):
    bad = series.copy()
    bad.iloc[7, 1] = np.inf
    with pytest.raises(ValueError, match="infinite value"):
        fit(bad)


def test_values_too_large_to_standardise_are_rejected_by_column_and_row(series):
    bad = series.copy()
    bad.iloc[7, 1] = 1e300  # its square overflows float64
    with pytest.raises(ValueError, match=r"too large to standardise, first 1e\+300 in column "
                       r"'s1' at 2021-01-01 07:00:00"):
        fit(bad)
    with pytest.raises(ValueError, match="column 1 at row 7"):  # an array: positions
        fit(bad.to_numpy())


def test_infinity_names_the_column_and_the_timestamp(series):
    bad = series.copy()
    bad.iloc[7, 1] = -np.inf
    with pytest.raises(ValueError, match=r"first in column 's1' at 2021-01-01 07:00:00\."):
        fit(bad)


def test_rows_missing_from_a_regular_index_are_gaps_for_the_missing_policy(series):
    holes = series.drop(series.index[[30, 31, 50]])
    with pytest.raises(MissingValuesError, match=r"steps by 1 hour but 3 timestamp\(s\) are "
                       r"missing, first between 2021-01-02 05:00:00 and 2021-01-02 08:00:00.*"
                       r"missing='ffill'"):
        fit(holes)
    data = check_series(NaiveForecaster(), holes, reset=True, missing="interpolate")
    assert data.index.equals(series.index) and data.index.freq == "h"
    np.testing.assert_allclose(data.values[[29, 32]], series.to_numpy()[[29, 32]])
    forecast = NaiveForecaster(horizon=2, missing="ffill").fit(holes).predict(holes)
    assert list(forecast.index) == list(pd.date_range(series.index[-1], periods=3,
                                                      freq="h")[1:])  # real timestamps


def test_a_backtest_after_filled_gaps_starts_at_the_test_part(series):
    import autoforecast

    holes = series.drop(series.index[[30, 31]])
    events = []
    autoforecast.compare_models({"naive": NaiveForecaster(missing="ffill")}, holes, test_size=20,
                                callback=events.append)
    assert "20 forecast origin(s)" in events[-1].message  # not 22: no training row is tested


def test_business_days_with_a_holiday_are_one_gap_not_weekends():
    days = pd.bdate_range("2021-01-01", periods=40)
    frame = pd.DataFrame({"a": np.arange(40.0)}, index=days).drop(days[10])
    with pytest.raises(MissingValuesError, match="business days but 1 timestamp"):
        fit(frame)
    assert len(check_series(NaiveForecaster(), frame, reset=True, missing="ffill").values) == 40


def test_missing_values_raise_by_default_and_policies_fill(series):
    holes = series.copy()
    holes.iloc[[10, 11], 0] = np.nan
    with pytest.raises(MissingValuesError, match="missing='ffill'"):
        fit(holes)
    ffilled = check_series(NaiveForecaster(), holes, reset=True, missing="ffill").values
    assert ffilled[10, 0] == ffilled[11, 0] == holes.iloc[9, 0]
    interp = check_series(NaiveForecaster(), holes, reset=True, missing="interpolate").values
    v9, v12 = holes.iloc[9, 0], holes.iloc[12, 0]
    np.testing.assert_allclose(interp[10:12, 0], [v9 + (v12 - v9) / 3, v9 + 2 * (v12 - v9) / 3])
    np.testing.assert_array_equal(interp[:, 1:], holes.to_numpy()[:, 1:])
    trailing = check_series(NaiveForecaster(), holes.iloc[:12], reset=True, missing="interpolate")
    assert trailing.values[11, 0] == v9  # nearest value at the ends
    leading = series.copy()
    leading.iloc[0, 2] = np.nan
    with pytest.raises(MissingValuesError, match="start of column"):
        fit(leading, missing="ffill")


def test_bad_missing_policy_and_params(series):
    with pytest.raises(ValueError, match="`missing` must be one of"):
        fit(series, missing="drop")
    with pytest.raises(ValueError, match="`lookback` must be an int >= 1, got 0"):
        fit(series, lookback=0)


def test_split_sizes_rows_and_fractions():
    split = resolve_split(100, lookback=5, horizon=2, validation_size=0.2, test_size=10)
    assert (split.train_end, split.val_end, split.n_rows) == (70, 90, 100)
    assert split.origins("val", 5, 2)[0] == 70 and split.origins("val", 5, 2)[-1] == 88
    assert split.origins("train", 5, 2)[0] == 5 and split.origins("train", 5, 2)[-1] == 68
    fit = split.origins("fit", 5, 2)  # the training and validation rows: a naive's residuals
    assert (fit[0], fit[-1], len(fit)) == (5, 88, 84)
    naive = NaiveForecaster(lookback=5, horizon=2, validation_size=0.2, test_size=10)
    assert len(naive.fit(np.arange(100.0)[:, None]).residuals_) == 84
    with pytest.raises(ValueError, match="fraction must be in"):
        resolve_split(100, 5, 2, 1.5, 0)


def test_scaler_uses_training_rows_only():
    values = np.r_[np.zeros((4, 1)), np.full((4, 1), 100.0)]
    values[:4, 0] = [1, 2, 3, 4]
    scaler = SeriesScaler().fit(values[:4])
    assert scaler.mean_[0] == 2.5
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(values)), values)


def test_windows_match_slicing():
    series = np.arange(40, dtype=np.float32).reshape(20, 2)
    windows = Windows(series, origins=[3, 7, 17], lookback=3, horizon=3, targets=[1])
    x, y = next(windows.batches(8))
    np.testing.assert_array_equal(x[1].numpy(), series[4:7])
    np.testing.assert_array_equal(y[2].numpy(), series[17:20, [1]])
    with pytest.raises(ValueError, match="origins must lie in"):
        Windows(series, origins=[2], lookback=3, horizon=1)


def test_future_index_kinds():
    periods = pd.period_range("2020-01", periods=5, freq="M")
    assert future_index(periods, 2)[0] == pd.Period("2020-06", "M")
    irregular = pd.DatetimeIndex(["2020-01-01", "2020-01-03", "2020-01-04"])
    assert list(future_index(irregular, 2)) == [3, 4]
    assert list(future_index(pd.RangeIndex(10, 20, 2), 2)) == [20, 22]
    years = pd.Index(np.arange(2000, 2040))
    assert list(future_index(years[-5:], 2, n_rows=40)) == [2040, 2041]
    assert list(future_index(pd.Index([1, 2, 4]), 2)) == [3, 4]  # irregular: row count
    assert list(future_index(irregular[-2:], 2, n_rows=10)) == [10, 11]


def test_predict_labels_follow_a_numeric_index(series):
    by_year = series.iloc[:40].set_axis(pd.Index(np.arange(2000, 2040), name="year"))
    est = fit(by_year)
    assert list(est.predict().index) == [2040, 2041]
    assert list(est.predict(by_year.iloc[:30]).index) == [2030, 2031]


MEMORY_PROBE = """
import resource, sys, numpy as np, torch
from autoforecast.data import Windows
series = np.random.default_rng(0).normal(size=(26304, 321)).astype(np.float32)
tensor = torch.from_numpy(series)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
windows = Windows(tensor, np.arange(168, 26304 - 24 + 1), lookback=168, horizon=24)
total = 0.0
for x, y in windows.batches(64):
    total += float(x[:, -1].sum())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(peak - before, series.nbytes)
"""


def test_iterating_all_windows_needs_less_than_twice_the_series():
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE], capture_output=True, text=True,
                         check=True).stdout.split()
    extra, size = int(out[0]), int(out[1])
    # A materialised (n_windows, 168, 321) float32 copy would be about 5.6 GB.
    assert extra < 2 * size, f"iterating windows took {extra / 1e6:.0f} MB extra for a {size / 1e6:.0f} MB series"
