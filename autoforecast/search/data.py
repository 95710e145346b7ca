"""What a search runs on: its batches, its loss, and how the searched cell becomes a model.

``SearchData(train_batches, val_batches, head_factory, loss_fn)`` is the plain 4-tuple the
forecaster passes (``CellModel(encoder, head_factory(hidden_size))``, input size read from the
first 3-D batch). A model of another shape, such as a language model (embedding -> cell ->
tied decoder over token ids), passes ``model_factory(encoder) -> nn.Module`` and an explicit
``input_size`` instead of ``head_factory``.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from torch import nn

from autoforecast.cells.model import CellModel


class SearchData(NamedTuple):
    train_batches: Callable
    val_batches: Callable
    head_factory: Callable | None
    loss_fn: Callable
    model_factory: Callable | None = None  # model_factory(encoder) -> nn.Module
    input_size: int | None = None  # required with model_factory

    @classmethod
    def of(cls, data) -> "SearchData":
        """``data`` as a SearchData (a 4- to 6-tuple or a SearchData), its factories checked."""
        data = data if isinstance(data, cls) else cls(*data)
        if (data.head_factory is None) == (data.model_factory is None):
            raise ValueError("give exactly one of `head_factory` (a CellModel head) and "
                             "`model_factory` (encoder -> model), got "
                             f"{'both' if data.head_factory is not None else 'neither'}.")
        if data.model_factory is not None and data.input_size is None:
            raise ValueError("`input_size` (the encoder's input features) is required with "
                             "`model_factory`: the batches need not be 3-D float tensors.")
        return data

    def build_model(self, encoder: nn.Module, hidden_size: int) -> nn.Module:
        if self.model_factory is not None:
            return self.model_factory(encoder)
        return CellModel(encoder, self.head_factory(hidden_size))

    def resolve_input_size(self) -> int:
        return self.input_size if self.input_size is not None else _input_size(self.train_batches)


def _input_size(train_batches) -> int:
    for x, _ in train_batches():
        if x.dim() != 3:
            raise ValueError(f"batches must hold x of shape (batch, time, input), got {tuple(x.shape)}; "
                             "pass `model_factory` and `input_size` for other inputs.")
        return int(x.shape[-1])
    raise ValueError("`train_batches()` returned no batches.")


