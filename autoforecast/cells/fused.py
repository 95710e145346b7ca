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
- the backward walks time in reverse once. Everything it needs for one step lives in small
  buffers that stay in cache: the state gradients of the step, the edges' or nodes' gradient
  factors (formed in the loop from the saved gates and activations), and each weight gradient
  is accumulated by one matmul per step into the same matrix. Forming those factors or the
  weight gradients for all steps at once beforehand (an earlier version) cost more than it
  saved: whole-sequence temporaries of tens of MB are freshly allocated and page-faulted at
  every training step (measured in ``docs/search.md``). Only the gradient of the input
  projections and the gates' per-step terms (lambda, gamma) are kept for every step.

The functions compute exactly what :meth:`DartsCell.step` / :meth:`TwoInputCell.step` compute
(checked in float64 in ``tests/test_cells.py``); the step methods remain the reference.
Backward is first order only (no double backward), which is all retraining needs. The
operations come from the explicit tables of ``cells/fused_ops.py``; a plan raises their
:class:`~autoforecast.cells.fused_ops.UnsupportedOperationError` when it is made for an
operation missing there.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from autoforecast.cells.fused_ops import activation_kernel, binary_kernel

aten = torch.ops.aten


def _combine_into(states: torch.Tensor, gamma: torch.Tensor, out: torch.Tensor) -> None:
    """out (d, B) = sum_k gamma_k states[k], states (K, d, B), as one matrix-vector product."""
    torch.mv(states.reshape(states.shape[0], -1).t(), gamma, out=out.view(-1))


def _by_time_and_node(states: torch.Tensor):
    """Views [t][k] of a (T, K, d, B) buffer, made once rather than indexed at every use."""
    return [list(at_t.unbind(0)) for at_t in states.unbind(0)]


@dataclass(frozen=True)
class DartsPlan:
    """Static structure of a DARTS derived cell, nodes i = 1..K reading states j = 0..K-1."""

    inputs: tuple[int, ...]  # s_j read by node i
    acts: tuple[str, ...]  # f_i of node i
    kids: tuple[tuple[int, ...], ...]  # per state j: the nodes reading it, ordered by activation

    def __post_init__(self):
        for act in self.acts:  # raises for an activation the kernels lack
            activation_kernel(act)

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
        """(activation, first row, end row) of the z-rows of state j's children, one per activation
        (the activation as its kernels, ``fused_ops.ActivationKernel``)."""
        groups = []
        for n, i in enumerate(self.kids[j]):
            if groups and groups[-1][0] == self.acts[i - 1]:
                groups[-1][2] = (n + 1) * d
            else:
                groups.append([self.acts[i - 1], n * d, (n + 1) * d])
        return [(activation_kernel(act), lo, hi) for act, lo, hi in groups]


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
                        act.forward(y[nd + lo:nd + hi], Av[j][t][lo:hi])
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
        k, n_src = k1 - 1, len(sources)
        W, G, A, E = (dict(zip(sources, saved[8 + n * n_src:8 + (n + 1) * n_src])) for n in range(4))
        new = S.new_empty
        # kept for every step: the gradient of the input projections and the gates' terms;
        # the state gradients live for one step in small buffers that stay in cache
        DY0, DGAMMA, DLAM = new(steps, 2, d, batch), new(steps, k), new(steps, k)
        DS, DELTA, DH, DHM = new(k1, d, batch), new(k, d, batch), new(d, batch), new(d, batch)
        edges = {j: _EdgesBackward(W[j], S[:, j], G[j], A[j], E[j], plan.act_groups(j, 1), DS[j])
                 for j in sources}
        entry = _EdgesBackward(w0h, HM, G0, A0, S[:, :1], [(activation_kernel("tanh"), 0, 1)], DHM,
                               dy=DY0.view(steps, 2, 1, d, batch), de=DS[:1], assign=True)
        de_of = [None] + [edges[plan.inputs[i - 1]].de[plan.slot(i)] for i in range(1, k + 1)]
        e_of = [None] + [E[plan.inputs[i - 1]][:, plan.slot(i)].unbind(0) for i in range(1, k + 1)]
        lam_t, keep, gamma3 = lam.unbind(), [1.0 - v for v in lam.tolist()], gamma.view(-1, 1, 1)
        DSv, DS_out, delta_v = DS.unbind(0), DS[1:], DELTA.unbind(0)
        St, S_out = _by_time_and_node(S), S.view(steps, k1, -1)[:, 1:].unbind(0)
        grad_v, DGv, DLv = grad_h.contiguous().unbind(0), DGAMMA.unbind(0), DLAM.unbind(0)
        dhm = None
        for t in reversed(range(steps)):
            dh = grad_v[t] if dhm is None else torch.add(grad_v[t], dhm, out=DH)  # total dL/dh_t
            torch.mul(gamma3, dh, out=DS_out)
            torch.mv(S_out[t], dh.view(-1), out=DGv[t])
            DSv[0].zero_()
            for i in range(k, 0, -1):
                if i in edges:
                    edges[i].backward(t)
                ds, j = DSv[i], i - 1  # s_i = lerp(s_{i-1}, e_i, lambda_i)
                torch.mul(ds, lam_t[j], out=de_of[i])
                DSv[j].add_(ds, alpha=keep[j])
            if 0 in edges:
                edges[0].backward(t)
            for i in range(1, k + 1):  # dL/dlambda_i = <e_i - s_{i-1}, ds_i>
                torch.sub(e_of[i][t], St[t][i - 1], out=delta_v[i - 1])
            torch.sum(DELTA.mul_(DS_out).view(k, -1), 1, out=DLv[t])
            entry.backward(t)  # dL/dhm, into DHM
            dhm = DHM if mask is None else DHM.mul_(mask)
        return (None, DY0.view(steps, -1, batch), dhm, None, entry.dw, DLAM.sum(0), DGAMMA.sum(0),
                *(e.dw for e in edges.values()))


class _EdgesBackward:
    """Backward, one step at a time, through every edge e = lerp(s_j, f(z), sigmoid(c)) out of a
    state s_j: given de (written into ``self.de`` by the caller), dz = de g f'(z),
    dc = de (1 - g) g (f(z) - s_j) = de (1 - g) (e - s_j), and ds_j += de (1 - g) + W [dc; dz]
    (``ds_j =`` with ``assign``); the weight gradient is accumulated step by step.

    ``[dc; dz]`` goes to a one-step buffer, or to ``dy`` (T, 2, n, d, B) when the caller keeps it
    for every step; ``de`` may be given (a view the caller writes) instead of a new buffer.
    The entry node s_0 = lerp(hm, tanh(z_0), sigmoid(c_0)) is one such edge out of hm."""

    def __init__(self, w, s, g, a, e, groups, ds, dy=None, de=None, assign=False):
        (steps, n, d, batch), new = e.shape, e.new_empty
        self.w, self.ds, self.dw, self.assign = w, ds, torch.zeros_like(w), assign
        self.s, self.e = s.unbind(0), e.unbind(0)
        self.g, self.a = g.view(steps, n, d, batch).unbind(0), a.view(steps, n, d, batch).unbind(0)
        self.de = new(n, d, batch) if de is None else de
        self.q, self.r = new(n, d, batch), new(n, d, batch)
        self.groups = [(act.backward, slice(lo, hi)) for act, lo, hi in groups]  # f' per group
        self.qs = [self.q[part] for _, part in self.groups]
        self.single = n == 1
        self.per_step = dy is not None
        # per step (or once, for the one-step buffer): [dc; dz] flat, its transpose, dc, dz parts
        self.views = [(y.view(-1, batch), y.view(-1, batch).t(), y[0], [y[1, part] for _, part in self.groups])
                      for y in (dy.unbind(0) if self.per_step else [new(2, n, d, batch)])]

    def backward(self, t: int) -> None:
        p, q, r, s, ds = self.de, self.q, self.r, self.s[t], self.ds
        flat, flat_t, dc, dz = self.views[t if self.per_step else 0]
        torch.mul(p, self.g[t], out=q)
        if len(self.groups) == 1:
            self.groups[0][0](q, self.a[t], dz[0])
        else:
            a = self.a[t]
            for (act_grad, part), q_part, dz_part in zip(self.groups, self.qs, dz):
                act_grad(q_part, a[part], dz_part)
        torch.sub(p, q, out=r)
        torch.mul(torch.sub(self.e[t], s, out=q), r, out=dc)
        direct = r[0] if self.single else r.sum(0)
        if self.assign:
            torch.addmm(direct, self.w, flat, out=ds)
        else:
            ds.add_(direct).addmm_(self.w, flat)
        self.dw.addmm_(s, flat_t)


@dataclass(frozen=True)
class TwoInputPlan:
    ops: tuple[str, ...]  # binary op of node i = 0..K-1
    act_a: tuple[str, ...]
    act_b: tuple[str, ...]
    x_nodes: tuple[int, ...]  # nodes whose side input comes from pre, in pre's row order
    h_nodes: tuple[int, ...]  # ... from h (rows of the h projection after the entry's)
    skip_nodes: tuple[int, ...]  # ... from s_{i-1} (extra rows of node i-1's projection)
    carry: bool = False  # the update gate's rows come last in pre and in hp

    def __post_init__(self):
        self.kernels()  # raises for an operation the kernels lack

    def kernels(self):
        """Per node: (binary op, f_a, f_b) as their kernels (``fused_ops``)."""
        return [(binary_kernel(op), activation_kernel(a), activation_kernel(b))
                for op, a, b in zip(self.ops, self.act_a, self.act_b)]

    @property
    def gate_nodes(self) -> tuple[int, ...]:
        """Nodes whose op keeps sigmoid(a) and tanh(b) for the backward (a gate)."""
        return tuple(i for i, op in enumerate(self.ops) if binary_kernel(op).keeps_gate)

    def side_slots(self, d: int):
        """Node i's side input as (where, first row): "x" in pre, "h" in hp, "skip" in u_{i-1}."""
        slots = {i: ("x", d * (1 + n)) for n, i in enumerate(self.x_nodes)}
        slots |= {i: ("h", d * (1 + n)) for n, i in enumerate(self.h_nodes)}
        return slots | {i: ("skip", d) for i in self.skip_nodes}


class TwoInputSequence(torch.autograd.Function):
    """(plan, pre (T, d (1 + n_x [+ 1]), B), h0 (d, B), mask or None, wh, bh, lambda, gamma, *wa,
    *ba) -> H. With ``plan.carry`` the last d rows of pre and of the h projection are the update
    gate's: H_t = lerp(hm_t, Y_t, Z_t), Y_t the nodes' weighted sum, Z_t = sigmoid(those rows)."""

    @staticmethod
    def forward(ctx, plan: TwoInputPlan, pre, h0, mask, wh, bh, lam, gamma, *wab):
        (steps, _, batch), d, k = pre.shape, h0.shape[0], len(plan.ops)
        wa_t, ba = [w.t() for w in wab[:k]], [b.unsqueeze(1) for b in wab[k:]]
        new, slots, kernels = pre.new_empty, plan.side_slots(d), plan.kernels()
        S, PA, PB, M = new(steps, k + 1, d, batch), *(new(steps, k, d, batch) for _ in range(3))
        # PA is unset where the op reads no a ("right"), PB where it reads no b ("left"): the
        # backward reads neither there; a gate keeps its sigmoid(a) and tanh(b) (SG, TG)
        gates = {i: n for n, i in enumerate(plan.gate_nodes)}  # node -> its slot in SG, TG
        SG, TG = new(steps, len(gates), d, batch), new(steps, len(gates), d, batch)
        HM, H = new(steps, d, batch), new(steps, d, batch)
        Y, Z = (new(steps, d, batch), new(steps, d, batch)) if plan.carry else (None, None)
        Yv, Zv = (Y.unbind(0), Z.unbind(0)) if plan.carry else (None, None)
        zx, zh = pre.shape[1] - d, wh.shape[1] - d  # the gate's rows, with the carry
        for i in plan.x_nodes:  # a side input read from x holds no recurrence: all steps at once
            op, _, act_b = kernels[i]
            if op.reads_b:
                row = slots[i][1]
                act_b.forward(pre[:, row:row + d], PB[:, i])
        Sv, PAv, PBv, Mv, SGv, TGv = map(_by_time_and_node, (S, PA, PB, M, SG, TG))
        S_t, HMv, Hv, pre_v = S.unbind(0), HM.unbind(0), H.unbind(0), pre.unbind(0)
        lamf, wh_t, bh1, h = lam.tolist(), wh.t(), bh.unsqueeze(1), h0
        for t in range(steps):
            hm = torch.mul(h, mask, out=HMv[t]) if mask is not None else HMv[t].copy_(h)
            hp = torch.addmm(bh1, wh_t, hm)  # entry h-part, then the h-side nodes' projections
            torch.tanh(torch.add(pre_v[t][:d], hp[:d]), out=Sv[t][0])
            u_prev = None
            for i, (op, act_a, act_b) in enumerate(kernels):
                u = torch.addmm(ba[i], wa_t[i], Sv[t][i])  # (d or 2d, B)
                where, row = slots[i]
                a, b, m = PAv[t][i], PBv[t][i], Mv[t][i]
                if op.reads_a:
                    act_a.forward(u[:d], a)
                if op.reads_b and where != "x":
                    act_b.forward((u_prev if where == "skip" else hp)[row:row + d], b)
                u_prev = u
                gate = (SGv[t][gates[i]], TGv[t][gates[i]]) if i in gates else None
                op.forward(a, b, m, gate)
                torch.lerp(Sv[t][i], m, lamf[i], out=Sv[t][i + 1])
            if plan.carry:  # h_t = lerp(hm, y_t, z_t)
                _combine_into(S_t[t][1:], gamma, Yv[t])
                z = torch.add(pre_v[t][zx:], hp[zh:], out=Zv[t])
                torch.lerp(hm, Yv[t], torch.sigmoid(z, out=z), out=Hv[t])
            else:
                _combine_into(S_t[t][1:], gamma, Hv[t])
            h = Hv[t]
        ctx.plan = plan
        ctx.save_for_backward(S, PA, PB, M, SG, TG, HM, mask, wh, lam, gamma, Y, Z, *wab[:k])
        return H

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_h):
        S, PA, PB, M, SG, TG, HM, mask, wh, lam, gamma, Y, Z, *wa = ctx.saved_tensors
        plan, (steps, k1, d, batch) = ctx.plan, S.shape
        k, slots, new = k1 - 1, plan.side_slots(d), S.new_empty
        keep, gamma3 = [1.0 - v for v in lam.tolist()], gamma.view(-1, 1, 1)
        # kept for every step: the gradient of pre and the bias and gate terms; the other
        # gradients live for one step in small buffers (rows no op reads stay zero)
        DPRE = S.new_zeros(steps, d * (1 + len(plan.x_nodes) + plan.carry), batch)
        DHP, DU = S.new_zeros(wh.shape[1], batch), [S.new_zeros(w.shape[1], batch) for w in wa]
        DS, DH, DELTA = new(k1, d, batch), new(d, batch), new(k, d, batch)
        DGAMMA, DLAM, DBH = new(steps, k), new(steps, k), new(steps, wh.shape[1])
        DBA = [new(steps, w.shape[1]) for w in wa]
        dwh, dwa = torch.zeros_like(wh), [torch.zeros_like(w) for w in wa]
        nodes = []
        gates = {i: n for n, i in enumerate(plan.gate_nodes)}  # node -> its slot in SG, TG
        for i in range(k):
            where, row = slots[i]
            dq = (DPRE[:, row:row + d].unbind(0) if where == "x" else
                  [(DU[i - 1] if where == "skip" else DHP)[row:row + d]] * steps)
            gate = gates.get(i)
            sa, tb = (None, None) if gate is None else (SG[:, gate], TG[:, gate])
            nodes.append(_NodeBackward(plan, i, lam[i].item(), PA[:, i], PB[:, i], sa, tb, DU[i][:d], dq))
        St, S_out, DSv = _by_time_and_node(S), S.view(steps, k1, -1)[:, 1:].unbind(0), DS.unbind(0)
        grad_v, HMv, DPRE0 = grad_h.contiguous().unbind(0), HM.unbind(0), DPRE[:, :d].unbind(0)
        DGv, DLv, DBHv, DBAv = DGAMMA.unbind(0), DLAM.unbind(0), DBH.unbind(0), [b.unbind(0) for b in DBA]
        M_v, S_prev, DU_t, DHP_t = M.unbind(0), S[:, :-1].unbind(0), [u.t() for u in DU], DHP.t()
        carry = _CarryBackward(Y, Z, HM, DPRE, DHP) if plan.carry else None
        dhm = None
        for t in reversed(range(steps)):
            dh = grad_v[t] if dhm is None else torch.add(grad_v[t], dhm, out=DH)  # total dL/dh_t
            if carry is not None:  # dh becomes dL/dy_t; the gate's rows of DPRE, DHP are set
                dh = carry.backward(dh, t)
            torch.mul(gamma3, dh, out=DS[1:])
            torch.mv(S_out[t], dh.view(-1), out=DGv[t])
            for i in range(k - 1, -1, -1):  # s_{i+1} = lerp(s_i, m_i, lambda_i)
                ds_next = DSv[i + 1]
                nodes[i].backward(ds_next, t)
                if i:
                    DSv[i].add_(ds_next, alpha=keep[i])
                else:
                    torch.mul(ds_next, keep[0], out=DSv[0])
                DSv[i].addmm_(wa[i], DU[i])
                dwa[i].addmm_(St[t][i], DU_t[i])
                torch.sum(DU[i], 1, out=DBAv[i][t])
            torch.sum(torch.sub(M_v[t], S_prev[t], out=DELTA).mul_(DS[1:]).view(k, -1), 1, out=DLv[t])
            aten.tanh_backward.grad_input(DSv[0], St[t][0], grad_input=DPRE0[t])  # s_0 = tanh(...)
            DHP[:d].copy_(DPRE0[t])
            dhm = wh @ DHP if carry is None else torch.addmm(carry.direct, wh, DHP)
            dwh.addmm_(HMv[t], DHP_t)
            torch.sum(DHP, 1, out=DBHv[t])
            if mask is not None:
                dhm.mul_(mask)
        return (None, DPRE, dhm, None, dwh, DBH.sum(0), DLAM.sum(0), DGAMMA.sum(0), *dwa,
                *(b.sum(0) for b in DBA))


class _CarryBackward:
    """Backward, one step at a time, of h = lerp(hm, y, z), z = sigmoid(pre_z + hp_z): given
    dL/dh, returns dL/dy = dh z, keeps dL/dhm's direct part dh (1 - z) in ``direct``, and
    writes dL/d(pre_z + hp_z) = dh (y - hm) z (1 - z) into the gate's rows of dpre[t] and dhp."""

    def __init__(self, y, z, hm, dpre, dhp):
        d = y.shape[1]
        self.y, self.z, self.hm = y.unbind(0), z.unbind(0), hm.unbind(0)
        self.dpre, self.dhp = dpre[:, -d:].unbind(0), dhp[-d:]
        self.dy, self.direct = torch.empty_like(y[0]), torch.empty_like(y[0])

    def backward(self, dh, t: int):
        z, dz = self.z[t], self.dpre[t]
        torch.mul(dh, z, out=self.dy)
        torch.sub(dh, self.dy, out=self.direct)
        torch.sub(self.y[t], self.hm[t], out=dz).mul_(dh)
        aten.sigmoid_backward.grad_input(dz, z, grad_input=dz)
        self.dhp.copy_(dz)
        return self.dy


class _NodeBackward:
    """Backward, one step at a time, of a two-input node's m = op(a, b), a = f_a(u), b = f_b(q),
    through s_{i+1} = lerp(s_i, m, lambda): given ds_{i+1}, writes du and dq (nothing for the
    input the op ignores). ``dq`` holds one view per step (the side input's rows). The op's
    own backward (``fused_ops.BinaryKernel.backward``) reads the attributes set here."""

    def __init__(self, plan, i, lam, a, b, sa, tb, du, dq):
        self.lam, self.du, self.dq = lam, du, dq
        self.op_backward = binary_kernel(plan.ops[i]).backward  # (self, dL/dm, t)
        self.grad_a = activation_kernel(plan.act_a[i]).backward  # (grad, f_a(u), out)
        self.grad_b = activation_kernel(plan.act_b[i]).backward
        self.a, self.b = a.unbind(0), b.unbind(0)
        self.sa, self.tb = (None, None) if sa is None else (sa.unbind(0), tb.unbind(0))
        self.lds, self.tmp = torch.empty_like(du), torch.empty_like(du)

    def backward(self, ds, t: int) -> None:
        self.op_backward(self, torch.mul(ds, self.lam, out=self.lds), t)  # with dL/dm
