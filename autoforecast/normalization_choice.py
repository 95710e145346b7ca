"""``normalization="auto"``: the instance normalisation chosen per fit from the training part.

The rule (docs/method.md, section 7): the training part's windows are split in time; the last
``INNER_FRACTION`` of them (at least one) are an inner validation, and the windows fitted are
those before them whose targets end before the first inner-validation window's targets
begin. For each of "last", "revin" and "none", the channel-shared least-squares map
(:func:`autoforecast.ridge.linear_map`, ridge ``CHOICE_ALPHA``) is fitted on the fitted windows
in that normalised space, and its forecasts of the inner-validation windows, mapped back, are
scored by their mean squared error in the scaled series' space (the same space for all three).
The lowest error wins; ties go to the first of "last", "revin", "none". No row of the
estimator's validation or test part is read: those stay for early stopping and the report.
"""

from __future__ import annotations

import numpy as np
import torch

from .data import NotEnoughDataError, Windows
from .ridge import apply_map, linear_map
from .settings import WINDOW_NORMALIZATIONS

INNER_FRACTION = 0.2  # the last fifth of the training windows score each normalisation
CHOICE_ALPHA = 1e-4  # the ridge penalty of the maps compared (linear_map's default)


def inner_split(origins: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """The training windows' origins -> (fitted, inner validation), as the module says."""
    n_val = max(1, int(round(len(origins) * INNER_FRACTION)))
    val = origins[len(origins) - n_val:]
    fit = origins[: len(origins) - n_val]
    return fit[fit + horizon <= val[0]] if len(val) else fit, val


def choose_normalization(series, origins, lookback: int, horizon: int,
                         batch_size: int = 4096) -> tuple[str, dict]:
    """The normalisation whose least-squares map forecasts the inner validation best, and every
    candidate's mean squared error there: ``(name, {name: mse})``. ``series`` (n_rows,
    n_targets) is the scaled series; ``origins`` the training part's window origins."""
    fit, val = inner_split(np.asarray(origins), horizon)
    if not len(fit):
        raise NotEnoughDataError(
            f'normalization="auto" needs training windows to fit on before its inner validation '
            f"(the last {INNER_FRACTION:.0%} of the training windows), got {len(origins)} "
            f"training window(s) for horizon={horizon}. Pass a longer series, or a "
            'normalization other than "auto" (e.g. "last").')
    columns = np.arange(series.shape[1])
    scores = {}
    for name in WINDOW_NORMALIZATIONS:
        coef, intercept = linear_map(series, columns, fit, lookback, horizon, CHOICE_ALPHA, name)
        scores[name] = _mse(series, val, lookback, horizon, batch_size, coef, intercept, name)
    return min(scores, key=scores.get), scores


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
        origins = split.origins("train", self.lookback_, self.horizon)
        self.normalization_, self.normalization_scores_ = choose_normalization(
            Z[:, self.target_idx_], origins, self.lookback_, int(self.horizon))

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
