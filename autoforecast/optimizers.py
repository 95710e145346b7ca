"""The optimisers of :func:`autoforecast.training.train_module`: Adam, or non-monotonically
triggered averaged SGD (NT-ASGD, Merity, Keskar and Socher 2018, "Regularizing and Optimizing
LSTM Language Models", the optimiser of AWD-LSTM and of DARTS' recurrent cells).

NT-ASGD runs plain SGD at ``lr`` (with ``weight_decay``) and, after each epoch, checks the
validation loss: once it is worse than the best of the losses recorded before the last
``nonmono`` epochs (``len(losses) > nonmono and loss > min(losses[:-nonmono])``, Merity et al.'s
rule, checked before the epoch's own loss is recorded), it switches to averaging for good:
SGD goes on as before, and the average of the weights after every step since the switch is
kept. From then on the loop validates, keeps and finally restores the *averaged* weights
(:meth:`LoopOptimizer.evaluation`), as AWD-LSTM does.
"""

from __future__ import annotations

import contextlib

import torch

OPTIMIZERS = ("adam", "nt-asgd")


def check_optimizer(name, nonmono) -> None:
    """ValueError unless ``name`` is a known optimiser and ``nonmono`` an int >= 1."""
    if name not in OPTIMIZERS:
        raise ValueError(f"`optimizer` must be one of {OPTIMIZERS}, got {name!r}; 'nt-asgd' is "
                         "SGD switching to weight averaging when validation stalls.")
    if isinstance(nonmono, bool) or not isinstance(nonmono, int) or nonmono < 1:
        raise ValueError(f"`nonmono` must be an int >= 1 (epochs without improvement before "
                         f"NT-ASGD starts averaging), got {nonmono!r}.")


class LoopOptimizer:
    """The torch optimiser the loop steps, and for ``"nt-asgd"`` its trigger and average."""

    def __init__(self, name: str, params, lr: float, weight_decay: float = 0.0, nonmono: int = 5):
        check_optimizer(name, nonmono)
        self.params = list(params)
        self.name, self.nonmono = name, nonmono
        if name == "adam":
            self.opt = torch.optim.Adam(self.params, lr=lr, weight_decay=weight_decay)
        else:
            self.opt = torch.optim.SGD(self.params, lr=lr, weight_decay=weight_decay)
        self.val_losses: list[float] = []  # NT-ASGD's record, one loss per epoch
        self.averaging, self.n_averaged = False, 0
        self.average: list[torch.Tensor] = []

    @property
    def param_groups(self):
        return self.opt.param_groups

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.opt.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        self.opt.step()
        if self.averaging:
            self.n_averaged += 1
            with torch.no_grad():
                if self.n_averaged == 1:
                    self.average = [p.detach().clone() for p in self.params]
                else:
                    for avg, p in zip(self.average, self.params):
                        avg.add_(p.detach() - avg, alpha=1.0 / self.n_averaged)

    def end_epoch(self, val_loss: float) -> bool:
        """Record an epoch's validation loss; True when NT-ASGD starts averaging now."""
        losses, switch = self.val_losses, False
        if (self.name == "nt-asgd" and not self.averaging and len(losses) > self.nonmono
                and val_loss > min(losses[: -self.nonmono])):
            self.averaging = switch = True
        losses.append(float(val_loss))
        return switch

    @contextlib.contextmanager
    def evaluation(self):
        """The averaged weights in the parameters inside the block (when averaging has begun
        and a step was averaged), the trained ones back after it."""
        if not self.n_averaged:
            yield
            return
        trained = [p.detach().clone() for p in self.params]
        with torch.no_grad():
            for p, avg in zip(self.params, self.average):
                p.copy_(avg)
        try:
            yield
        finally:
            with torch.no_grad():
                for p, w in zip(self.params, trained):
                    p.copy_(w)

    def restart(self, lr_factor: float) -> None:
        """After a rollback: the learning rate scaled, the optimiser's state and the average
        cleared (averaging, when begun, starts again from the next step)."""
        scale_lr(self.opt, lr_factor)
        self.opt.state.clear()
        self.average, self.n_averaged = [], 0

    def state_dict(self) -> dict:
        return {"name": self.name, "opt": self.opt.state_dict(), "val_losses": list(self.val_losses),
                "averaging": self.averaging, "n_averaged": self.n_averaged,
                "average": [a.clone() for a in self.average]}

    def load_state_dict(self, state: dict) -> None:
        if state["name"] != self.name:
            raise ValueError(f"the checkpoint was trained with optimizer={state['name']!r}, this "
                             f"run asks for {self.name!r}; resume with the same settings or "
                             "start from a new checkpoint path.")
        self.opt.load_state_dict(state["opt"])
        self.val_losses = list(state["val_losses"])
        self.averaging, self.n_averaged = state["averaging"], state["n_averaged"]
        self.average = [a.to(p) for a, p in zip(state["average"], self.params)]


def scale_lr(opt, factor: float) -> None:
    for group in opt.param_groups:
        group["lr"] *= factor
