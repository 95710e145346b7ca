"""Forecast metrics: numpy arrays in, one float out. Point forecasts, and prediction intervals
(``empirical_coverage``, ``mean_width``, ``interval_score``: the truth and the lower and upper
bounds, all of one shape).

Every metric takes ``y_true`` and ``y_pred`` of the same shape, either 1-D ``(n_points,)`` (one
series) or 2-D ``(n_points, n_series)``, and reduces over all of them to one scalar. Inputs are
checked: shapes must match, arrays must be non-empty and hold only finite numbers; anything else
raises a ``ValueError`` that says what came and what was expected.

``rse`` and ``corr`` follow the LSTNet code (Lai et al. 2018), which the exchange-rate benchmark
tables use; ``mase`` follows Hyndman & Koehler (2006); ``owa`` is the M4 competition's
relative score (from sMAPEs and MASEs already computed, like ``skill_score`` from errors).

``METRICS`` maps names to the metrics that take exactly ``(y_true, y_pred)``; ``mase`` is not in
it because it also needs the training data. ``HIGHER_IS_BETTER`` names the ones where a larger
value is better (all others: lower is better). ``perplexity`` is the language model's: the exp
of a mean negative log-likelihood, ``inf`` where that overflows.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "UndefinedMetricError", "mae", "mse", "rmse", "rse", "corr", "mase", "smape", "skill_score",
    "owa", "empirical_coverage", "mean_width", "interval_score", "METRICS", "HIGHER_IS_BETTER",
]


class UndefinedMetricError(ValueError):
    """The metric has no value on these data (constant truth for RSE, ...)."""


def _as_finite_array(values, name: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"`{name}` must be numeric (array-like of numbers), got {error}."
        ) from None
    if array.ndim not in (1, 2):
        raise ValueError(
            f"`{name}` must be 1-D (n_points,) or 2-D (n_points, n_series), got {array.ndim}-D "
            f"with shape {array.shape}. Reshape it, e.g. `y.reshape(len(y), -1)`."
        )
    if array.size == 0:
        raise ValueError(
            f"`{name}` is empty (shape {array.shape}); a metric needs at least one value."
        )
    bad = ~np.isfinite(array)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"`{name}` holds {int(bad.sum())} non-finite value(s) (NaN or inf), the first at index "
            f"{first}. Metrics need finite numbers: drop or impute the missing points first."
        )
    return array


def _check_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert a (truth, prediction) pair to float64 arrays of one shape."""
    true = _as_finite_array(y_true, "y_true")
    pred = _as_finite_array(y_pred, "y_pred")
    if true.shape != pred.shape:
        raise ValueError(
            f"`y_true` and `y_pred` must have the same shape, got {true.shape} and {pred.shape}. "
            "Align the forecasts with the observations they forecast."
        )
    return true, pred


def _as_columns(array: np.ndarray) -> np.ndarray:
    """View a 1-D series as one column, so that per-series code handles both layouts."""
    return array.reshape(-1, 1) if array.ndim == 1 else array


def mae(y_true, y_pred) -> float:
    """Mean absolute error over all points and series."""
    true, pred = _check_pair(y_true, y_pred)
    return float(np.mean(np.abs(true - pred)))


def mse(y_true, y_pred) -> float:
    """Mean squared error over all points and series."""
    true, pred = _check_pair(y_true, y_pred)
    return float(np.mean((true - pred) ** 2))


def rmse(y_true, y_pred) -> float:
    """Root mean squared error: the square root of ``mse``."""
    return float(np.sqrt(mse(y_true, y_pred)))


def rse(y_true, y_pred) -> float:
    """Root relative squared error, as in LSTNet.

    ``sqrt(sum (y - yhat)^2) / sqrt(sum (y - mean(y))^2)``, both sums over all points and all
    series, ``mean(y)`` one scalar over all of them (not a mean per series). Lower is better;
    predicting the global mean everywhere scores 1. Undefined, and a ``ValueError``, when
    ``y_true`` is constant.
    """
    true, pred = _check_pair(y_true, y_pred)
    spread = np.sum((true - true.mean()) ** 2)
    if spread == 0.0:
        raise UndefinedMetricError(
            "rse is undefined when `y_true` is constant (all values equal "
            f"{true.flat[0]!r}): its denominator sum((y - mean(y))^2) is 0. Use mae or rmse."
        )
    return float(np.sqrt(np.sum((true - pred) ** 2)) / np.sqrt(spread))


def corr(y_true, y_pred) -> float:
    """Empirical correlation coefficient, as in LSTNet.

    For each series (column), the Pearson correlation between prediction and truth over the
    points; the result is the mean over series. Higher is better (at most 1).

    A series whose truth or prediction has zero variance has no defined correlation and is left
    out of the mean. LSTNet's code leaves out series with constant truth the same way; a
    constant prediction there divides by zero and turns the whole mean into NaN, which this
    function avoids by leaving that series out too. If every series is left out, a
    ``ValueError`` says so.
    """
    true, pred = _check_pair(y_true, y_pred)
    true, pred = _as_columns(true), _as_columns(pred)
    true_dev = true - true.mean(axis=0)
    pred_dev = pred - pred.mean(axis=0)
    true_scale = np.sqrt(np.sum(true_dev**2, axis=0))  # (n_series,)
    pred_scale = np.sqrt(np.sum(pred_dev**2, axis=0))
    kept = (true_scale > 0) & (pred_scale > 0)
    if not kept.any():
        raise UndefinedMetricError(
            f"corr is undefined: each of the {true.shape[1]} series has a constant truth or a "
            "constant prediction over the points, so no correlation can be computed."
        )
    covariance = np.sum(true_dev[:, kept] * pred_dev[:, kept], axis=0)
    return float(np.mean(covariance / (true_scale[kept] * pred_scale[kept])))


def mase(y_true, y_pred, y_train, m: int = 1) -> float:
    """Mean absolute scaled error (Hyndman & Koehler 2006).

    Each series' errors are scaled by the in-sample mean absolute ``m``-step naive difference of
    that series' training data, ``mean_t |y_train[t] - y_train[t - m]|`` (``m=1``: the random
    walk; ``m`` = the season length: the seasonal naive forecast). The result is the mean of the
    absolute scaled errors over all points and series, which equals the mean over series of each
    series' MASE. Below 1: better in-sample than the naive forecast's one-step errors.

    ``y_train`` is 1-D or 2-D like ``y_true``, with the same number of series and more than
    ``m`` points. A series whose training data has no ``m``-step change makes the scale 0 and
    raises a ``ValueError``.
    """
    true, pred = _check_pair(y_true, y_pred)
    train = _as_finite_array(y_train, "y_train")
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
        raise ValueError(
            f"`m` (the naive forecast's lag, e.g. the season length) must be an int >= 1, "
            f"got {m!r}."
        )
    true, pred, train = _as_columns(true), _as_columns(pred), _as_columns(train)
    if train.shape[1] != true.shape[1]:
        raise ValueError(
            f"`y_train` has {train.shape[1]} series (columns) but `y_true` has {true.shape[1]}; "
            "pass the training part of the same series."
        )
    if train.shape[0] <= m:
        raise ValueError(
            f"`y_train` has {train.shape[0]} point(s); the {m}-step naive scale needs more than "
            f"m={m}. Pass a longer training series or a smaller `m`."
        )
    scale = np.mean(np.abs(train[m:] - train[:-m]), axis=0)  # (n_series,)
    flat = np.flatnonzero(scale == 0)
    if flat.size:
        raise UndefinedMetricError(
            f"mase is undefined for series {flat.tolist()}: its training data never changes over "
            f"{m} step(s), so the naive scale is 0. Use mae, or leave those series out."
        )
    return float(np.mean(np.abs(true - pred) / scale))


def smape(y_true, y_pred) -> float:
    """Symmetric mean absolute percentage error, in percent (0 to 200).

    ``mean(200 * |y - yhat| / (|y| + |yhat|))`` over all points and series; a term where truth and
    prediction are both 0 is a perfect forecast and counts as 0.
    """
    true, pred = _check_pair(y_true, y_pred)
    denominator = np.abs(true) + np.abs(pred)
    error = np.abs(true - pred)
    terms = np.divide(error, denominator, out=np.zeros_like(error), where=denominator > 0)
    return float(200.0 * np.mean(terms))


def _check_errors(**values) -> None:
    """Each of ``values`` (name -> value) must be a finite number >= 0 (an error)."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"`{name}` must be a number (an error such as an MSE), got {value!r}.")
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"`{name}` must be a finite error >= 0, got {value!r}.")


def skill_score(error_model: float, error_reference: float) -> float:
    """Skill of a model against a reference forecast: ``1 - error_model / error_reference``.

    Both are errors where lower is better (e.g. ``mse`` of the model and of the last-value
    forecast). 1 is a perfect model, 0 no better than the reference, negative worse. A reference
    error of 0 means the reference is already perfect, so the ratio is undefined and a
    ``ValueError`` is raised.
    """
    _check_errors(error_model=error_model, error_reference=error_reference)
    if error_reference == 0:
        raise UndefinedMetricError(
            "skill_score is undefined when `error_reference` is 0: the reference forecast is "
            "already perfect, so no model can be measured against it. Compare the errors directly."
        )
    return float(1.0 - error_model / error_reference)



def owa(smape_model: float, mase_model: float, smape_reference: float,
        mase_reference: float) -> float:
    """Overall weighted average of the M4 competition (Makridakis et al. 2020), lower is better.

    ``(smape_model / smape_reference + mase_model / mase_reference) / 2``: the model's sMAPE
    and MASE relative to a reference forecast's on the same series (in M4, Naive2's), each
    already averaged over the whole set of series (the ratio of the means, not the mean of
    per-series ratios). 1 is the reference's accuracy, below 1 better. A reference error of 0
    leaves the ratio undefined and raises a ``ValueError``.
    """
    _check_errors(smape_model=smape_model, mase_model=mase_model,
                  smape_reference=smape_reference, mase_reference=mase_reference)
    if smape_reference == 0 or mase_reference == 0:
        raise UndefinedMetricError(
            f"owa is undefined when the reference's sMAPE or MASE is 0 (got {smape_reference!r} "
            f"and {mase_reference!r}): the reference forecast is perfect. Compare the errors "
            "directly.")
    return float((smape_model / smape_reference + mase_model / mase_reference) / 2.0)

def _check_bounds(lower, upper, y_true=None):
    """Validated (truth or None, lower, upper) of one shape, with lower <= upper."""
    low = _as_finite_array(lower, "lower")
    high = _as_finite_array(upper, "upper")
    true = None if y_true is None else _as_finite_array(y_true, "y_true")
    for name, array in (("upper", high), ("y_true", true)):
        if array is not None and array.shape != low.shape:
            raise ValueError(f"`lower` and `{name}` must have the same shape, got {low.shape} and "
                             f"{array.shape}. Align the bounds with the observations.")
    crossed = low > high
    if crossed.any():
        first = tuple(int(i) for i in np.argwhere(crossed)[0])
        raise ValueError(f"`lower` exceeds `upper` at {int(crossed.sum())} point(s), the first at "
                         f"index {first}; pass the bounds in the order (lower, upper).")
    return true, low, high


def empirical_coverage(y_true, lower, upper) -> float:
    """The fraction of the points that lie inside their interval, bounds included (0 to 1)."""
    true, low, high = _check_bounds(lower, upper, y_true)
    return float(np.mean((true >= low) & (true <= high)))


def mean_width(lower, upper) -> float:
    """The mean of ``upper - lower`` over all points and series (in the data's units)."""
    _, low, high = _check_bounds(lower, upper)
    return float(np.mean(high - low))


def interval_score(y_true, lower, upper, coverage: float) -> float:
    """The interval (Winkler) score of intervals of nominal ``coverage``, lower is better.

    Per point ``(u - l) + (2 / a)(l - y) 1{y < l} + (2 / a)(y - u) 1{y > u}`` with
    ``a = 1 - coverage`` (Gneiting and Raftery 2007), averaged over all points and series: the
    width, plus a penalty for each miss that grows with its distance and the coverage claimed.
    """
    if isinstance(coverage, bool) or not isinstance(coverage, (int, float, np.floating)) or not (
            0.0 < coverage < 1.0):
        raise ValueError(f"`coverage` must be the intervals' nominal coverage, a fraction in "
                         f"(0, 1), got {coverage!r}.")
    true, low, high = _check_bounds(lower, upper, y_true)
    alpha = 1.0 - float(coverage)
    penalty = (2.0 / alpha) * (np.maximum(low - true, 0.0) + np.maximum(true - high, 0.0))
    return float(np.mean(high - low + penalty))


METRICS = {
    "mae": mae,
    "mse": mse,
    "rmse": rmse,
    "rse": rse,
    "corr": corr,
    "smape": smape,
}

HIGHER_IS_BETTER = frozenset({"corr"})


def perplexity(mean_nll: float) -> float:
    """exp of a mean negative log-likelihood per token (nats); ``inf`` where that overflows
    (a diverging epoch's training loss), not an ``OverflowError``."""
    try:
        return math.exp(mean_nll)
    except OverflowError:
        return math.inf
