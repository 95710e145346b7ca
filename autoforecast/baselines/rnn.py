"""The LSTM and GRU baselines: ``nn.LSTM`` / ``nn.GRU`` as the cell of the shared network.

They train in the same network as the searched cell (:mod:`autoforecast.cells.segments`), so a
comparison measures the cell. ``num_layers > 1`` stacks cells in both the encoder and the
decoding step (the decoding step starts every layer from that layer's last encoder state),
with ``dropout`` between the layers.
"""

from __future__ import annotations

import numbers

from torch import nn

from ..base import check_positive_int
from ..cells.segments import TorchRNN
from ..neural import RECIPE, NeuralForecaster


class RNNForecaster(NeuralForecaster):
    """Base of the LSTM and GRU baselines; ``_kind`` names the torch module."""

    _kind = ""  # "lstm" or "gru": the torch module

    def __init__(self, lookback="auto", horizon=1, hidden_size=64, num_layers=1, dropout=0.0,
                 segment_length="auto", normalization="last", covariates="others",
                 linear_skip=False, target=None, validation_size=0.2, test_size=0.0,
                 missing="raise", epochs=RECIPE.epochs, batch_size=RECIPE.batch_size,
                 lr=RECIPE.lr, weight_decay=0.0, patience=RECIPE.patience, device="auto",
                 max_time=None, random_state=None, verbose=0, future_covariates=None):
        self.lookback = lookback
        self.horizon = horizon
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.segment_length = segment_length
        self.normalization = normalization
        self.covariates = covariates
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
        self.future_covariates = future_covariates

    def _check_common_params(self) -> int | None:
        lookback = super()._check_common_params()
        check_positive_int(self.num_layers, "num_layers")
        if not isinstance(self.dropout, numbers.Real) or not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"`dropout` must be a number in [0, 1), got {self.dropout!r}.")
        return lookback

    def _build_encoder(self) -> nn.Module:
        d = int(self.hidden_size)
        return TorchRNN(self._kind, d, d, int(self.num_layers), float(self.dropout))


class LSTMForecaster(RNNForecaster):
    """Multivariate, multi-step LSTM forecaster in the shared network (see
    :class:`autoforecast.neural.NeuralForecaster` for the network and training parameters),
    early-stopped on the chronological validation part. ``dropout`` acts between stacked
    layers (so only when ``num_layers > 1``)."""

    _kind = "lstm"


class GRUForecaster(RNNForecaster):
    """Multivariate, multi-step GRU forecaster in the shared network: SegRNN (Lin et al. 2023)
    when ``normalization="last"`` (which ``"auto"`` may choose) and every column is a target.
    Parameters as :class:`LSTMForecaster`."""

    _kind = "gru"
