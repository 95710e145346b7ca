"""The backbones of the search space: one :class:`Backbone` object each, in one registry.

A backbone is what a searched cell is made of: the description of a node in its genotype
(``node_type``) and the rules such a node follows (``check_node``), the cell the search trains
(``search_cell``: mixed operations, architecture weights), the cell retrained from a genotype
(``derived_cell``; its ``sequence`` runs the backbone's whole-sequence kernel of
``cells/fused.py``), how random search draws a node (``sample``), the choices that make a node
carry its input through (``degenerate``), whether its cells may have the carry path
(``carry``, docs/method.md section 8) and the most architecture weights a ``grow_and_prune``
search optimises (``arch_bound``). Code that depends on the backbone looks it up here instead of
comparing names:

    backbone = get_backbone(genotype.backbone)   # ValueError naming the known ones
    cell = build_cell(genotype, input_size, hidden_size)

A genotype stores its backbone by name (plain data, JSON); ``Genotype`` validates its nodes
through this registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from autoforecast.cells.base import GatedNodes, RecurrentEncoder
from autoforecast.cells.derived import DartsCell, TwoInputCell
from autoforecast.cells.ops import ACTIVATIONS, BINARY_OPS, DARTS_OPS, SIDE_INPUTS, check_choice
from autoforecast.search.node_types import DartsNode, TwoInputNode
from autoforecast.search.nodes import DartsSearchCell, TwoInputSearchCell


@dataclass(frozen=True)
class Backbone:
    """Everything that differs between backbones (see the module docstring)."""

    name: str
    node_type: type  # the genotype's node dataclass
    search_cell: type  # (input_size, hidden_size, n_nodes, search_activations[, carry]) -> cell
    derived_cell: type  # (genotype, input_size, hidden_size) -> cell (fused kernel inside)
    check_fields: Callable  # (i, node) -> None: ValueError for a bad choice of node i (1-based)
    sample_node: Callable  # (i, rng, search_activations) -> node i drawn uniformly
    degenerate: frozenset  # ops with which a node carries its input through (a collapsed search)
    arch_bound: Callable  # (n_active, max_nodes, search_activations) -> int
    carry: bool  # whether its cells may have the carry path (docs/method.md, section 8)

    def check_carry(self, carry) -> None:
        """Raise ValueError unless ``carry`` is a bool this backbone allows."""
        if carry not in (True, False):
            raise ValueError(f"`carry` must be True or False, got {carry!r}.")
        if carry and not self.carry:
            raise ValueError(f"the {self.name!r} backbone has no carry path (its nodes already "
                             "carry the state through their highway gates); use carry=False.")

    def check_node(self, i: int, node) -> None:
        """Raise ValueError unless ``node`` is a valid node ``i`` (1-based) of this backbone."""
        if not isinstance(node, self.node_type):
            raise ValueError(f"node {i} of a {self.name!r} genotype must be a "
                             f"{self.node_type.__name__}, got {node!r}.")
        self.check_fields(i, node)

    def sample(self, n_nodes: int, rng: np.random.Generator, search_activations: bool = False) -> tuple:
        """``n_nodes`` nodes drawn uniformly from the search space, node 1 first."""
        return tuple(self.sample_node(i, rng, search_activations) for i in range(1, n_nodes + 1))


def _pick(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _check_darts_node(i: int, node: DartsNode) -> None:
    check_choice(DARTS_OPS[1:], node.op, "DARTS edge op")
    if not 0 <= node.input < i:
        raise ValueError(f"DARTS node {i} must read a node in 0..{i - 1}, got input={node.input}.")


def _sample_darts_node(i: int, rng, search_activations: bool) -> DartsNode:
    return DartsNode(_pick(rng, DARTS_OPS[1:]), int(rng.integers(i)))  # op first, then input


def _darts_arch_bound(n_active: int, max_nodes: int, search_activations: bool) -> int:
    return n_active * max_nodes * len(DARTS_OPS)  # alpha (i, ops) of a node i <= max_nodes


def _check_two_input_node(i: int, node: TwoInputNode) -> None:
    check_choice(BINARY_OPS, node.op, "binary op")
    check_choice(SIDE_INPUTS, node.side, "side input")
    check_choice(ACTIVATIONS, node.act_a, "activation")
    check_choice(ACTIVATIONS, node.act_b, "activation")


def _sample_two_input_node(i: int, rng, search_activations: bool) -> TwoInputNode:
    acts = tuple(ACTIVATIONS) if search_activations else ("tanh",)  # a draw even from one
    return TwoInputNode(_pick(rng, tuple(BINARY_OPS)), _pick(rng, SIDE_INPUTS), _pick(rng, acts),
                        _pick(rng, acts))


def _two_input_arch_bound(n_active: int, max_nodes: int, search_activations: bool) -> int:
    per_node = len(BINARY_OPS) + len(SIDE_INPUTS)  # beta, delta (and act_a, act_b if searched)
    return n_active * (per_node + 2 * len(ACTIVATIONS) * search_activations)


BACKBONES: dict[str, Backbone] = {b.name: b for b in (
    Backbone("darts", DartsNode, DartsSearchCell, DartsCell, _check_darts_node, _sample_darts_node,
             frozenset({"identity"}), _darts_arch_bound, carry=False),
    Backbone("two_input", TwoInputNode, TwoInputSearchCell, TwoInputCell, _check_two_input_node,
             _sample_two_input_node, frozenset({"left", "right"}), _two_input_arch_bound, carry=True),
)}


def get_backbone(name) -> Backbone:
    """The registered backbone called ``name``; ValueError naming the known ones otherwise."""
    backbone = BACKBONES.get(name) if isinstance(name, str) else None
    if backbone is None:
        raise ValueError(f"unknown backbone {name!r}; expected one of {sorted(BACKBONES)}.")
    return backbone


def build_cell(genotype, input_size: int, hidden_size: int) -> GatedNodes:
    """The derived cell of ``genotype`` (wrap it in a RecurrentEncoder to run it over time)."""
    if input_size < 1 or hidden_size < 1:
        raise ValueError(f"`input_size` and `hidden_size` must be >= 1, got {input_size}, "
                         f"{hidden_size}.")
    return get_backbone(genotype.backbone).derived_cell(genotype, input_size, hidden_size)


def build_encoder(genotype, input_size: int, hidden_size: int, dropout_x: float = 0.0,
                  dropout_h: float = 0.0, weight_drop: float = 0.0) -> RecurrentEncoder:
    """The derived cell of ``genotype`` in a RecurrentEncoder with variational dropout, and
    DropConnect at rate ``weight_drop`` on the cell's matrices that read h_{t-1}."""
    if not 0.0 <= weight_drop < 1.0:
        raise ValueError(f"`weight_drop` must be in [0, 1), got {weight_drop!r}.")
    cell = build_cell(genotype, input_size, hidden_size)
    if weight_drop:
        cell.weight_drop = float(weight_drop)
    return RecurrentEncoder(cell, dropout_x, dropout_h)
