"""Reference forecasters, all following the contract of :class:`autoforecast.base.BaseForecaster`."""

from .arima import ARIMAForecaster
from .linear import LinearForecaster
from .naive import NaiveForecaster, SeasonalNaiveForecaster
from .rnn import GRUForecaster, LSTMForecaster

__all__ = ["ARIMAForecaster", "GRUForecaster", "LSTMForecaster", "LinearForecaster", "NaiveForecaster",
           "SeasonalNaiveForecaster"]
