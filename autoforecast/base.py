"""The forecaster contract that every forecaster in the project follows (see docs/api.md).

A subclass stores its parameters in ``__init__`` (sklearn style) and implements two hooks that
work on the scaled series:

- ``_fit_scaled(Z, split)``: learn from ``Z`` (n_rows, n_features), standardised with the
  training part's statistics; ``split`` gives the chronological part boundaries.
- ``_forecast_scaled(Z, origins)``: forecasts ``(n_origins, horizon, n_targets)`` for each origin
  ``t`` (inputs ``Z[t - lookback : t]``, targets rows ``t .. t + horizon - 1``).

and, for prediction intervals, the source of its calibration residuals: ``_calibration_residuals
(Z, split)`` (default: the windows of the fit data, right for a forecaster that learns nothing;
one that learns returns out-of-sample residuals) and ``residual_source()`` (where they come
from, for error messages); ARIMA also overrides ``_interval_offsets`` (its model-based bands).

Everything else (validation, splits, scaling, indexes, scoring) lives here, once.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.metrics import r2_score
from sklearn.utils.validation import check_is_fitted

from .calendar import calendar_columns, calendar_values, check_no_clash, wants_calendar
from .data import (NotEnoughDataError, SeriesData, SeriesScaler, check_series, future_index,
                   future_values, resolve_split, resolve_target)
from .data.long import long_columns
from .data.timeindex import infer_freq
from .evaluation import backtest
from .future import append_rows, long_future, wide_future
from .intervals import (NotEnoughResidualsError, check_coverage, conformal_offsets,
                        interval_frame)
from .panel import LongFormatMixin, PanelScaler
from .shell import EstimatorShell


SPLITTER_NOTE = (" A row splitter such as sklearn's TimeSeriesSplit (cross_val_score, "
                 "GridSearchCV) cuts a long frame across series, so its folds are not "
                 "forecasting tasks.")


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}, got {value!r}.")
    return int(value)


class BaseForecaster(LongFormatMixin, EstimatorShell):
    """Shared ``fit`` / ``predict`` / ``score`` of a multivariate, multi-step forecaster.

    Common parameters (each subclass lists them in its own ``__init__``): ``lookback``,
    ``horizon``, ``target``, ``validation_size``, ``test_size``, ``missing``.

    ``fit(X, y=None, callback=None)`` comes from :class:`autoforecast.shell.EstimatorShell`
    (fit wrapper, progress events); ``_fit`` below validates, splits, scales and calls
    ``_fit_scaled``. Long frames (many series, ``unique_id``, ``ds``, ``y``) go through
    :class:`autoforecast.panel.LongFormatMixin` instead.
    """

    # ----------------------------------------------------------------------------- fit
    def _fit(self, X):
        lookback = self._check_common_params()
        data = check_series(self, X, reset=True, missing=self.missing)
        self.target_idx_ = resolve_target(self.target, data.columns, data.is_frame)
        self.target_names_ = [data.columns[i] for i in self.target_idx_]
        self.freq_ = infer_freq(data.index)  # before the fit: segments and ARIMA's season use it
        self._resolve_calendar(self.freq_, data.columns)
        data.values = self._with_calendar(data.values, data.index)
        self.lookback_ = lookback if lookback is not None else self._auto_lookback(len(data.values))
        self.split_ = resolve_split(len(data.values), self.lookback_, self.horizon,
                                    self.validation_size, self.test_size)
        self.scaler_ = SeriesScaler().fit(data.values[: self.split_.train_end])
        Z = self.scaler_.transform(data.values)
        self._fit_scaled(Z, self.split_)
        self.residuals_ = self._calibration_residuals(Z, self.split_)
        self._finish_fit(Z, self.split_)
        self.last_window_ = data.values[-self.lookback_:].copy()  # (lookback, n_features)
        self.last_index_ = data.index[-max(self.lookback_, 3):]
        self.fitted_on_frame_ = data.is_frame
        return self

    def _check_common_params(self) -> int | None:
        """Check the shared parameters; return the lookback to use (``lookback_``), or None for
        one chosen from the data (``_auto_lookback``, where a forecaster has one)."""
        check_positive_int(self.horizon, "horizon")
        return check_positive_int(self.lookback, "lookback")

    def _auto_lookback(self, n_rows: int) -> int:
        raise NotImplementedError(f"{type(self).__name__} has no automatic lookback.")

    def _finish_fit(self, Z, split) -> None:
        """What a fit does after the calibration residuals are taken (AutoCellForecaster: the
        report and the refit); nothing by default."""

    # ------------------------------------------------------------------------- predict
    def predict(self, X=None, *, future=None, id_col=None, time_col=None, target_col=None):
        """Forecast the ``horizon`` steps after the end of ``X`` (default: of the fit data).

        A DataFrame ``X`` (or no ``X`` after a fit on a DataFrame) gives a DataFrame of the
        target columns indexed by the future timestamps; an array gives ``(horizon, n_targets)``.
        After a fit on a long frame: a long frame (columns id, time, target; a RangeIndex),
        each series continued from its own last time (``id_col`` etc. name ``X``'s columns
        when they differ from the fit's). ``future``: the known-future covariates' values over
        the horizon, for a model fitted with ``future_covariates`` (:mod:`autoforecast.future`).
        """
        check_is_fitted(self, "scaler_")
        is_long, panel = self._long_input(X, id_col, time_col, target_col, "predict")
        if is_long:
            return self._predict_long(panel, future=future)
        if X is None:
            data = SeriesData(self.last_window_, self.last_index_[-self.lookback_:],
                              self._fitted_columns(), self.fitted_on_frame_)
            index_for_future, n_rows = self.last_index_, self.split_.n_rows
        else:
            data = self._check_new_series(X, self.lookback_, "predict")
            index_for_future, n_rows = data.index, len(data.index)
        times = future_index(index_for_future, self.horizon, self.freq_, n_rows)
        origin = len(data.values)
        data.values = self._with_future(data.values, times, future)
        forecast = self._forecast_origins(data, np.array([origin]))[0]  # (H, T)
        if not data.is_frame:
            return forecast
        return pd.DataFrame(forecast, columns=self.target_names_, index=times)

    # --------------------------------------------------------------- known-future covariates
    def _fitted_columns(self) -> list:
        """The fit's columns: a long frame's target and covariates, a wide frame's names, or
        an array's positions; then the calendar columns the model computes, if any."""
        if getattr(self, "long_columns_", None) is not None:
            columns = list(self.long_features_)
        else:
            names = getattr(self, "feature_names_in_", None)
            columns = list(names) if names is not None else list(range(self.n_features_in_))
        return columns + self._calendar()

    def _calendar(self) -> list:
        """``calendar_``; none for a model saved before calendar features existed."""
        return list(getattr(self, "calendar_", []))

    def _resolve_calendar(self, freq, columns, where: str = "the data") -> None:
        """``calendar_``: the calendar columns (:mod:`autoforecast.calendar`) the model adds to
        the data, for data at ``freq`` with ``columns``; none unless future_covariates asks."""
        self.calendar_ = []
        if wants_calendar(getattr(self, "future_covariates", None)):
            self.calendar_ = calendar_columns(freq, where)
            check_no_clash(list(columns), self.calendar_)

    def _with_calendar(self, values: np.ndarray, times) -> np.ndarray:
        """``values`` (n, F) with the calendar columns at ``times`` after them (unchanged for
        a model without them)."""
        calendar = self._calendar()
        if not calendar:
            return values
        return np.hstack([values, calendar_values(times, calendar)])

    def _future_names(self) -> list:
        """The known-future covariates the fitted model reads (none by default)."""
        columns = self._fitted_columns()
        return [columns[i] for i in getattr(self, "future_idx_", [])]

    def _check_future(self, future) -> None:
        """Refuse ``future=`` for a model that reads no known-future values a caller gives
        (none at all, or only calendar features, computed from the forecast's times)."""
        names = self._future_names()
        calendar = self._calendar()
        if future is not None and all(n in calendar for n in names):
            reads = (f"only the calendar features {calendar}, computed from the forecast's "
                     "times" if names else "none (future_covariates=None)")
            raise ValueError(
                f"future= gives known-future values, but this {type(self).__name__} reads "
                f"{reads}; leave it out, or fit with future_covariates=[...] naming its "
                "columns.")

    def _with_future(self, values: np.ndarray, times, future, ids=None) -> np.ndarray:
        """``values`` (n, F), or a long fit's windows (S, L, F), with the horizon's rows of the
        known-future covariates after them; as they are for a model that reads none."""
        self._check_future(future)
        names = self._future_names()
        if not names:
            return values
        calendar = self._calendar()
        given = [n for n in names if n not in calendar]  # those future= must give
        shape = (len(times),) if ids is None else (len(ids), len(times) // len(ids))
        rows = np.empty(shape + (len(names),))
        if given:
            rows[..., [names.index(n) for n in given]] = (
                wide_future(future, times, given) if ids is None else
                long_future(future, ids, times, given, self.long_columns_.id,
                            self.long_columns_.time))
        if calendar:
            rows[..., [names.index(n) for n in calendar]] = calendar_values(
                times, calendar).reshape(shape + (len(calendar),))
        return append_rows(values, list(self.future_idx_), rows)

    def predict_at(self, X, origins) -> np.ndarray:
        """Forecasts from many origins of ``X`` at once: (n_origins, horizon, n_targets).

        An origin ``t`` is a row position, ``lookback_ <= t <= len(X)``: its forecast is of rows
        ``t .. t + horizon - 1`` from the rows before ``t`` (the last ``lookback_`` of them; ARIMA
        filters all of them). ``predict(X)`` is the origin ``len(X)``; backtests and scores use
        many. Forecasts are in the original units, as arrays whatever ``X`` is.
        """
        check_is_fitted(self, "scaler_")
        self._refuse_long(X, "predict_at", "backtest(X, start=...)")
        data = self._check_new_series(X, self.lookback_, "predict_at")
        return self._forecast_origins(data, self._check_origins(origins, len(data.values)))

    def _refuse_long(self, X, method: str, instead: str, note: str = "") -> None:
        """A clear error for a long frame (or a model fitted on one) where only a wide series
        works."""
        if getattr(self, "long_columns_", None) is not None or long_columns(X) is not None:
            raise ValueError(
                f"{method} takes one wide series: its rows are positions in time, and a long "
                f"frame's rows belong to many series.{note} Use {instead} instead, which "
                "forecasts each series from its own origins.")

    def _check_origins(self, origins, n_rows: int) -> np.ndarray:
        origins = np.asarray(origins)
        if origins.ndim != 1 or not len(origins) or origins.dtype.kind not in "iu":
            raise ValueError("`origins` must be a non-empty 1-D sequence of int row positions, got "
                             f"{origins.dtype} of shape {origins.shape}.")
        if origins.min() < self.lookback_ or origins.max() > n_rows:
            raise ValueError(
                f"`origins` must lie in [lookback_={self.lookback_}, len(X)={n_rows}] (a forecast "
                f"needs lookback_ rows before its origin), got [{origins.min()}, {origins.max()}].")
        return origins.astype(np.int64)

    def _check_new_series(self, X, min_rows: int, method: str) -> SeriesData:
        data = check_series(self, X, reset=False, missing=self.missing)
        data.values = self._with_calendar(data.values, data.index)
        if len(data.values) < min_rows:
            raise NotEnoughDataError(
                f"{method} needs X with at least {min_rows} rows (lookback={self.lookback_}"
                + (f" + horizon={self.horizon}" if min_rows > self.lookback_ else "")
                + f"), got {len(data.values)} sample(s). Pass a longer recent history."
            )
        return data

    def _forecast_origins(self, data: SeriesData, origins: np.ndarray) -> np.ndarray:
        """Forecasts in the original units: (n_origins, horizon, n_targets)."""
        scaled = self._forecast_scaled(self.scaler_.transform(data.values), origins)
        return self.scaler_.inverse_transform(np.asarray(scaled, dtype=np.float64),
                                              self.target_idx_)

    # --------------------------------------------------------------------------- score
    def score(self, X, y=None) -> float:
        """Rolling-origin R^2 inside ``X``: every origin with a full window and horizon.

        All (origin, step) pairs are pooled; R^2 per target, averaged over targets.
        """
        check_is_fitted(self, "scaler_")
        self._refuse_long(X, "score", "backtest(X, start=...) (or compare_models)", SPLITTER_NOTE)
        data = self._check_new_series(X, self.lookback_ + self.horizon, "score")
        origins = np.arange(self.lookback_, len(data.values) - self.horizon + 1)
        forecast = self._forecast_origins(data, origins)
        truth = future_values(data.values, origins, self.horizon, self.target_idx_)
        n_targets = len(self.target_idx_)
        return float(r2_score(truth.reshape(-1, n_targets), forecast.reshape(-1, n_targets)))

    def backtest(self, X, start=None, coverage=None, symmetric=True,
                 adaptive=False) -> pd.DataFrame:
        """Forecasts (and with ``coverage``, interval bounds, adaptive ones with ``adaptive``)
        from every origin from ``start`` on; see :func:`autoforecast.backtest`."""
        return backtest(self, X, start=start, coverage=coverage, symmetric=symmetric,
                        adaptive=adaptive)

    # ----------------------------------------------------------------------- intervals
    def predict_interval(self, X=None, coverage=0.9, symmetric=True, *, future=None,
                         id_col=None, time_col=None, target_col=None):
        """Prediction intervals around ``predict(X)``: the ``coverage`` (a fraction in (0, 1),
        or a list of them) of future values they should hold.

        Split conformal by default (:mod:`autoforecast.intervals`): per target and horizon step,
        the finite-sample quantile of out-of-sample residuals kept at fit (``residuals_``; where
        they come from depends on the model, see docs/api.md); ``symmetric=False`` uses the
        signed residuals' lower and upper quantiles instead of the absolute ones. ARIMA's
        default bands are Gaussian from its forecast variances.

        A DataFrame ``X`` (or none after a fit on a DataFrame) gives a DataFrame indexed like
        ``predict``'s output, columns ``(target, coverage, "lower"/"upper")``; an array gives
        ``(horizon, n_targets, n_coverages, 2)``. After a fit on a long frame: ``predict``'s
        long frame with the columns ``<target>_lo_<level>``, ``<target>_hi_<level>`` (level
        in percent: ``y_lo_90``). Too few residuals for a coverage raises
        :class:`autoforecast.intervals.NotEnoughResidualsError` (a ``ValueError``).
        """
        check_is_fitted(self, "scaler_")
        coverages = check_coverage(coverage)
        is_long, panel = self._long_input(X, id_col, time_col, target_col, "predict_interval")
        if is_long:
            return self._predict_long(panel, coverages, symmetric, future)
        return self._intervals_around(X, self.predict(X, future=future), coverages, symmetric)

    def _intervals_around(self, X, forecast, coverages, symmetric=True):
        """``predict_interval``'s output around ``forecast``, ``predict(X)`` already made (the
        CLI prints both without forecasting twice): a frame for a frame, else an array."""
        bounds = self.interval_bounds(X, None, np.asarray(forecast, dtype=np.float64)[None],
                                      coverages, symmetric)[0]  # (H, T, C, 2)
        if not isinstance(forecast, pd.DataFrame):
            return bounds
        return interval_frame(bounds, forecast.index, forecast.columns, coverages)

    def interval_bounds(self, X, origins, forecast, coverages, symmetric=True) -> np.ndarray:
        """Bounds (n_origins, horizon, n_targets, n_coverages, 2) around ``forecast`` (n_origins,
        horizon, n_targets), the forecasts of ``X`` from ``origins`` (None: after ``X``, or
        after the fit data when ``X`` is None)."""
        return forecast[..., None, None] + self._interval_offsets(X, origins, coverages,
                                                                  symmetric)

    def _interval_offsets(self, X, origins, coverages, symmetric) -> np.ndarray:
        """Bounds minus the forecast: (1 or n_origins, horizon, n_targets, n_coverages, 2)."""
        residuals = getattr(self, "residuals_", None)
        if residuals is None:
            raise NotEnoughResidualsError(
                f"this {type(self).__name__} has no calibration residuals: it was saved by a "
                "version without prediction intervals. Refit it to get intervals.")
        return conformal_offsets(residuals, coverages, symmetric, self.residual_source())[None]

    def _calibration_residuals(self, Z, split) -> np.ndarray:
        """Residuals ``truth - forecast`` (n_windows, horizon, n_targets), original units, of
        the most recent windows of the fit data before the test part: out of sample only for a
        forecaster that learns nothing (the naive ones); others override this."""
        return self._residuals_at(Z, split.recent_origins("fit", self.lookback_, self.horizon))

    def residual_source(self) -> str:
        """Where the residuals come from and how to get more (ends a too-few error)."""
        return ("They are the errors on the windows of the fit data before the test part; pass "
                "a longer series or a smaller test_size.")

    def _residuals_at(self, Z, origins, forecast=None) -> np.ndarray:
        """``truth - forecast`` at ``origins`` of the scaled ``Z``, in the original units,
        float32 (n_origins, horizon, n_targets); ``forecast``: the scaled forecasts at
        ``origins`` (default: the fitted model's)."""
        horizon, n_targets = int(self.horizon), len(self.target_idx_)
        if not len(origins):
            return np.zeros((0, horizon, n_targets), dtype=np.float32)
        if forecast is None:
            forecast = self._forecast_scaled(Z, origins)
        forecast = np.asarray(forecast, dtype=np.float64)
        truth = future_values(Z, origins, horizon, self.target_idx_)
        # a long frame's residuals stay standardised: each series' intervals are scaled back
        # by its own standard deviation
        scale = 1.0 if isinstance(self.scaler_, PanelScaler) else self.scaler_.scale_[self.target_idx_]
        return ((truth - forecast) * scale).astype(np.float32)

    # ---------------------------------------------------------------------- subclasses
    def _fit_scaled(self, Z: np.ndarray, split) -> None:
        raise NotImplementedError

    def _forecast_scaled(self, Z: np.ndarray, origins: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.non_deterministic = False
        return tags
