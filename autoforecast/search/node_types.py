"""What a genotype's nodes are: one frozen dataclass per backbone, plain data.

``DartsNode`` and ``TwoInputNode`` live apart from :class:`~autoforecast.search.genotype.Genotype`
so that the backbone registry (``search/backbones.py``) can hold them while the genotype
validates itself through that registry (files pickled by 0.1 name them under
``autoforecast.search.genotype``: ``renames.RENAMED_CLASSES`` maps them here).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DartsNode:
    """DARTS node i: one edge from node ``input`` (0 <= input < i) with activation ``op``."""

    op: str
    input: int

    def __str__(self) -> str:
        return f"{self.op}(s{self.input})"


@dataclass(frozen=True)
class TwoInputNode:
    """Two-input node k: ``op(act_a(s_{k-1} A + p), act_b(side B + q))``."""

    op: str
    side: str
    act_a: str = "tanh"
    act_b: str = "tanh"

    def __str__(self) -> str:
        return f"{self.op}({self.act_a}(prev), {self.act_b}({self.side}))"
