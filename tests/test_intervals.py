"""Prediction intervals (issue 16): calibration on simulated data, layouts, round trips, errors."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import autoforecast
from autoforecast import metrics
from autoforecast.baselines import ARIMAForecaster, LinearForecaster, NaiveForecaster
from autoforecast.intervals import (NotEnoughResidualsError, conformal_offsets,
                                    conformal_quantile, residuals_needed)
from conftest import make_series
from forecasters import small_forecasters

SMALL = small_forecasters()


def ar1(n: int, phi: float = 0.7, seed: int = 0, noise_scale=1.0) -> np.ndarray:
    """A stationary AR(1) with Gaussian noise; ``noise_scale`` may be an array over time."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=n) * noise_scale
    x = np.empty(n)
    x[0] = noise[0] / np.sqrt(1 - phi ** 2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + noise[t]
    return x[:, None]


def linear_ar1_coverage(test_scale: float, coverage: float) -> float:
    """Coverage on 10,000+ test points of a linear forecaster calibrated on 2,000+ residuals."""
    n_fit, n_test = 12_500, 10_003
    scale = np.r_[np.ones(n_fit), np.full(n_test, test_scale)]
    series = ar1(n_fit + n_test, noise_scale=scale)
    est = LinearForecaster(lookback=3, horizon=1, alpha=0.0).fit(series[:n_fit])
    assert len(est.residuals_) >= 2000
    origins = np.arange(n_fit, len(series))
    forecast = est.predict_at(series, origins)
    bounds = est.interval_bounds(series, origins, forecast, [coverage])[..., 0, :]
    truth = series[n_fit:, 0]
    assert truth.size >= 10_000
    return metrics.empirical_coverage(truth, bounds[:, 0, 0, 0], bounds[:, 0, 0, 1])


@pytest.mark.parametrize("coverage", [0.8, 0.95])
def test_conformal_coverage_on_ar1_is_nominal(coverage):
    assert abs(linear_ar1_coverage(1.0, coverage) - coverage) < 0.03


def test_negative_control_noise_doubling_after_calibration_under_covers():
    assert linear_ar1_coverage(2.0, 0.9) < 0.9 - 0.15


def test_naive_coverage_on_ar1_multi_step():
    series = ar1(6000, phi=0.9, seed=1)
    est = NaiveForecaster(horizon=3).fit(series[:3000])
    table = est.backtest(series, start=3000, coverage=0.8)
    for step, part in table.groupby("step"):
        inside = metrics.empirical_coverage(part.truth, part.lo_80, part.hi_80)
        assert abs(inside - 0.8) < 0.03, step
    widths = (table.hi_80 - table.lo_80).groupby(table.step).mean()
    assert widths.is_monotonic_increasing  # errors grow with the step


def test_finite_sample_quantile_and_needed_residuals():
    scores = np.arange(1.0, 10.0)[:, None]  # 9 scores: the 90 % quantile is the 9th smallest
    assert conformal_quantile(scores, 0.9)[0] == 9.0
    assert conformal_quantile(np.arange(1.0, 20.0)[:, None], 0.5)[0] == 10.0
    assert residuals_needed(0.9) == 9 and residuals_needed(0.95) == 19
    with pytest.raises(NotEnoughResidualsError, match="needs at least 9 .* there are 8"):
        conformal_quantile(scores[:8], 0.9)


def test_asymmetric_intervals_follow_skewed_residuals():
    rng = np.random.default_rng(0)
    residuals = rng.exponential(size=(4000, 2, 1))  # all positive: forecasts too low
    sym = conformal_offsets(residuals, [0.9], symmetric=True)
    asym = conformal_offsets(residuals, [0.9], symmetric=False)
    assert np.allclose(sym[..., 0, 0], -sym[..., 0, 1])
    np.testing.assert_allclose(sym[..., 0, 1], np.log(10), rtol=0.1)  # |r|'s 90 % quantile
    np.testing.assert_allclose(asym[..., 0, 0], -np.log(0.95), rtol=0.2)  # r's 5 % quantile
    np.testing.assert_allclose(asym[..., 0, 1], np.log(20), rtol=0.1)  # r's 95 % quantile


@pytest.mark.parametrize("est", SMALL, ids=[type(e).__name__ for e in SMALL])
def test_layout_shapes_index_and_wider_coverage_is_wider(est, series):
    est = clone(est).fit(series)
    intervals = est.predict_interval(coverage=[0.5, 0.9])
    forecast = est.predict()
    assert list(intervals.columns.names) == ["target", "coverage", "bound"]
    assert intervals.shape == (est.horizon, 3 * 2 * 2)
    pd.testing.assert_index_equal(intervals.index, forecast.index)
    assert list(intervals.columns[:4]) == [("s0", 0.5, "lower"), ("s0", 0.5, "upper"),
                                           ("s0", 0.9, "lower"), ("s0", 0.9, "upper")]
    width = {c: (intervals.xs((c, "upper"), axis=1, level=[1, 2])
                 - intervals.xs((c, "lower"), axis=1, level=[1, 2])) for c in (0.5, 0.9)}
    assert (width[0.9].to_numpy() > width[0.5].to_numpy()).all()
    lower = intervals.xs((0.9, "lower"), axis=1, level=[1, 2]).to_numpy()
    assert (lower <= forecast.to_numpy()).all()
    recent = series.iloc[:60].to_numpy()
    with pytest.warns(UserWarning, match="feature names"):
        array = est.predict_interval(recent, coverage=0.9)
    assert array.shape == (est.horizon, 3, 1, 2)
    np.testing.assert_allclose(array[:, :, 0, :], est.predict_interval(
        series.iloc[:60], 0.9).to_numpy().reshape(est.horizon, 3, 2))


@pytest.mark.parametrize("est", SMALL, ids=[type(e).__name__ for e in SMALL])
def test_joblib_and_safe_round_trips_keep_the_intervals(est, series, tmp_path):
    est = clone(est).fit(series)
    expected = est.predict_interval(coverage=[0.8, 0.95])
    for path in (tmp_path / "m.joblib", tmp_path / "m.afm"):
        back = autoforecast.load(autoforecast.save(est, path))
        pd.testing.assert_frame_equal(back.predict_interval(coverage=[0.8, 0.95]), expected,
                                      check_exact=True)
        np.testing.assert_array_equal(back.residuals_, est.residuals_)
    back = joblib.load(autoforecast.save(est, tmp_path / "plain.joblib"))
    pd.testing.assert_frame_equal(back.predict_interval(coverage=[0.8, 0.95]), expected)


def test_arima_model_based_bands_match_statsmodels_and_conformal_option(series):
    from statsmodels.tsa.arima.model import ARIMA

    est = ARIMAForecaster(order=(1, 0, 0), horizon=3, target="s0").fit(series)
    bands = est.predict_interval(coverage=0.9)
    reference = ARIMA(series["s0"].to_numpy(), order=(1, 0, 0), trend="c").fit()
    ci = reference.get_forecast(3).conf_int(alpha=0.1)
    np.testing.assert_allclose(bands.to_numpy(), ci, rtol=2e-2)  # ML fits differ slightly
    with pytest.raises(NotEnoughResidualsError, match="interval_method='conformal'"):
        est.set_params(interval_method="conformal").predict_interval()
    conformal = clone(est).set_params(validation_size=0.3).fit(series)
    assert conformal.residuals_.shape == (34, 3, 1)
    np.testing.assert_allclose(conformal.predict(), est.set_params(validation_size=0.3,
                               interval_method="model").fit(series).predict())
    assert conformal.predict_interval(coverage=0.8).shape == (3, 2)


def test_errors_name_the_coverage_and_the_residuals(series):
    est = NaiveForecaster(horizon=2).fit(series)
    for bad in (0.0, 1.0, 95, -0.1, [], [0.5, 1.5], "0.9", True):
        with pytest.raises(ValueError, match=r"`coverage` must be a fraction in \(0, 1\)"):
            est.predict_interval(coverage=bad)
    lstm = clone(SMALL[3]).set_params(validation_size=0).fit(series)
    with pytest.raises(NotEnoughResidualsError, match=r"there are 0\..*validation_size=0"):
        lstm.predict_interval()
    few = LinearForecaster(lookback=6, horizon=1, calibration_size=10).fit(series)
    assert len(few.residuals_) == 10
    with pytest.raises(NotEnoughResidualsError,
                       match=r"needs at least 19 .* there are 10\. .*calibration_size=10"):
        few.predict_interval(coverage=0.95)
    assert few.predict_interval(coverage=0.9).shape == (1, 3 * 2)


def test_linear_residuals_do_not_change_the_map(series):
    with_cal = LinearForecaster(lookback=6, horizon=2).fit(series)
    without = LinearForecaster(lookback=6, horizon=2, calibration_size=0).fit(series)
    np.testing.assert_array_equal(with_cal.coef_, without.coef_)
    assert without.residuals_.shape == (0, 2, 3)
    with pytest.raises(ValueError, match="calibration_size"):
        LinearForecaster(calibration_size=1.5).fit(series)


def test_old_model_without_residuals_says_refit(series):
    est = NaiveForecaster().fit(series)
    del est.residuals_
    with pytest.raises(NotEnoughResidualsError, match="Refit it"):
        est.predict_interval()


def test_interval_metrics():
    y, lo, hi = np.array([0.0, 1.0, 2.0, 3.0]), np.zeros(4), np.full(4, 2.0)
    assert metrics.empirical_coverage(y, lo, hi) == 0.75
    assert metrics.mean_width(lo, hi) == 2.0
    assert metrics.interval_score(y, lo, hi, 0.8) == pytest.approx(2.0 + 10.0 * 1.0 / 4)
    with pytest.raises(ValueError, match="`lower` exceeds `upper`"):
        metrics.mean_width(hi, lo)
    with pytest.raises(ValueError, match=r"`coverage` must be .* in \(0, 1\)"):
        metrics.interval_score(y, lo, hi, 80)


def test_report_and_compare_models_show_coverage_and_width(series):
    est = clone(SMALL[-1]).set_params(baselines=("naive", "arima"), test_size=0.2)
    est.set_params(search__max_nodes=2).fit(series)
    assert {"coverage_90", "width_90"} <= set(est.report_.columns)
    assert est.report_["coverage_90"].between(0, 1).all()
    longer = make_series(400)  # 320 fit rows: 63 linear calibration windows
    table = autoforecast.compare_models({"naive": NaiveForecaster(horizon=2),
                                         "linear": LinearForecaster(lookback=6, horizon=2)},
                                        longer, test_size=80, coverage=[0.8, 0.95])
    assert (table["width_95"] > table["width_80"]).all()
    assert table[["coverage_80", "coverage_95"]].notna().all().all()


def test_a_level_without_enough_residuals_leaves_the_others_and_warns_once():
    from autoforecast.data import InputWarning

    models = {"linear": LinearForecaster(lookback=6, horizon=2)}
    with pytest.warns(InputWarning, match=r"^LinearForecaster: a conformal quantile at level "
                      r"0\.99 needs at least 99") as caught:
        table = autoforecast.compare_models(models, make_series(400), test_size=80,
                                            coverage=[0.8, 0.99])
    assert len([w for w in caught if issubclass(w.category, InputWarning)]) == 1
    assert table.loc["linear", ["coverage_80", "width_80"]].notna().all()
    assert table.loc["linear", ["coverage_99", "width_99"]].isna().all()


@pytest.mark.parametrize("file", ["linear.joblib", "linear.afm", "arima.joblib", "arima.afm"])
def test_models_saved_before_intervals_load_with_the_new_parameters(file):
    import warnings

    from pinned_cases import PINNED

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # saved by 0.1
        est = autoforecast.load(PINNED / file)
        params = est.get_params()
        if isinstance(est, LinearForecaster):
            assert params["calibration_size"] == 0.2
            with pytest.raises(NotEnoughResidualsError, match="Refit it"):
                est.predict_interval()
        else:  # ARIMA's model-based bands need no residuals
            assert params["interval_method"] == "model"
            bands = est.predict_interval(coverage=0.9).to_numpy()
            forecast = est.predict().to_numpy()
            assert (bands[:, 0::2] < forecast).all() and (forecast < bands[:, 1::2]).all()


def _shifted_ar1_backtest(test_scale: float, adaptive: bool) -> float:
    """90 % coverage over 10,000+ test points of a linear forecaster's plain or adaptive
    intervals, the noise scaled by ``test_scale`` after the fit data."""
    n_fit, n_test = 12_500, 10_003
    series = ar1(n_fit + n_test, noise_scale=np.r_[np.ones(n_fit), np.full(n_test, test_scale)])
    est = LinearForecaster(lookback=3, horizon=2, alpha=0.0).fit(series[:n_fit])
    table = est.backtest(series, start=n_fit, coverage=0.9, adaptive=adaptive)
    return metrics.empirical_coverage(table.truth, table.lo_90, table.hi_90)


def test_adaptive_intervals_recover_coverage_after_the_noise_doubles():
    plain, adaptive = _shifted_ar1_backtest(2.0, False), _shifted_ar1_backtest(2.0, True)
    assert plain < 0.75  # the shift breaks the plain intervals ...
    assert abs(adaptive - 0.9) < 0.03  # ... and the adaptive ones follow it


def test_adaptive_intervals_keep_nominal_coverage_without_a_shift():
    assert abs(_shifted_ar1_backtest(1.0, True) - 0.9) < 0.03


def test_adaptive_level_moves_only_with_known_outcomes():
    from autoforecast.intervals import adaptive_offsets

    residuals = np.linspace(-1, 1, 999)[:, None, None] * np.ones((1, 2, 1))
    forecast = np.zeros((4, 2, 1))
    truth = np.full((4, 2, 1), 5.0)  # every outcome a miss
    half = adaptive_offsets(residuals, np.arange(10, 14), truth, forecast, 0.5)[..., 1]
    # step 1 (h = 0): origin 10's outcome is known at origin 11; step 2 at origin 12
    assert half[0, 0, 0] == half[0, 1, 0] and half[1, 0, 0] > half[0, 0, 0]
    assert half[1, 1, 0] == half[0, 1, 0] and half[2, 1, 0] > half[1, 1, 0]


def test_adaptive_intervals_need_symmetric_conformal_residuals():
    series = ar1(400)
    est = LinearForecaster(lookback=3, horizon=1).fit(series[:300])
    with pytest.raises(ValueError, match="symmetric only"):
        est.backtest(series, start=300, coverage=0.9, symmetric=False, adaptive=True)
    est.residuals_ = est.residuals_[:0]
    with pytest.raises(NotEnoughResidualsError, match="adaptive intervals need"):
        est.backtest(series, start=300, coverage=0.9, adaptive=True)
