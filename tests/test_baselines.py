"""Behaviour of the baselines beyond the shared contract: what each one learns, and how."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.arima.model import ARIMA

from autoforecast.baselines import ARIMAForecaster, LinearForecaster, LSTMForecaster
from autoforecast.baselines import arima_fits
from autoforecast.ridge import batched_moments, lagged_moments
from autoforecast.shell import MaxTimeWarning
from autoforecast.training import evaluate_loss
from conftest import make_series


def sinusoids(n=1200, period=12, n_series=2, noise=1e-9, seed=0):
    """Sinusoids with different phases: x_t = 2 cos(w) x_{t-1} - x_{t-2} exactly (AR(2))."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    values = np.sin(2 * np.pi * t / period + np.arange(n_series)) * (1 + np.arange(n_series))
    return values + noise * rng.normal(size=values.shape)


def ar_series(phi, n, seed, const=0.0):
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = const + phi * x[t - 1] + rng.normal()
    return x


# ------------------------------------------------------------------------------ linear
def test_linear_recovers_planted_ar2():
    X = sinusoids()
    est = LinearForecaster(lookback=2, horizon=1, alpha=0.0, normalization="none",
                           batch_size=7).fit(X)
    np.testing.assert_allclose(est.coef_[:, 0], [-1.0, 2 * np.cos(2 * np.pi / 12)], atol=1e-6)
    np.testing.assert_allclose(est.intercept_, 0.0, atol=1e-6)
    nxt = 2 * np.cos(2 * np.pi / 12) * X[-1] - X[-2]
    np.testing.assert_allclose(est.predict()[0], nxt, atol=1e-6)


@pytest.mark.parametrize("lookback, horizon, first, n", [(8, 4, 8, 200), (1, 1, 1, 299),
                                                         (5, 3, 20, 50)])
def test_linear_lagged_moments_equal_gathered_windows(lookback, horizon, first, n):
    X = np.random.default_rng(0).normal(size=(300, 3)).cumsum(axis=0)
    fast = lagged_moments(X, first, n, lookback, horizon)
    slow = batched_moments(X, np.arange(first, first + n), lookback, horizon, batch_size=7)
    np.testing.assert_allclose(fast.gram, slow.gram, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fast.cross, slow.cross, rtol=1e-12, atol=1e-12)
    assert fast.yy == pytest.approx(slow.yy, rel=1e-12) and fast.n == slow.n == 3 * n


def test_linear_auto_alpha_and_errors():
    X = make_series(300, n_features=3)
    auto = LinearForecaster(lookback=8, horizon=4, alpha="auto", validation_size=0.2).fit(X)
    assert auto.alpha_ == min(auto.alpha_scores_, key=auto.alpha_scores_.get)
    with pytest.raises(ValueError, match="validation part.*empty"):
        LinearForecaster(lookback=8, alpha="auto").fit(X)
    with pytest.raises(ValueError, match="`alpha` must be"):
        LinearForecaster(alpha=-1.0).fit(X)


def test_linear_etth1_reference(shared_data):
    """The shared data README's figure: MSE 0.370 at H=96, lookback 336, least squares."""
    df = pd.read_csv(shared_data / "ett" / "ETTh1.csv", index_col="date", parse_dates=True)
    df = df.iloc[:14400]
    est = LinearForecaster(lookback=336, horizon=96, alpha=0.0, normalization="none",
                           validation_size=2880, test_size=2880).fit(df)
    Z = est.scaler_.transform(df.to_numpy())
    origins = est.split_.origins("test", 336, 96)
    forecast = est._forecast_scaled(Z, origins)
    truth = np.stack([Z[o:o + 96] for o in origins])
    assert abs(np.mean((forecast - truth) ** 2) - 0.370) < 0.002


# -------------------------------------------------------------------------------- LSTM
def lstm(**kw):
    params = dict(lookback=12, horizon=2, hidden_size=8, epochs=8, batch_size=32, lr=1e-2,
                  validation_size=0.2, device="cpu", random_state=0)
    return LSTMForecaster(**{**params, **kw})


def test_lstm_learns_and_early_stopping_restores_best_epoch():
    X = make_series(400, n_features=2)
    est = lstm(epochs=25, patience=3, linear_skip=False).fit(X)
    losses = [r["train_loss"] for r in est.history_]
    assert losses[-1] < 0.5 * losses[0]
    val = [r["val_loss"] for r in est.history_]
    assert est.best_epoch_ == int(np.argmin(val))
    if len(val) < 25:  # stopped early: the last `patience` epochs did not improve
        assert len(val) - 1 - est.best_epoch_ == 3
    Z = est.scaler_.transform(X.to_numpy())
    _, val_windows = est._split_windows(Z, est.split_)
    restored = evaluate_loss(est.module_, lambda: val_windows.batches(64),
                             torch.nn.MSELoss(), "cpu")
    assert restored == pytest.approx(val[est.best_epoch_], rel=1e-5)


def test_lstm_reproducible_and_leaves_caller_state_alone():
    X = make_series(200, n_features=2)
    torch.manual_seed(123)
    before, threads = torch.get_rng_state(), torch.get_num_threads()
    np_before = np.random.get_state()[1].copy()
    first = lstm().fit(X).predict()
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.get_num_threads() == threads
    np.testing.assert_array_equal(np.random.get_state()[1], np_before)
    pd.testing.assert_frame_equal(first, lstm().fit(X).predict())
    assert not np.allclose(first, lstm(random_state=1).fit(X).predict())


def test_lstm_max_time_warns_and_device_errors():
    X = make_series(200, n_features=2)
    with pytest.warns(MaxTimeWarning, match="not reproducible"):
        est = lstm(max_time=1e-9).fit(X)
    assert est.time_capped_ and len(est.history_) == 1
    with pytest.raises(ValueError, match="`device` must be one of"):
        lstm(device="tpu").fit(X)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="device='cuda'.*no CUDA device"):
            lstm(device="cuda").fit(X)


def test_lstm_reports_each_epoch_to_the_callback_and_verbose_prints_it(capsys):
    X = make_series(200, n_features=2)
    events = []
    est = lstm(epochs=3, patience=None).fit(X, callback=events.append)
    train = [e for e in events if e.stage == "train"]
    assert [(e.step, e.total) for e in train] == [(1, 3), (2, 3), (3, 3)]
    assert [e.data["val_loss"] for e in train] == [r["val_loss"] for r in est.history_]
    assert {"train_loss", "val_loss", "lr", "samples", "train_seconds"} <= set(train[0].data)
    assert all("reason" not in e.data for e in train)  # it ran all its epochs
    events = {"max_time": [], "patience": []}
    with pytest.warns(MaxTimeWarning):
        lstm(max_time=1e-9).fit(X, callback=events["max_time"].append)
    stopped = lstm(epochs=50, patience=1).fit(X, callback=events["patience"].append)
    assert len(stopped.history_) < 50
    for kind, reason in (("max_time", "`max_time` reached"),
                         ("patience", "early stopping (patience 1: ")):
        train = [e for e in events[kind] if e.stage == "train"]
        assert train[-1].data["reason"].startswith(reason)
        assert all("reason" not in e.data for e in train[:-1])
    capsys.readouterr()
    lstm(epochs=2, verbose=1).fit(X)
    err = capsys.readouterr().err
    assert "[train 2/2] train " in err and "[fit 1/1] LSTMForecaster fitted" in err


# ------------------------------------------------------------------------------- ARIMA
def test_arima_recovers_ar1_coefficient():
    X = ar_series(0.7, 800, seed=1)[:, None]
    est = ARIMAForecaster(order=(1, 0, 0)).fit(X)
    assert est.orders_ == [(1, 0, 0)] and est.fallbacks_ == [[]]
    assert est.params_[0][1] == pytest.approx(0.7, abs=0.05)  # (const, ar.L1, sigma2)
    chosen = ARIMAForecaster(max_p=1, max_d=1, max_q=1).fit(X)
    assert chosen.orders_[0][1] == 0  # stationary: no differencing


def test_arima_multi_origin_equals_statsmodels_per_origin():
    X = np.column_stack([ar_series(0.6, 300, seed=2, const=0.5),
                         np.cumsum(np.random.default_rng(3).normal(size=300))])
    est = ARIMAForecaster(lookback=20, horizon=4, max_p=1, max_d=1, max_q=1,
                          test_size=60).fit(X)
    assert [o[1] for o in est.orders_] == [0, 1]
    Z = est.scaler_.transform(X)
    origins = np.arange(240, 297)
    forecast = est._forecast_scaled(Z, origins)  # (n_origins, horizon, n_targets)
    for j, (order, params) in enumerate(zip(est.orders_, est.params_)):
        fitted = ARIMA(Z[:240, j], order=order, seasonal_order=est.seasonal_orders_[j],
                       trend=est.trends_[j])
        results = fitted.filter(params)
        for k, t in enumerate(origins[::7]):
            expected = results.apply(Z[:t, j]).forecast(4)
            np.testing.assert_allclose(forecast[7 * k, :, j], expected, rtol=1e-8, atol=1e-10)


def test_arima_failed_fit_falls_back_and_is_reported(monkeypatch):
    class FlakyARIMA(ARIMA):
        def fit(self, *args, **kwargs):
            if self.order == (2, 0, 0):
                warnings.warn("did not converge (planted)", ConvergenceWarning)
            if self.order == (1, 0, 0):
                raise np.linalg.LinAlgError("planted failure")
            return super().fit(*args, **kwargs)

    monkeypatch.setattr(arima_fits, "ARIMA", FlakyARIMA)
    est = ARIMAForecaster(order=(2, 0, 0), n_jobs=1).fit(ar_series(0.5, 200, seed=4)[:, None])
    assert est.orders_ == [(0, 0, 0)]
    assert [f["order"] for f in est.fallbacks_[0]] == [(2, 0, 0), (1, 0, 0)]
    assert est.fallbacks_[0][0]["reason"].startswith("ConvergenceWarning")
    assert "LinAlgError: planted failure" in est.fallbacks_[0][1]["reason"]


def test_arima_parallel_equals_serial():
    X = make_series(150, n_features=2)
    serial = ARIMAForecaster(lookback=20, horizon=3, max_p=1, max_q=1, n_jobs=1).fit(X)
    parallel = ARIMAForecaster(lookback=20, horizon=3, max_p=1, max_q=1, n_jobs=2).fit(X)
    assert serial.orders_ == parallel.orders_
    for a, b in zip(serial.params_, parallel.params_):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(serial.predict(), parallel.predict())
    with pytest.raises(ValueError, match="`order` must be None or"):
        ARIMAForecaster(order=(1, 0)).fit(X)


@pytest.mark.parametrize("normalization", ["last", "revin", "none"])
def test_the_highway_starts_at_the_least_squares_map_in_the_normalised_space(normalization):
    """The highway of an untrained network (lr ~ 0) is the normalised least-squares map, and
    with the network's small initial output the forecasts are close to that map's."""
    from autoforecast.baselines import LinearForecaster

    X = make_series(300, n_features=2)
    common = dict(lookback=12, horizon=2, validation_size=0.2, normalization=normalization)
    est = lstm(epochs=1, lr=1e-12, linear_skip=True, **common).fit(X)
    reference = LinearForecaster(**common).fit(X)
    skip = est.module_.skip
    np.testing.assert_allclose(skip.weight.detach().numpy().T, reference.coef_, atol=1e-5)
    np.testing.assert_allclose(skip.bias.detach().numpy(), reference.intercept_, atol=1e-5)
    np.testing.assert_allclose(est.predict(X).to_numpy(), reference.predict(X).to_numpy(),
                               atol=0.1)