"""SearchConfig: every setting of a search, frozen and validated with readable errors.

The estimators build it from their :class:`autoforecast.settings.SearchSettings` (what a user
sets) with :meth:`SearchConfig.from_settings`, adding what the model decides (its hidden
size, learning rate, regularisation, time left).
"""

from __future__ import annotations

from dataclasses import dataclass

from autoforecast.search.backbones import BACKBONES
from autoforecast.settings import (DERIVATIONS, GROWTH_TRIGGERS, MODES, STRATEGIES,
                                   check_choice, check_int, plain_ints)


@dataclass(frozen=True)
class SearchConfig:
    backbone: str = "two_input"
    hidden_size: int = 32
    init_nodes: int = 1
    max_nodes: int = 4
    mode: str = "grow_then_prune"  # or "grow_and_prune"
    n_active: int = 1  # grow_and_prune: nodes kept continuous after a growth
    growth: str = "schedule"  # "schedule", "plateau" or "none"
    grow_every: int = 2  # schedule: grow after every grow_every-th epoch
    plateau_patience: int = 2  # plateau: epochs without improvement before growing
    plateau_delta: float = 1e-4
    epochs: int = 10  # budget per search, in epochs over train_batches
    max_steps: int | None = None  # optional budget per search in weight steps
    warmup_epochs: int = 1  # weight steps only, before the first architecture step
    growth_warmup_steps: int = 10  # weight steps only, after each growth
    arch_lr: float = 3e-3
    arch_weight_decay: float = 1e-3
    lr: float = 1e-3
    weight_decay: float = 0.0
    clip: float | None = 1.0
    second_order: bool = False
    search_activations: bool = False
    dropout_x: float = 0.0
    dropout_h: float = 0.0
    stop_patience: int | None = 5  # stop when the genotype is unchanged this many epochs at K_max
    derivation: str = "argmax"  # or "prefer_nondegenerate" (settings.DERIVATIONS)
    stop_on_degenerate: bool = False  # stop when every node picks a degenerate op (Backbone.degenerate)
    n_searches: int = 1
    n_candidates: int = 1  # distinct cells derived per search (SuperNet.candidates)
    selection_epochs: int = 3  # short retraining of each candidate when there are several
    max_time: float | None = None  # wall-clock cap in seconds for the whole call
    num_threads: int | None = None  # torch intra-op threads while searching (None: unchanged)
    strategy: str = "search"  # or "random": n_searches * n_candidates sampled cells (the control)
    carry: bool = False  # the carry path's update gate on the cell's output (two_input only)

    @classmethod
    def from_settings(cls, settings, **model) -> "SearchConfig":
        """The config of a resolved :class:`~autoforecast.settings.SearchSettings` (every field
        set), with the model's own settings ``model`` (hidden_size, lr, max_time, ...)."""
        return cls(backbone=settings.backbone, mode=settings.mode, n_active=settings.n_active,
                   init_nodes=settings.init_nodes, max_nodes=settings.max_nodes,
                   growth=settings.growth, grow_every=settings.grow_every,
                   epochs=settings.epochs, n_searches=settings.n_searches,
                   n_candidates=settings.n_candidates,
                   selection_epochs=settings.selection_epochs,
                   second_order=settings.second_order,
                   search_activations=settings.activations, derivation=settings.derivation,
                   strategy=settings.strategy, carry=settings.carry, **model)

    def __post_init__(self):
        plain_ints(self)
        check_choice("backbone", self.backbone, tuple(BACKBONES))
        BACKBONES[self.backbone].check_carry(self.carry)
        check_choice("mode", self.mode, MODES)
        check_choice("growth", self.growth, GROWTH_TRIGGERS)
        check_choice("derivation", self.derivation, DERIVATIONS)
        check_choice("strategy", self.strategy, STRATEGIES)
        for name in ("hidden_size", "init_nodes", "n_active", "grow_every", "plateau_patience",
                     "epochs", "n_searches", "n_candidates"):
            check_int(name, getattr(self, name), 1)
        for name in ("warmup_epochs", "growth_warmup_steps", "selection_epochs"):
            check_int(name, getattr(self, name), 0)
        check_int("max_nodes", self.max_nodes, self.init_nodes)
        for name in ("max_steps", "stop_patience", "num_threads"):
            if getattr(self, name) is not None:
                check_int(name, getattr(self, name), 1)
        for name in ("arch_lr", "lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"`{name}` must be > 0, got {getattr(self, name)!r}.")
        for name in ("dropout_x", "dropout_h"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"`{name}` must be in [0, 1), got {getattr(self, name)!r}.")
        if self.clip is not None and not self.clip > 0:
            raise ValueError(f"`clip` must be None or a gradient norm > 0, got {self.clip!r}.")
        for name in ("weight_decay", "arch_weight_decay"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"`{name}` must be >= 0, got {getattr(self, name)!r}.")
        if self.max_time is not None and not self.max_time > 0:
            raise ValueError(f"`max_time` must be None or seconds > 0, got {self.max_time!r}.")

