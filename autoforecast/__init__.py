"""autoforecast: forecasting with recurrent cells found by architecture search.

    from autoforecast import AutoCellForecaster
    est = AutoCellForecaster(lookback=48, horizon=6).fit(frame)
    est.report_      # skill against LSTM and ARIMA on the held-out part
    est.predict()    # the next 6 steps

The baselines are here too (``LSTMForecaster``, ``ARIMAForecaster``, ``LinearForecaster``,
``NaiveForecaster``, ``SeasonalNaiveForecaster``), with ``AutoCellLanguageModel``: every
estimator of the model registry (:mod:`autoforecast.models`).
"""

from ._version import __version__
from .models import class_names
from .persistence import ModelFileError, load, save
from .settings import SearchSettings

_LAZY = {"backtest": "evaluation", "compare_models": "evaluation"}


def __getattr__(name):
    """Estimators and evaluation import torch: load them on first use, not with the package."""
    entry = class_names().get(name)
    if entry is not None:
        return entry.load()
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'autoforecast' has no attribute {name!r}")


__all__ = sorted([*class_names(), *_LAZY, "ModelFileError", "SearchSettings", "__version__",
                  "load", "save"])
