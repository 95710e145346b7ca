"""autoforecast: forecasting with recurrent cells found by architecture search.

    from autoforecast import AutoCellForecaster
    est = AutoCellForecaster(lookback=48, horizon=6).fit(frame)
    est.report_      # skill against LSTM and ARIMA on the held-out part
    est.predict()    # the next 6 steps
"""

__version__ = "0.1.0"

from .evaluation import backtest  # noqa: E402
from .persistence import ModelFileError, load, save  # noqa: E402


def __getattr__(name):
    """The estimators import torch; load them on first use, not with the package."""
    if name == "AutoCellForecaster":
        from .estimators import AutoCellForecaster

        return AutoCellForecaster
    if name == "AutoCellLanguageModel":
        from .language_model import AutoCellLanguageModel

        return AutoCellLanguageModel
    raise AttributeError(f"module 'autoforecast' has no attribute {name!r}")


__all__ = ["AutoCellForecaster", "AutoCellLanguageModel", "ModelFileError", "__version__",
           "backtest", "load", "save"]
