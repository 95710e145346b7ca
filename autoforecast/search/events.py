"""Progress of a search, as events that callers render (the engine prints nothing)."""

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
    history: list[dict] = field(default_factory=list)  # one dict per search epoch
    candidates: list[Candidate] = field(default_factory=list)
    time_capped: bool = False


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
