"""Long-format data in the estimators: fit, predict, intervals and backtests on many series.

A long frame (:mod:`autoforecast.data.long`) is fitted in one of two ways:

- **global** (the recurrent and linear forecasters): every series is standardised with its own
  training part's mean and standard deviation (:class:`PanelScaler`), the series are stacked
  in one array, and one model is trained on the windows of all of them, drawn lazily by
  origin (a window never crosses two series). Each series is split on its own
  (:class:`autoforecast.data.splits.PanelSplit`): the validation and test parts are the last
  steps of each series. Calibration residuals stay in those standardised units, and each
  series' intervals are scaled back by its own standard deviation;
- **per series** (``_per_series = True``: naive, seasonal naive, ARIMA): one clone of the
  estimator per series, fitted on that series as a wide frame, through joblib (the
  estimator's ``n_jobs`` where it has one, else joblib's ``parallel_config``), so Ray or Dask
  serve them through their joblib backends.

Series too short for ``lookback``, ``horizon`` and the split sizes are dropped with one
:class:`autoforecast.data.InputWarning` that counts and names them; when none is left, the fit
raises :class:`autoforecast.data.NotEnoughDataError`.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone

from .data.errors import InputWarning, NotEnoughDataError
from .data.long import LongColumns, Panel, check_long, long_columns, times_after_each
from .data.splits import PanelSplit, resolve_split
from .intervals import add_bound_columns, check_coverage, conformal_offsets

MAX_NAMED = 5  # series named in a message


class PanelScaler:
    """Per-series standardisation: each series' columns centred and scaled by the mean and
    standard deviation of that series' training rows (a constant column keeps a scale of 1)."""

    def fit(self, panel: Panel, train_rows) -> PanelScaler:
        """Each series' statistics from its first ``train_rows[i]`` rows (None: all of them)."""
        means, scales = [], []
        for i, n in enumerate(train_rows):
            rows = panel.series(i)[:n]
            means.append(rows.mean(axis=0))
            std = rows.std(axis=0)
            scales.append(np.where(std > 0, std, 1.0))
        self.mean_, self.scale_ = np.array(means), np.array(scales)  # (n_series, n_features)
        return self

    def transform(self, values: np.ndarray, lengths) -> np.ndarray:
        return ((values - np.repeat(self.mean_, lengths, axis=0))
                / np.repeat(self.scale_, lengths, axis=0))


class LongFormatMixin:
    """Long frames in ``fit``, ``predict``, ``predict_interval`` and backtests (see the module's
    docstring); a base of :class:`autoforecast.base.BaseForecaster`."""

    _per_series = False  # True: one fit per series (local models)

    def fit(self, X, y=None, callback=None, *, id_col=None, time_col=None, target_col=None):
        """Learn from ``X``, a wide series or a long frame (``unique_id``, ``ds``, ``y`` or the
        columns named by ``id_col``, ``time_col``, ``target_col``); ``y`` is ignored.
        ``callback(ProgressEvent)`` receives progress. Returns ``self``."""
        names = long_columns(X, id_col, time_col, target_col)
        if names is None:
            return super().fit(X, y, callback)
        return self._run_fit(callback, self._fit_long, X, names)

    # ---------------------------------------------------------------------------- fit
    def _fit_long(self, X, names: LongColumns) -> None:
        if self.target is not None:
            raise ValueError(
                f"`target`={self.target!r} names the target of a wide frame, and X is a long "
                f"frame, whose target is the column target_col={names.target!r}. Pass "
                "target=None and name the long frame's target with fit(..., target_col=...).")
        panel = check_long(X, names, self.missing)
        self.long_columns_ = names
        self.freq_ = None if isinstance(panel.freq, int) else panel.freq
        self.long_freq_ = panel.freq
        self.n_features_in_ = len(panel.columns)
        self.long_features_ = list(panel.columns)
        self.target_idx_ = np.array([0])
        self.target_names_ = [names.target]
        self.fitted_on_frame_ = True
        if self._per_series:
            self._fit_each_series(panel)
        else:
            self._fit_global(panel)

    def _fit_global(self, panel: Panel) -> None:
        lookback = self._check_common_params()
        self._resolve_calendar(panel.freq, panel.columns, "the long frame")
        panel = self._calendar_panel(panel)
        self.lookback_ = (lookback if lookback is not None
                          else self._auto_lookback(int(np.median(panel.lengths))))
        splits = {}
        for i, n in enumerate(panel.lengths):
            try:
                splits[i] = resolve_split(int(n), self.lookback_, self.horizon,
                                          self.validation_size, self.test_size)
            except NotEnoughDataError:
                pass
        panel = self._drop_short(panel, sorted(splits))
        split = PanelSplit(tuple(int(s) for s in panel.starts), tuple(splits.values()))
        self.split_ = split
        self.scaler_ = PanelScaler().fit(panel, [s.train_end for s in split.splits])
        Z = self.scaler_.transform(panel.values, panel.lengths)
        self._fit_scaled(Z, split)
        self.residuals_ = self._calibration_residuals(Z, split)
        self._finish_fit(Z, split)
        self.series_ids_ = panel.ids
        self.last_times_ = panel.last_times()
        self.last_windows_ = np.stack([panel.series(i)[-self.lookback_:]
                                       for i in range(len(panel))])  # (S, lookback, F)

    def _fit_each_series(self, panel: Panel) -> None:
        self._check_common_params()
        names = self.long_columns_
        template = clone(self).set_params(target=names.target)
        if "n_jobs" in template.get_params():
            template.set_params(n_jobs=1)  # the series are the parallel level
        models = Parallel(n_jobs=getattr(self, "n_jobs", None))(
            delayed(_fit_one)(clone(template), panel.wide(i)) for i in range(len(panel)))
        keep = [i for i, m in enumerate(models) if m is not None]
        panel = self._drop_short(panel, keep)
        self.series_models_ = {panel.ids[j]: models[i] for j, i in enumerate(keep)}
        self.series_ids_ = panel.ids
        self.last_times_ = panel.last_times()
        first = next(iter(self.series_models_.values()))
        self.lookback_ = first.lookback_
        self.scaler_ = None  # each series' model has its own

    def _calendar_panel(self, panel: Panel) -> Panel:
        """``panel`` with the model's calendar columns (``calendar_``) after its own."""
        if not getattr(self, "calendar_", []):
            return panel
        times = times_after_each(panel.first_times, panel.freq, panel.lengths, include=True)
        return dataclasses.replace(panel, values=self._with_calendar(panel.values, times),
                                   columns=list(panel.columns) + list(self.calendar_))

    def _drop_short(self, panel: Panel, keep: list) -> Panel:
        """``panel`` without the series not in ``keep`` (too short), with a warning that counts
        and names them; an error when none is left."""
        kept = set(keep)
        short = [i for i in range(len(panel)) if i not in kept]
        need = (f"lookback={self.lookback} + horizon={self.horizon} and the split sizes "
                f"(validation_size={self.validation_size!r}, test_size={self.test_size!r})")
        named = ", ".join(f"{panel.ids[i]!r} ({panel.lengths[i]} rows)" for i in short[:MAX_NAMED])
        named += ", ..." if len(short) > MAX_NAMED else ""
        if not keep:
            raise NotEnoughDataError(
                f"every series of the long frame is too short for {need}: {named}. Pass longer "
                "series, or reduce lookback, horizon or the split sizes.")
        if short:
            warnings.warn(
                f"{len(short)} of {len(panel)} series dropped, too short for {need}: {named}. "
                "They get no forecasts; reduce lookback, horizon or the split sizes to keep "
                "them.", InputWarning, stacklevel=4)
            return _subset(panel, keep)
        return panel

    # ------------------------------------------------------------------------ predict
    def _long_input(self, X, id_col, time_col, target_col, method: str):
        """For a model fitted on a long frame: the validated :class:`Panel` of ``X`` (None when
        ``X`` is None). For a model fitted on a wide frame: None, or an error when ``X`` is
        long. Returns ``(is_long_fit, panel)``."""
        fitted = getattr(self, "long_columns_", None)
        if fitted is None:
            if long_columns(X, id_col, time_col, target_col) is not None:
                raise ValueError(
                    f"{method} got a long frame, but this {type(self).__name__} was fitted on a "
                    "wide series; refit it on the long frame to forecast its series.")
            return False, None
        if X is None:
            return True, None
        names = long_columns(X, id_col or fitted.id, time_col or fitted.time,
                             target_col or fitted.target)
        panel = check_long(X, names, self.missing)
        if list(panel.columns[1:]) != self.long_features_[1:]:
            raise ValueError(
                f"{method}: the long frame's covariate columns are {panel.columns[1:]}, the fit's "
                f"were {self.long_features_[1:]}; pass the same columns.")
        return True, panel

    def _predict_long(self, panel: Panel | None, coverages=None, symmetric=True,
                      future=None) -> pd.DataFrame:
        """The long forecast frame (with ``coverages``, the bounds as ``<target>_lo_<level>``,
        ``<target>_hi_<level>``); ``future``: the known-future covariates' values."""
        if self._per_series:
            self._check_future(future)  # these read none: future= is an error
            ids, last, forecast, bounds = self._predict_each_series(panel, coverages, symmetric)
        else:
            ids, last, windows, mean, scale = self._global_windows(panel)
            windows = self._with_future(windows, times_after_each(last, self.long_freq_,
                                                                   int(self.horizon)), future, ids)
            forecast = self._forecast_windows(windows, mean, scale)  # (S, H)
            bounds = None
            if coverages is not None:
                offsets = conformal_offsets(self.residuals_, coverages, symmetric,
                                            self.residual_source())[:, 0]  # (H, C, 2)
                bounds = forecast[..., None, None] + offsets * scale[:, 0, None, None, None]
        return self._long_frame(ids, last, forecast, bounds, coverages)

    def _global_windows(self, panel: Panel | None):
        """Each series' last ``lookback_`` rows (S, lookback, F) with its scaling (S, F): a
        known series' from the fit, a new one's from its own rows."""
        if panel is None:
            ids, last, windows = self.series_ids_, self.last_times_, self.last_windows_
        else:
            _check_lengths(panel, self.lookback_, "predict")
            panel = self._calendar_panel(panel)
            ids, last = panel.ids, panel.last_times()
            windows = np.stack([panel.series(i)[-self.lookback_:] for i in range(len(panel))])
        mean, scale = self._series_scaling(ids, panel)
        return ids, last, windows, mean, scale

    def _series_scaling(self, ids, panel: Panel | None):
        """Each series' mean and scale (S, F): a known series' from the fit, a new one's from
        its own rows (:class:`PanelScaler` on all of them)."""
        known = {k: i for i, k in enumerate(self.series_ids_)}
        rows = [known.get(key) for key in ids]
        mean = np.empty((len(ids), self.scaler_.mean_.shape[1]))  # with calendar columns
        scale = np.empty_like(mean)
        new = [j for j, i in enumerate(rows) if i is None]
        if new:  # series the model has not seen
            own = PanelScaler().fit(_subset(panel, new), [None] * len(new))
            mean[new], scale[new] = own.mean_, own.scale_
        seen = [j for j, i in enumerate(rows) if i is not None]
        mean[seen] = self.scaler_.mean_[[rows[j] for j in seen]]
        scale[seen] = self.scaler_.scale_[[rows[j] for j in seen]]
        return mean, scale

    def _forecast_windows(self, windows: np.ndarray, mean, scale) -> np.ndarray:
        """Forecasts (S, H) in the original units from raw windows (S, lookback_, F), each
        followed by its horizon's rows where the model reads known-future covariates."""
        n_series, length, n_features = windows.shape  # (lookback_, and the known future)
        Z = ((windows - mean[:, None]) / scale[:, None]).reshape(-1, n_features)
        origins = length * np.arange(n_series) + self.lookback_
        scaled = np.asarray(self._forecast_scaled(Z, origins), dtype=np.float64)[..., 0]
        return scaled * scale[:, :1] + mean[:, :1]

    def _predict_each_series(self, panel, coverages, symmetric):
        ids = self.series_ids_ if panel is None else panel.ids
        forecasts, bounds, last = [], [], []
        for j, key in enumerate(ids):
            model = self._series_model(key)
            frame = None if panel is None else panel.wide(j)
            out = model.predict(frame)
            forecasts.append(out.to_numpy()[:, 0])
            last.append(self.last_times_[j] if panel is None else frame.index[-1])
            if coverages is not None:
                bands = model.predict_interval(frame, coverage=coverages, symmetric=symmetric)
                bounds.append(bands.to_numpy().reshape(len(out), len(coverages), 2))
        return (ids, pd.Index(last), np.array(forecasts),
                None if coverages is None else np.array(bounds))

    def _series_model(self, key):
        model = self.series_models_.get(key)
        if model is None:
            raise ValueError(
                f"the series {self.long_columns_.id}={key!r} was not fitted (a new series, or one "
                f"dropped as too short); {type(self).__name__} fits one model per series. Fit on a "
                "long frame that holds it.")
        return model

    def _long_frame(self, ids, last, forecast, bounds, coverages) -> pd.DataFrame:
        names, horizon = self.long_columns_, int(self.horizon)
        frame = pd.DataFrame({
            names.id: np.repeat(np.asarray(ids), horizon),
            names.time: times_after_each(last, self.long_freq_, horizon),
            names.target: forecast.ravel(),
        })
        add_bound_columns(frame, bounds, coverages, f"{names.target}_")
        return frame

    # ----------------------------------------------------------------------- backtest
    def _backtest_long(self, panel: Panel, first_rows, coverages=None,
                       symmetric=True):
        """Forecasts from every origin of each series from ``first_rows[i]`` on (a row
        position in series ``i``). Returns ``(table, truth, forecast, bounds)``: the long table,
        the arrays (n_origins, horizon, 1) of all series' origins, one series after another,
        and with ``coverages`` their bounds (n_origins, horizon, 1, n_coverages, 2)."""
        horizon = int(self.horizon)
        tables, truths, forecasts, all_bounds = [], [], [], []
        panel = panel if self._per_series else self._calendar_panel(panel)
        mean, scale = (None, None) if self._per_series else self._series_scaling(panel.ids, panel)
        for i, key in enumerate(panel.ids):
            values = panel.series(i)
            origins = np.arange(first_rows[i], len(values) - horizon + 1)
            if not len(origins):
                continue
            if self._per_series:
                model = self._series_model(key)
                frame = panel.wide(i)
                forecast = model.predict_at(frame, origins)
                bounds = (model.interval_bounds(frame, origins, forecast, coverages, symmetric)
                          if coverages else None)
            else:
                Z = (values - mean[i]) / scale[i]
                forecast = (np.asarray(self._forecast_scaled(Z, origins), dtype=np.float64)
                            * scale[i, 0] + mean[i, 0])
                bounds = None
                if coverages:
                    offsets = conformal_offsets(self.residuals_, coverages, symmetric,
                                                self.residual_source())
                    bounds = forecast[..., None, None] + offsets[None] * scale[i, 0]
            truth = values[origins[:, None] + np.arange(horizon), 0][..., None]
            times = panel.times(i)
            table = pd.DataFrame({
                self.long_columns_.id: key,
                "origin": np.repeat(np.asarray(times[origins - 1]), horizon),
                "step": np.tile(np.arange(1, horizon + 1), len(origins)),
                "time": np.asarray(times[(origins[:, None] + np.arange(horizon)).ravel()]),
                "target": self.long_columns_.target,
                "truth": truth.ravel(), "forecast": forecast.ravel()})
            add_bound_columns(table, bounds, coverages)
            tables.append(table)
            truths.append(truth)
            forecasts.append(forecast)
            all_bounds.append(bounds)
        if not tables:
            raise NotEnoughDataError(
                f"the backtest leaves no origin with a full horizon of {horizon} rows in any "
                "series; pass longer series or an earlier start.")
        return (pd.concat(tables, ignore_index=True), np.concatenate(truths),
                np.concatenate(forecasts), np.concatenate(all_bounds) if coverages else None)


def _fit_one(estimator, frame: pd.DataFrame):
    """One series' fit, or None when the series is too short."""
    try:
        return estimator.fit(frame)
    except NotEnoughDataError:
        return None


def _subset(panel: Panel, keep: list) -> Panel:
    parts = [panel.series(i) for i in keep]
    lengths = [len(p) for p in parts]
    return Panel(ids=panel.ids[keep], values=np.concatenate(parts),
                 starts=np.r_[0, np.cumsum(lengths)], first_times=panel.first_times[keep],
                 freq=panel.freq, columns=panel.columns, names=panel.names)


def _check_lengths(panel: Panel, need: int, method: str) -> None:
    short = np.flatnonzero(panel.lengths < need)
    if len(short):
        i = int(short[0])
        raise NotEnoughDataError(
            f"{method} needs at least lookback_={need} rows of each series; "
            f"{panel.names.id}={panel.ids[i]!r} has {panel.lengths[i]} ({len(short)} series are "
            "shorter). Pass a longer recent history of those series, or leave them out.")


def start_rows(panel: Panel, start, lookback: int) -> np.ndarray:
    """Each series' first origin for ``backtest(start=...)``: None, its first full window; an
    int, a row position in every series (negative: from each series' end); a time, the
    first row at or after it."""
    lengths = panel.lengths
    if start is None:
        rows = np.full(len(panel), lookback)
    elif isinstance(start, (int, np.integer)) and not isinstance(start, bool):
        rows = np.where(start >= 0, start, lengths + start)
    else:
        rows = np.array([int(panel.times(i).searchsorted(start)) for i in range(len(panel))])
    return np.maximum(rows, lookback)


def coverages_of(coverage):
    return None if coverage is None else check_coverage(coverage)
