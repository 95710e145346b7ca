"""Prediction intervals: the split-conformal algebra, Gaussian bands and the output layouts.

Split conformal prediction (Vovk et al. 2005; Lei et al. 2018): from ``n`` out-of-sample
residuals ``r = truth - forecast`` of a calibration set, the interval of coverage ``q`` around a
new forecast is ``forecast +- s``, where ``s`` is the ``ceil((n + 1) q)``-th smallest of the
``n`` absolute residuals (the finite-sample quantile). If the new error and the calibration
errors are exchangeable, the interval covers the truth with probability at least ``q``.
Forecast errors are computed per target and per horizon step (a step-3 error is not a step-1
error). Asymmetric intervals use the signed residuals: the upper offset is the
``ceil((n + 1)(1 + q) / 2)``-th smallest residual, the lower one the same rank from the top,
so that each tail holds at most ``(1 - q) / 2``.

Adaptive conformal inference (Gibbs and Candes 2021), along a backtest only (it needs the truth
as it arrives): per horizon step and target, the miscoverage level ``a_t`` starts at ``1 - q``
and after each outcome becomes known moves by ``step * ((1 - q) - miss)``: a miss widens the
next intervals, a hit narrows them. The step is fixed in advance (:data:`ACI_STEP`, their
0.005), never tuned on test data. Where ``a_t`` falls to 0 or below, the interval is clipped to
the largest calibration score (their method would return the whole line), stated so.

Layouts: offsets ``(..., horizon, n_targets, n_coverages, 2)`` (last axis: lower, upper) are
added to point forecasts ``(..., horizon, n_targets)``; :func:`interval_frame` turns one
origin's bounds into sktime's layout, a DataFrame whose columns are ``(target, coverage,
"lower"/"upper")``.
"""

from __future__ import annotations

import math
import numbers
from statistics import NormalDist

import numpy as np
import pandas as pd

BOUNDS = ("lower", "upper")
COLUMN_LEVELS = ("target", "coverage", "bound")


class NotEnoughResidualsError(ValueError):
    """Too few calibration residuals for the coverage asked (or none at all)."""


def check_coverage(coverage) -> list:
    """``coverage`` (a float, or a list or tuple of floats, each in (0, 1)) as a list, the values
    as given (they label the output's columns)."""
    values = list(coverage) if isinstance(coverage, (list, tuple, np.ndarray)) else [coverage]
    bad = [c for c in values if isinstance(c, bool) or not isinstance(c, numbers.Real)
           or not 0.0 < float(c) < 1.0]
    if not values or bad:
        raise ValueError(
            f"`coverage` must be a fraction in (0, 1) or a non-empty list of them (0.9 for a 90 % "
            f"interval), got {coverage!r}. The command line takes percent (--level 90); Python "
            "takes fractions.")
    return values


def conformal_rank(n: int, level: float) -> int:
    """The rank ``ceil((n + 1) level)`` of the finite-sample quantile of ``n`` scores (1-based;
    a tolerance keeps ``(9 + 1) * 0.9`` at 9, not 10)."""
    return math.ceil((n + 1) * level - 1e-9)


def residuals_needed(level: float) -> int:
    """The fewest scores whose finite-sample ``level`` quantile exists (rank <= n)."""
    n = max(1, math.floor(level / (1.0 - level)) - 1)
    while conformal_rank(n, level) > n:
        n += 1
    return n


def conformal_quantile(scores: np.ndarray, level: float, source: str = "") -> np.ndarray:
    """The ``ceil((n + 1) level)``-th smallest of ``scores`` along axis 0 (n, ...) -> (...).

    Raises :class:`NotEnoughResidualsError` when ``n`` is too small; ``source`` says where the
    residuals come from and how to get more (it ends the message)."""
    n = len(scores)
    rank = conformal_rank(n, level)
    if rank > n:
        raise NotEnoughResidualsError(
            f"a conformal quantile at level {level:g} needs at least {residuals_needed(level)} "
            f"calibration residuals per horizon step and target, and there are {n}. {source}"
            .rstrip())
    return np.partition(scores, rank - 1, axis=0)[rank - 1]


def conformal_offsets(residuals: np.ndarray, coverages, symmetric: bool = True,
                      source: str = "") -> np.ndarray:
    """Bounds minus the point forecast, (horizon, n_targets, n_coverages, 2), from residuals
    ``truth - forecast`` (n_windows, horizon, n_targets)."""
    residuals = np.asarray(residuals, dtype=np.float64)
    out = np.empty(residuals.shape[1:] + (len(coverages), 2))
    for i, q in enumerate(coverages):
        if symmetric:
            width = conformal_quantile(np.abs(residuals), float(q), source)
            out[..., i, 0], out[..., i, 1] = -width, width
        else:
            tail = (1.0 + float(q)) / 2.0
            out[..., i, 0] = -conformal_quantile(-residuals, tail, source)
            out[..., i, 1] = conformal_quantile(residuals, tail, source)
    return out


ACI_STEP = 0.005  # Gibbs and Candes (2021)'s step size, fixed in advance


def adaptive_offsets(residuals: np.ndarray, origins: np.ndarray, truth: np.ndarray,
                     forecast: np.ndarray, coverage: float, step: float = ACI_STEP) -> np.ndarray:
    """Symmetric adaptive-conformal bounds minus the forecast, (n_origins, horizon, n_targets,
    2), along a backtest: ``origins`` (row positions, increasing), ``truth`` and ``forecast``
    (n_origins, horizon, n_targets), calibration ``residuals`` (n, horizon, n_targets). The
    outcome of origin ``o`` at step ``h`` (1-based) is known from origin ``o + h`` on."""
    scores = np.sort(np.abs(np.asarray(residuals, dtype=np.float64)), axis=0)  # (n, H, T)
    n, horizon = len(scores), forecast.shape[1]
    if not n:
        raise NotEnoughResidualsError("adaptive intervals need calibration residuals; there are 0.")
    target = 1.0 - float(coverage)
    alpha = np.full(scores.shape[1:], target)  # (H, T)
    half = np.empty(forecast.shape)  # (n_origins, H, T)
    known = np.zeros(horizon, dtype=np.int64)  # per step: origins whose outcome was counted
    steps = np.arange(horizon)
    for i, origin in enumerate(origins):
        for h in steps:
            while known[h] < i and origins[known[h]] + h + 1 <= origin:
                j = known[h]
                miss = np.abs(truth[j, h] - forecast[j, h]) > half[j, h]
                alpha[h] += step * (target - miss)
                known[h] += 1
        rank = np.ceil((n + 1) * (1.0 - alpha) - 1e-9).astype(np.int64)  # (H, T), 1-based
        half[i] = np.take_along_axis(scores, np.clip(rank, 1, n)[None] - 1, axis=0)[0]
        half[i][alpha >= 1.0] = 0.0
    return np.stack([-half, half], axis=-1)


def gaussian_offsets(variance: np.ndarray, coverages) -> np.ndarray:
    """Bounds minus the mean of a Gaussian forecast of ``variance`` (...): (..., C, 2)."""
    z = np.array([NormalDist().inv_cdf((1.0 + float(q)) / 2.0) for q in coverages])
    half = np.sqrt(np.asarray(variance, dtype=np.float64))[..., None] * z  # (..., C)
    return np.stack([-half, half], axis=-1)


def interval_frame(bounds: np.ndarray, index: pd.Index, targets, coverages) -> pd.DataFrame:
    """One origin's bounds (horizon, n_targets, n_coverages, 2) as a DataFrame indexed like
    ``predict``'s output, columns ``(target, coverage, "lower"/"upper")`` with level names."""
    columns = pd.MultiIndex.from_product([list(targets), list(coverages), list(BOUNDS)],
                                         names=list(COLUMN_LEVELS))
    return pd.DataFrame(bounds.reshape(len(index), -1), index=index, columns=columns)


def level_label(coverage) -> str:
    """A coverage as the percent in column names: 0.9 -> "90", 0.975 -> "97.5"."""
    return f"{round(100 * float(coverage), 6):g}"


def add_bound_columns(table: pd.DataFrame, bounds, coverages, prefix: str = "") -> None:
    """Add ``bounds`` (..., n_coverages, 2) to ``table`` as columns ``<prefix>lo_<level>``,
    ``<prefix>hi_<level>`` (level in percent), each flattened in the table's row order."""
    for i, level in enumerate(coverages or []):
        for k, side in enumerate(("lo", "hi")):
            table[f"{prefix}{side}_{level_label(level)}"] = bounds[..., i, k].ravel()
