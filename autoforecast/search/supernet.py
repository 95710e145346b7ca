"""The supernet: a search cell (mixed operations, architecture weights) run over time.

``SuperNet(input_size, hidden_size, backbone, init_nodes, max_nodes)`` maps ``(batch, time,
input)`` to ``(outputs (batch, time, hidden), h_last (batch, hidden))``; ``grow()`` adds a node
by an exact morphism, ``discretise(n_active)`` fixes older nodes (``grow_and_prune``),
``genotype()`` derives the discrete cell. The search cell of each backbone
(``search/nodes.py``) comes from the backbone registry (``search/backbones.py``).

Growth of node K+1 (docs/method.md, section 3): lambda_{K+1} = 0 (so s_{K+1} = s_K exactly, in training and
evaluation mode), the output weight split gamma_K -> gamma_K / 2 and gamma_{K+1} = gamma_K / 2
(so h_t is unchanged, and lambda_{K+1} gets a gradient at once), and a fresh BatchNorm for the
new node (the older nodes' running statistics are not touched). The carry path's update gate
(``carry``, two_input only) reads x_t and h_{t-1}, not the nodes: growth leaves it as it is.
"""

from __future__ import annotations

import contextlib
import numbers

import torch
from torch import nn

from autoforecast.cells.base import RecurrentEncoder
from autoforecast.search.backbones import get_backbone
from autoforecast.search.genotype import Genotype
from autoforecast.search.nodes import NodeNorm


class SuperNet(RecurrentEncoder):
    """A growable supernet over one backbone; architecture and weight parameters kept apart."""

    def __init__(self, input_size: int, hidden_size: int, backbone: str = "two_input",
                 init_nodes: int = 1, max_nodes: int = 4, search_activations: bool = False,
                 dropout_x: float = 0.0, dropout_h: float = 0.0, derivation: str = "argmax",
                 carry: bool = False):
        spec = get_backbone(backbone)  # ValueError for an unknown name
        _check_supernet_args(input_size, hidden_size, init_nodes, max_nodes)
        spec.check_carry(carry)  # ValueError for a carry path on a backbone without one
        cell = spec.search_cell(input_size, hidden_size, init_nodes, search_activations, carry)
        super().__init__(cell, dropout_x, dropout_h)
        self.backbone, self.max_nodes = backbone, max_nodes
        self.search_activations, self.carry = search_activations, bool(carry)
        self.derivation = derivation  # settings.DERIVATIONS: how genotype() reads the weights

    @property
    def n_nodes(self) -> int:
        return self.cell.n_nodes

    def arch_parameters(self) -> list[nn.Parameter]:
        return [p for name, p in self.named_parameters() if ".arch." in name]

    def weight_parameters(self) -> list[nn.Parameter]:
        return [p for name, p in self.named_parameters() if ".arch." not in name]

    def derive_node(self, node):
        """The discrete choice of one search node under this supernet's ``derivation``."""
        return node.derive(self.derivation, get_backbone(self.backbone).degenerate)

    def genotype(self) -> Genotype:
        return Genotype(self.backbone, tuple(self.derive_node(node) for node in self.cell.nodes),
                        self.carry)

    def candidates(self, n: int) -> list[Genotype]:
        """At most ``n`` distinct genotypes, :meth:`genotype` first (under ``derivation``),
        then the cells that change one decision of it: the runner-up op or input of one node
        (``node.alternatives``), the least decided first (smallest margin between the weights
        of the chosen option and the runner-up); when the runner-ups are used up, the third
        options, and so on. Fixed nodes (``discretise``) offer none, so a cell with few open
        choices may give fewer than ``n``. Deterministic: ties go to the earlier node, then
        the op before the input (docs/method.md, section 8)."""
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"`n` (the candidates wanted) must be an int >= 1, got {n!r}.")
        first = self.genotype()
        swaps = [(rank, margin, k, order, node)
                 for k, search_node in enumerate(self.cell.nodes)
                 for order, (rank, margin, node) in enumerate(search_node.alternatives(first.nodes[k]))]
        out = [first]
        for _, _, k, _, node in sorted(swaps, key=lambda swap: swap[:4]):
            if len(out) >= n:
                break
            genotype = Genotype(self.backbone, first.nodes[:k] + (node,) + first.nodes[k + 1:],
                                self.carry)
            if genotype not in out:
                out.append(genotype)
        return out

    def grow(self) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
        """Append node K+1 by an exact morphism; returns its new ``(weight, architecture)``
        parameters."""
        cell = self.cell
        k = cell.n_nodes
        if k >= self.max_nodes:
            raise ValueError(f"cannot grow: the supernet already has max_nodes={self.max_nodes} nodes.")
        ref = cell.lambdas[0]
        node = cell.new_node(k + 1).to(ref)  # same dtype and device as the existing parameters
        with torch.no_grad():
            g = cell.gammas[-1] / 2
            cell.gammas[-1].sub_(g)
        lam, gamma = nn.Parameter(torch.zeros_like(ref)), nn.Parameter(g.clone())
        cell.nodes.append(node)
        cell.lambdas.append(lam)
        cell.gammas.append(gamma)
        arch = list(node.arch.parameters())
        arch_ids = {id(p) for p in arch}
        weights = [p for p in node.parameters() if id(p) not in arch_ids] + [lam, gamma]
        return weights, arch

    def discretise(self, n_active: int = 1) -> list[int]:
        """Fix (the derived op and input) every still-continuous node but the newest
        ``n_active``; returns the indices (1-based) fixed now."""
        fixed = []
        nodes = list(self.cell.nodes)
        for index, node in enumerate(nodes[: max(len(nodes) - n_active, 0)], start=1):
            if node.choice is None:
                node.fix(self.derive_node(node))
                fixed.append(index)
        return fixed

    @contextlib.contextmanager
    def norm_slot(self, slot: int):
        """Run the nodes' batch normalisation on running statistics ``slot`` (0: the default;
        1: a second call site, the forecasting network's decoding step), then back to 0."""
        norms = [m for m in self.modules() if isinstance(m, NodeNorm)]
        for norm in norms:
            norm.slot = slot
        try:
            yield
        finally:
            for norm in norms:
                norm.slot = 0

    def arch_parameter_bound(self, n_active: int) -> int:
        """docs/method.md, section 3: the most architecture weights optimised by ``grow_and_prune``."""
        return get_backbone(self.backbone).arch_bound(n_active, self.max_nodes, self.search_activations)


def _check_supernet_args(input_size, hidden_size, init_nodes, max_nodes) -> None:
    for name, v in (("input_size", input_size), ("hidden_size", hidden_size), ("init_nodes", init_nodes)):
        if not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"`{name}` must be an int >= 1, got {v!r}.")
    if not isinstance(max_nodes, numbers.Integral) or max_nodes < init_nodes:
        raise ValueError(f"`max_nodes` must be an int >= init_nodes ({init_nodes}), got {max_nodes!r}.")
