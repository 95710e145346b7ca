"""Old import path of :class:`LSTMForecaster` (now in ``baselines/rnn.py``), kept for model
files that name it; ``LSTMNet``, 0.1's network, is only a stand-in (:mod:`autoforecast.legacy`)."""

from ..legacy import RemovedModule as LSTMNet  # noqa: F401 (0.1 pickles name it)
from .rnn import LSTMForecaster  # noqa: F401

__all__ = ["LSTMForecaster"]
