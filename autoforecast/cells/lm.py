"""The word-level language model around a recurrent encoder (trained by
:func:`autoforecast.training.train_module` on a :class:`~autoforecast.training.TBPTTStream`).

    tokens (batch, time) -> embedding (batch, time, E) -> encoder (batch, time, H)
        -> [projection H -> E when H != E] -> decoder tied to the embedding (batch, time, V)

The encoder is any module with ``forward(x, state=None) -> (outputs, state)``: a derived cell or
a supernet in a :class:`RecurrentEncoder` (state: (batch, H)), or :class:`LSTMEncoder` (state:
the LSTM's (h, c)). Dropout as in AWD-LSTM (Merity et al. 2018), where each applies: word
dropout on embedding rows (``dropout_e``), variational dropout on the encoder's input and
recurrent state (the encoder's ``dropout_x``, ``dropout_h``; the LSTM takes ``dropout_x`` only)
and on its outputs (``dropout_o``); every mask is drawn once per forward (a BPTT segment) and
shared by all its time steps. AWD's weight drop (DropConnect) on the recurrent matrices: the
LSTM's ``weight_hh`` (:class:`LSTMEncoder`), a derived cell's matrices that read h_{t-1}
(``GatedNodes.recurrent``).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F

from autoforecast.data.text import segments


def lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over all (batch * time) tokens: logits (B, T, V), targets (B, T)."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


class LSTMEncoder(nn.Module):
    """``nn.LSTM`` with the encoder protocol, variational input dropout and AWD-LSTM's weight
    drop: DropConnect at rate ``weight_drop`` on the recurrent matrix ``weight_hh`` (all four
    gates), one mask per forward (a BPTT segment) shared by the batch, in training mode only.
    The masked matrix is passed to the same fused ``nn.LSTM`` kernel through
    ``torch.func.functional_call``; the module's parameters and state dict are unchanged."""

    weight_drop = 0.0  # a class default: encoders pickled before the option load as 0

    def __init__(self, input_size: int, hidden_size: int, dropout_x: float = 0.0,
                 weight_drop: float = 0.0):
        super().__init__()
        if not 0.0 <= weight_drop < 1.0:
            raise ValueError(f"`weight_drop` must be in [0, 1), got {weight_drop!r}.")
        self.lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.dropout_x = dropout_x
        if weight_drop:
            self.weight_drop = float(weight_drop)

    @property
    def hidden_size(self) -> int:
        return self.lstm.hidden_size

    def forward(self, x, state=None):
        if self.training and self.dropout_x > 0:  # one mask per sequence: (batch, 1, input)
            mask = torch.empty_like(x[:, :1]).bernoulli_(1 - self.dropout_x) / (1 - self.dropout_x)
            x = x * mask
        if self.training and self.weight_drop > 0:
            w_hh = F.dropout(self.lstm.weight_hh_l0, self.weight_drop, training=True)  # (4H, H)
            return functional_call(self.lstm, {"weight_hh_l0": w_hh}, (x, state))
        return self.lstm(x, state)  # (batch, time, hidden), (h, c)


class LanguageModelNet(nn.Module):
    def __init__(self, encoder: nn.Module, vocab_size: int, embedding_size: int,
                 dropout_e: float = 0.0, dropout_o: float = 0.0):
        super().__init__()
        self.encoder, self.dropout_e, self.dropout_o = encoder, dropout_e, dropout_o
        self.embedding = nn.Embedding(vocab_size, embedding_size)
        hidden = encoder.hidden_size
        self.projection = nn.Linear(hidden, embedding_size, bias=False) if hidden != embedding_size else None
        self.decoder_bias = nn.Parameter(torch.zeros(vocab_size))
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)  # tied: also the decoder's weight

    def _embed(self, tokens):
        weight = self.embedding.weight  # (V, E)
        if self.training and self.dropout_e > 0:  # drop whole words (rows), AWD's dropoute
            keep = torch.empty_like(weight[:, :1]).bernoulli_(1 - self.dropout_e)
            weight = weight * keep / (1 - self.dropout_e)
        return F.embedding(tokens, weight)  # (batch, time, E)

    def run(self, tokens: torch.Tensor, state=None):
        """``tokens`` (batch, time) int64 -> logits (batch, time, V), the encoder's last state."""
        outputs, state = self.encoder(self._embed(tokens), state)  # (batch, time, H)
        if self.training and self.dropout_o > 0:
            mask = torch.empty_like(outputs[:, :1]).bernoulli_(1 - self.dropout_o)
            outputs = outputs * mask / (1 - self.dropout_o)
        if self.projection is not None:
            outputs = self.projection(outputs)  # (batch, time, E)
        return F.linear(outputs, self.embedding.weight, self.decoder_bias), state

    def forward(self, tokens, state=None):
        return self.run(tokens, state)[0]


class LanguageModelFactory:
    """``model_factory`` of the search: wraps the supernet (or a derived encoder) as a language
    model. A plain class, so that it pickles for joblib workers."""

    def __init__(self, vocab_size: int, embedding_size: int, dropout_e=0.0, dropout_o=0.0):
        self.args = (vocab_size, embedding_size, dropout_e, dropout_o)

    def __call__(self, encoder: nn.Module) -> LanguageModelNet:
        return LanguageModelNet(encoder, *self.args)


def lstm_hidden_for(n_params: int, vocab_size: int, embedding_size: int) -> int:
    """The LSTM hidden size whose language model has the parameter count closest to ``n_params``."""
    def count(h):
        projection = 0 if h == embedding_size else h * embedding_size
        return vocab_size * (embedding_size + 1) + 4 * (embedding_size * h + h * h + 2 * h) + projection

    largest = math.isqrt(max(n_params, 1)) + 2  # 4 h^2 alone exceeds n_params beyond this
    return min(range(1, largest + 1), key=lambda h: abs(count(h) - n_params))


@torch.no_grad()
def stream_nll(model: LanguageModelNet, streams: torch.Tensor, bptt: int, device="cpu"):
    """(summed negative log-likelihood in nats, number of predicted tokens) over ``streams``
    (n_streams, n_steps), the state carried across segments, in evaluation mode."""
    model.eval()
    state, total, count = None, 0.0, 0
    for x, y in segments(streams, bptt):
        logits, state = model.run(x.to(device), state)
        total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                       y.reshape(-1).to(device), reduction="sum"))
        count += y.numel()
    return total, count
