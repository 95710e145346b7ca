"""Reference forecasters, all following the contract of :class:`autoforecast.base.BaseForecaster`."""

from .naive import NaiveForecaster, SeasonalNaiveForecaster

__all__ = ["NaiveForecaster", "SeasonalNaiveForecaster"]
