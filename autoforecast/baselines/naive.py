"""Last-value and seasonal last-value forecasts: the sanity references every table needs."""

from __future__ import annotations

import numpy as np

from ..base import BaseForecaster, check_positive_int


class NaiveForecaster(BaseForecaster):
    """Repeat the last observed value of each target for every step of the horizon. On a long
    frame, one per series (through joblib: ``parallel_config``'s ``n_jobs`` and backend)."""

    _per_series = True

    def __init__(self, lookback=1, horizon=1, target=None, validation_size=0.0, test_size=0.0,
                 missing="raise"):
        self.lookback = lookback
        self.horizon = horizon
        self.target = target
        self.validation_size = validation_size
        self.test_size = test_size
        self.missing = missing

    def _fit_scaled(self, Z, split) -> None:
        pass  # nothing to learn

    def _forecast_scaled(self, Z, origins):
        last = Z[origins - 1][:, self.target_idx_]  # (n_origins, n_targets)
        return np.repeat(last[:, None, :], self.horizon, axis=1)


class SeasonalNaiveForecaster(BaseForecaster):
    """Repeat the last observed season: step ``k`` gets the value ``season`` steps before it.
    On a long frame, one per series (as :class:`NaiveForecaster`)."""

    _per_series = True

    def __init__(self, season=24, lookback=None, horizon=1, target=None, validation_size=0.0,
                 test_size=0.0, missing="raise"):
        self.season = season
        self.lookback = lookback
        self.horizon = horizon
        self.target = target
        self.validation_size = validation_size
        self.test_size = test_size
        self.missing = missing

    def _check_common_params(self) -> int:
        check_positive_int(self.horizon, "horizon")
        season = check_positive_int(self.season, "season")
        if self.lookback is None:
            return season
        if check_positive_int(self.lookback, "lookback") < season:
            raise ValueError(f"`lookback` must be >= season={season} (or None), got {self.lookback}.")
        return self.lookback

    def _forecast_scaled(self, Z, origins):
        steps = np.arange(self.horizon)
        rows = origins[:, None] - self.season + steps % self.season  # (n_origins, horizon)
        return Z[rows][:, :, self.target_idx_]

    def _fit_scaled(self, Z, split) -> None:
        pass
