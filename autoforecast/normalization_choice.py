"""``normalization="auto"``: the instance normalisation chosen per fit from the training part.

The rule (docs/method.md, section 7): the training part's windows are split in time; the last
``INNER_FRACTION`` of them (at least one) are an inner validation, and the windows fitted are
those before them whose targets end before the first inner-validation window's targets
begin (on a long frame, each series' training windows are split so, on their own); of each, evenly spaced windows give at most ``max_samples(lookback)`` (window,
series) samples, so that long or wide data cost seconds too. For each of "last", "revin" and
"none", the channel-shared least-squares map (as :func:`autoforecast.ridge.linear_map` fits
it, ridge ``CHOICE_ALPHA``) is fitted on those windows in that normalised space, and its
forecasts of the inner-validation windows, mapped back, are scored by their mean squared
error in the scaled series' space (the same space for all three). The lowest error wins; ties
go to the first of "last", "revin", "none". No row of the estimator's validation or test part
is read: those stay for early stopping and the report.
"""

from __future__ import annotations

import numpy as np
import torch

from .data import NotEnoughDataError, Windows
from .ridge import apply_map, ridge_system, solve_ridge, window_moments
from .settings import WINDOW_NORMALIZATIONS

INNER_FRACTION = 0.2  # the last fifth of the training windows score each normalisation
CHOICE_ALPHA = 1e-4  # the ridge penalty of the maps compared (linear_map's default)
CHOICE_WORK = 2e9  # about this many multiply-adds per candidate's Gram matrix, ...
MIN_SAMPLES_PER_COEF = 10  # ... but at least this many samples per coefficient of the map


def max_samples(lookback: int) -> int:
    """The (window, series) samples a candidate's map is fitted on, at most."""
    return int(max(CHOICE_WORK / (lookback + 1) ** 2, MIN_SAMPLES_PER_COEF * (lookback + 1)))


def inner_split(origins: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """The training windows' origins -> (fitted, inner validation), as the module says."""
    n_val = max(1, int(round(len(origins) * INNER_FRACTION)))
    val = origins[len(origins) - n_val:]
    fit = origins[: len(origins) - n_val]
    return fit[fit + horizon <= val[0]] if len(val) else fit, val


def inner_origins(split, lookback: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`inner_split` of ``split``'s training origins: of each series' on its own for a
    long frame's :class:`autoforecast.data.splits.PanelSplit` (not the last series alone)."""
    parts = getattr(split, "splits", None)
    if parts is None:
        return inner_split(split.origins("train", lookback, horizon), horizon)
    pairs = [inner_split(s.origins("train", lookback, horizon) + start, horizon)
             for s, start in zip(parts, split.starts)]
    return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])


def choose_normalization(series, split, lookback: int, horizon: int,
                         batch_size: int = 4096) -> tuple[str, dict]:
    """The normalisation whose least-squares map forecasts the inner validation best, and every
    candidate's mean squared error there: ``(name, {name: mse})``. ``series`` (n_rows,
    n_targets) is the scaled series; ``split`` its parts (a ``Split`` or ``PanelSplit``)."""
    fit, val = inner_origins(split, lookback, horizon)
    if not len(fit):
        raise NotEnoughDataError(
            f'normalization="auto" needs training windows to fit on before its inner validation '
            f"(the last {INNER_FRACTION:.0%} of the training windows), got {len(fit) + len(val)} "
            f"training window(s) for horizon={horizon}. Pass a longer series, or a "
            'normalization other than "auto" (e.g. "last").')
    columns = np.arange(series.shape[1])
    fit, val = (_evenly_spaced(o, max(1, max_samples(lookback) // len(columns)))
                for o in (fit, val))
    scores = {}
    for name in WINDOW_NORMALIZATIONS:
        weights = _solve(window_moments(series, fit, lookback, horizon, batch_size, name))
        scores[name] = _mse(series, val, lookback, horizon, batch_size, weights[:-1],
                            weights[-1], name)
    return min(scores, key=scores.get), scores


def _solve(moments) -> np.ndarray:
    """The ridge map (``CHOICE_ALPHA``) by a direct solve, positive definite as it is (an SVD,
    as ``solve_ridge`` does, costs seconds at lookback 720); the SVD where it is singular."""
    try:
        return np.linalg.solve(*ridge_system(moments, CHOICE_ALPHA))
    except np.linalg.LinAlgError:
        return solve_ridge(moments, CHOICE_ALPHA)


def _evenly_spaced(origins: np.ndarray, n: int) -> np.ndarray:
    """At most ``n`` of ``origins``, evenly spaced, the first and the last kept."""
    if len(origins) <= n:
        return origins
    return origins[np.unique(np.linspace(0, len(origins) - 1, n).round().astype(int))]


def _mse(series, origins, lookback, horizon, batch_size, coef, intercept, name) -> float:
    windows = Windows(series, origins, lookback, horizon, dtype=torch.float64)
    total = 0.0
    for x, y in windows.batches(max(1, batch_size // series.shape[1])):
        total += float(((apply_map(x, coef, intercept, name) - y.numpy()) ** 2).sum())
    return total / (len(origins) * horizon * series.shape[1])


class NormalizationChoice:
    """The ``normalization`` parameter of an estimator, resolved per fit as ``normalization_``
    (and, with "auto", the scores of the choice as ``normalization_scores_``)."""

    # what a model saved before "auto" existed was fitted with when its file has no
    # `normalization` parameter either (loading fills a missing parameter with today's default)
    _normalization_before_auto = "last"

    def _choose_normalization(self, Z, split) -> None:
        """Set ``normalization_`` (and ``normalization_scores_``) from the training part."""
        self.normalization_scores_ = None
        if self.normalization != "auto":
            self.normalization_ = self.normalization
            return
        self.normalization_, self.normalization_scores_ = choose_normalization(
            Z[:, self.target_idx_], split, self.lookback_, int(self.horizon))

    def _normalization(self) -> str:
        """The normalisation the fit used: ``normalization_``; a model saved before it existed
        used its parameter (or, without one, ``_normalization_before_auto``)."""
        chosen = getattr(self, "normalization_", None)
        if chosen is not None:
            return chosen
        return (self._normalization_before_auto if self.normalization == "auto"
                else self.normalization)

    def _normalization_note(self) -> str:
        """The normalisation used, as reports print it: "last (auto)" when "auto" chose it."""
        return self._normalization() + (" (auto)" if self.normalization == "auto" else "")
