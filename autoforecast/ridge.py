"""The least-squares algebra of the channel-shared linear map (LTSF-Linear, LSTNet's highway).

One map from each series' last ``lookback`` values to its next ``horizon`` values, shared by all
series: every (window, series) pair is one sample. It is solved in closed form from the
``(lookback + 1)``-square Gram matrix, which is accumulated without holding the windows in
memory: for a contiguous run of origins every Gram entry is a sum of lagged products, computed
from cumulative sums in O(rows * (lookback + horizon)) per series; other origins are gathered in
batches. ``LinearForecaster`` fits this map; the recurrent forecasters' highway starts at it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .data.normalization import normaliser
from .data.windows import Windows


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
                    batch_size: int, normalization: str = "none") -> Moments:
    """Moments gathered from batches of windows (any origins), each window and column
    normalised first (:mod:`autoforecast.data.normalization`)."""
    n_cols = series.shape[1]
    windows = Windows(series, origins, lookback, horizon, dtype=torch.float64)
    gram = torch.zeros(lookback + 1, lookback + 1, dtype=torch.float64)
    cross = torch.zeros(lookback + 1, horizon, dtype=torch.float64)
    yy = 0.0
    for x, y in windows.batches(max(1, batch_size // n_cols)):
        x, y = normalise(x, y, normalization)
        a = _design(x)  # (batch * n_cols, lookback + 1)
        t = y.transpose(1, 2).reshape(-1, horizon)  # (batch * n_cols, horizon)
        gram += a.T @ a
        cross += a.T @ t
        yy += float((t * t).sum())
    n = len(origins) * n_cols
    return Moments(gram.numpy() / n, cross.numpy() / n, yy / n, n)


def normalise(x: torch.Tensor, y: torch.Tensor, normalization: str):
    """Windows ``x`` (batch, lookback, n_cols) and their targets ``y`` (batch, horizon,
    n_cols) in the space of the instance normalisation ``normalization`` of ``x``."""
    shift, scale = normaliser(x, normalization)
    return (x - shift) / scale, (y - shift) / scale


def _design(x: torch.Tensor) -> torch.Tensor:
    """(batch, lookback, n_cols) windows -> (batch * n_cols, lookback + 1) rows with a 1 column."""
    rows = x.transpose(1, 2).reshape(-1, x.shape[1])
    return torch.cat([rows, torch.ones(len(rows), 1, dtype=rows.dtype)], dim=1)


def ridge_system(moments: Moments, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """The normal equations ``A w = b`` of mean squared error + alpha |coef|^2 (intercept not
    penalised)."""
    penalty = np.full(len(moments.gram), float(alpha))
    penalty[-1] = 0.0
    return moments.gram + np.diag(penalty), moments.cross


def solve_ridge(moments: Moments, alpha: float) -> np.ndarray:
    """Minimise mean squared error + alpha |coef|^2 (intercept not penalised): (L + 1, H)."""
    weights, *_ = np.linalg.lstsq(*ridge_system(moments, alpha), rcond=None)
    return weights


def linear_map(Z, targets, origins, lookback: int, horizon: int, alpha: float = 1e-4,
               normalization: str = "none"):
    """The channel-shared least-squares (ridge ``alpha``) map from each target's last
    ``lookback`` values to its next ``horizon``, on the windows at ``origins`` of ``Z``, in the
    space of the instance normalisation ``normalization``: ``(coef (lookback, horizon),
    intercept (horizon,))``, as ``LinearForecaster`` fits it."""
    moments = window_moments(Z[:, targets], origins, lookback, horizon, 4096, normalization)
    weights = solve_ridge(moments, alpha)
    return weights[:-1], weights[-1]


def apply_map(x: torch.Tensor, coef, intercept, normalization: str) -> np.ndarray:
    """The map ``coef`` (lookback, horizon), ``intercept`` (horizon,) on windows ``x`` (batch,
    lookback, n_cols), each normalised first and its forecast mapped back: (batch, horizon,
    n_cols)."""
    shift, scale = (t.numpy() for t in normaliser(x, normalization))
    z = (x.numpy() - shift) / scale
    forecast = np.matmul(z.transpose(0, 2, 1), coef).transpose(0, 2, 1)  # (batch, H, n_cols)
    return (forecast + intercept[:, None]) * scale + shift


def window_moments(series, origins, lookback: int, horizon: int, batch_size: int,
                   normalization: str = "none") -> Moments:
    """Moments of all (origin, column) windows of ``series``, normalised as ``normalization``
    says; plain windows of contiguous origins take the fast path by lagged sums."""
    if normalization == "none":
        return accumulate_moments(series, origins, lookback, horizon, batch_size)
    return batched_moments(series, origins, lookback, horizon, batch_size, normalization)
