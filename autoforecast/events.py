"""Progress events: what long-running library code reports instead of printing.

Every estimator's ``fit`` accepts ``callback(event)`` (see :mod:`autoforecast.shell`): a
``"fit"`` event at the start and at the end, the model's own stages in between ("search",
"retrain", "train", "baseline:lstm", "report", "refit", ...), and "interrupted" when Ctrl-C
stops a fit. The command line renders the events as progress bars, ``verbose`` renders them as
lines on stderr, and by default nothing is shown.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProgressEvent:
    stage: str  # "fit", "search", "retrain", "train", "baseline:lstm", "refit", ...
    step: int  # steps done in this stage (epochs, runs, ...)
    total: int | None  # steps planned in this stage, None if unknown
    message: str = ""  # one readable line: losses, number of nodes, genotype, growth events
    data: dict = field(default_factory=dict)  # the raw figures behind the message

    def __str__(self) -> str:
        count = f"{self.step}/{self.total}" if self.total else str(self.step)
        return f"[{self.stage} {count}] {self.message}".rstrip()


def stderr_renderer(event: ProgressEvent) -> None:
    """The renderer ``verbose=1`` uses: one line per event on stderr."""
    print(str(event), file=sys.stderr, flush=True)


def epoch_losses(record: dict) -> str:
    """The losses of one training epoch's record, as a short readable text."""
    return f"train {record['train_loss']:.4f}, val {record['val_loss']:.4f}"


def search_reached(event, n_epochs: int) -> str | None:
    """How far a search got after one of its events (for the message of an interrupted fit);
    None for events that do not move it (growth, pruning)."""
    kind = event.kind
    if kind == "epoch":
        return f"search run {event.search_index}, epoch {event.epoch + 1} of {n_epochs}"
    if kind == "search_done":
        return f"search run {event.search_index} finished ({event.reason})"
    if kind == "candidate":
        return f"selection: candidate {event.index} retrained"
    if kind == "selected":
        return f"search finished ({event.genotype})"
    return None
