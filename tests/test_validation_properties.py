"""Property-based tests of input validation: random shapes, dtypes, NaN/inf patterns, indexes.

The only allowed outcomes are a correct fit (finite forecasts of the documented shape) or a
clear error of the documented types (ValueError and its subclasses, TypeError).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autoforecast.baselines import NaiveForecaster

DOCUMENTED_ERRORS = (ValueError, TypeError)

dtypes = st.sampled_from([np.float64, np.float32, np.int64, np.int32, np.uint8, np.bool_, object])
index_kinds = st.sampled_from(["range", "datetime", "period", "shuffled", "duplicated", "strings",
                               "float", "none"])


@st.composite
def series_inputs(draw):
    n = draw(st.integers(0, 30))
    f = draw(st.integers(1, 4))
    values = draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=n * f,
                           max_size=n * f)).copy()
    array = np.asarray(values, dtype=np.float64).reshape(n, f)
    for _ in range(draw(st.integers(0, 3))):  # holes and infinities
        if n:
            array[draw(st.integers(0, n - 1)), draw(st.integers(0, f - 1))] = draw(
                st.sampled_from([np.nan, np.inf, -np.inf]))
    dtype = draw(dtypes)
    kind = draw(index_kinds)
    if kind == "none":
        if dtype in (np.float64, np.float32, object) or not np.isfinite(array).all():
            with np.errstate(invalid="ignore"):
                return array.astype(dtype)
        return (np.abs(array) % 100).astype(dtype)
    names = draw(st.lists(st.text(min_size=1, max_size=3), min_size=f, max_size=f, unique=True))
    index = {
        "range": pd.RangeIndex(n),
        "datetime": pd.date_range("2020", periods=n, freq="D"),
        "period": pd.period_range("2020-01", periods=n, freq="M"),
        "shuffled": pd.Index(np.random.default_rng(0).permutation(n)),
        "duplicated": pd.Index(np.zeros(n, dtype=int)),
        "strings": pd.Index([f"r{i}" for i in range(n)]),
        "float": pd.Index(np.arange(n) * 0.5),
    }[kind]
    frame = pd.DataFrame(array, index=index, columns=names)
    if dtype is object:
        frame[names[0]] = frame[names[0]].astype(str)
    elif dtype is not np.float64 and np.isfinite(array).all():
        frame = (frame.abs() % 100).astype(dtype)
    return frame


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(X=series_inputs(), missing=st.sampled_from(["raise", "ffill", "interpolate"]),
       horizon=st.integers(1, 3), lookback=st.integers(1, 4))
def test_fit_is_correct_or_raises_a_documented_error(X, missing, horizon, lookback):
    est = NaiveForecaster(lookback=lookback, horizon=horizon, validation_size=0.2, missing=missing)
    numeric = _numeric_values(X)
    try:
        est.fit(X)
    except DOCUMENTED_ERRORS as err:
        assert str(err), "an error must say what was wrong"
        return
    assert numeric is not None, "non-numeric input must be rejected"
    assert not np.isinf(numeric).any(), "infinite values must be rejected"
    assert missing != "raise" or not np.isnan(numeric).any(), "NaN must be rejected by default"
    forecast = est.predict()
    values = np.asarray(forecast, dtype=np.float64)
    assert values.shape == (horizon, np.asarray(X).shape[1])
    assert np.isfinite(values).all()
    assert type(forecast) is (pd.DataFrame if isinstance(X, pd.DataFrame) else np.ndarray)


def _numeric_values(X):
    try:
        return np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        return None


@pytest.mark.parametrize("bad", [np.zeros((5,)), np.zeros((2, 3, 4)), "text", None, [[1, "a"]]])
def test_malformed_containers(bad):
    with pytest.raises(DOCUMENTED_ERRORS):
        NaiveForecaster(lookback=1).fit(bad)
