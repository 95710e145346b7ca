"""The discrete cell a search derives: frozen, plain data that round-trips through dict/JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from autoforecast.search.backbones import get_backbone


@dataclass(frozen=True)
class Genotype:
    """A derived cell: the backbone's name (a key of ``search.BACKBONES``), one node
    description per searched node (1..K), checked by that backbone, and ``carry``: whether the
    cell's output passes through the carry path's update gate (docs/method.md, section 8;
    only backbones with ``Backbone.carry``; False in genotypes written before it existed)."""

    backbone: str
    nodes: tuple
    carry: bool = False

    def __post_init__(self):
        backbone = get_backbone(self.backbone)
        if not self.nodes:
            raise ValueError("a Genotype needs at least one node, got none.")
        object.__setattr__(self, "nodes", tuple(self.nodes))
        for i, node in enumerate(self.nodes, start=1):
            backbone.check_node(i, node)
        backbone.check_carry(self.carry)
        object.__setattr__(self, "carry", bool(self.carry))

    @property
    def degenerate(self) -> bool:
        """Whether every node passes one input through (its op in ``Backbone.degenerate``)."""
        ops = get_backbone(self.backbone).degenerate
        return all(node.op in ops for node in self.nodes)

    def to_dict(self) -> dict:
        """Plain data; ``"carry": True`` only with the carry path, so that the dict of a cell
        without it is what it was before the field existed."""
        out = {"backbone": self.backbone, "nodes": [asdict(n) for n in self.nodes]}
        return (out | {"carry": True}) if self.carry else out

    @classmethod
    def from_dict(cls, data: dict) -> "Genotype":
        node_type = get_backbone(data.get("backbone")).node_type
        return cls(data["backbone"], tuple(node_type(**n) for n in data["nodes"]),
                   data.get("carry", False))

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> "Genotype":
        return cls.from_dict(json.loads(text))

    def __str__(self) -> str:
        body = "; ".join(f"s{i}={n}" for i, n in enumerate(self.nodes, start=1))
        return f"{self.backbone}[{body}{'; carry' if self.carry else ''}]"


def genotype_of(value) -> Genotype:
    """``value`` as a :class:`Genotype`: a Genotype, or its dict (``Genotype.to_dict()``)."""
    if isinstance(value, Genotype):
        return value
    if isinstance(value, dict):
        return Genotype.from_dict(value)
    raise TypeError(f"`genotype` must be None, a Genotype or its dict (Genotype.to_dict()), got "
                    f"{type(value).__name__}.")
