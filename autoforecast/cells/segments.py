"""The forecasting network around a recurrent cell (docs/method.md, section 7, after SegRNN).

    window (B, L, F), scaled per column on the training part
      -> instance normalisation per window and series (last value, RevIN, or none)
      -> one sequence per target series: (B T, n, w (1 + K)), n = ceil(L / w) segments of w
         steps, each with the K covariates of the same steps appended
      -> projection to the cell's input size d (linear, ReLU)
      -> the cell over the n segments: the last state h (B T, d)
      -> parallel decoding: m = ceil(H / w) copies of h, each run one cell step on a learned
         position embedding joined with a learned series embedding (d / 2 each), plus, with
         known-future covariates, a linear map of their normalised values in that segment's
         w steps (the window then holds the H rows after it too: x (B, L + H, F), of which
         the network reads only those columns)
      -> linear map of each state to its segment's w values, cut to H (+ optional highway)
      -> the inverse normalisation: (B, H, T)

The cell is any encoder with ``forward(x (N, n, d), state=None) -> (outputs, state)``: a derived
cell or a supernet in a :class:`RecurrentEncoder` (state (N, d)), or :class:`TorchRNN` around
``nn.GRU`` / ``nn.LSTM``. Encoders whose normalisation keeps running statistics per call site
(the supernet's batch normalisation) provide ``norm_slot(k)``: slot 0 is the encoder's, slot 1
the decoding step's. A lookback that is not a multiple of w is left-padded to one by repeating
the window's oldest (normalised) values; so is a lookback shorter than w.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import torch
from torch import nn

from autoforecast.data.normalization import check_window_normalization, normaliser



@dataclass(frozen=True)
class SegmentConfig:
    lookback: int  # L
    horizon: int  # H
    segment: int  # w
    targets: tuple[int, ...]  # columns forecast, one sequence each
    covariates: tuple[int, ...]  # other columns appended to every target's segments
    other_targets: bool = False  # the other targets are covariates of each target too
    normalization: str = "last"
    hidden_size: int = 64  # d: the cell's input and state size
    linear_skip: bool = False  # a highway from the normalised window to the forecast
    dropout: float = 0.1  # on the decoded states, before the output map
    future: tuple[int, ...] = ()  # known-future columns: their horizon values reach the decoder

    @property
    def n_in(self) -> int:
        return math.ceil(self.lookback / self.segment)

    @property
    def n_out(self) -> int:
        return math.ceil(self.horizon / self.segment)

    @property
    def n_covariates(self) -> int:
        return len(self.covariates) + (len(self.targets) - 1 if self.other_targets else 0)

    def columns(self) -> torch.Tensor:
        """(T, 1 + K): for each target, its column then its covariates' columns."""
        rows = []
        for t in self.targets:
            others = [u for u in self.targets if u != t] if self.other_targets else []
            rows.append([t, *others, *self.covariates])
        return torch.tensor(rows, dtype=torch.long)


class Normalizer:
    """Per window and column: ``forward`` normalises, ``inverse`` maps forecasts back."""

    def __init__(self, kind: str, x: torch.Tensor):  # x (B, L, F)
        self.shift, self.scale = normaliser(x, kind)  # (B, 1, F) each

    def forward(self, x):
        return (x - self.shift) / self.scale

    def inverse(self, y, columns):  # y (B, H, T) for the given columns
        return y * self.scale[..., columns] + self.shift[..., columns]


class TorchRNN(nn.Module):
    """``nn.GRU`` or ``nn.LSTM`` (batch first) with the encoder protocol of the cells."""

    def __init__(self, kind: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 dropout: float = 0.0):
        super().__init__()
        rnn = {"gru": nn.GRU, "lstm": nn.LSTM}[kind]
        self.rnn = rnn(input_size, hidden_size, num_layers=num_layers, batch_first=True,
                       dropout=dropout if num_layers > 1 else 0.0)

    @property
    def hidden_size(self) -> int:
        return self.rnn.hidden_size

    def forward(self, x, state=None):
        return self.rnn(x, state)  # (N, n, d), state (layers, N, d) or its (h, c)


def repeat_state(state, m: int):
    """Each sequence's state ``m`` times in a row: a cell's (N, d), a torch RNN's (layers, N, d)
    or an LSTM's pair of them."""
    if isinstance(state, tuple):
        return tuple(repeat_state(s, m) for s in state)
    return state.repeat_interleave(m, dim=0 if state.dim() == 2 else 1)


def norm_slot(encoder: nn.Module, slot: int):
    """``encoder.norm_slot(slot)`` where the encoder has one, else nothing to switch."""
    switch = getattr(encoder, "norm_slot", None)
    return switch(slot) if switch is not None else contextlib.nullcontext()


class SegmentNet(nn.Module):
    """``x (B, L, F) -> (B, H, T)``: docs/method.md's network (section 7) around ``encoder``."""

    def __init__(self, encoder: nn.Module, config: SegmentConfig):
        super().__init__()
        check_window_normalization(config.normalization)
        c, d = config, config.hidden_size
        self.config, self.encoder = c, encoder
        self.register_buffer("columns", c.columns(), persistent=False)  # (T, 1 + K)
        self.project = nn.Sequential(nn.Linear(c.segment * (1 + c.n_covariates), d), nn.ReLU())
        self.position = nn.Parameter(torch.randn(c.n_out, d // 2))  # (m, d/2)
        self.series = nn.Parameter(torch.randn(len(c.targets), d - d // 2))  # (T, d - d/2)
        self.out = nn.Sequential(nn.Dropout(c.dropout), nn.Linear(d, c.segment))
        # untrained, about the normalisation's own forecast; not exactly zero, or a cell whose
        # state is zero until its biases move (one that ignores x) would get no gradient
        nn.init.normal_(self.out[1].weight, std=0.02)
        nn.init.zeros_(self.out[1].bias)
        self.skip = nn.Linear(c.lookback, c.horizon) if c.linear_skip else None
        if self.skip is not None:
            nn.init.zeros_(self.skip.weight)
            nn.init.zeros_(self.skip.bias)
        # known-future covariates: each output segment's w steps of them, added to its query
        # (zero at first: the untrained network ignores them)
        self.future = nn.Linear(c.segment * len(c.future), d) if c.future else None
        if self.future is not None:
            nn.init.zeros_(self.future.weight)
            nn.init.zeros_(self.future.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.config
        batch, n_series = x.shape[0], len(c.targets)
        future = None
        if c.future:  # x (B, L + H, F): the window, then the horizon's rows
            x, ahead = x[:, : c.lookback], x[:, c.lookback:]
        norm = Normalizer(c.normalization, x)
        z = norm.forward(x)  # (B, L, F)
        if c.future:
            future = self._future_segments(norm.forward(ahead)[:, :, list(c.future)])
        seqs = self._segments(z)  # (B T, n, w (1 + K))
        with norm_slot(self.encoder, 0):
            _, state = self.encoder(self.project(seqs))
        y = self._decode(state, batch, future)  # (B T, m w)
        y = y[:, : c.horizon].view(batch, n_series, c.horizon)
        if self.skip is not None:  # on each target's own normalised window
            y = y + self.skip(z[:, :, list(c.targets)].transpose(1, 2))
        return norm.inverse(y.transpose(1, 2), list(c.targets))  # (B, H, T)

    def _segments(self, z):
        c = self.config
        batch, lookback, _ = z.shape
        pad = c.n_in * c.segment - lookback
        if pad:  # left-pad by the oldest values to a whole number of segments
            z = torch.cat([z[:, :1].expand(-1, pad, -1), z], 1)
        per_series = z[:, :, self.columns]  # (B, n w, T, 1 + K)
        per_series = per_series.permute(0, 2, 1, 3)  # (B, T, n w, 1 + K)
        segs = per_series.reshape(batch, len(c.targets), c.n_in, c.segment, -1)
        return segs.transpose(3, 4).reshape(batch * len(c.targets), c.n_in, -1)

    def _future_segments(self, future):
        """The known-future values (B, H, K) as one row per output segment (B, m, w K), the
        horizon right-padded to m w steps by repeating its last step."""
        c = self.config
        pad = c.n_out * c.segment - future.shape[1]
        if pad:
            future = torch.cat([future, future[:, -1:].expand(-1, pad, -1)], 1)
        return future.reshape(future.shape[0], c.n_out, -1)

    def _decode(self, state, batch: int, future=None):
        c, d = self.config, self.config.hidden_size
        n_series, m = len(c.targets), c.n_out
        query = torch.cat([self.position[None].expand(n_series, -1, -1),
                           self.series[:, None].expand(-1, m, -1)], -1)  # (T, m, d)
        query = query[None].expand(batch, -1, -1, -1)  # (B, T, m, d)
        if future is not None:  # each segment's known-future values, for every target
            query = query + self.future(future)[:, None]
        query = query.reshape(batch * n_series * m, 1, d)
        with norm_slot(self.encoder, 1):
            outputs, _ = self.encoder(query, repeat_state(state, m))  # (B T m, 1, d)
        return self.out(outputs[:, -1]).view(batch * n_series, m * c.segment)

    def set_linear_map(self, coef, intercept) -> None:
        """Start the highway at a linear map of the normalised window: ``coef`` (L, H),
        ``intercept`` (H,)."""
        if self.skip is None:
            raise ValueError("this network has no linear highway (linear_skip=False).")
        with torch.no_grad():
            self.skip.weight.copy_(torch.as_tensor(coef, dtype=self.skip.weight.dtype).T)
            self.skip.bias.copy_(torch.as_tensor(intercept, dtype=self.skip.bias.dtype))


class SegmentNetFactory:
    """``model_factory`` of the search: the network around the supernet (or a derived
    encoder). A plain class, so that it pickles for joblib workers."""

    def __init__(self, config: SegmentConfig, linear_map=None):
        self.config, self.linear_map = config, linear_map

    def __call__(self, encoder: nn.Module) -> SegmentNet:
        net = SegmentNet(encoder, self.config)
        if self.config.linear_skip and self.linear_map is not None:
            net.set_linear_map(*self.linear_map)
        return net
