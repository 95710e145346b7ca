"""The discrete cell a search derives: frozen, plain data that round-trips through dict/JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from autoforecast.cells.ops import ACTIVATIONS, BACKBONES, BINARY_OPS, DARTS_OPS, SIDE_INPUTS, check_choice


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


_NODE_TYPES = {"darts": DartsNode, "two_input": TwoInputNode}


@dataclass(frozen=True)
class Genotype:
    """A derived cell: the backbone and one node description per searched node (1..K)."""

    backbone: str
    nodes: tuple

    def __post_init__(self):
        check_choice(_NODE_TYPES, self.backbone, "backbone")
        if not self.nodes:
            raise ValueError("a Genotype needs at least one node, got none.")
        object.__setattr__(self, "nodes", tuple(self.nodes))
        for i, node in enumerate(self.nodes, start=1):
            _check_node(self.backbone, i, node)

    def to_dict(self) -> dict:
        return {"backbone": self.backbone, "nodes": [asdict(n) for n in self.nodes]}

    @classmethod
    def from_dict(cls, data: dict) -> "Genotype":
        node_type = _NODE_TYPES.get(data.get("backbone"))
        if node_type is None:
            raise ValueError(f"`backbone` must be one of {BACKBONES}, got {data.get('backbone')!r}.")
        return cls(data["backbone"], tuple(node_type(**n) for n in data["nodes"]))

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> "Genotype":
        return cls.from_dict(json.loads(text))

    def __str__(self) -> str:
        body = "; ".join(f"s{i}={n}" for i, n in enumerate(self.nodes, start=1))
        return f"{self.backbone}[{body}]"


def _check_node(backbone: str, i: int, node) -> None:
    node_type = _NODE_TYPES[backbone]
    if not isinstance(node, node_type):
        raise ValueError(f"node {i} of a {backbone!r} genotype must be a {node_type.__name__}, got {node!r}.")
    if backbone == "darts":
        check_choice(DARTS_OPS[1:], node.op, "DARTS edge op")
        if not 0 <= node.input < i:
            raise ValueError(f"DARTS node {i} must read a node in 0..{i - 1}, got input={node.input}.")
    else:
        check_choice(BINARY_OPS, node.op, "binary op")
        check_choice(SIDE_INPUTS, node.side, "side input")
        check_choice(ACTIVATIONS, node.act_a, "activation")
        check_choice(ACTIVATIONS, node.act_b, "activation")
