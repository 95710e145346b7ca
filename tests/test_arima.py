"""ARIMAForecaster (issue 15): the seasonal automatic search, its record, and the filter pass."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from autoforecast.baselines import ARIMAForecaster, SeasonalNaiveForecaster
from autoforecast.baselines import arima_filter, arima_fits
from autoforecast.baselines.arima_fits import Spec, build_model, fit_css
from autoforecast.baselines.arima_period import period_from_freq
from autoforecast.baselines.arima_search import Limits, neighbours, start_specs

RNG = np.random.default_rng


def hourly(values, start="2024-01-01") -> pd.DataFrame:
    values = np.asarray(values, dtype=float).reshape(len(values), -1)
    return pd.DataFrame(values, columns=[f"y{j}" for j in range(values.shape[1])],
                        index=pd.date_range(start, periods=len(values), freq="h"))


def rmse(a, b) -> float:
    return float(np.sqrt(np.mean((np.asarray(a).ravel() - np.asarray(b).ravel()) ** 2)))


# ----------------------------------------------------------------------- forecast quality
def test_noisy_sine_forecast_within_twice_the_noise():
    sd, n = 0.1, 300
    t = np.arange(n + 24)
    y = np.sin(2 * np.pi * t / 24) + sd * RNG(0).normal(size=len(t))
    est = ARIMAForecaster(horizon=24).fit(y[:n, None])
    assert est.seasonal_period_ == 1  # an array has no calendar
    assert rmse(est.predict(), np.sin(2 * np.pi * t[n:] / 24)) < 2 * sd


def test_blocky_daily_profile_gets_a_seasonal_order_near_seasonal_naive():
    rng = RNG(1)
    profile = np.repeat(rng.normal(size=6), 4)  # 24 hours in blocks of 4
    y = np.tile(profile, 21) + 0.1 * rng.normal(size=24 * 21)
    X, n = hourly(y), 24 * 20
    est = ARIMAForecaster(horizon=24).fit(X.iloc[:n])
    assert est.seasonal_period_ == 24 and est.seasonal_orders_[0][3] == 24
    assert est.seasonal_orders_[0][1] == 1  # D = 1 by the seasonal-strength test
    naive = SeasonalNaiveForecaster(season=24, horizon=24).fit(X.iloc[:n]).predict()
    assert rmse(est.predict(), y[n:]) < 1.2 * rmse(naive, y[n:])
    same = ARIMAForecaster(horizon=24, seasonal_period=24).fit(y[:n, None])  # m given
    assert same.seasonal_orders_ == est.seasonal_orders_


def test_random_walk_gets_d_1_and_stays_near_its_last_value():
    y = np.cumsum(RNG(2).normal(size=400))
    est = ARIMAForecaster(horizon=10).fit(y[:, None])
    assert est.orders_[0][1] == 1
    assert np.abs(est.predict().ravel() - y[-1]).max() < 3 * np.diff(y).std()


def test_constant_series_is_a_recorded_fallback_and_short_series_a_clear_error():
    X = np.column_stack([np.full(60, 3.0), RNG(3).normal(size=60)])
    est = ARIMAForecaster(lookback=5, horizon=2).fit(X)
    np.testing.assert_allclose(est.predict()[:, 0], 3.0)
    assert "constant series" in est.fallbacks_[0][0]["reason"]
    with pytest.raises(ValueError, match="at least 4 rows"):
        ARIMAForecaster(lookback=1, horizon=1).fit(np.arange(3.0)[:, None])


# ---------------------------------------------------------------------- search and record
def test_search_starts_as_hyndman_khandakar_and_moves_by_one():
    starts = start_specs(1, 0, 12, Limits())
    assert [(s.order, s.seasonal_order[:3], s.constant) for s in starts] == [
        ((2, 1, 2), (1, 0, 1), True), ((0, 1, 0), (0, 0, 0), True),
        ((1, 1, 0), (1, 0, 0), True), ((0, 1, 1), (0, 0, 1), True),
        ((0, 1, 0), (0, 0, 0), False)]
    assert [s.trend for s in start_specs(0, 0, 1, Limits())][:2] == ["c", "c"]
    assert all(not s.constant for s in start_specs(1, 1, 12, Limits()))  # d + D = 2
    moves = neighbours(Spec(1, 0, 1, 1, 0, 1, 12, True))
    assert len(moves) == 17 and Spec(1, 0, 1, 1, 0, 1, 12, False) in moves


def test_failed_fits_are_in_the_trace_and_the_fallbacks(monkeypatch):
    real = arima_fits.FITTERS["css"]

    def flaky(z, spec):
        if spec.p == 2:
            return arima_fits.Candidate(spec, reason="planted failure")
        return real(z, spec)

    monkeypatch.setitem(arima_fits.FITTERS, "css", flaky)
    est = ARIMAForecaster(lookback=5).fit(RNG(4).normal(size=(150, 1)))
    failed = [r for r in est.search_trace_[0] if r["failed"]]
    assert failed and all(r["order"][0] == 2 and r["aicc"] is None for r in failed)
    assert {f["reason"] for f in est.fallbacks_[0]} == {"planted failure"}
    assert all(r["method"] == "css" for r in est.search_trace_[0])
    assert est.orders_[0][0] != 2


def test_period_from_the_index_and_its_fallbacks():
    assert period_from_freq("h") == (24, None) and period_from_freq("D") == (7, None)
    assert period_from_freq("MS")[0] == 12 and period_from_freq("QE")[0] == 4
    assert period_from_freq("W")[0] == 52 and period_from_freq(None) == (1, None)
    m, note = period_from_freq("15min")
    assert m == 1 and "sub-hourly" in note
    X = pd.DataFrame({"y": RNG(5).normal(size=120)},
                     index=pd.date_range("2024-01-01", periods=120, freq="15min"))
    est = ARIMAForecaster(lookback=5).fit(X)
    assert est.seasonal_period_ == 1 and "sub-hourly" in est.fallbacks_[0][0]["reason"]
    assert ARIMAForecaster(lookback=5, seasonal_period=4).fit(X).seasonal_period_ == 4


def test_fixed_orders_and_parameter_errors():
    y = np.sin(np.arange(200) * 2 * np.pi / 12) + 0.1 * RNG(6).normal(size=200)
    est = ARIMAForecaster(order=(1, 0, 0), seasonal_order=(0, 1, 1, 12), method="css").fit(
        y[:, None])
    assert est.orders_ == [(1, 0, 0)] and est.seasonal_orders_ == [(0, 1, 1, 12)]
    assert est.search_trace_ == [[]] and est.method_ == "css"
    for bad, match in (({"seasonal_order": (0, 1, 1, 12)}, "needs a fixed `order`"),
                       ({"order": (1, 0, 0), "seasonal_order": (1, 0, 0, 1)}, "m >= 2"),
                       ({"method": "exact"}, "`method` must be one of"),
                       ({"seasonal_period": 0}, "`seasonal_period` must be an int >= 1")):
        with pytest.raises(ValueError, match=match):
            ARIMAForecaster(**bad).fit(y[:, None])


# ---------------------------------------------------------------------------- filtering
@pytest.fixture(scope="module")
def seasonal_drift():
    """A fitted seasonal model with drift, its scaled series and fitted SeriesFit."""
    t = np.arange(400)
    y = np.sin(2 * np.pi * t / 12) + 0.01 * t + 0.2 * RNG(7).normal(size=400)
    est = ARIMAForecaster(lookback=5, horizon=6, order=(1, 0, 1),
                          seasonal_order=(0, 1, 1, 12), method="css").fit(y[:300, None])
    return est, est.scaler_.transform(y[:, None])[:, 0], est.fits_[0]


@pytest.mark.parametrize("spec", [Spec(1, 0, 1, 0, 1, 1, 12, True),  # seasonal, drift
                                  Spec(2, 1, 1, constant=True),  # drift
                                  Spec(1, 0, 0, 1, 0, 0, 12, True)])  # mean
def test_last_origin_is_statsmodels_forecast_with_seasonal_terms_and_drift(spec):
    e = RNG(7).normal(size=400)
    z = np.sin(2 * np.pi * np.arange(400) / 12) + e
    for t in range(12, 400):  # a stochastic season with a drift
        z[t] = z[t - 12] + 0.05 + e[t] + 0.4 * e[t - 1]
    cand = fit_css(z, spec)
    assert cand.ok and spec.trend == ("t" if spec.d + spec.D == 1 else "c")
    res = build_model(z, spec).filter(cand.params)
    origins = np.array([50, 211, 400])
    mean, var = arima_filter.forecast_series(z, spec, cand.params, spec.trend, origins, 6,
                                             variance=True)
    np.testing.assert_allclose(mean[-1], res.forecast(6), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(var[-1], res.get_forecast(6).var_pred_mean, rtol=1e-8)
    early = build_model(z[:211], spec).filter(cand.params)
    np.testing.assert_allclose(mean[1], early.forecast(6), rtol=1e-8, atol=1e-8)


def test_predict_continues_from_the_final_state(seasonal_drift):
    est, z, fit = seasonal_drift
    res = build_model(z[:300], fit.spec(), fit.resolved_trend()).filter(fit.params)
    expected = est.scaler_.inverse_transform(res.forecast(6)[:, None], [0])
    np.testing.assert_allclose(est.predict(), expected, rtol=1e-8, atol=1e-8)
    assert fit.n_rows == 300 and fit.final_cov.shape == (len(fit.final_state),) * 2
    held_out = clone(est).set_params(test_size=50).fit(z[:300, None])  # fitted on 250 rows
    np.testing.assert_allclose(held_out.predict(), held_out.predict(z[:300, None]), rtol=1e-8)


def test_segmented_filter_bounds_memory_and_computes_the_same(seasonal_drift, monkeypatch):
    est, z, fit = seasonal_drift
    origins = np.arange(300, 395)
    whole = est.predict_at(z[:, None], origins, return_variance=True)
    k = len(fit.final_state)
    monkeypatch.setattr(arima_filter, "COV_BUDGET", 8 * k * k * 10)  # 10 rows of covariances
    monkeypatch.setattr(arima_filter, "MIN_SEGMENT", 60)
    assert len(arima_filter._segment_bounds(400, k, True, 60)) == 7
    pieces = est.predict_at(z[:, None], origins, return_variance=True)
    for a, b in zip(whole, pieces):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(whole[0], est.predict_at(z[:, None], origins), rtol=1e-12)


def test_css_parameters_map_onto_statsmodels_layout():
    y = np.cumsum(0.3 + RNG(8).normal(size=500))  # a drift of 0.3 a step
    cand = fit_css(y, Spec(1, 1, 0, constant=True))
    names = build_model(y, cand.spec).param_names
    assert len(names) == len(cand.params) and names[-1] == "sigma2"
    assert cand.params[0] == pytest.approx(0.3, abs=0.1)


def test_autocell_gives_its_arima_baseline_the_index_period():
    from autoforecast import AutoCellForecaster

    est = AutoCellForecaster(lookback=6, horizon=2)
    est.freq_, est.lookback_, est.target_idx_ = pd.tseries.frequencies.to_offset("h"), 6, [0]
    assert est.baseline("arima").seasonal_period == 24
    est.freq_ = None  # an array: no calendar
    assert est.baseline("arima").seasonal_period == 1


def test_pure_sines_are_forecast_exactly():
    """A sampled sinusoid is an AR(2) with unit-circle roots, which auto.arima rejects; here it
    is accepted (filtered from a diffuse start) and forecasts the sines (the issue's example)."""
    t = np.arange(300)
    X = hourly(np.column_stack([np.sin(2 * np.pi * t / 24), 2 * np.sin(2 * np.pi * t / 17 + 1)]))
    est = ARIMAForecaster(lookback=24, horizon=24).fit(X.iloc[:180])
    assert est.orders_[1][0] >= 2 and not arima_fits.is_stationary(est.fits_[1].spec(),
                                                                     est.params_[1])
    origins = np.arange(240, 277)
    truth = np.stack([X.to_numpy()[o:o + 24] for o in origins])
    assert rmse(est.predict_at(X, origins), truth) < 1e-3
    res = build_model(est.scaler_.transform(X.to_numpy())[:, 1], est.fits_[1].spec(),
                      est.trends_[1], est.params_[1]).filter(est.params_[1])
    np.testing.assert_allclose(est.predict_at(X, np.array([300]))[0, :, 1],
                               est.scaler_.inverse_transform(res.forecast(24)[:, None], [1])[:, 0],
                               rtol=1e-8, atol=1e-8)


def test_searched_seasonal_model_round_trips_through_the_safe_format(tmp_path):
    import autoforecast

    rng = RNG(9)
    y = np.tile(np.repeat(rng.normal(size=6), 4), 12) + 0.1 * rng.normal(size=288)
    est = ARIMAForecaster(lookback=24, horizon=24).fit(hourly(y))
    back = autoforecast.load(autoforecast.save(est, tmp_path / "arima.afm"), allow_pickle=False)
    assert back.search_trace_ == est.search_trace_ and back.fallbacks_ == est.fallbacks_
    pd.testing.assert_frame_equal(back.predict(), est.predict())
    np.testing.assert_array_equal(back.fits_[0].final_cov, est.fits_[0].final_cov)


def test_model_based_band_midpoint_is_predict_wide_and_long():
    """predict_interval() centres its Gaussian bands on predict(), which continues from the
    final filtered state (not on a forecast from the last lookback rows), wide and long."""
    e = RNG(0).normal(size=161)
    z = np.cumsum(np.sin(np.arange(160) / 4) + e[1:] + 0.8 * e[:-1])  # a strong MA term
    est = ARIMAForecaster(lookback=10, horizon=4, order=(2, 1, 1)).fit(hourly(z))
    bands = est.predict_interval(coverage=0.9).to_numpy()
    np.testing.assert_allclose(bands.mean(axis=1), est.predict().to_numpy()[:, 0],
                               rtol=1e-12, atol=1e-12)
    long = pd.DataFrame({"unique_id": np.repeat(["a", "b"], 80),
                         "ds": np.tile(pd.date_range("2024-01-01", periods=80, freq="h"), 2),
                         "y": z})
    est = ARIMAForecaster(lookback=10, horizon=4, order=(2, 1, 1)).fit(long)
    bands, out = est.predict_interval(coverage=0.9), est.predict()
    np.testing.assert_allclose((bands.y_lo_90 + bands.y_hi_90) / 2, out.y, rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(bands.y, out.y, rtol=1e-12, atol=1e-12)
