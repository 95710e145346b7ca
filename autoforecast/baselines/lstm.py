"""The LSTM baseline: ``torch.nn.LSTM`` followed by the shared :class:`ForecastHead`."""

from __future__ import annotations

import numbers

from torch import nn

from ..base import check_positive_int
from ..cells.heads import ForecastHead
from ..neural import NeuralForecaster


class LSTMNet(nn.Module):
    """x (batch, lookback, n_features) -> LSTM -> last hidden state -> head -> (batch, H, T)."""

    def __init__(self, n_features: int, hidden_size: int, num_layers: int, dropout: float,
                 head: ForecastHead):
        super().__init__()
        self.lstm = nn.LSTM(n_features, hidden_size, num_layers=num_layers, batch_first=True,
                            dropout=dropout if num_layers > 1 else 0.0)
        self.head = head

    def forward(self, x):
        outputs, _ = self.lstm(x)  # (batch, lookback, hidden)
        return self.head(outputs[:, -1], x)


class LSTMForecaster(NeuralForecaster):
    """Multivariate, multi-step LSTM forecaster, early-stopped on the chronological validation part.

    Inputs are all columns of the last ``lookback`` rows; outputs the next ``horizon`` rows of
    the targets. ``dropout`` acts between stacked layers (so only when ``num_layers > 1``).
    ``linear_skip`` adds the head's channel-shared linear map of each target's recent values.
    """

    def __init__(self, lookback=24, horizon=1, hidden_size=64, num_layers=1, dropout=0.0,
                 linear_skip=True, target=None, validation_size=0.2, test_size=0.0,
                 missing="raise", epochs=100, batch_size=64, lr=1e-3, weight_decay=0.0,
                 patience=10, device="auto", max_time=None, random_state=None, verbose=0,
                 n_threads=None):
        self.lookback = lookback
        self.horizon = horizon
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.linear_skip = linear_skip
        self.target = target
        self.validation_size = validation_size
        self.test_size = test_size
        self.missing = missing
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.device = device
        self.max_time = max_time
        self.random_state = random_state
        self.verbose = verbose
        self.n_threads = n_threads

    def _check_common_params(self) -> int:
        lookback = super()._check_common_params()
        check_positive_int(self.hidden_size, "hidden_size")
        check_positive_int(self.num_layers, "num_layers")
        if not isinstance(self.dropout, numbers.Real) or not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"`dropout` must be a number in [0, 1), got {self.dropout!r}.")
        return lookback

    def _build_module(self, n_features: int, n_targets: int) -> nn.Module:
        head = ForecastHead(self.hidden_size, self.lookback_, self.horizon, n_features,
                            self.target_idx_, linear_skip=self.linear_skip)
        return LSTMNet(n_features, self.hidden_size, self.num_layers, self.dropout, head)
