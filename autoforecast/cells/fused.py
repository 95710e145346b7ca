"""Whole-sequence forward and hand-written backward of the derived cells.

Run step by step under autograd, a derived cell records about a dozen small operations per node
and time step, and its backward accumulates every weight gradient one step at a time. Here one
``torch.autograd.Function`` per backbone runs the time loop without recording and keeps what
the backward needs in ``(time, feature, batch)`` buffers. Layout and batching:

- feature-major: a state is ``(hidden, batch)``, so the rows of a matmul's output that belong
  to one node are one contiguous block (transcendental kernels are several times slower on
  strided slices);
- DARTS: all edges out of a state ``s_j`` are one matmul, and their gates (sigmoid), their
  activations (one call per activation: the children of ``s_j`` are ordered by activation) and
  their highway mixes ``e_i = lerp(s_j, f(z_i), sigmoid(c_i))`` are one operation each over
  all children; the backward does the same per source state;
- the backward first forms, for all steps at once, the factors of each step's gradient that
  hold no recurrence (activation and gate derivatives, through the saved values); it then walks
  time in reverse computing only gradients with respect to states (a few multiplications and
  one matmul per state that feeds others), and forms every weight gradient at the end as one
  contraction over all time steps and the batch, and the gradients of the gates lambda and the
  output weights gamma as one reduction each.

The functions compute exactly what :meth:`DartsCell.step` / :meth:`TwoInputCell.step` compute
(checked in float64 in ``tests/test_cells.py``); the step methods remain the reference.
Backward is first order only (no double backward), which is all retraining needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

aten = torch.ops.aten


def _act_into(name: str, z: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    if name == "tanh":
        return torch.tanh(z, out=out)
    if name == "sigmoid":
        return torch.sigmoid(z, out=out)
    if name == "relu":
        return torch.clamp_min(z, 0, out=out)
    return out.copy_(z)  # identity


def _act_grad_into(name: str, grad: torch.Tensor, a: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """out = grad * f'(z), written through f's output a = f(z), one fused kernel each."""
    if name == "tanh":
        return aten.tanh_backward.grad_input(grad, a, grad_input=out)
    if name == "sigmoid":
        return aten.sigmoid_backward.grad_input(grad, a, grad_input=out)
    if name == "relu":
        return aten.threshold_backward.grad_input(grad, a, 0, grad_input=out)
    return out.copy_(grad)  # identity


def _combine_into(states: torch.Tensor, gamma: torch.Tensor, out: torch.Tensor) -> None:
    """out (d, B) = sum_k gamma_k states[k], states (K, d, B), as one matrix-vector product."""
    torch.mv(states.reshape(states.shape[0], -1).t(), gamma, out=out.view(-1))


def _contract(inputs: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    """sum over time and batch of inputs_t grads_t^T: (T, d, B), (T, n, B) -> (d, n), one matmul.

    Both are first copied to (feature, time * batch), batch staying the inner dimension (the time
    loop wants each step's block contiguous; one big matmul beats a small one per step).
    """
    flat = [x.transpose(0, 1).reshape(x.shape[1], -1) for x in (inputs, grads)]
    return flat[0] @ flat[1].t()


def _state_grads(states: torch.Tensor) -> torch.Tensor:
    """The (T, K+1, d, B) buffer of dL/ds; only s_0's part needs zeros (the others are first
    written by the gamma product of each step)."""
    ds = torch.empty_like(states)
    ds[:, 0].zero_()
    return ds


def _by_time_and_node(states: torch.Tensor):
    """Views [t][k] of a (T, K, d, B) buffer, made once rather than indexed at every use."""
    return [list(at_t.unbind(0)) for at_t in states.unbind(0)]


def _output_grads(grad_h, gamma):
    """A fresh (T, d, B) buffer of dL/dh_t (the backward adds the recurrent part into it), and
    gamma shaped for broadcasting over (K, d, B)."""
    return torch.empty_like(grad_h).copy_(grad_h), gamma.view(-1, 1, 1)


def _gate_grads(states, deltas, ds, dh):
    """dL/dgamma_k = sum_t <s_k, dh_t> (states (T, K+1, d, B), dh (T, d, B)), and
    dL/dlambda_k = sum <delta_k, ds_k> for s_k = lerp(s_{k-1}, m_k, lambda_k), delta_k = m_k - s_{k-1}."""
    steps, k = states.shape[0], states.shape[1] - 1
    dgamma = torch.bmm(states[:, 1:].reshape(steps, k, -1), dh.reshape(steps, -1, 1)).sum((0, 2))
    dlam = torch.stack([(delta * ds[:, i + 1]).sum() for i, delta in enumerate(deltas)])
    return dgamma, dlam


@dataclass(frozen=True)
class DartsPlan:
    """Static structure of a DARTS derived cell, nodes i = 1..K reading states j = 0..K-1."""

    inputs: tuple[int, ...]  # s_j read by node i
    acts: tuple[str, ...]  # f_i of node i
    kids: tuple[tuple[int, ...], ...]  # per state j: the nodes reading it, ordered by activation

    @classmethod
    def from_nodes(cls, nodes) -> DartsPlan:
        kids = tuple(tuple(sorted((i for i, n in enumerate(nodes, 1) if n.input == j),
                                  key=lambda i: (nodes[i - 1].op, i))) for j in range(len(nodes)))
        return cls(tuple(n.input for n in nodes), tuple(n.op for n in nodes), kids)

    @property
    def sources(self) -> tuple[int, ...]:
        return tuple(j for j, kids in enumerate(self.kids) if kids)

    def slot(self, i: int) -> int:
        return self.kids[self.inputs[i - 1]].index(i)

    def act_groups(self, j: int, d: int):
        """(activation, first row, end row) of the z-rows of state j's children, one per activation."""
        groups = []
        for n, i in enumerate(self.kids[j]):
            if groups and groups[-1][0] == self.acts[i - 1]:
                groups[-1][2] = (n + 1) * d
            else:
                groups.append([self.acts[i - 1], n * d, (n + 1) * d])
        return [tuple(g) for g in groups]


class DartsSequence(torch.autograd.Function):
    """(plan, pre (T, 2d, B), h0 (d, B), mask (d, B) or None, W_0h, lambda, gamma, *wcat) -> H (T, d, B).

    ``wcat`` per source state j (plan order): its children's W_i concatenated as
    ``[c-parts of all children | z-parts of all children]``, (d, 2 d n_j).
    """

    @staticmethod
    def forward(ctx, plan: DartsPlan, pre, h0, mask, w0h, lam, gamma, *wcats):
        (steps, _, batch), d, k = pre.shape, h0.shape[0], len(plan.inputs)
        new = pre.new_empty
        S, HM, H, G0, A0 = new(steps, k + 1, d, batch), *(new(steps, d, batch) for _ in range(4))
        kids = {j: len(plan.kids[j]) for j in plan.sources}
        G, A = ({j: new(steps, n * d, batch) for j, n in kids.items()} for _ in range(2))
        E = {j: new(steps, n, d, batch) for j, n in kids.items()}
        w_t = {j: w.t() for j, w in zip(plan.sources, wcats)}
        groups = {j: plan.act_groups(j, d) for j in plan.sources}
        e_of = [None] + [E[plan.inputs[i - 1]][:, plan.slot(i)].unbind(0) for i in range(1, k + 1)]
        Sv, (Gv, Av, Ev) = _by_time_and_node(S), ({j: b.unbind(0) for j, b in x.items()} for x in (G, A, E))
        S_t, HMv, Hv, pre_v = S.unbind(0), HM.unbind(0), H.unbind(0), pre.unbind(0)
        G0v, A0v = G0.unbind(0), A0.unbind(0)
        lamf, w0h_t, h = lam.tolist(), w0h.t(), h0
        for t in range(steps):
            hm = torch.mul(h, mask, out=HMv[t]) if mask is not None else HMv[t].copy_(h)
            y = torch.addmm(pre_v[t], w0h_t, hm)  # (2d, B): [c_0; z_0]
            torch.lerp(hm, torch.tanh(y[d:], out=A0v[t]), torch.sigmoid(y[:d], out=G0v[t]), out=Sv[t][0])
            for i in range(1, k + 1):
                j = i - 1
                if j in w_t:  # every edge out of s_j: one matmul, one sigmoid, one mix
                    nd, s_j = kids[j] * d, Sv[t][j]
                    y = torch.mm(w_t[j], s_j)  # (2 d n_j, B)
                    torch.sigmoid(y[:nd], out=Gv[j][t])
                    for act, lo, hi in groups[j]:
                        _act_into(act, y[nd + lo:nd + hi], Av[j][t][lo:hi])
                    torch.lerp(s_j, Av[j][t].view(-1, d, batch), Gv[j][t].view(-1, d, batch), out=Ev[j][t])
                torch.lerp(Sv[t][j], e_of[i][t], lamf[j], out=Sv[t][i])
            _combine_into(S_t[t][1:], gamma, Hv[t])
            h = Hv[t]
        ctx.plan = plan
        ctx.save_for_backward(S, G0, A0, HM, mask, w0h, lam, gamma, *wcats, *G.values(), *A.values(),
                              *E.values())
        return H

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_h):
        plan, saved = ctx.plan, ctx.saved_tensors
        S, G0, A0, HM, mask, w0h, lam, gamma = saved[:8]
        sources, (steps, k1, d, batch) = plan.sources, S.shape
        k, n_src = k1 - 1, len(plan.sources)
        W, G, A, E = (dict(zip(sources, saved[8 + n * n_src:8 + (n + 1) * n_src])) for n in range(4))
        kids = {j: len(plan.kids[j]) for j in sources}
        DH, gamma3 = _output_grads(grad_h, gamma)
        DS = _state_grads(S)
        DE = {j: S.new_empty(steps, n, d, batch) for j, n in kids.items()}  # de_i, by source
        DY = {j: S.new_empty(steps, 2, n, d, batch) for j, n in kids.items()}  # [dc; dz] of the edges
        DY0 = S.new_empty(steps, 2, d, batch)
        # e = lerp(s, a, g) with g = sigmoid(c), a = f(z) gives dc = de (a - s) g (1 - g),
        # dz = de g f'(z), ds += de (1 - g): these coefficients hold no recurrence, so they are
        # formed for all steps at once here, and the time loop multiplies by de only
        coef = {j: _highway_coefficients(S[:, j], G[j].view(steps, n, d, batch),
                                         A[j].view(steps, n, d, batch), plan.act_groups(j, 1))
                for j, n in kids.items()}
        c0 = _highway_coefficients(HM, G0, A0, [("tanh", 0, d)])
        c0 = [c.unbind(0) for c in c0]
        coef = {j: [c.unbind(0) for c in cs] for j, cs in coef.items()}
        de_of = [None] + [DE[plan.inputs[i - 1]][:, plan.slot(i)].unbind(0) for i in range(1, k + 1)]
        DSv, DS_t, DHv = _by_time_and_node(DS), DS.unbind(0), DH.unbind(0)
        DEv = {j: b.unbind(0) for j, b in DE.items()}
        DYc, DYz = ({j: b[:, part].unbind(0) for j, b in DY.items()} for part in (0, 1))
        DYflat = {j: b.view(steps, -1, batch).unbind(0) for j, b in DY.items()}
        DY0c, DY0z, DY0flat = DY0[:, 0].unbind(0), DY0[:, 1].unbind(0), DY0.view(steps, -1, batch).unbind(0)
        lam_t, keep = lam.unbind(), [1.0 - v for v in lam.tolist()]

        def source_backward(j, t):
            """Gradients through every edge out of s_j at step t, added into ds_j."""
            p, (c_dc, c_dz, c_ds) = DEv[j][t], coef[j]
            torch.mul(p, c_dc[t], out=DYc[j][t])
            torch.mul(p, c_dz[t], out=DYz[j][t])
            DSv[t][j].add_(torch.mul(p, c_ds[t]).sum(0)).addmm_(W[j], DYflat[j][t])

        dhm = None
        for t in reversed(range(steps)):
            dh = DHv[t] if dhm is None else DHv[t].add_(dhm)  # becomes the total dL/dh_t
            torch.mul(gamma3, dh, out=DS_t[t][1:])
            for i in range(k, 0, -1):
                if i in kids:
                    source_backward(i, t)
                ds, j = DSv[t][i], i - 1  # s_i = lerp(s_{i-1}, e_i, lambda_i)
                torch.mul(ds, lam_t[j], out=de_of[i][t])
                DSv[t][j].add_(ds, alpha=keep[j])
            if 0 in kids:
                source_backward(0, t)
            ds0 = DSv[t][0]  # s_0 = lerp(hm, tanh(z_0), sigmoid(c_0))
            torch.mul(ds0, c0[0][t], out=DY0c[t])
            torch.mul(ds0, c0[1][t], out=DY0z[t])
            dhm = torch.addmm(torch.mul(ds0, c0[2][t]), w0h, DY0flat[t])
            if mask is not None:
                dhm.mul_(mask)
        e_nodes = [E[plan.inputs[i - 1]][:, plan.slot(i)] for i in range(1, k + 1)]
        dgamma, dlam = _gate_grads(S, [e - S[:, i] for i, e in enumerate(e_nodes)], DS, DH)
        dwcats = [_contract(S[:, j], DY[j].view(steps, -1, batch)) for j in sources]
        dy0 = DY0.view(steps, -1, batch)
        return (None, dy0, dhm, None, _contract(HM, dy0), dlam, dgamma, *dwcats)


def _highway_coefficients(s, g, a, groups):
    """For e = lerp(s, a, g), g = sigmoid(c), a = f(z), over all steps: the factors of de in dc,
    dz and ds: (a - s) g (1 - g), g f'(z), 1 - g. Either the n edges out of one state
    (``g``, ``a`` of (T, n, d, B), ``s`` of (T, d, B) broadcast over them; ``groups``
    (activation, first, end) count edges) or the entry node (all three (T, d, B); ``groups``
    count rows)."""
    if g.dim() == 4:
        s = s.unsqueeze(1)
    c_dc = aten.sigmoid_backward(a - s, g)
    c_dz = torch.empty_like(g)
    for act, lo, hi in groups:
        _act_grad_into(act, g[:, lo:hi], a[:, lo:hi], c_dz[:, lo:hi])
    return c_dc, c_dz, 1 - g


@dataclass(frozen=True)
class TwoInputPlan:
    ops: tuple[str, ...]  # binary op of node i = 0..K-1
    act_a: tuple[str, ...]
    act_b: tuple[str, ...]
    x_nodes: tuple[int, ...]  # nodes whose side input comes from pre, in pre's row order
    h_nodes: tuple[int, ...]  # ... from h (rows of the h projection after the entry's)
    skip_nodes: tuple[int, ...]  # ... from s_{i-1} (extra rows of node i-1's projection)

    def side_slots(self, d: int):
        """Node i's side input as (where, first row): "x" in pre, "h" in hp, "skip" in u_{i-1}."""
        slots = {i: ("x", d * (1 + n)) for n, i in enumerate(self.x_nodes)}
        slots |= {i: ("h", d * (1 + n)) for n, i in enumerate(self.h_nodes)}
        return slots | {i: ("skip", d) for i in self.skip_nodes}


class TwoInputSequence(torch.autograd.Function):
    """(plan, pre (T, d (1 + n_x), B), h0 (d, B), mask or None, wh, bh, lambda, gamma, *wa, *ba) -> H."""

    @staticmethod
    def forward(ctx, plan: TwoInputPlan, pre, h0, mask, wh, bh, lam, gamma, *wab):
        (steps, _, batch), d, k = pre.shape, h0.shape[0], len(plan.ops)
        wa_t, ba = [w.t() for w in wab[:k]], [b.unsqueeze(1) for b in wab[k:]]
        S = pre.new_empty(steps, k + 1, d, batch)
        PA, PB, M = (pre.new_empty(k, steps, d, batch) for _ in range(3))  # PA unset for "right",
        # PB for "left": the backward reads neither there
        HM, H = pre.new_empty(steps, d, batch), pre.new_empty(steps, d, batch)
        Sv, (PAv, PBv, Mv) = _by_time_and_node(S), ([b.unbind(0) for b in x] for x in (PA, PB, M))
        S_t, HMv, Hv, pre_v = S.unbind(0), HM.unbind(0), H.unbind(0), pre.unbind(0)
        slots, lamf, wh_t, bh1, h = plan.side_slots(d), lam.tolist(), wh.t(), bh.unsqueeze(1), h0
        for t in range(steps):
            hm = torch.mul(h, mask, out=HMv[t]) if mask is not None else HMv[t].copy_(h)
            hp = torch.addmm(bh1, wh_t, hm)  # entry h-part, then the h-side nodes' projections
            sides = {"x": pre_v[t], "h": hp}
            torch.tanh(torch.add(pre_v[t][:d], hp[:d]), out=Sv[t][0])
            u_prev = None
            for i, op in enumerate(plan.ops):
                u = torch.addmm(ba[i], wa_t[i], Sv[t][i])  # (d or 2d, B)
                where, row = slots[i]
                q = (u_prev if where == "skip" else sides[where])[row:row + d]
                u_prev = u
                a, b, m = PAv[i][t], PBv[i][t], Mv[i][t]
                if op != "right":
                    _act_into(plan.act_a[i], u[:d], a)
                if op != "left":
                    _act_into(plan.act_b[i], q, b)
                if op == "add":
                    torch.add(a, b, out=m)
                elif op == "hadamard":
                    torch.mul(a, b, out=m)
                elif op == "gate":
                    torch.mul(torch.sigmoid(a), torch.tanh(b), out=m)
                else:
                    m.copy_(a if op == "left" else b)
                torch.lerp(Sv[t][i], m, lamf[i], out=Sv[t][i + 1])
            _combine_into(S_t[t][1:], gamma, Hv[t])
            h = Hv[t]
        ctx.plan = plan
        ctx.save_for_backward(S, PA, PB, M, HM, mask, wh, lam, gamma, *wab[:k])
        return H

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_h):
        S, PA, PB, M, HM, mask, wh, lam, gamma, *wa = ctx.saved_tensors
        plan, (steps, k1, d, batch) = ctx.plan, S.shape
        k, slots, keep = k1 - 1, plan.side_slots(d), [1.0 - v for v in lam.tolist()]
        DH, gamma3 = _output_grads(grad_h, gamma)
        DS = _state_grads(S)
        # gradients of the projections, (T, rows, B); the rows no op reads stay zero
        DPRE = S.new_empty(steps, d * (1 + len(plan.x_nodes)), batch)
        DHP = S.new_empty(steps, wh.shape[1], batch)
        DU = [S.new_empty(steps, w.shape[1], batch) for w in wa]
        targets = {"x": DPRE, "h": DHP}
        du_of, dq_of = [], []  # per node, per step: where dL/du and dL/dq go
        for i, op in enumerate(plan.ops):
            where, row = slots[i]
            dq = (DU[i - 1] if where == "skip" else targets[where])[:, row:row + d]
            du_of.append(DU[i][:, :d].unbind(0) if op != "right" else DU[i][:, :d].zero_())
            dq_of.append(dq.unbind(0) if op != "left" else dq.zero_())
        coef = [_node_coefficients(plan, i, PA[i], PB[i], lam[i]) for i in range(k)]
        coef = [tuple(None if c is None else c.unbind(0) for c in cs) for cs in coef]
        c0 = (1 - S[:, 0] * S[:, 0]).unbind(0)  # s_0 = tanh(pre_x + hp_0)
        DSv, DS_t, DHv, DUv = _by_time_and_node(DS), DS.unbind(0), DH.unbind(0), [b.unbind(0) for b in DU]
        DPRE0, DHP0, DHPv = DPRE[:, :d].unbind(0), DHP[:, :d].unbind(0), DHP.unbind(0)
        dhm = None
        for t in reversed(range(steps)):
            dh = DHv[t] if dhm is None else DHv[t].add_(dhm)
            torch.mul(gamma3, dh, out=DS_t[t][1:])
            for i in range(k - 1, -1, -1):
                ds_next, (c_u, c_q) = DSv[t][i + 1], coef[i]  # s_{i+1} = lerp(s_i, m_i, lambda_i)
                if c_u is not None:
                    torch.mul(ds_next, c_u[t], out=du_of[i][t])
                if c_q is not None:
                    torch.mul(ds_next, c_q[t], out=dq_of[i][t])
                DSv[t][i].add_(ds_next, alpha=keep[i]).addmm_(wa[i], DUv[i][t])
            torch.mul(DSv[t][0], c0[t], out=DPRE0[t])
            torch.mul(DSv[t][0], c0[t], out=DHP0[t])
            dhm = wh @ DHPv[t]
            if mask is not None:
                dhm.mul_(mask)
        dgamma, dlam = _gate_grads(S, [M[i] - S[:, i] for i in range(k)], DS, DH)
        dwa = [_contract(S[:, i], DU[i]) for i in range(k)]
        dba = [g.sum((0, 2)) for g in DU]
        return (None, DPRE, dhm, None, _contract(HM, DHP), DHP.sum((0, 2)), dlam, dgamma, *dwa, *dba)


def _node_coefficients(plan: TwoInputPlan, i: int, a, b, lam):
    """For s_{i+1} = lerp(s_i, op(a, b), lambda), a = f_a(u), b = f_b(q), over all steps: the
    factors of ds_{i+1} in du and dq (None where the op ignores that input)."""
    op = plan.ops[i]
    if op == "add":
        da, db = lam.expand_as(a), lam.expand_as(b)
    elif op == "hadamard":
        da, db = lam * b, lam * a
    elif op == "gate":
        sa, tb = torch.sigmoid(a), torch.tanh(b)
        da, db = aten.sigmoid_backward(lam * tb, sa), aten.tanh_backward(lam * sa, tb)
    else:
        da, db = (lam.expand_as(a), None) if op == "left" else (None, lam.expand_as(b))
    out = []
    for grad, value, act in ((da, a, plan.act_a[i]), (db, b, plan.act_b[i])):
        if grad is not None:
            grad = _act_grad_into(act, grad, value, torch.empty_like(value))
        out.append(grad)
    return out
