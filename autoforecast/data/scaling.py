"""Per-series standardisation fitted on the training part only."""

from __future__ import annotations

import numpy as np


class SeriesScaler:
    """Centre and scale each column with the mean and standard deviation of the training rows.

    A column that is constant on the training rows keeps a scale of 1, so it is only centred.
    """

    def fit(self, values: np.ndarray) -> SeriesScaler:  # values: (n_rows, n_features)
        self.mean_ = values.mean(axis=0)
        std = values.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (values - self.mean_) / self.scale_

    def inverse_transform(self, values: np.ndarray, columns=None) -> np.ndarray:
        """Undo the scaling; ``columns`` selects which fitted columns the last axis holds."""
        cols = slice(None) if columns is None else np.asarray(columns)
        return values * self.scale_[cols] + self.mean_[cols]
