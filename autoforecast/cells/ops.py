"""Registries of the operations a searched recurrent cell is built from.

Every choice the search makes is a key of one of these dicts; the search cell and the derived
cell both look operations up here, so they compute the same function for the same choice.
The whole-sequence kernels keep an explicit table of the operations they implement
(``cells/fused_ops.py``) and refuse any other. The backbones (which node types and cells make
up a search space) are a registry of their own: ``autoforecast.search.backbones``.
"""

from __future__ import annotations

import torch

# Named module-level functions, not lambdas: derived cells hold them, and must pickle.


def identity(z):
    return z


def add(p, q):
    return p + q


def hadamard(p, q):
    return p * q


def gate(p, q):
    return torch.sigmoid(p) * torch.tanh(q)


def left(p, q):
    return p


def right(p, q):
    return q


# unary activations f(z), used on DARTS edges and (optionally searched) on two-input branches
ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "identity": identity}

# binary operations op(P, Q) of the two-input backbone
BINARY_OPS = {"add": add, "hadamard": hadamard, "gate": gate, "left": left, "right": right}

# the side input b_k of two-input node k: W_x x_t, h_{t-1}, or s_{k-2} (s_{-1} := h_{t-1})
SIDE_INPUTS = ("x", "h", "skip")

# candidate operations on a DARTS edge: `none` (the zero op) and the highway-gated activations
DARTS_OPS = ("none",) + tuple(ACTIVATIONS)


def check_choice(registry, name: str, what: str) -> None:
    """Raise a readable ValueError when ``name`` is not a key of ``registry``."""
    if name not in registry:
        raise ValueError(f"unknown {what} {name!r}; expected one of {sorted(registry)}.")
