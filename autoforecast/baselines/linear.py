"""A linear map from the last ``lookback`` values to the next ``horizon``, shared by all series.

Channel-independent (LTSF-Linear / the LSTNet autoregressive component): every target's window
is one training sample for the same map, fitted in closed form, least squares or ridge
(the algebra is in :mod:`autoforecast.ridge`).
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

from ..base import BaseForecaster, check_positive_int
from ..data import Windows
from ..data.splits import n_rows_of
from ..data.normalization import check_normalization
from ..normalization_choice import NormalizationChoice
from ..ridge import Moments, apply_map, solve_ridge, window_moments

ALPHA_GRID = (0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0)


class LinearForecaster(NormalizationChoice, BaseForecaster):
    """Least-squares (``alpha=0``) or ridge linear forecaster, one map for all target series.

    ``alpha``: the ridge penalty per sample on standardised data, or ``"auto"`` to pick it from
    ``ALPHA_GRID`` by the mean squared error on the validation part (needs
    ``validation_size > 0``). ``normalization``: the map is fitted and applied on windows
    normalised per window and series as the recurrent forecasters' network does ("last":
    minus the window's last value, NLinear; "revin": minus its mean, over its standard
    deviation; "none", the default: as they are; "auto": the one whose map forecasts the last
    fifth of the training part's windows best, fitted on the windows before them, by the
    rule of :mod:`autoforecast.normalization_choice`; the validation part is not read, so it
    stays for ``alpha="auto"``, which is then chosen in that space). ``batch_size``: windows
    per batch when forecasting (and when accumulating over non-contiguous origins or
    normalised windows).

    Intervals (``predict_interval``): ``calibration_size`` (rows: an int, or a fraction of the
    training part; default 0.2) is the last part of the training part held out for them: a map
    is fitted (with ``alpha_``) on the training rows before it, its errors on the windows whose
    targets lie in it are the calibration residuals (``residuals_``), and the final map is then
    fitted on the whole training part, as without intervals (so the residuals are of a map
    fitted on less data: a heuristic, slightly wide).

    Fitted: ``coef_`` (lookback, horizon; row 0 is the oldest input), ``intercept_`` (horizon,),
    ``alpha_``, ``alpha_scores_`` (validation MSE per alpha, with ``alpha="auto"``),
    ``normalization_`` (the normalisation used; with "auto", ``normalization_scores_``: the
    inner validation MSE of each), ``n_windows_`` (training samples: windows x targets),
    ``residuals_``.
    """

    def __init__(self, lookback=96, horizon=1, alpha=1e-4, normalization="none", target=None,
                 validation_size=0.0, test_size=0.0, missing="raise", batch_size=4096,
                 calibration_size=0.2):
        self.lookback = lookback
        self.horizon = horizon
        self.alpha = alpha
        self.normalization = normalization
        self.target = target
        self.validation_size = validation_size
        self.test_size = test_size
        self.missing = missing
        self.batch_size = batch_size
        self.calibration_size = calibration_size

    def _check_common_params(self) -> int:
        lookback = super()._check_common_params()
        check_positive_int(self.batch_size, "batch_size")
        n_rows_of(self.calibration_size, 1, "calibration_size")  # its type and range
        check_normalization(self.normalization)
        if self.alpha != "auto" and not (isinstance(self.alpha, numbers.Real)
                                         and not isinstance(self.alpha, bool) and self.alpha >= 0):
            raise ValueError(f"`alpha` must be a number >= 0 or 'auto', got {self.alpha!r}.")
        return lookback

    _normalization_before_auto = "none"  # version 0.1 had no normalisation parameter

    def _fit_scaled(self, Z, split) -> None:
        self._choose_normalization(Z, split)
        series = Z[:, self.target_idx_]
        train = self._moments(series, split.origins("train", self.lookback_, self.horizon))
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
        val = self._moments(series, origins)
        scores = {alpha: val.mse(solve_ridge(train, alpha)) for alpha in ALPHA_GRID}
        return min(scores, key=scores.get), scores

    def _moments(self, series, origins) -> Moments:
        return window_moments(series, origins, self.lookback_, self.horizon, self.batch_size,
                              self._normalization())

    def _calibration_residuals(self, Z, split) -> np.ndarray:
        """Errors of a map fitted before the last ``calibration_size`` of the training part, on
        the windows whose targets lie in it (the most recent ones)."""
        inner = split.calibration(self.calibration_size)
        n_cal = inner.n_val
        fit_origins = inner.origins("train", self.lookback_, self.horizon)
        origins = inner.recent_origins("val", self.lookback_, self.horizon)
        if not (n_cal and len(fit_origins) and len(origins)):
            return self._residuals_at(Z, origins[:0])
        weights = solve_ridge(self._moments(Z[:, self.target_idx_], fit_origins), self.alpha_)
        return self._residuals_at(Z, origins, self._forecast_with(weights[:-1], weights[-1], Z,
                                                                  origins))

    def residual_source(self) -> str:
        return (f"They are the errors on the last calibration_size={self.calibration_size!r} of "
                "the training part; refit with a larger calibration_size or a longer series.")

    def _forecast_scaled(self, Z, origins):
        return self._forecast_with(self.coef_, self.intercept_, Z, origins)

    def _forecast_with(self, coef, intercept, Z, origins) -> np.ndarray:
        """The map ``coef``, ``intercept`` from ``origins``: (n_origins, horizon, n_targets)."""
        windows = Windows(Z[:, self.target_idx_], origins, self.lookback_, 0, dtype=torch.float64)
        step = max(1, self.batch_size // len(self.target_idx_))
        return np.concatenate([apply_map(x, coef, intercept, self._normalization())
                               for x in windows.batches(step)])

