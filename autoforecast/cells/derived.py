"""Derived (discrete) cells built from a Genotype: what is retrained after the search.

No architecture weights and no normalisation: node k is ``s_k = lerp(s_{k-1}, m_k, lambda_k)``
with lambda_k trainable (initialised to 1), and ``y_t = sum_k gamma_k s_k`` (gamma_k = 1/K
initially, DARTS' mean) is h_t; with a two-input genotype's ``carry``,
``h_t = lerp(h_{t-1}, y_t, z_t)`` through an update gate z_t (docs/method.md, section 8).
Work is fused: input projections of all steps in one matmul outside the time loop, and per
step one matmul per node that feeds others (all its out-edges at once).
``step`` is the readable reference; ``sequence`` (what the encoder runs) computes the same
through the whole-sequence kernels of ``cells/fused.py`` with a hand-written backward.
A cell is built from its genotype by ``autoforecast.search.build_cell``, which finds the class
through the backbone registry (``search/backbones.py``).
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from autoforecast.cells.base import GatedNodes, new_weight
from autoforecast.cells.fused import DartsPlan, DartsSequence, TwoInputPlan, TwoInputSequence
from autoforecast.cells.ops import ACTIVATIONS, BINARY_OPS


def feature_major(pre: torch.Tensor) -> torch.Tensor:
    return pre.permute(1, 2, 0).contiguous()  # (batch, time, F) -> (time, F, batch)


def transposed(mask):
    return None if mask is None else mask.t()


def batch_major(out: torch.Tensor):
    """(time, d, batch) -> outputs (batch, time, d) and the last state (batch, d)."""
    out = out.permute(2, 0, 1).contiguous()
    return out, out[:, -1]


def init_darts_entry(cell, input_size: int, d: int) -> None:
    """W_0 of DARTS' fixed node s_0, split into its x-part and h-part."""
    cell.w0x = new_weight(input_size, 2 * d, input_size + d)  # (input, 2d)
    cell.w0h = new_weight(d, 2 * d, input_size + d)  # (d, 2d)


def darts_entry(pre_t, h, w0h):
    """s_0 = h + sigmoid(c_0) (tanh(z_0) - h), [c_0; z_0] = pre_t + h W_0h."""
    c0, z0 = torch.addmm(pre_t, h, w0h).chunk(2, -1)  # (batch, d) each
    return h.lerp(torch.tanh(z0), torch.sigmoid(c0))


def init_two_input_entry(cell, input_size: int, d: int) -> None:
    """W_0, b_0 of the additive entry node and W_x of the side input x."""
    cell.w0x = new_weight(input_size, d, input_size + d)
    cell.w0h = new_weight(d, d, input_size + d)
    cell.b0 = nn.Parameter(torch.zeros(d))
    cell.wx = new_weight(input_size, d)


def init_carry(cell, input_size: int, d: int) -> None:
    """W_z (x-part, h-part) and b_z of the carry path's update gate (docs/method.md, section 8);
    made after every other weight, so that the cell's other weights draw the same numbers."""
    cell.wzx = new_weight(input_size, d, input_size + d)
    cell.wzh = new_weight(d, d, input_size + d)
    cell.bz = nn.Parameter(torch.zeros(d))


def two_input_pre(cell, x, wb, qb, carry: bool = False):
    """(batch, time, d (1 + n [+ 1])): entry x-part x W_0x + b_0, then (x W_x) wb + qb, then
    with ``carry`` the update gate's x-part x W_zx + b_z (in the entry's matmul)."""
    if carry:
        ez = torch.addmm(torch.cat([cell.b0, cell.bz]), x.flatten(0, 1),
                         torch.cat([cell.w0x, cell.wzx], 1)).view(*x.shape[:2], -1)
        if wb is None:  # the entry and the gate, already in the order wanted
            return ez
        entry, z = ez.chunk(2, -1)
        return torch.cat([entry, (x @ cell.wx) @ wb + qb, z], -1)
    entry = torch.addmm(cell.b0, x.flatten(0, 1), cell.w0x).view(*x.shape[:2], -1)
    return entry if wb is None else torch.cat([entry, (x @ cell.wx) @ wb + qb], -1)


def carry_out(h, y, z_pre):
    """The carry path: h_t = h_{t-1} + sigmoid(z_pre) (y_t - h_{t-1})."""
    return h.lerp(y, torch.sigmoid(z_pre))


class DartsCell(GatedNodes):
    """DARTS recurrent cell with a single incoming edge per node (genotype nodes: DartsNode)."""

    def __init__(self, genotype, input_size: int, hidden_size: int):
        super().__init__(input_size, hidden_size, len(genotype.nodes))
        d, self.genotype = hidden_size, genotype
        init_darts_entry(self, input_size, d)
        self.weights = nn.ParameterList([new_weight(d, 2 * d) for _ in genotype.nodes])  # W_i
        # children[j]: the nodes whose edge reads s_j; their W_i are concatenated per forward
        self.children_of = [[i for i, n in enumerate(genotype.nodes, 1) if n.input == j]
                            for j in range(len(genotype.nodes))]
        self.acts = [ACTIVATIONS[n.op] for n in genotype.nodes]

    def precompute(self, x):
        pre = x @ self.w0x  # (batch, time, 2d)
        wcat = [torch.cat([self.weights[i - 1] for i in kids], 1) if kids else None
                for kids in self.children_of]  # (d, 2d * n_children)
        return pre, (wcat, torch.stack(list(self.lambdas)), self.gamma_vector(),
                     self.recurrent(self.w0h))

    def step(self, pre_t, h, consts):
        wcat, lam, gamma, w0h = consts
        states, edges = [darts_entry(pre_t, h, w0h)], {}
        for j, kids in enumerate(self.children_of):
            if kids:  # all edges out of s_j in one matmul: (batch, 2d * n_children)
                edges.update(zip(kids, (states[j] @ wcat[j]).split(2 * self.hidden_size, -1)))
            i = j + 1
            c, z = edges.pop(i).chunk(2, -1)
            src = states[self.genotype.nodes[i - 1].input]
            e = src.lerp(self.acts[i - 1](z), torch.sigmoid(c))  # s_j + sig(c)(f(z) - s_j)
            states.append(states[-1].lerp(e, lam[i - 1]))
        return self.combine(states[1:], gamma)

    @functools.cached_property
    def plan(self) -> DartsPlan:  # cached, not set in __init__: models pickled before it still load
        return DartsPlan.from_nodes(self.genotype.nodes)

    def sequence(self, x, h0, mask_h):
        """All steps at once (``cells/fused.py``): ``(outputs (B, T, d), h_T)``, as the steps compute."""
        d = self.hidden_size
        w = list(self.weights)  # W_i is w[i - 1]
        wcats = [torch.cat([w[i - 1][:, :d] for i in kids] + [w[i - 1][:, d:] for i in kids], 1)
                 for kids in self.plan.kids if kids]  # per source: [c-parts | z-parts], (d, 2d n)
        out = DartsSequence.apply(self.plan, feature_major(x @ self.w0x), h0.t(), transposed(mask_h),
                                  self.recurrent(self.w0h), torch.stack(list(self.lambdas)), self.gamma_vector(), *wcats)
        return batch_major(out)


class TwoInputCell(GatedNodes):
    """Two-input cell (genotype nodes: TwoInputNode), chain of nodes k = 1..K."""

    def __init__(self, genotype, input_size: int, hidden_size: int):
        k, d = len(genotype.nodes), hidden_size
        super().__init__(input_size, hidden_size, k)
        self.genotype = genotype
        init_two_input_entry(self, input_size, d)
        self.a = nn.ParameterList([new_weight(d, d) for _ in range(k)])
        self.b = nn.ParameterList([new_weight(d, d) for _ in range(k)])
        self.p = nn.ParameterList([nn.Parameter(torch.zeros(d)) for _ in range(k)])
        self.q = nn.ParameterList([nn.Parameter(torch.zeros(d)) for _ in range(k)])
        sides = [("h" if n.side == "skip" and i == 0 else n.side) for i, n in enumerate(genotype.nodes)]
        self.x_nodes = [i for i, s in enumerate(sides) if s == "x"]
        self.h_nodes = [i for i, s in enumerate(sides) if s == "h"]
        self.skip_nodes = [i for i, s in enumerate(sides) if s == "skip"]
        self.ops = [(BINARY_OPS[n.op], ACTIVATIONS[n.act_a], ACTIVATIONS[n.act_b]) for n in genotype.nodes]
        if genotype.carry:
            init_carry(self, input_size, d)

    @property
    def carry(self) -> bool:
        """Whether h_t = lerp(h_{t-1}, y_t, z_t) (the genotype's carry path) or h_t = y_t."""
        return self.genotype.carry

    def precompute(self, x):
        wb = qb = None
        if self.x_nodes:  # (x W_x) B_k + q_k for every node whose side input is x
            wb = torch.cat([self.b[i] for i in self.x_nodes], 1)
            qb = torch.cat([self.q[i] for i in self.x_nodes])
        pre = two_input_pre(self, x, wb, qb, self.carry)  # (batch, time, d (1 + n_x [+ 1]))
        # (d, d (1 + n_h [+ 1])): every matrix that reads h_{t-1}, where weight drop applies
        carry = [self.wzh] if self.carry else []
        wh = self.recurrent(torch.cat([self.w0h] + [self.b[i] for i in self.h_nodes] + carry, 1))
        bh = torch.cat([torch.zeros_like(self.b0)] + [self.q[i] for i in self.h_nodes]
                       + [torch.zeros_like(self.b0)] * len(carry))
        # node k's matmul also computes the B-projection of node k+1 when that one reads s_{k-1}
        wa = [torch.cat([self.a[i]] + ([self.b[i + 1]] if i + 1 in self.skip_nodes else []), 1)
              for i in range(self.n_nodes)]
        ba = [torch.cat([self.p[i]] + ([self.q[i + 1]] if i + 1 in self.skip_nodes else []))
              for i in range(self.n_nodes)]
        return pre, (wh, bh, wa, ba, torch.stack(list(self.lambdas)), self.gamma_vector())

    def step(self, pre_t, h, consts):
        wh, bh, wa, ba, lam, gamma = consts
        d = self.hidden_size
        hp = torch.addmm(bh, h, wh).split(d, -1)  # entry h-part, B-parts of h-side nodes[, z]
        xp = pre_t.split(d, -1)  # entry x-part, B-parts of x-side nodes[, z]
        q_pre = dict(zip(self.x_nodes, xp[1:])) | dict(zip(self.h_nodes, hp[1:]))
        states = [torch.tanh(xp[0] + hp[0])]  # s_0, additive entry node
        for i, (op, act_a, act_b) in enumerate(self.ops):
            u = torch.addmm(ba[i], states[-1], wa[i])  # (batch, d or 2d)
            if u.shape[-1] > d:
                u, q_pre[i + 1] = u[:, :d], u[:, d:]
            m = op(act_a(u), act_b(q_pre[i]))
            states.append(states[-1].lerp(m, lam[i]))
        y = self.combine(states[1:], gamma)
        return carry_out(h, y, xp[-1] + hp[-1]) if self.carry else y

    @functools.cached_property
    def plan(self) -> TwoInputPlan:  # cached, not set in __init__: models pickled before it still load
        nodes = self.genotype.nodes
        return TwoInputPlan(ops=tuple(n.op for n in nodes), act_a=tuple(n.act_a for n in nodes),
                            act_b=tuple(n.act_b for n in nodes), x_nodes=tuple(self.x_nodes),
                            h_nodes=tuple(self.h_nodes), skip_nodes=tuple(self.skip_nodes),
                            carry=self.carry)

    def sequence(self, x, h0, mask_h):
        """All steps at once (``cells/fused.py``): ``(outputs (B, T, d), h_T)``, as the steps compute."""
        pre, (wh, bh, wa, ba, lam, gamma) = self.precompute(x)
        out = TwoInputSequence.apply(self.plan, feature_major(pre), h0.t(), transposed(mask_h), wh, bh,
                                     lam, gamma, *wa, *ba)
        return batch_major(out)
