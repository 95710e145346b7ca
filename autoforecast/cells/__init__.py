"""Recurrent cells: operation registries, derived cells built from genotypes, the encoder.

A derived cell is built from a genotype by ``autoforecast.search.build_cell`` /
``build_encoder`` (the backbone registry lives in ``search/``; ``cells/`` imports nothing
from there).
"""

from autoforecast.cells.base import RecurrentEncoder
from autoforecast.cells.derived import DartsCell, TwoInputCell
from autoforecast.cells.ops import ACTIVATIONS, BINARY_OPS, DARTS_OPS, SIDE_INPUTS

__all__ = ["ACTIVATIONS", "BINARY_OPS", "DARTS_OPS", "SIDE_INPUTS", "DartsCell", "RecurrentEncoder",
           "TwoInputCell"]
