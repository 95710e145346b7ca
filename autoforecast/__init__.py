"""autoforecast: forecasting with recurrent cells found by architecture search."""

__version__ = "0.1.0"

from .evaluation import backtest  # noqa: E402
from .persistence import ModelFileError, load, save  # noqa: E402

__all__ = ["ModelFileError", "__version__", "backtest", "load", "save"]
