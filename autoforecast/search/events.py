"""Progress of a search, as events that callers render (the engine prints nothing), and the
history rows built from them.

``history_rows(events, seed)`` is the one builder of a search's history: the ``history`` of
``search()``'s result, and of ``run_searches``' (``AutoCellForecaster.search_history_``), one
row per epoch, growth and pruning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from autoforecast.search.genotype import Genotype


@dataclass
class Candidate:
    genotype: Genotype
    seed: int
    search_val_loss: float  # the supernet's validation loss at the end of its search
    selection_val_loss: float = math.nan  # after the short retraining (nan when not retrained)


@dataclass
class SearchResult:
    genotype: Genotype
    history: list[dict] = field(default_factory=list)  # history_rows(...) (none for the random control)
    candidates: list[Candidate] = field(default_factory=list)
    time_capped: bool = False

    def to_dict(self) -> dict:
        """Plain data (JSON): genotypes as their dicts; ``from_dict`` reads it back."""
        return {"genotype": self.genotype.to_dict(), "history": self.history,
                "candidates": [[c.genotype.to_dict(), c.seed, c.search_val_loss,
                                c.selection_val_loss] for c in self.candidates],
                "time_capped": self.time_capped}

    def candidate_table(self):
        """A pandas DataFrame, one row per candidate in order: ``genotype`` (its string),
        ``seed``, ``search_val_loss``, ``selection_val_loss`` (nan when not retrained) and
        ``kept`` (True on the first candidate holding the kept genotype)."""
        import pandas as pd

        kept = next((i for i, c in enumerate(self.candidates) if c.genotype == self.genotype), None)
        rows = [{"genotype": str(c.genotype), "seed": c.seed, "search_val_loss": c.search_val_loss,
                 "selection_val_loss": c.selection_val_loss, "kept": i == kept}
                for i, c in enumerate(self.candidates)]
        return pd.DataFrame(rows, columns=["genotype", "seed", "search_val_loss",
                                           "selection_val_loss", "kept"])

    @classmethod
    def from_dict(cls, data: dict) -> "SearchResult":
        candidates = [Candidate(Genotype.from_dict(g), *rest) for g, *rest in data["candidates"]]
        return cls(Genotype.from_dict(data["genotype"]), data["history"], candidates,
                   data["time_capped"])


@dataclass
class EpochEvent:
    search_index: int
    epoch: int
    train_loss: float
    val_loss: float
    n_nodes: int
    genotype: Genotype
    arch_active: bool
    steps: int
    kind: str = "epoch"


@dataclass
class GrowEvent:
    search_index: int
    epoch: int
    n_nodes: int  # after the growth
    kind: str = "grow"


@dataclass
class PruneEvent:
    search_index: int
    epoch: int
    fixed_nodes: list[int]  # 1-based indices discretised now
    genotype: Genotype
    kind: str = "prune"


@dataclass
class SearchDoneEvent:
    search_index: int
    seed: int
    genotype: Genotype
    val_loss: float
    reason: str  # "budget", "architecture stable", "degenerate", "time"
    kind: str = "search_done"


@dataclass
class CandidateEvent:
    index: int
    genotype: Genotype
    selection_val_loss: float
    kind: str = "candidate"


@dataclass
class SelectedEvent:
    genotype: Genotype
    selection_val_loss: float
    kind: str = "selected"


@dataclass
class DoneEvent:
    result: SearchResult
    kind: str = "done"


def history_rows(events, seed: int) -> list[dict]:
    """One row per EpochEvent, GrowEvent and PruneEvent of the search run with ``seed``, in
    order; other events have no row. Every row holds ``event`` (its kind), ``search``,
    ``seed`` and ``epoch``; then an epoch's figures, the grown size, or the pruned nodes."""
    return [_ROWS[event.kind](event, seed) for event in events if event.kind in _ROWS]


def _epoch_row(event: EpochEvent, seed: int) -> dict:
    return {"event": "epoch", "search": event.search_index, "seed": seed, "epoch": event.epoch,
            "train_loss": event.train_loss, "val_loss": event.val_loss, "n_nodes": event.n_nodes,
            "genotype": event.genotype.to_dict(), "arch_active": event.arch_active,
            "steps": event.steps}


def _grow_row(event: GrowEvent, seed: int) -> dict:
    return {"event": "grow", "search": event.search_index, "seed": seed, "epoch": event.epoch,
            "n_nodes": event.n_nodes}


def _prune_row(event: PruneEvent, seed: int) -> dict:
    return {"event": "prune", "search": event.search_index, "seed": seed, "epoch": event.epoch,
            "fixed_nodes": list(event.fixed_nodes), "genotype": event.genotype.to_dict()}


_ROWS = {"epoch": _epoch_row, "grow": _grow_row, "prune": _prune_row}


def drive(events, on_event=None):
    """Run the generator ``events`` to its end, handing each event to ``on_event`` (when given);
    returns the generator's return value (``return`` in a generator, as ``yield from`` does)."""
    while True:
        try:
            event = next(events)
        except StopIteration as stop:
            return stop.value
        if on_event is not None:
            on_event(event)
