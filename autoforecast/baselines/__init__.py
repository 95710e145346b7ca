"""Reference forecasters, all following the contract of :class:`autoforecast.base.BaseForecaster`."""

from .arima import ARIMAForecaster
from .linear import LinearForecaster
from .lstm import LSTMForecaster
from .naive import NaiveForecaster, SeasonalNaiveForecaster

__all__ = ["ARIMAForecaster", "LSTMForecaster", "LinearForecaster", "NaiveForecaster",
           "SeasonalNaiveForecaster"]
