"""Backtests: forecasts from many origins, as a long table that models can be compared on."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted


def backtest_arrays(estimator, X, start=None):
    """Forecasts and truths from every origin from ``start`` on (see :func:`backtest`).

    Returns ``(data, origins, truth, forecast)``: the validated series, the origins (row of the
    first forecast target), and ``truth`` / ``forecast`` of shape (n_origins, horizon, n_targets).
    """
    check_is_fitted(estimator, "scaler_")
    data = estimator._check_new_series(X, estimator.lookback_ + estimator.horizon, "backtest")
    first = _start_position(start, data.index, estimator.lookback_)
    origins = np.arange(first, len(data.values) - estimator.horizon + 1)
    if not len(origins):
        raise ValueError(
            f"backtest start={start!r} leaves no origin with a full horizon of "
            f"{estimator.horizon} rows inside X ({len(data.values)} rows); an int `start` is a "
            "row position, not an index label (use X.index.get_loc(label) for a numeric label)."
        )
    forecast = estimator._forecast_origins(data, origins)
    return data, origins, estimator.truth_at(data, origins), forecast


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
    from . import metrics

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
    from .metrics import UndefinedMetricError

    try:
        return metric(truth, forecast)
    except UndefinedMetricError:
        return float("nan")
