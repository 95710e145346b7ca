"""The supernet: a search cell (mixed operations, architecture weights) run over time.

``SuperNet(input_size, hidden_size, backbone, init_nodes, max_nodes)`` maps ``(batch, time,
input)`` to ``(outputs (batch, time, hidden), h_last (batch, hidden))``; ``grow()`` adds a node
by an exact morphism, ``genotype()`` derives the discrete cell. The search cells reuse the
derived cells' entry nodes, gated residual update and output weights.
"""

from __future__ import annotations

import numbers

import torch
from torch import nn

from autoforecast.cells.base import GatedNodes, RecurrentEncoder
from autoforecast.cells.derived import (darts_entry, init_darts_entry, init_two_input_entry,
                                        two_input_pre)
from autoforecast.cells.ops import ACTIVATIONS, BACKBONES, BINARY_OPS, DARTS_OPS, SIDE_INPUTS
from autoforecast.search import growth
from autoforecast.search.genotype import Genotype
from autoforecast.search.nodes import DartsSearchNode, TwoInputSearchNode


class DartsSearchCell(GatedNodes):
    """DARTS DAG: node i mixes edges from every s_j, j < i."""

    def __init__(self, input_size: int, hidden_size: int, n_nodes: int, search_activations=False):
        super().__init__(input_size, hidden_size, n_nodes)
        init_darts_entry(self, input_size, hidden_size)
        self.nodes = nn.ModuleList([self.new_node(i) for i in range(1, n_nodes + 1)])

    def new_node(self, index: int) -> DartsSearchNode:
        return DartsSearchNode(index, self.hidden_size)

    def precompute(self, x):
        mixes = [node.mixing() for node in self.nodes]
        return x @ self.w0x, (mixes, torch.stack(list(self.lambdas)), self.gamma_vector())

    def step(self, pre_t, h, consts):
        mixes, lam, gamma = consts
        states = [darts_entry(pre_t, h, self.w0h)]  # s_0, (batch, d)
        for i, node in enumerate(self.nodes):
            states.append(states[-1].lerp(node(states, mixes[i]), lam[i]))
        return self.combine(states[1:], gamma)


class TwoInputSearchCell(GatedNodes):
    """Chain of two-input nodes; all side-input projections fused (see ``precompute``)."""

    def __init__(self, input_size: int, hidden_size: int, n_nodes: int, search_activations=False):
        super().__init__(input_size, hidden_size, n_nodes)
        self.search_activations = search_activations
        init_two_input_entry(self, input_size, hidden_size)
        self.nodes = nn.ModuleList([self.new_node(i) for i in range(1, n_nodes + 1)])

    def new_node(self, index: int) -> TwoInputSearchNode:
        return TwoInputSearchNode(self.hidden_size, self.search_activations)

    def precompute(self, x):
        nodes = self.nodes
        bs = torch.cat([n.b for n in nodes], 1)  # (d, d K): all B_k
        qs = torch.cat([n.q for n in nodes])  # (d K,)
        pre = two_input_pre(self, x, bs, qs)  # (batch, time, d (1 + K)): entry, x B_k + q_k
        wh = torch.cat([self.w0h, bs], 1)  # h W_0h and every h B_k in one matmul per step
        bh = torch.cat([torch.zeros_like(self.b0), qs])
        # node k's matmul on s_{k-1} also projects node k+1's skip candidate s_{k-1} B_{k+1}
        wa = [torch.cat([n.a, m.b], 1) for n, m in zip(nodes[:-1], nodes[1:])] + [nodes[-1].a]
        ba = [torch.cat([n.p, m.q]) for n, m in zip(nodes[:-1], nodes[1:])] + [nodes[-1].p]
        mixes = [n.mixing() for n in nodes]
        return pre, (wh, bh, wa, ba, mixes, torch.stack(list(self.lambdas)), self.gamma_vector())

    def step(self, pre_t, h, consts):
        wh, bh, wa, ba, mixes, lam, gamma = consts
        d = self.hidden_size
        xp = pre_t.split(d, -1)  # entry x-part, then x B_k + q_k
        hp = torch.addmm(bh, h, wh).split(d, -1)  # entry h-part, then h B_k + q_k
        states, skip = [torch.tanh(xp[0] + hp[0])], hp[1]  # s_{-1} := h for node 1
        for i, node in enumerate(self.nodes):
            u = torch.addmm(ba[i], states[-1], wa[i])  # (batch, d or 2d)
            m = node(u[:, :d], (xp[i + 1], hp[i + 1], skip), mixes[i])
            states.append(states[-1].lerp(m, lam[i]))
            skip = u[:, d:]
        return self.combine(states[1:], gamma)


SEARCH_CELLS = {"darts": DartsSearchCell, "two_input": TwoInputSearchCell}


class SuperNet(RecurrentEncoder):
    """A growable supernet over one backbone; architecture and weight parameters kept apart."""

    def __init__(self, input_size: int, hidden_size: int, backbone: str = "two_input",
                 init_nodes: int = 1, max_nodes: int = 4, search_activations: bool = False,
                 dropout_x: float = 0.0, dropout_h: float = 0.0):
        _check_supernet_args(input_size, hidden_size, backbone, init_nodes, max_nodes)
        cell = SEARCH_CELLS[backbone](input_size, hidden_size, init_nodes, search_activations)
        super().__init__(cell, dropout_x, dropout_h)
        self.backbone, self.max_nodes = backbone, max_nodes

    @property
    def n_nodes(self) -> int:
        return self.cell.n_nodes

    def arch_parameters(self) -> list[nn.Parameter]:
        return [p for name, p in self.named_parameters() if ".arch." in name]

    def weight_parameters(self) -> list[nn.Parameter]:
        return [p for name, p in self.named_parameters() if ".arch." not in name]

    def genotype(self) -> Genotype:
        return Genotype(self.backbone, tuple(node.derive() for node in self.cell.nodes))

    def grow(self):
        """Add one node by an exact morphism; returns ``(new_weight_params, new_arch_params)``."""
        return growth.grow(self)

    def discretise(self, n_active: int = 1) -> list[int]:
        """Fix every node but the newest ``n_active``; returns the indices (1-based) fixed now."""
        return growth.discretise(self, n_active)

    def arch_parameter_bound(self, n_active: int) -> int:
        """METHOD.md 3: the most architecture weights optimised in ``grow_and_prune`` mode."""
        if self.backbone == "darts":
            return n_active * self.max_nodes * len(DARTS_OPS)
        per_node = len(BINARY_OPS) + len(SIDE_INPUTS)
        return n_active * (per_node + 2 * len(ACTIVATIONS) * self.cell.search_activations)


def _check_supernet_args(input_size, hidden_size, backbone, init_nodes, max_nodes) -> None:
    if backbone not in SEARCH_CELLS:
        raise ValueError(f"`backbone` must be one of {BACKBONES}, got {backbone!r}.")
    for name, v in (("input_size", input_size), ("hidden_size", hidden_size), ("init_nodes", init_nodes)):
        if not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"`{name}` must be an int >= 1, got {v!r}.")
    if not isinstance(max_nodes, numbers.Integral) or max_nodes < init_nodes:
        raise ValueError(f"`max_nodes` must be an int >= init_nodes ({init_nodes}), got {max_nodes!r}.")
