"""Backtests: forecasts from many origins, as a long table, and comparisons of models on them.

    backtest(est, X, start=...)           # one fitted model: a long table of forecasts
    compare_models(models, X, test_size)  # fit each on the first part, backtest on the rest
"""

from __future__ import annotations

import numbers

import dataclasses
import time

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from . import metrics
from .data import NotEnoughDataError, check_series, future_values
from .data.splits import n_rows_of
from .events import ProgressEvent


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


def backtest(estimator, X, start=None) -> pd.DataFrame:
    """Forecast from every origin from ``start`` on, with inputs reaching back before ``start``.

    ``start`` is the row (an int position, or any other index label) of the first
    forecast target; by default the first row with a full window behind it. Returns one row per
    (origin, step, target): ``origin`` (label of the last observed row), ``step`` (1..horizon),
    ``time`` (label of the forecast row), ``target``, ``truth`` and ``forecast``. Models with
    different lookbacks scored from the same ``start`` forecast the same targets.
    """
    data, origins, truth, forecast = backtest_arrays(estimator, X, start)
    n_origins, horizon, n_targets = forecast.shape
    rows = np.repeat((origins[:, None] + np.arange(horizon)).ravel(), n_targets)
    return pd.DataFrame({
        "origin": np.asarray(data.index[np.repeat(origins - 1, horizon * n_targets)]),
        "step": np.tile(np.repeat(np.arange(1, horizon + 1), n_targets), n_origins),
        "time": np.asarray(data.index[rows]),
        "target": np.tile(np.asarray(estimator.target_names_, dtype=object), n_origins * horizon),
        "truth": truth.ravel(),
        "forecast": forecast.ravel(),
    })


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


def skill_table(truth: np.ndarray, forecasts: dict, reference: str, fit_seconds=None) -> pd.DataFrame:
    """Compare forecasts of several models on the same targets.

    ``truth`` and every forecast are ``(n_origins, horizon, n_targets)`` in the original units;
    all (origin, step) pairs are pooled per target. One row per model: MAE, RMSE, RSE and CORR
    (LSTNet's definitions), and ``skill_rmse`` / ``skill_mae``: the skill of ``reference``
    against that model, ``1 - error(reference) / error(model)`` (positive: ``reference`` wins).
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
    return table


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


def backtest_models(models: dict, X, n_test: int, callback=None):
    """Fit each model on the rows of ``X`` before the last ``n_test`` and forecast from every
    origin in them. Returns ``truth`` and ``{name: forecast}``, each (n_origins, horizon,
    n_targets), and ``{name: fit seconds}``. ``callback`` receives each fit's progress (stages
    prefixed with the model's name) and an ``evaluate`` event after each model."""
    train_end = len(X) - n_test
    truth, forecasts, seconds = None, {}, {}
    for step, (name, estimator) in enumerate(models.items(), start=1):
        started = time.perf_counter()
        head = X.iloc[:train_end] if isinstance(X, (pd.DataFrame, pd.Series)) else X[:train_end]
        estimator.fit(head, callback=_prefixed(callback, name))
        seconds[name] = time.perf_counter() - started
        _, origins, truth, forecasts[name] = backtest_arrays(estimator, X, start=train_end)
        if callback is not None:
            callback(ProgressEvent("evaluate", step, len(models),
                                   f"{name}: fitted in {seconds[name]:.1f} s, {len(origins)} "
                                   "forecast origin(s)", {"model": name, "fit_s": seconds[name]}))
    return truth, forecasts, seconds


def compare_models(models: dict, X, test_size=0.2, reference=None, callback=None) -> pd.DataFrame:
    """Backtest ``models`` ({name: unfitted forecaster}) on the last ``test_size`` of ``X`` (a
    fraction or a number of rows), each fitted on the rows before it: the skill table of
    :func:`skill_table` against ``reference`` (default: the first model), with fit times."""
    reference = next(iter(models)) if reference is None else reference
    if reference not in models:
        raise ValueError(f"reference={reference!r} is not among the models compared "
                         f"({', '.join(models)}).")
    n_test = n_test_rows(len(X), test_size)
    truth, forecasts, seconds = backtest_models(models, X, n_test, callback)
    return skill_table(truth, forecasts, reference, fit_seconds=seconds)


def _prefixed(callback, name: str):
    """``callback`` with every event's stage prefixed by ``name`` (None stays None)."""
    if callback is None:
        return None
    return lambda event: callback(dataclasses.replace(event, stage=f"{name}: {event.stage}"))
