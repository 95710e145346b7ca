"""Search cells and their nodes: mixed operations and architecture weights.

Architecture weights live in each node's ``arch`` ParameterDict (registered parameters, named
``...arch...``); a node discretised by ``fix()`` loses them and computes its chosen ops only.
Each node has its own BatchNorm without affine parameters (search only, docs/method.md, sec. 1-3). The
search cells (``DartsSearchCell``, ``TwoInputSearchCell``; what ``SuperNet`` runs) reuse the
derived cells' entry nodes, gated residual update and output weights.
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from autoforecast.cells.base import GatedNodes, new_weight, weighted_sum
from autoforecast.cells.derived import (carry_out, darts_entry, init_carry, init_darts_entry,
                                        init_two_input_entry, two_input_pre)
from autoforecast.cells.ops import ACTIVATIONS, BINARY_OPS, DARTS_OPS, SIDE_INPUTS
from autoforecast.search.node_types import DartsNode, TwoInputNode

_ACT_FNS = tuple(ACTIVATIONS.values())
_BIN_FNS = tuple(BINARY_OPS.values())
_ACT_NAMES, _BIN_NAMES = tuple(ACTIVATIONS), tuple(BINARY_OPS)

# How a node's discrete choice is read off its architecture weights (``SearchConfig.derivation``):
# "argmax": docs/method.md, sec. 1-2; "prefer_nondegenerate" takes, when the argmax op is degenerate
# (``Backbone.degenerate``: it passes one input through), the best non-degenerate op instead if
# its softmax weight is at least NONDEGENERATE_RATIO times the argmax's.
NONDEGENERATE_RATIO = 0.5


def prefer_nondegenerate(weights: torch.Tensor, names, best: int, degenerate) -> int:
    """The index among ``names`` (with softmax ``weights``, 1-D) that replaces the argmax
    ``best``: itself unless it is degenerate and a non-degenerate op has at least
    NONDEGENERATE_RATIO times its weight (the best such op then)."""
    if names[best] not in degenerate:
        return best
    allowed = [i for i, name in enumerate(names) if name not in degenerate]
    if not allowed:
        return best
    alt = max(allowed, key=lambda i: float(weights[i]))
    return alt if float(weights[alt]) >= NONDEGENERATE_RATIO * float(weights[best]) else best


def ranked_swaps(weights: torch.Tensor, chosen: int) -> list[tuple[int, float, int]]:
    """``(rank, margin, index)`` of every option but ``chosen`` among softmax ``weights`` (1-D):
    rank 1 is the runner-up (the heaviest other option), margin the chosen option's weight
    minus this one's (small: the node is little decided between them)."""
    others = sorted((i for i in range(len(weights)) if i != chosen),
                    key=lambda i: (-float(weights[i]), i))
    return [(rank, float(weights[chosen]) - float(weights[i]), i)
            for rank, i in enumerate(others, start=1)]


def _arch(*shape) -> nn.Parameter:
    return nn.Parameter(1e-3 * torch.randn(*shape))  # DARTS' initialisation of alpha


def mix(fns, z: torch.Tensor, w: torch.Tensor, *args) -> torch.Tensor:
    """sum_o w_o fn_o(z, *args)."""
    return weighted_sum([fn(z, *args) for fn in fns], w)


class NodeNorm(nn.Module):
    """BatchNorm over (batch, hidden) without affine parameters, one per node and time-shared.

    Running statistics are kept per call site (``slot``): a network that runs the cell on
    inputs of two kinds (the forecasting network's encoder and its decoding step) normalises
    each with its own statistics in evaluation mode (``SuperNet.norm_slot``)."""

    SLOTS = 2

    def __init__(self, hidden_size: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.momentum, self.eps, self.slot = momentum, eps, 0
        self.register_buffer("running_mean", torch.zeros(self.SLOTS, hidden_size))
        self.register_buffer("running_var", torch.ones(self.SLOTS, hidden_size))

    def forward(self, m: torch.Tensor) -> torch.Tensor:  # (batch, hidden)
        return F.batch_norm(m, self.running_mean[self.slot], self.running_var[self.slot], None,
                            None, self.training, self.momentum, self.eps)


class DartsSearchNode(nn.Module):
    """DARTS node i: mixed edges from s_0..s_{i-1}, all sharing W_i (d x 2d)."""

    def __init__(self, index: int, hidden_size: int):
        super().__init__()
        self.index, self.hidden_size = index, hidden_size
        self.weight = new_weight(hidden_size, 2 * hidden_size)  # W_i
        self.norm = NodeNorm(hidden_size)
        self.arch = nn.ParameterDict({"alpha": _arch(index, len(DARTS_OPS))})  # (i, n_ops)
        self.choice: DartsNode | None = None

    def mixing(self):
        return None if self.choice else F.softmax(self.arch["alpha"], -1)[:, 1:].T  # (n_ops-1, i)

    def forward(self, states: list[torch.Tensor], w) -> torch.Tensor:
        if self.choice is not None:  # discretised: a single edge
            src = states[self.choice.input]
            c, z = (src @ self.weight).chunk(2, -1)
            return self.norm(src.lerp(ACTIVATIONS[self.choice.op](z), torch.sigmoid(c)))
        s = torch.stack(states)  # (i, batch, d)
        c, z = (s @ self.weight).chunk(2, -1)  # (i, batch, d) each
        edges = s.lerp(torch.stack([f(z) for f in _ACT_FNS]), torch.sigmoid(c))  # (ops, i, b, d)
        return self.norm(torch.einsum("oj,ojbd->bd", w, edges))  # `none` adds zero

    def derive(self, derivation: str = "argmax", degenerate=frozenset()) -> DartsNode:
        """The edge (input j, op) with the largest non-``none`` weight (docs/method.md, sec. 1); with
        ``"prefer_nondegenerate"`` a degenerate choice may yield to another edge's op."""
        if self.choice is not None:
            return self.choice
        w = F.softmax(self.arch["alpha"].detach(), -1)[:, 1:]  # (i, ops without none)
        j = int(w.max(-1).values.argmax())
        op = int(w[j].argmax())
        if derivation == "prefer_nondegenerate":  # over all (input, op) pairs, row-major
            names = [name for _ in range(w.shape[0]) for name in DARTS_OPS[1:]]
            flat = prefer_nondegenerate(w.flatten(), names, j * w.shape[1] + op, degenerate)
            j, op = divmod(flat, w.shape[1])
        return DartsNode(DARTS_OPS[1 + op], j)

    def alternatives(self, choice: DartsNode) -> list[tuple[int, float, DartsNode]]:
        """The edges that differ from ``choice`` (this node's derived edge) in one decision,
        as ``(rank, margin, node)`` (see ``ranked_swaps``): another op on the same input, or
        another input with its best op (an input weighs its best op's weight). None once the
        node is fixed."""
        if self.choice is not None:
            return []
        w = F.softmax(self.arch["alpha"].detach(), -1)[:, 1:]  # (i, ops without none)
        j, op = choice.input, DARTS_OPS.index(choice.op) - 1
        ops = [(r, m, DartsNode(DARTS_OPS[1 + o], j)) for r, m, o in ranked_swaps(w[j], op)]
        inputs = [(r, m, DartsNode(DARTS_OPS[1 + int(w[i].argmax())], i))
                  for r, m, i in ranked_swaps(w.max(-1).values, j)]
        return ops + inputs

    def fix(self, choice: DartsNode) -> None:
        self.choice, self.arch = choice, nn.ParameterDict()


class TwoInputSearchNode(nn.Module):
    """Two-input node k: mixed side input (delta), activations (optional), binary op (beta)."""

    def __init__(self, hidden_size: int, search_activations: bool = False):
        super().__init__()
        d = hidden_size
        self.a, self.b = new_weight(d, d), new_weight(d, d)  # A_k, B_k
        self.p, self.q = nn.Parameter(torch.zeros(d)), nn.Parameter(torch.zeros(d))
        self.norm = NodeNorm(d)
        arch = {"beta": _arch(len(BINARY_OPS)), "delta": _arch(len(SIDE_INPUTS))}
        if search_activations:
            arch |= {"act_a": _arch(len(ACTIVATIONS)), "act_b": _arch(len(ACTIVATIONS))}
        self.arch = nn.ParameterDict(arch)
        self.choice: TwoInputNode | None = None

    def mixing(self):
        if self.choice is not None:
            return None
        return {k: F.softmax(v, -1) for k, v in self.arch.items()}

    def forward(self, u_a, q_cands, w) -> torch.Tensor:
        """u_a = s_{k-1} A + p; q_cands: side inputs (x, h, skip) projected, B + q; all (b, d)."""
        if self.choice is not None:
            c = self.choice
            pq = ACTIVATIONS[c.act_a](u_a), ACTIVATIONS[c.act_b](q_cands[SIDE_INPUTS.index(c.side)])
            return self.norm(BINARY_OPS[c.op](*pq))
        u_b = weighted_sum(q_cands, w["delta"])  # (batch, d): b_k B_k + q_k
        p_ = mix(_ACT_FNS, u_a, w["act_a"]) if "act_a" in w else torch.tanh(u_a)
        q_ = mix(_ACT_FNS, u_b, w["act_b"]) if "act_b" in w else torch.tanh(u_b)
        return self.norm(mix(_BIN_FNS, p_, w["beta"], q_))

    def derive(self, derivation: str = "argmax", degenerate=frozenset()) -> TwoInputNode:
        """The argmax of every choice (docs/method.md, section 2); with ``"prefer_nondegenerate"`` a
        degenerate binary op may yield to the best other one."""
        if self.choice is not None:
            return self.choice
        best = {k: int(v.detach().argmax()) for k, v in self.arch.items()}
        if derivation == "prefer_nondegenerate":
            beta = F.softmax(self.arch["beta"].detach(), -1)
            best["beta"] = prefer_nondegenerate(beta, _BIN_NAMES, best["beta"], degenerate)
        acts = [_ACT_NAMES[best[k]] if k in best else "tanh" for k in ("act_a", "act_b")]
        return TwoInputNode(_BIN_NAMES[best["beta"]], SIDE_INPUTS[best["delta"]], *acts)

    def alternatives(self, choice: TwoInputNode) -> list[tuple[int, float, TwoInputNode]]:
        """The nodes that differ from ``choice`` (this node's derived choice) in one decision,
        as ``(rank, margin, node)`` (see ``ranked_swaps``): another binary op, or another side
        input (the activations stay). None once the node is fixed."""
        if self.choice is not None:
            return []
        beta = F.softmax(self.arch["beta"].detach(), -1)
        delta = F.softmax(self.arch["delta"].detach(), -1)
        ops = [(r, m, replace(choice, op=_BIN_NAMES[i]))
               for r, m, i in ranked_swaps(beta, _BIN_NAMES.index(choice.op))]
        sides = [(r, m, replace(choice, side=SIDE_INPUTS[i]))
                 for r, m, i in ranked_swaps(delta, SIDE_INPUTS.index(choice.side))]
        return ops + sides

    def fix(self, choice: TwoInputNode) -> None:
        self.choice, self.arch = choice, nn.ParameterDict()


class DartsSearchCell(GatedNodes):
    """DARTS DAG: node i mixes edges from every s_j, j < i. (``search_activations`` and ``carry``
    are the backbones' common signature: DARTS' edges search their activations anyway, and
    ``Backbone.check_carry`` refuses a carry path for this backbone.)"""

    def __init__(self, input_size: int, hidden_size: int, n_nodes: int, search_activations=False,
                 carry=False):
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
    """Chain of two-input nodes; all side-input projections fused (see ``precompute``). With
    ``carry``, the output passes through the carry path's update gate, which reads x_t and
    h_{t-1} only (docs/method.md, section 8), so growth leaves it unchanged."""

    carry = False  # a class default: cells pickled before the carry path load without one

    def __init__(self, input_size: int, hidden_size: int, n_nodes: int, search_activations=False,
                 carry=False):
        super().__init__(input_size, hidden_size, n_nodes)
        self.search_activations, self.carry = search_activations, bool(carry)
        init_two_input_entry(self, input_size, hidden_size)
        self.nodes = nn.ModuleList([self.new_node(i) for i in range(1, n_nodes + 1)])
        if self.carry:
            init_carry(self, input_size, hidden_size)

    def new_node(self, index: int) -> TwoInputSearchNode:
        return TwoInputSearchNode(self.hidden_size, self.search_activations)

    def precompute(self, x):
        nodes = self.nodes
        bs = torch.cat([n.b for n in nodes], 1)  # (d, d K): all B_k
        qs = torch.cat([n.q for n in nodes])  # (d K,)
        pre = two_input_pre(self, x, bs, qs, self.carry)  # (batch, time, d (1 + K [+ 1])):
        # entry, x B_k + q_k[, the gate's x W_zx + b_z]; one matmul per step on h for h W_0h,
        # every h B_k[, h W_zh]
        carry = [self.wzh] if self.carry else []
        wh = torch.cat([self.w0h, bs] + carry, 1)
        bh = torch.cat([torch.zeros_like(self.b0), qs] + [torch.zeros_like(self.b0)] * len(carry))
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
        y = self.combine(states[1:], gamma)
        return carry_out(h, y, xp[-1] + hp[-1]) if self.carry else y
