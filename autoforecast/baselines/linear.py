"""A linear map from the last ``lookback`` values to the next ``horizon``, shared by all series.

Channel-independent (LTSF-Linear / the LSTNet autoregressive component): every target's window
is one training sample for the same map. Fitted in closed form, least squares or ridge, from
the ``(lookback + 1)``-square Gram matrix. The windows are never all held in memory: for a
contiguous run of origins every Gram entry is a sum of lagged products, computed from cumulative
sums in O(rows * (lookback + horizon)) per series; other origins are gathered in batches.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import torch

from ..base import BaseForecaster, check_positive_int
from ..data import Windows

ALPHA_GRID = (0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)


@dataclass
class Moments:
    """Second moments per sample of the design ``a = [window, 1]`` and targets ``y``."""
    gram: np.ndarray  # (lookback + 1, lookback + 1): mean of a a^T
    cross: np.ndarray  # (lookback + 1, horizon): mean of a y^T
    yy: float  # mean of |y|^2
    n: int  # number of samples (windows x targets)

    def mse(self, weights: np.ndarray) -> float:
        """Mean squared error per value of the map ``weights`` (lookback + 1, horizon)."""
        sq = np.sum(weights * (self.gram @ weights)) - 2 * np.sum(weights * self.cross) + self.yy
        return float(max(sq, 0.0) / weights.shape[1])


def accumulate_moments(series: np.ndarray, origins: np.ndarray, lookback: int, horizon: int,
                       batch_size: int) -> Moments:
    """Moments of all (origin, column) windows of ``series`` (n_rows, n_columns).

    Contiguous origins (a split's part) take the fast path by lagged sums; others are gathered
    in batches of about ``batch_size`` windows.
    """
    if len(origins) > 1 and np.all(np.diff(origins) == 1):
        return lagged_moments(series, int(origins[0]), len(origins), lookback, horizon)
    return batched_moments(series, origins, lookback, horizon, batch_size)


def lagged_moments(series: np.ndarray, first: int, n_origins: int, lookback: int,
                   horizon: int) -> Moments:
    """Moments for origins ``first .. first + n_origins - 1`` in O(rows * (L + H)) per column.

    Every entry is a sum of lagged products over a run of ``n_origins`` rows:
    ``gram[i, j] = D[min(i, j), |i - j|]`` and ``cross[i, h] = D[i, L - i + h]`` with
    ``D[a, lag] = sum_{s=a}^{a+n-1} z[s] z[s+lag]`` on the segment the windows cover.
    """
    L, H, n = lookback, horizon, n_origins
    m = L + H
    seg = series[first - L: first + n - 1 + H]  # (N, n_columns), N = n + L + H - 1
    i, j = np.meshgrid(np.arange(L), np.arange(L), indexing="ij")
    gram, cross = np.zeros((L + 1, L + 1)), np.zeros((L + 1, H))
    sums, yy = np.zeros(m), 0.0
    for z in seg.T:
        padded = np.concatenate([z, np.zeros(m)])
        prods = z[:, None] * np.lib.stride_tricks.sliding_window_view(padded, m)[: len(z)]
        cum = np.concatenate([np.zeros((1, m)), np.cumsum(prods, axis=0)])  # (N + 1, m)
        D = cum[n: n + m] - cum[:m]  # (m, m): start a, lag
        gram[:L, :L] += D[np.minimum(i, j), np.abs(i - j)]
        cross[:L] += D[np.arange(L)[:, None], L - np.arange(L)[:, None] + np.arange(H)]
        yy += D[L:, 0].sum()
        csum = np.concatenate([[0.0], np.cumsum(z)])
        sums += csum[n: n + m] - csum[:m]  # sum of z over the run starting at a
    gram[:L, L] = gram[L, :L] = sums[:L]
    gram[L, L] = n * seg.shape[1]
    cross[L] = sums[L:]
    total = n * seg.shape[1]
    return Moments(gram / total, cross / total, yy / total, total)


def batched_moments(series: np.ndarray, origins: np.ndarray, lookback: int, horizon: int,
                    batch_size: int) -> Moments:
    """Moments gathered from batches of windows (any origins)."""
    n_cols = series.shape[1]
    windows = Windows(series, origins, lookback, horizon, dtype=torch.float64)
    gram = torch.zeros(lookback + 1, lookback + 1, dtype=torch.float64)
    cross = torch.zeros(lookback + 1, horizon, dtype=torch.float64)
    yy = 0.0
    for x, y in windows.batches(max(1, batch_size // n_cols)):
        a = _design(x)  # (batch * n_cols, lookback + 1)
        t = y.transpose(1, 2).reshape(-1, horizon)  # (batch * n_cols, horizon)
        gram += a.T @ a
        cross += a.T @ t
        yy += float((t * t).sum())
    n = len(origins) * n_cols
    return Moments(gram.numpy() / n, cross.numpy() / n, yy / n, n)


def _design(x: torch.Tensor) -> torch.Tensor:
    """(batch, lookback, n_cols) windows -> (batch * n_cols, lookback + 1) rows with a 1 column."""
    rows = x.transpose(1, 2).reshape(-1, x.shape[1])
    return torch.cat([rows, torch.ones(len(rows), 1, dtype=rows.dtype)], dim=1)


def solve_ridge(moments: Moments, alpha: float) -> np.ndarray:
    """Minimise mean squared error + alpha |coef|^2 (intercept not penalised): (L + 1, H)."""
    penalty = np.full(len(moments.gram), float(alpha))
    penalty[-1] = 0.0
    weights, *_ = np.linalg.lstsq(moments.gram + np.diag(penalty), moments.cross, rcond=None)
    return weights


class LinearForecaster(BaseForecaster):
    """Least-squares (``alpha=0``) or ridge linear forecaster, one map for all target series.

    ``alpha``: the ridge penalty per sample on standardised data, or ``"auto"`` to pick it from
    ``ALPHA_GRID`` by the mean squared error on the validation part (needs
    ``validation_size > 0``). ``batch_size``: windows per batch when forecasting (and when
accumulating over non-contiguous origins).

    Fitted: ``coef_`` (lookback, horizon; row 0 is the oldest input), ``intercept_`` (horizon,),
    ``alpha_``, ``alpha_scores_`` (validation MSE per alpha, with ``alpha="auto"``),
    ``n_windows_`` (training samples: windows x targets).
    """

    def __init__(self, lookback=96, horizon=1, alpha=1e-4, target=None, validation_size=0.0,
                 test_size=0.0, missing="raise", batch_size=4096):
        self.lookback = lookback
        self.horizon = horizon
        self.alpha = alpha
        self.target = target
        self.validation_size = validation_size
        self.test_size = test_size
        self.missing = missing
        self.batch_size = batch_size

    def _check_common_params(self) -> int:
        lookback = super()._check_common_params()
        check_positive_int(self.batch_size, "batch_size")
        if self.alpha != "auto" and not (isinstance(self.alpha, numbers.Real)
                                         and not isinstance(self.alpha, bool) and self.alpha >= 0):
            raise ValueError(f"`alpha` must be a number >= 0 or 'auto', got {self.alpha!r}.")
        return lookback

    def _fit_scaled(self, Z, split) -> None:
        series = Z[:, self.target_idx_]
        train = accumulate_moments(series, split.origins("train", self.lookback_, self.horizon),
                                   self.lookback_, self.horizon, self.batch_size)
        self.n_windows_ = train.n
        if self.alpha == "auto":
            self.alpha_, self.alpha_scores_ = self._choose_alpha(series, split, train)
        else:
            self.alpha_ = float(self.alpha)
        weights = solve_ridge(train, self.alpha_)
        self.coef_, self.intercept_ = weights[:-1], weights[-1]

    def _choose_alpha(self, series, split, train: Moments) -> tuple[float, dict]:
        origins = split.origins("val", self.lookback_, self.horizon)
        if not len(origins):
            raise ValueError(
                "alpha='auto' chooses the penalty on the validation part, but it is empty "
                f"(validation_size={self.validation_size!r}). Pass validation_size > 0 "
                "(at least horizon rows), or a number for alpha."
            )
        val = accumulate_moments(series, origins, self.lookback_, self.horizon, self.batch_size)
        scores = {alpha: val.mse(solve_ridge(train, alpha)) for alpha in ALPHA_GRID}
        return min(scores, key=scores.get), scores

    def _forecast_scaled(self, Z, origins):
        windows = Windows(Z[:, self.target_idx_], origins, self.lookback_, 0, dtype=torch.float64)
        step = max(1, self.batch_size // len(self.target_idx_))
        out = [np.einsum("blt,lh->bht", x.numpy(), self.coef_) + self.intercept_[:, None]
               for x in windows.batches(step)]
        return np.concatenate(out)  # (n_origins, horizon, n_targets)
