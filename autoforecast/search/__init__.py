"""Growable differentiable search of recurrent cells (METHOD.md)."""

from autoforecast.cells.derived import build_cell
from autoforecast.search.genotype import DartsNode, Genotype, TwoInputNode
from autoforecast.search.supernet import SuperNet

__all__ = ["DartsNode", "Genotype", "SuperNet", "TwoInputNode", "build_cell"]
