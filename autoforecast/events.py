"""Progress events: what long-running library code reports instead of printing.

Estimators accept ``callback(event)``; the command line renders the events as progress bars,
``verbose`` renders them as log lines, and by default nothing is shown.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProgressEvent:
    stage: str  # "search", "retrain", "baseline:lstm", "refit", ...
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
