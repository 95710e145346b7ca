"""When a search grows (docs/method.md, sec. 3): the schedule and plateau triggers. The growth
itself (an exact morphism) and the discretisation of ``grow_and_prune`` are
:meth:`SuperNet.grow` and :meth:`SuperNet.discretise` (``search/supernet.py``); the names of
the triggers and modes are in :mod:`autoforecast.settings`.
"""

from __future__ import annotations


def scheduled_nodes(config) -> int:
    """The nodes a search of ``config`` (a :class:`SearchConfig`) ends with when no budget cuts
    it short: on the schedule, ``init_nodes`` plus one growth after every ``grow_every``-th
    epoch but the last, at most ``max_nodes``; without growth, ``init_nodes``; on a plateau,
    ``max_nodes`` (its growths depend on the losses: ``max_nodes`` bounds them). The random
    control draws cells of this size (:func:`~autoforecast.search.random_search.sample_candidates`)."""
    if config.growth == "none":
        return config.init_nodes
    if config.growth == "plateau":
        return config.max_nodes
    return min(config.max_nodes, config.init_nodes + (config.epochs - 1) // config.grow_every)


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
