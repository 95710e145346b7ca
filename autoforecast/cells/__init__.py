"""Recurrent cells: operation registries, derived cells built from genotypes, the encoder."""

from autoforecast.cells.base import RecurrentEncoder
from autoforecast.cells.derived import DartsCell, TwoInputCell, build_cell, build_encoder
from autoforecast.cells.model import CellModel, LastStateHead
from autoforecast.cells.ops import ACTIVATIONS, BINARY_OPS, DARTS_OPS, SIDE_INPUTS

__all__ = ["ACTIVATIONS", "BINARY_OPS", "DARTS_OPS", "SIDE_INPUTS", "CellModel", "DartsCell",
           "LastStateHead", "RecurrentEncoder", "TwoInputCell", "build_cell", "build_encoder"]
