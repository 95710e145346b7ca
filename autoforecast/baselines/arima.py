"""Seasonal automatic ARIMA per target series (statsmodels), fitted once, forecast by filtering.

Each target is modelled alone on the training and validation parts of its own (standardised)
column; the other columns (exogenous series) are not used, nor are multiple seasonalities.

- Order: fixed (``order``, ``seasonal_order``), or chosen per series as R's ``auto.arima`` does
  (Hyndman and Khandakar, 2008; :mod:`.arima_search`): ``D`` by the seasonal-strength test,
  ``d`` by KPSS, then a stepwise search of ``p, q <= 5``, ``P, Q <= 2`` by AICc, with a mean
  or a drift when ``d + D <= 1``. Every fit tried is in ``search_trace_``.
- Seasonal period ``m``: ``seasonal_period``, or from the index frequency (24 hourly, 7 daily,
  5 business-daily, 52 weekly, 12 monthly, 4 quarterly); sub-hourly, irregular or unknown
  frequencies get no seasonal terms, recorded in ``fallbacks_``.
- Estimation (``method``): ``"css"`` (conditional sum of squares) or ``"ml"`` (statsmodels'
  exact likelihood); ``"auto"`` uses CSS for the search and its final fit, ML for a fixed
  order (as version 0.1 did). Long series: the tests and the search use the last
  ``max(2000, 20 m)`` rows; the chosen model is refitted on all rows.
- Forecasts (:mod:`.arima_filter`): one Kalman-filter pass over the new series gives the
  forecast and its variance from every origin; ``predict()`` continues from the fit's final
  state.

A fit that raises, does not converge or is not stationary/invertible is rejected and recorded
(``fallbacks_``, ``search_trace_``), never hidden.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

from ..base import BaseForecaster, check_positive_int
from ..data import future_index
from ..intervals import gaussian_offsets
from .arima_filter import filter_states, forecast_from_states, forecast_series, matrices
from .arima_fits import Spec, fit_spec
from .arima_period import period_from_freq
from .arima_series import fit_series

METHODS = ("auto", "css", "ml")
INTERVAL_METHODS = ("model", "conformal")
_NEW_PARAMS = dict(seasonal_order=None, seasonal_period=None, max_P=2, max_D=1, max_Q=2,
                   method="auto", interval_method="model")  # absent from older saved estimators


@dataclass
class SeriesFit:
    """One series' model. Fields after ``warnings`` are new in 0.2 and default to what a model
    saved by 0.1 implies (no seasonal part, 0.1's trend rule, no final state)."""

    order: tuple  # (p, d, q) used
    params: np.ndarray  # statsmodels ARIMA's layout
    aic: float
    fallbacks: list = field(default_factory=list)  # rejected fits and decisions
    warnings: list = field(default_factory=list)  # other messages statsmodels gave
    seasonal_order: tuple = (0, 0, 0, 0)
    trend: str | None = None  # "n", "c" (mean), "t" (drift); None: 0.1's rule
    aicc: float | None = None
    method: str | None = None  # "css", "ml", "constant"; None: 0.1 (ml)
    search_trace: list | None = None  # every fit the search tried, None for a fixed order
    final_state: np.ndarray | None = None  # (k_states,) predicted state after the fit rows
    final_cov: np.ndarray | None = None  # (k_states, k_states) its covariance
    n_rows: int | None = None  # rows the final state has seen

    def resolved_trend(self) -> str:
        if self.trend is not None:
            return self.trend
        return "c" if self.order[1] == 0 else "n"  # version 0.1's rule

    def spec(self) -> Spec:
        P, D, Q, m = self.seasonal_order
        return Spec(*self.order, P, D, Q, m if m > 1 else 1, self.resolved_trend() != "n")


def _is_order(value, n: int) -> bool:
    return (isinstance(value, (tuple, list)) and len(value) == n and all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0 for v in value))


class ARIMAForecaster(BaseForecaster):
    """Seasonal ARIMA for each target, order fixed or chosen as auto.arima; fits in parallel.

    ``order``: a fixed ``(p, d, q)``, or None to search within ``max_p``, ``max_d``, ``max_q``,
    ``max_P``, ``max_D`` and ``max_Q``. ``seasonal_order``:
    with a fixed order, ``(P, D, Q, m)`` (default none). ``seasonal_period``: ``m`` for the
    search (None: from the index; 1: no seasonal terms). ``method``: "auto", "css" or "ml".
    ``n_jobs``: joblib workers over series. ``lookback``: the fewest rows ``predict(X)`` needs;
    forecasts filter every row of ``X`` before the origin.

    Fitted, per series: ``orders_``, ``seasonal_orders_``, ``trends_`` ("n", "c" a mean, "t" a
    drift), ``params_`` (statsmodels' layout), ``aic_``, ``aicc_``, ``search_trace_`` (every fit
    tried: orders, trend, method, AICc or why it failed), ``fallbacks_`` (rejected fits and
    decisions, each ``{"order", "reason"}``), ``fit_warnings_``; and ``seasonal_period_``.
    ``predict_at(X, origins, return_variance=True)`` also gives the forecast variances.

    Intervals (``predict_interval``), by ``interval_method``: "model" (default), Gaussian bands
    from the h-step forecast variances of the same filtering pass (they assume the model and
    Gaussian errors; ``symmetric`` has no effect); "conformal", split conformal from held-out
    residuals (``residuals_``): each series' chosen model is re-estimated on the training part
    alone, filters the validation part for its errors, and the final model is the one fitted on
    training and validation rows as usual (needs ``validation_size > 0``; doubles the fits).

    On a long frame: one estimator per series, fitted through joblib with ``n_jobs`` (each on
    one process), kept in ``series_models_`` ({id: fitted ARIMAForecaster}).
    """

    _per_series = True

    def __init__(self, lookback=50, horizon=1, order=None, seasonal_order=None,
                 seasonal_period=None, max_p=5, max_d=2, max_q=5, max_P=2, max_D=1, max_Q=2,
                 method="auto", target=None, validation_size=0.0, test_size=0.0,
                 missing="raise", n_jobs=None, interval_method="model"):
        self.lookback = lookback
        self.horizon = horizon
        self.order = order
        self.seasonal_order = seasonal_order
        self.seasonal_period = seasonal_period
        self.max_p = max_p
        self.max_d = max_d
        self.max_q = max_q
        self.max_P = max_P
        self.max_D = max_D
        self.max_Q = max_Q
        self.method = method
        self.target = target
        self.validation_size = validation_size
        self.test_size = test_size
        self.missing = missing
        self.n_jobs = n_jobs
        self.interval_method = interval_method

    # ---------------------------------------------------------------------------- checks
    def _check_common_params(self) -> int:
        lookback = super()._check_common_params()
        for name in ("max_p", "max_d", "max_q", "max_P", "max_D", "max_Q"):
            check_positive_int(getattr(self, name), name, minimum=0)
        if self.order is not None and not _is_order(self.order, 3):
            raise ValueError(f"`order` must be None or (p, d, q), three ints >= 0, got "
                             f"{self.order!r}.")
        if self.seasonal_order is not None:
            if self.order is None:
                raise ValueError("`seasonal_order` needs a fixed `order` too; to search the "
                                 "seasonal orders leave both None and set `seasonal_period`.")
            if not _is_order(self.seasonal_order, 4) or (
                    any(self.seasonal_order[:3]) and self.seasonal_order[3] < 2):
                raise ValueError("`seasonal_order` must be None or (P, D, Q, m), four ints >= 0 "
                                 f"with m >= 2 when P, D or Q > 0, got {self.seasonal_order!r}.")
        if self.seasonal_period is not None:
            check_positive_int(self.seasonal_period, "seasonal_period")
        if self.method not in METHODS:
            raise ValueError(f"`method` must be one of {', '.join(map(repr, METHODS))}, got "
                             f"{self.method!r}.")
        if self.interval_method not in INTERVAL_METHODS:
            raise ValueError(f"`interval_method` must be one of "
                             f"{', '.join(map(repr, INTERVAL_METHODS))}, got "
                             f"{self.interval_method!r}.")
        return lookback

    # ------------------------------------------------------------------------------- fit
    def _resolve_period(self) -> tuple[int, list]:
        if self.seasonal_order is not None:
            return max(1, self.seasonal_order[3]), []
        if self.seasonal_period is not None:
            return self.seasonal_period, []
        m, note = period_from_freq(self.freq_)
        return m, ([{"order": None, "reason": note}] if note else [])

    def _settings(self) -> dict:
        method = self.method if self.method != "auto" else ("ml" if self.order else "css")
        seasonal = tuple(self.seasonal_order) if self.seasonal_order is not None else None
        return dict(order=tuple(self.order) if self.order is not None else None,
                    seasonal_order=seasonal, m=self.seasonal_period_, method=method,
                    limits=dict(max_p=self.max_p, max_d=self.max_d, max_q=self.max_q,
                                max_P=self.max_P, max_D=self.max_D, max_Q=self.max_Q))

    def _fit_scaled(self, Z, split) -> None:
        self.seasonal_period_, notes = self._resolve_period()
        settings = self._settings()
        self.method_ = settings["method"]
        history = Z[: split.val_end]  # training + validation parts
        jobs = Parallel(n_jobs=self.n_jobs, return_as="generator")(
            delayed(_fit_named)(history[:, j], Z[:, j], name, settings)
            for j, name in zip(self.target_idx_, self.target_names_))
        fits = []
        for i, fit in enumerate(jobs):
            fit.fallbacks[:0] = notes
            fits.append(fit)
            self._emit("arima", i + 1, len(self.target_idx_),
                       f"{self.target_names_[i]!s}: {fit.spec().label()}",
                       reached=f"ARIMA series {i + 1} of {len(self.target_idx_)}")
        self.fits_ = fits
        self.orders_ = [f.order for f in fits]
        self.seasonal_orders_ = [f.seasonal_order for f in fits]
        self.trends_ = [f.resolved_trend() for f in fits]
        self.params_ = [f.params for f in fits]
        self.aic_ = np.array([f.aic for f in fits])
        self.aicc_ = np.array([np.nan if f.aicc is None else f.aicc for f in fits])
        self.search_trace_ = [f.search_trace or [] for f in fits]
        self.fallbacks_ = [f.fallbacks for f in fits]
        self.fit_warnings_ = [f.warnings for f in fits]

    # ------------------------------------------------------------------------- intervals
    def _calibration_residuals(self, Z, split) -> np.ndarray:
        """With ``interval_method="conformal"``: the errors on the validation part's windows of
        each series' model re-estimated on the training part; else none (model-based bands)."""
        origins = split.recent_origins("val", self.lookback_, self.horizon)
        if self.interval_method != "conformal" or not len(origins):
            return self._residuals_at(Z, origins[:0])
        means = [forecast_series(Z[: split.val_end, j], fit.spec(),
                                 _training_params(Z[: split.train_end, j], fit),
                                 fit.resolved_trend(), origins, self.horizon)[0]
                 for j, fit in zip(self.target_idx_, self.fits_)]
        return self._residuals_at(Z, origins, np.stack(means, axis=-1))

    def residual_source(self) -> str:
        return ("ARIMA keeps calibration residuals only when fitted with interval_method="
                "'conformal', from the validation part (this model: interval_method="
                f"{self.interval_method!r}, validation_size={self.validation_size!r}); refit "
                "with interval_method='conformal' and validation_size > 0.")

    def _interval_offsets(self, X, origins, coverages, symmetric) -> np.ndarray:
        """Conformal offsets, or by default Gaussian ones from the forecast variances (after
        ``X``, or after the fit data from the final state when ``X`` is None)."""
        if self.interval_method == "conformal":
            return super()._interval_offsets(X, origins, coverages, symmetric)
        if X is None and all(f.final_state is not None for f in self.fits_):
            variance = np.stack([self._from_final_state(f)[1] for f in self.fits_], axis=-1)[None]
            variance = variance * self.scaler_.scale_[self.target_idx_] ** 2
        else:
            X = self.last_window_ if X is None else X  # a model saved by 0.1: as its predict()
            if origins is None:
                origins = [len(self._check_new_series(X, self.lookback_, "predict").values)]
            variance = self.predict_at(X, origins, return_variance=True)[1]
        return gaussian_offsets(variance, coverages)

    # -------------------------------------------------------------------------- forecast
    def _forecast_scaled(self, Z, origins):
        return self._forecast_scaled_with_variance(Z, origins, variance=False)[0]

    def _forecast_scaled_with_variance(self, Z, origins, variance: bool):
        """Means and variances (or None), each (n_origins, horizon, n_targets), scaled."""
        means, variances = [], []
        for j, fit in zip(self.target_idx_, self.fits_):
            mean, var = forecast_series(Z[:, j], fit.spec(), fit.params, fit.resolved_trend(),
                                        origins, self.horizon, variance)
            means.append(mean)
            variances.append(var)
        stacked = np.stack(means, axis=-1)
        return stacked, (np.stack(variances, axis=-1) if variance else None)

    def predict_at(self, X, origins, return_variance=False):
        """Forecasts from many origins: (n_origins, horizon, n_targets); with
        ``return_variance=True`` also their variances (same shape, original units squared),
        from the same filtering pass. See :meth:`BaseForecaster.predict_at`."""
        if not return_variance:
            return super().predict_at(X, origins)
        check_is_fitted(self, "scaler_")
        data = self._check_new_series(X, self.lookback_, "predict_at")
        origins = self._check_origins(origins, len(data.values))
        mean, var = self._forecast_scaled_with_variance(self.scaler_.transform(data.values),
                                                        origins, variance=True)
        scale = self.scaler_.scale_[self.target_idx_]
        return self.scaler_.inverse_transform(mean, self.target_idx_), var * scale ** 2

    def predict(self, X=None, *, future=None, id_col=None, time_col=None, target_col=None):
        """Forecast the ``horizon`` steps after the end of ``X``; without ``X``, continue from
        the fit's final filtered state (models saved by 0.1: filter the last ``lookback`` rows).
        ``id_col``, ``time_col``, ``target_col``: the columns of a long ``X``; ``future``: as in
        :meth:`BaseForecaster.predict` (ARIMA reads no known-future covariates)."""
        check_is_fitted(self, "scaler_")
        names = (id_col, time_col, target_col)
        if (X is not None or future is not None or any(n is not None for n in names)
                or getattr(self, "long_columns_", None) is not None
                or any(f.final_state is None for f in self.fits_)):
            return super().predict(X, future=future, id_col=id_col, time_col=time_col,
                                   target_col=target_col)
        scaled = np.stack([self._from_final_state(f)[0] for f in self.fits_], axis=-1)
        forecast = self.scaler_.inverse_transform(scaled[None], self.target_idx_)[0]  # (H, T)
        if not self.fitted_on_frame_:
            return forecast
        return pd.DataFrame(forecast, columns=self.target_names_,
                            index=future_index(self.last_index_, self.horizon, self.freq_,
                                               self.split_.n_rows))

    def _from_final_state(self, fit) -> tuple[np.ndarray, np.ndarray]:
        """The forecast after the fit data and its variance (scaled), each (horizon,)."""
        mx = matrices(fit.spec(), fit.params, fit.resolved_trend())
        mean, var = forecast_from_states(mx, np.asarray(fit.final_state)[:, None],
                                         np.asarray(fit.final_cov)[:, :, None],
                                         np.array([fit.n_rows]), self.horizon)
        return mean[0], var[0]

    def __setstate__(self, state):
        super().__setstate__(state)
        for name, default in _NEW_PARAMS.items():  # estimators saved by 0.1
            self.__dict__.setdefault(name, default)


def _training_params(z: np.ndarray, fit: SeriesFit) -> np.ndarray:
    """``fit``'s model re-estimated on the training rows ``z`` (its own parameters when that
    fails, or for a constant series' model)."""
    if fit.method not in ("css", "ml") or len(z) < 4:
        return fit.params
    candidate = fit_spec(z, fit.spec(), fit.method)
    return np.asarray(candidate.params) if candidate.ok else fit.params


def _fit_named(history, series, name, settings) -> SeriesFit:
    """Fit on ``history`` (training and validation rows); the final state is after all of
    ``series`` (the test rows too: ``predict()`` forecasts what follows the data)."""
    try:
        fit = SeriesFit(**fit_series(history, **settings))
    except ValueError as err:
        raise ValueError(f"target {name!r}: {err}") from err
    k_states = len(matrices(fit.spec(), fit.params, fit.resolved_trend()).T)
    state, cov = filter_states(series, fit.spec(), fit.params, fit.resolved_trend(),
                               np.array([len(series)]), True, k_states)
    fit.final_state, fit.final_cov, fit.n_rows = state[:, 0], cov[:, :, 0], len(series)
    return fit
