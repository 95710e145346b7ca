"""CellModel: a recurrent encoder followed by a head; the unit that is searched and retrained.

Head protocol: ``head(outputs, h_last, x) -> prediction`` with outputs ``(batch, time, hidden)``,
h_last ``(batch, hidden)`` and x the input window ``(batch, time, input)`` (for heads with a
linear highway from the inputs: wrap it as
``lambda outputs, h_last, x: head(h_last, x)`` in a module). ``head_factory(hidden_size)``
builds one.
"""

from __future__ import annotations

from torch import nn


class CellModel(nn.Module):
    def __init__(self, encoder: nn.Module, head: nn.Module):
        super().__init__()
        self.encoder, self.head = encoder, head

    def forward(self, x):
        outputs, h_last = self.encoder(x)  # (batch, time, hidden), (batch, hidden)
        return self.head(outputs, h_last, x)


class LastStateHead(nn.Module):
    """Linear map of the last hidden state: (batch, hidden) -> (batch, out_size)."""

    def __init__(self, hidden_size: int, out_size: int = 1):
        super().__init__()
        self.linear = nn.Linear(hidden_size, out_size)

    def forward(self, outputs, h_last, x=None):
        return self.linear(h_last)
