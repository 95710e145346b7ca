"""Pieces shared by the derived cells and the search cells, and the encoder that runs a cell.

A cell computes, per time step, ``s_k = lerp(s_{k-1}, node_k, lambda_k)`` for nodes 1..K and
``h_t = sum_k gamma_k s_k`` (docs/method.md, section 3). It exposes

    precompute(x) -> (pre, consts)    pre: (batch, time, F), input projections of all steps;
                                      consts: per-forward tensors (fused weights)
    step(pre_t, h, consts) -> h_t     one time step, (batch, F), (batch, hidden) -> (batch, hidden)

so that the encoder does the only loop over time, and all work that does not depend on h is
done in one matmul outside it.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def weighted_sum(tensors: list[torch.Tensor], w: torch.Tensor) -> torch.Tensor:
    """sum_k w_k tensors[k] over same-shaped tensors, as one (K,) @ (K, N) product. The tensors
    are stacked as contiguous blocks: stacking them on a last axis interleaves them, a copy
    several times slower (it was the largest single cost of a supernet step)."""
    stacked = torch.stack(tensors)
    return (w @ stacked.flatten(1)).view(stacked.shape[1:])


def uniform_(tensor: torch.Tensor, fan_in: int) -> torch.Tensor:
    bound = 1.0 / math.sqrt(fan_in)
    with torch.no_grad():
        return tensor.uniform_(-bound, bound)


def new_weight(rows: int, cols: int, fan_in: int | None = None) -> nn.Parameter:
    return nn.Parameter(uniform_(torch.empty(rows, cols), fan_in or rows))


class GatedNodes(nn.Module):
    """The residual gates lambda_k and output weights gamma_k of nodes 1..K (one scalar each).

    ``weight_drop`` (set on a derived cell by ``search.build_encoder``; a class default, so
    that cells pickled before it load as 0): DropConnect, AWD-LSTM's weight drop, on the
    matrices that read h_{t-1}, one mask per forward in training mode (:meth:`recurrent`).
    """

    weight_drop = 0.0

    def __init__(self, input_size: int, hidden_size: int, n_nodes: int, gamma_init: float | None = None):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        g = 1.0 / n_nodes if gamma_init is None else gamma_init
        self.lambdas = nn.ParameterList([nn.Parameter(torch.ones(())) for _ in range(n_nodes)])
        self.gammas = nn.ParameterList([nn.Parameter(torch.full((), g)) for _ in range(n_nodes)])

    @property
    def n_nodes(self) -> int:
        return len(self.lambdas)

    def recurrent(self, w: torch.Tensor) -> torch.Tensor:
        """``w`` (a matrix applied to h_{t-1}) with its entries dropped at rate ``weight_drop``
        and the rest scaled by 1 / (1 - rate), in training mode; ``w`` itself otherwise."""
        if not self.training or self.weight_drop == 0.0:
            return w
        return F.dropout(w, self.weight_drop, training=True)

    def gamma_vector(self) -> torch.Tensor:
        return torch.stack(list(self.gammas))  # (K,)

    @staticmethod
    def combine(states: list[torch.Tensor], gamma: torch.Tensor) -> torch.Tensor:
        """h_t = sum_k gamma_k s_k over states s_1..s_K, each (batch, hidden)."""
        if len(states) == 1:
            return states[0] * gamma[0]
        return weighted_sum(states, gamma)


class RecurrentEncoder(nn.Module):
    """Runs a cell over ``(batch, time, input)``; returns ``(outputs (batch, time, hidden), h_last)``.

    Variational dropout: in training mode one mask per sequence on the input (drawn first) and
    one on the recurrent state fed back (drawn second), from torch's default generator, so that
    re-seeding before a forward reproduces the masks exactly.
    """

    fused = True  # set False on an instance: the step-by-step reference path under autograd

    def __init__(self, cell: nn.Module, dropout_x: float = 0.0, dropout_h: float = 0.0):
        super().__init__()
        for name, p in (("dropout_x", dropout_x), ("dropout_h", dropout_h)):
            if not 0.0 <= p < 1.0:
                raise ValueError(f"`{name}` must be in [0, 1), got {p}.")
        self.cell, self.dropout_x, self.dropout_h = cell, dropout_x, dropout_h

    @property
    def hidden_size(self) -> int:
        return self.cell.hidden_size

    def _mask(self, p: float, shape, like: torch.Tensor):
        if not self.training or p == 0.0:
            return None
        return torch.empty(shape, dtype=like.dtype, device=like.device).bernoulli_(1 - p) / (1 - p)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        batch, _, n_in = x.shape  # (batch, time, input)
        mask_x = self._mask(self.dropout_x, (batch, 1, n_in), x)
        mask_h = self._mask(self.dropout_h, (batch, self.hidden_size), x)
        if mask_x is not None:
            x = x * mask_x
        h = x.new_zeros(batch, self.hidden_size) if h0 is None else h0
        if self.fused and hasattr(self.cell, "sequence"):  # derived cells: whole-sequence kernels
            return self.cell.sequence(x, h, mask_h)
        pre, consts = self.cell.precompute(x)  # (batch, time, F)
        outputs = []
        for pre_t in pre.unbind(1):
            h = self.cell.step(pre_t, h if mask_h is None else h * mask_h, consts)
            outputs.append(h)
        return torch.stack(outputs, 1), h  # (batch, time, hidden), (batch, hidden)


def n_parameters(module: nn.Module) -> int:
    """The number of parameters of ``module`` (every tensor, trained or not)."""
    return sum(p.numel() for p in module.parameters())
