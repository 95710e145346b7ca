"""The forecast head shared by every recurrent forecaster (the LSTM baseline, the searched cell).

It maps the encoder's last hidden state to a multi-step forecast and, optionally, adds a linear
"highway" (LSTNet's autoregressive component, LTSF-Linear's linear map): one map from each
target's last ``lookback`` values to its next ``horizon`` values, shared by all targets. Using
the same head for every encoder puts the encoders on equal footing: a comparison then measures
what the recurrent part adds on top of the linear map.
"""

from __future__ import annotations

import torch
from torch import nn


class ForecastHead(nn.Module):
    """``(h_last, x) -> (batch, horizon, n_targets)``.

    h_last: (batch, hidden_size), the encoder's last hidden state;
    x: (batch, lookback, n_features), the (scaled) input window the encoder read.
    ``targets`` are the positions of the target columns among the ``n_features`` inputs.
    """

    def __init__(self, hidden_size: int, lookback: int, horizon: int, n_features: int, targets,
                 linear_skip: bool = True):
        super().__init__()
        targets = torch.as_tensor(targets, dtype=torch.long).reshape(-1)
        if len(targets) == 0 or targets.min() < 0 or targets.max() >= n_features:
            raise ValueError(f"`targets` must be positions in [0, {n_features}), got "
                             f"{targets.tolist()}.")
        self.lookback, self.horizon, self.n_targets = lookback, horizon, len(targets)
        self.register_buffer("targets", targets, persistent=False)
        self.hidden = nn.Linear(hidden_size, horizon * self.n_targets)
        self.skip = nn.Linear(lookback, horizon) if linear_skip else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Hidden map: small normal weights. Highway: starts as the last-value forecast."""
        nn.init.normal_(self.hidden.weight, std=0.02)
        nn.init.zeros_(self.hidden.bias)
        if self.skip is not None:
            nn.init.zeros_(self.skip.weight)
            nn.init.zeros_(self.skip.bias)
            with torch.no_grad():
                self.skip.weight[:, -1] = 1.0

    def set_linear_map(self, coef, intercept) -> None:
        """Start the highway at a given linear map: ``coef`` (lookback, horizon), ``intercept``
        (horizon,), e.g. the least-squares map of the training part
        (:func:`autoforecast.ridge.linear_map`)."""
        if self.skip is None:
            raise ValueError("this head has no linear highway (linear_skip=False).")
        with torch.no_grad():
            self.skip.weight.copy_(torch.as_tensor(coef, dtype=self.skip.weight.dtype).T)
            self.skip.bias.copy_(torch.as_tensor(intercept, dtype=self.skip.bias.dtype))

    def forward(self, h_last: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        out = self.hidden(h_last).view(-1, self.horizon, self.n_targets)  # (batch, H, T)
        if self.skip is not None:
            recent = x[:, -self.lookback:, self.targets].transpose(1, 2)  # (batch, T, L)
            out = out + self.skip(recent).transpose(1, 2)  # (batch, H, T)
        return out


def warm_start_heads(module: nn.Module, coef, intercept) -> None:
    """Set the highway of every :class:`ForecastHead` in ``module`` to the given linear map."""
    for head in module.modules():
        if isinstance(head, ForecastHead) and head.skip is not None:
            head.set_linear_map(coef, intercept)
