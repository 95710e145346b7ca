"""Backtests: forecasts from many origins, as a long table, and comparisons of models on them.

    backtest(est, X, start=...)           # one fitted model: a long table of forecasts
    compare_models(models, X, test_size)  # fit each on the first part, backtest on the rest
    backtest(est, X, start=..., coverage=0.9)  # with the bounds of each origin's interval
"""

from __future__ import annotations

import numbers

import dataclasses
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from . import metrics
from .data import InputWarning, NotEnoughDataError, check_series, future_values
from .data.splits import n_rows_of
from .events import ProgressEvent
from .data.long import check_long, long_columns
from .intervals import (NotEnoughResidualsError, adaptive_offsets, add_bound_columns,
                        check_coverage, level_label)
from .panel import coverages_of, start_rows


def backtest_arrays(estimator, X, start=None):
    """Forecasts and truths from every origin from ``start`` on (see :func:`backtest`).

    Returns ``(data, origins, truth, forecast)``: the validated series, the origins (row of the
    first forecast target), and ``truth`` / ``forecast`` of shape (n_origins, horizon, n_targets).
    """
    check_is_fitted(estimator, "scaler_")
    data = check_series(estimator, X, reset=False, missing=estimator.missing)
    lookback, horizon = estimator.lookback_, estimator.horizon
    first = _start_position(start, data.index, lookback)
    origins = np.arange(first, len(data.values) - horizon + 1)
    if not len(origins):
        raise NotEnoughDataError(
            f"backtest start={start!r} leaves no origin with a full horizon of {horizon} rows "
            f"inside X ({len(data.values)} rows; lookback={lookback}); pass a longer X or an "
            "earlier start. An int `start` is a row position, not an index label (use "
            "X.index.get_loc(label) for a numeric label)."
        )
    forecast = estimator.predict_at(X, origins)
    truth = future_values(data.values, origins, horizon, estimator.target_idx_)
    return data, origins, truth, forecast


def backtest(estimator, X, start=None, coverage=None, symmetric=True,
             adaptive=False) -> pd.DataFrame:
    """Forecast from every origin from ``start`` on, with inputs reaching back before ``start``.

    ``start`` is the row (an int position, or any other index label) of the first
    forecast target; by default the first row with a full window behind it. On a long frame
    (a model fitted on one): every series from its own ``start`` (an int row position in each
    series, negative from each series' end, or a time), the table's first column the id. Returns one row per
    (origin, step, target): ``origin`` (label of the last observed row), ``step`` (1..horizon),
    ``time`` (label of the forecast row), ``target``, ``truth`` and ``forecast``. Models with
    different lookbacks scored from the same ``start`` forecast the same targets.

    ``coverage`` (a fraction or a list of them) adds the bounds of each origin's prediction
    interval (see ``predict_interval``; ``symmetric`` as there): columns ``lo_<level>`` and
    ``hi_<level>``, the level in percent (``lo_90``, ``hi_90``). ``adaptive=True`` makes them
    adaptive conformal intervals (Gibbs and Candes 2021; :mod:`autoforecast.intervals`): each
    origin's level moves with the misses of the earlier origins whose outcome is known by then
    (symmetric only, from the model's calibration residuals).
    """
    if _is_long(estimator, X):
        if adaptive:
            raise ValueError("adaptive intervals are for wide series; on a long frame pass "
                             "adaptive=False (each series' bounds are its own conformal ones).")
        panel = _long_panel(estimator, X, "backtest")
        return estimator._backtest_long(panel, start_rows(panel, start, estimator.lookback_),
                                        coverages_of(coverage), symmetric)[0]
    data, origins, truth, forecast = backtest_arrays(estimator, X, start)
    n_origins, horizon, n_targets = forecast.shape
    rows = np.repeat((origins[:, None] + np.arange(horizon)).ravel(), n_targets)
    table = pd.DataFrame({
        "origin": np.asarray(data.index[np.repeat(origins - 1, horizon * n_targets)]),
        "step": np.tile(np.repeat(np.arange(1, horizon + 1), n_targets), n_origins),
        "time": np.asarray(data.index[rows]),
        "target": np.tile(np.asarray(estimator.target_names_, dtype=object), n_origins * horizon),
        "truth": truth.ravel(),
        "forecast": forecast.ravel(),
    })
    if coverage is not None:
        coverages = check_coverage(coverage)
        bounds = (_adaptive_bounds(estimator, origins, truth, forecast, coverages, symmetric)
                  if adaptive else
                  estimator.interval_bounds(X, origins, forecast, coverages, symmetric))
        add_bound_columns(table, bounds, coverages)
    return table


def _is_long(estimator, X) -> bool:
    return getattr(estimator, "long_columns_", None) is not None or long_columns(X) is not None


def _long_panel(estimator, X, method: str):
    check_is_fitted(estimator, "scaler_")
    is_long, panel = estimator._long_input(X, None, None, None, method)
    if panel is None:
        raise ValueError(f"{method} needs X: the long frame whose series to forecast.")
    return panel


def _adaptive_bounds(estimator, origins, truth, forecast, coverages, symmetric) -> np.ndarray:
    """Adaptive conformal bounds (n_origins, horizon, n_targets, n_coverages, 2)."""
    if not symmetric:
        raise ValueError("adaptive intervals are symmetric only; pass symmetric=True (got "
                         "symmetric=False with adaptive=True).")
    residuals = getattr(estimator, "residuals_", None)
    if residuals is None or not len(residuals):
        raise NotEnoughResidualsError(
            f"adaptive intervals need the model's calibration residuals, and this "
            f"{type(estimator).__name__} has none. {estimator.residual_source()}")
    return forecast[..., None, None] + np.stack(
        [adaptive_offsets(residuals, origins, truth, forecast, q) for q in coverages], axis=-2)


def _start_position(start, index: pd.Index, lookback: int) -> int:
    if start is None:
        return lookback
    if isinstance(start, numbers.Integral) and not isinstance(start, bool):
        position = int(start) if start >= 0 else len(index) + int(start)
    else:
        try:
            position = int(index.get_loc(start))
        except (KeyError, TypeError) as err:
            raise ValueError(f"backtest start={start!r} is not a label of X's index.") from err
    if position < lookback:
        raise ValueError(
            f"backtest start={start!r} is row {position}, but the first origin needs "
            f"lookback={lookback} rows before it; start at row {lookback} or later."
        )
    return position


REPORT_METRICS = ("mae", "rmse", "rse", "corr")
REPORT_COVERAGE = 0.9  # the interval AutoCellForecaster's report scores


def interval_bounds_or_none(estimator, X, origins, forecast, coverages):
    """``estimator``'s interval bounds (n_origins, horizon, n_targets, n_coverages, 2) around
    ``forecast``, each coverage computed on its own: NaN at a coverage it has too few
    calibration residuals for (an :class:`InputWarning` says which and why; a table shows
    NaN), None when that is every coverage."""
    parts, missing = [], []
    for coverage in coverages:
        try:
            parts.append(estimator.interval_bounds(X, origins, forecast, [coverage]))
        except NotEnoughResidualsError as error:
            parts.append(np.full(np.shape(forecast) + (1, 2), np.nan))
            missing.append(str(error))
    for reason in missing:
        warnings.warn(f"{type(estimator).__name__}: {reason}", InputWarning, stacklevel=2)
    if len(missing) == len(coverages):
        return None
    return np.concatenate(parts, axis=-2)


def skill_table(truth: np.ndarray, forecasts: dict, reference: str, fit_seconds=None,
                bounds=None, coverages=()) -> pd.DataFrame:
    """Compare forecasts of several models on the same targets.

    ``truth`` and every forecast are ``(n_origins, horizon, n_targets)`` in the original units;
    all (origin, step) pairs are pooled per target. One row per model: MAE, RMSE, RSE and CORR
    (LSTNet's definitions), and ``skill_rmse`` / ``skill_mae``: the skill of ``reference``
    against that model, ``1 - error(reference) / error(model)`` (positive: ``reference`` wins).

    ``bounds`` ({model: (n_origins, horizon, n_targets, n_coverages, 2) or None}) with their
    ``coverages`` add each interval's empirical coverage and mean width (``coverage_90``,
    ``width_90``; NaN for a model without bounds).
    """
    n_targets = truth.shape[-1]
    flat_truth = truth.reshape(-1, n_targets)
    rows = {}
    for name, forecast in forecasts.items():
        flat = np.asarray(forecast).reshape(-1, n_targets)
        rows[name] = {metric: _safe_metric(getattr(metrics, metric), flat_truth, flat)
                      for metric in REPORT_METRICS}
        if fit_seconds and name in fit_seconds:
            rows[name]["fit_s"] = fit_seconds[name]
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    for metric in ("rmse", "mae"):
        ref = table.loc[reference, metric]
        table[f"skill_{metric}"] = [_safe_metric(metrics.skill_score, ref, err)
                                    for err in table[metric]]
    for i, level in enumerate(coverages):
        scores = {name: _interval_scores(flat_truth, None if b is None else b[..., i, :])
                  for name, b in (bounds or {}).items()}
        table[f"coverage_{level_label(level)}"] = [scores.get(n, _NO_SCORES)[0] for n in table.index]
        table[f"width_{level_label(level)}"] = [scores.get(n, _NO_SCORES)[1] for n in table.index]
    return table


_NO_SCORES = (float("nan"), float("nan"))


def _interval_scores(flat_truth: np.ndarray, bounds) -> tuple[float, float]:
    """Empirical coverage and mean width of ``bounds`` (..., n_targets, 2), or NaNs."""
    if bounds is None or np.isnan(bounds).all():
        return _NO_SCORES
    lower = bounds[..., 0].reshape(flat_truth.shape)
    upper = bounds[..., 1].reshape(flat_truth.shape)
    return (metrics.empirical_coverage(flat_truth, lower, upper),
            metrics.mean_width(lower, upper))


def _safe_metric(metric, truth, forecast) -> float:
    """A metric, or NaN where it is undefined on these data (constant truth for RSE, ...)."""
    try:
        return metric(truth, forecast)
    except metrics.UndefinedMetricError:
        return float("nan")


def n_test_rows(n_rows: int, test_size) -> int:
    """Rows in a test part of ``n_rows``: ``test_size`` rows (an int) or a fraction (a float)."""
    n_test = n_rows_of(test_size, n_rows, "test_size")
    if not 1 <= n_test < n_rows:
        raise ValueError(f"test_size={test_size!r} gives {n_test} test row(s) out of {n_rows}; "
                         "expected at least 1 and fewer than all rows. Pass a fraction such as "
                         "0.2 or a number of rows.")
    return n_test


def backtest_models(models: dict, X, n_test: int, callback=None, coverages=()):
    """Fit each model on the rows of ``X`` before the last ``n_test`` and forecast from every
    origin in them. Returns ``truth`` and ``{name: forecast}``, each (n_origins, horizon,
    n_targets), ``{name: fit seconds}`` and ``{name: interval bounds}`` at ``coverages``
    (see :func:`skill_table`; empty without coverages). ``callback`` receives each fit's
    progress (stages prefixed with the model's name) and an ``evaluate`` event after each
    model."""
    train_end = len(X) - n_test
    # by its timestamp: rows missing from X's time index come back, filled, when it is checked
    timestamps = isinstance(getattr(X, "index", None), pd.DatetimeIndex)
    start = X.index[train_end] if timestamps else train_end
    truth, forecasts, seconds, bounds = None, {}, {}, {}
    for step, (name, estimator) in enumerate(models.items(), start=1):
        started = time.perf_counter()
        head = X.iloc[:train_end] if isinstance(X, (pd.DataFrame, pd.Series)) else X[:train_end]
        estimator.fit(head, callback=_prefixed(callback, name))
        seconds[name] = time.perf_counter() - started
        _, origins, truth, forecasts[name] = backtest_arrays(estimator, X, start=start)
        if coverages:
            bounds[name] = interval_bounds_or_none(estimator, X, origins, forecasts[name],
                                                   coverages)
        if callback is not None:
            callback(ProgressEvent("evaluate", step, len(models),
                                   f"{name}: fitted in {seconds[name]:.1f} s, {len(origins)} "
                                   "forecast origin(s)", {"model": name, "fit_s": seconds[name]}))
    return truth, forecasts, seconds, bounds


def compare_models(models: dict, X, test_size=0.2, reference=None, callback=None,
                   coverage=None, *, id_col=None, time_col=None,
                   target_col=None) -> pd.DataFrame:
    """Backtest ``models`` ({name: unfitted forecaster}) on the last ``test_size`` of ``X`` (a
    fraction or a number of rows), each fitted on the rows before it: the skill table of
    :func:`skill_table` against ``reference`` (default: the first model), with fit times, and
    with ``coverage`` (a fraction or a list) the coverage and width of each model's intervals
    (``coverage_90``, ``width_90``). On a long frame (``unique_id``, ``ds``, ``y``) the test
    part is the last ``test_size`` of each series (each fitted on the rows before it), all
    series' forecasts pooled; ``id_col``, ``time_col``, ``target_col`` name its columns as
    ``fit``'s do."""
    reference = next(iter(models)) if reference is None else reference
    if reference not in models:
        raise ValueError(f"reference={reference!r} is not among the models compared "
                         f"({', '.join(models)}).")
    coverages = check_coverage(coverage) if coverage is not None else []
    names = long_columns(X, id_col, time_col, target_col)
    if names is not None:
        truth, forecasts, seconds, bounds = backtest_long_models(models, X, test_size, callback,
                                                                 coverages, names)
        return skill_table(truth, forecasts, reference, seconds, bounds, coverages)
    n_test = n_test_rows(len(X), test_size)
    truth, forecasts, seconds, bounds = backtest_models(models, X, n_test, callback, coverages)
    return skill_table(truth, forecasts, reference, seconds, bounds, coverages)


def backtest_long_models(models: dict, X, test_size, callback=None, coverages=(), names=None):
    """:func:`backtest_models` on a long frame (its columns ``names``, default the Nixtla
    ones): each series' last ``test_size`` (rows, or a fraction of that series) is its test
    part; each model is fitted on the rows before it."""
    names = long_columns(X) if names is None else names
    panel = check_long(X, names, "raise" if not models else next(iter(models.values())).missing)
    n_tests = np.array([n_test_rows(int(n), test_size) for n in panel.lengths])
    head = pd.concat([pd.DataFrame({names.id: [key] * int(n - k), names.time:
                                    panel.times(i)[: int(n - k)]})
                      .join(pd.DataFrame(panel.series(i)[: int(n - k)], columns=panel.columns))
                      for i, (key, n, k) in enumerate(zip(panel.ids, panel.lengths, n_tests))],
                     ignore_index=True)
    truth, forecasts, seconds, bounds = None, {}, {}, {}
    for step, (name, estimator) in enumerate(models.items(), start=1):
        started = time.perf_counter()
        estimator.fit(head, callback=_prefixed(callback, name), id_col=names.id,
                      time_col=names.time, target_col=names.target)
        seconds[name] = time.perf_counter() - started
        known = set(estimator.series_ids_)
        fitted = {key: i for i, key in enumerate(panel.ids) if key in known}
        if len(fitted) < len(panel):
            raise ValueError(f"{name} dropped {len(panel) - len(fitted)} series as too short; "
                             "compare_models scores every model on the same series: drop the "
                             "short series from X, or reduce lookback or test_size.")
        starts = panel.lengths - n_tests
        _, truth, forecasts[name], bounds[name] = estimator._backtest_long(
            panel, starts, coverages or None)
        if callback is not None:
            callback(ProgressEvent("evaluate", step, len(models),
                                   f"{name}: fitted in {seconds[name]:.1f} s, {len(truth)} "
                                   "forecast origin(s)", {"model": name, "fit_s": seconds[name]}))
    return truth, forecasts, seconds, bounds


def _prefixed(callback, name: str):
    """``callback`` with every event's stage prefixed by ``name`` (None stays None)."""
    if callback is None:
        return None
    return lambda event: callback(dataclasses.replace(event, stage=f"{name}: {event.stage}"))
