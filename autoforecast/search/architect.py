"""The architecture step of the bilevel optimisation (docs/method.md, section 4), 1st or 2nd order.

The architecture weights are optimised by Adam on a validation batch, one parameter group per
node, so that growth adds groups and pruning removes them while the others keep their state.
"""

from __future__ import annotations

import torch


class Architect:
    def __init__(self, model, supernet, loss_fn, lr: float = 3e-3, weight_decay: float = 1e-3,
                 second_order: bool = False):
        self.model, self.supernet, self.loss_fn = model, supernet, loss_fn
        self.second_order = second_order
        groups = [{"params": list(n.arch.parameters())} for n in supernet.cell.nodes if len(n.arch)]
        self.optimizer = torch.optim.Adam(groups, lr=lr, betas=(0.5, 0.999), weight_decay=weight_decay)

    def add_params(self, params) -> None:
        if params:
            self.optimizer.add_param_group({"params": list(params)})

    def drop_missing(self) -> None:
        """Forget the parameter groups of nodes that were discretised (their arch is gone)."""
        live = {id(p) for p in self.supernet.arch_parameters()}
        for group in list(self.optimizer.param_groups):
            if not any(id(p) in live for p in group["params"]):
                self.optimizer.param_groups.remove(group)
                for p in group["params"]:
                    self.optimizer.state.pop(p, None)

    def step(self, train_batch, val_batch, weight_lr: float) -> float:
        """One Adam step on the architecture weights; returns the validation loss used."""
        arch = [p for g in self.optimizer.param_groups for p in g["params"]]
        if not arch:
            return float("nan")
        if self.second_order:
            grads, loss = self._unrolled_grads(arch, train_batch, val_batch, weight_lr)
        else:
            loss = self._loss(val_batch)
            grads = torch.autograd.grad(loss, arch)  # no weight gradients computed
        for p, g in zip(arch, grads):
            p.grad = g
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.item()

    def _loss(self, batch):
        x, y = batch
        return self.loss_fn(self.model(x), y)

    def _grads(self, loss, params):
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        return [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]

    def _unrolled_grads(self, arch, train_batch, val_batch, xi: float):
        """DARTS' second-order gradient: d/dalpha L_val(w - xi grad_w L_train(w, alpha), alpha),
        the Hessian-vector product by central differences, eps = 0.01 / ||grad_w' L_val||."""
        ids = {id(p) for p in arch}
        weights = [p for p in self.model.parameters() if id(p) not in ids and p.requires_grad]
        backup = [w.detach().clone() for w in weights]
        g_train = self._grads(self._loss(train_batch), weights)
        self._set(weights, backup, g_train, -xi)  # w' = w - xi grad_w L_train
        loss = self._loss(val_batch)
        grads = self._grads(loss, arch + weights)
        g_arch, g_w = grads[: len(arch)], grads[len(arch):]
        eps = 0.01 / (torch.cat([g.flatten() for g in g_w]).norm() + 1e-12)
        self._set(weights, backup, g_w, eps)
        g_plus = self._grads(self._loss(train_batch), arch)
        self._set(weights, backup, g_w, -eps)
        g_minus = self._grads(self._loss(train_batch), arch)
        self._set(weights, backup, g_w, 0.0)  # restore w
        hvp = [(p - m) / (2 * eps) for p, m in zip(g_plus, g_minus)]
        return [g - xi * h for g, h in zip(g_arch, hvp)], loss

    @staticmethod
    def _set(weights, base, direction, scale) -> None:
        with torch.no_grad():
            for w, b, d in zip(weights, base, direction):
                w.copy_(b + scale * d)
