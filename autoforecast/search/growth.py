"""Growth by exact network morphism, and `grow_and_prune`'s discretisation (docs/method.md, sec. 3).

Insertion of node K+1: lambda_{K+1} = 0 (so s_{K+1} = s_K exactly, in training and evaluation
mode), the output weight split gamma_K -> gamma_K / 2 and gamma_{K+1} = gamma_K / 2 (so h_t is
unchanged, and lambda_{K+1} gets a gradient at once), and a fresh BatchNorm for the new node
(the older nodes' running statistics are not touched).
"""

from __future__ import annotations

import torch
from torch import nn



def grow(supernet) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """Append node K+1 to ``supernet.cell``; returns its new (weight, architecture) parameters."""
    cell = supernet.cell
    k = cell.n_nodes
    if k >= supernet.max_nodes:
        raise ValueError(f"cannot grow: the supernet already has max_nodes={supernet.max_nodes} nodes.")
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


def discretise(supernet, n_active: int) -> list[int]:
    """Fix (the derived op and input) every still-continuous node except the newest ``n_active``."""
    fixed = []
    nodes = list(supernet.cell.nodes)
    for index, node in enumerate(nodes[: max(len(nodes) - n_active, 0)], start=1):
        if node.choice is None:
            node.fix(supernet.derive_node(node))
            fixed.append(index)
    return fixed


def should_grow_on_schedule(epoch: int, grow_every: int) -> bool:
    """Schedule trigger: after every ``grow_every``-th epoch (0-based ``epoch`` just finished)."""
    return (epoch + 1) % grow_every == 0


class PlateauTrigger:
    """Grow when the validation loss has not improved by ``delta`` for ``patience`` epochs; stop
    growing for good when the epochs after a growth did not beat the best loss before it."""

    def __init__(self, patience: int, delta: float):
        self.patience, self.delta = patience, delta
        self.best, self.stale, self.best_at_growth, self.enabled = float("inf"), 0, None, True

    def update(self, val_loss: float) -> bool:
        if val_loss < self.best - self.delta:
            self.best, self.stale = val_loss, 0
        else:
            self.stale += 1
        if not self.enabled or self.stale < self.patience:
            return False
        if self.best_at_growth is not None and self.best >= self.best_at_growth - self.delta:
            self.enabled = False  # the last growth did not help
            return False
        self.best_at_growth, self.stale = self.best, 0
        return True
