"""What a search runs on: its batches, its loss, and how the searched cell becomes a model.

``SearchData(train_batches, val_batches, loss_fn, model_factory, input_size)``:
``train_batches`` / ``val_batches`` are zero-argument callables returning one epoch of
``(x, y)`` batches; ``loss_fn(prediction, y) -> scalar``; ``model_factory(encoder) ->
nn.Module`` builds the model trained around the searched cell (the forecaster's network, the
language model's embedding, cell and tied decoder), and ``input_size`` is the number of input
features of the cell (``encoder(x)`` gets ``x`` of shape ``(batch, time, input_size)``).
"""

from __future__ import annotations

import numbers
from typing import Callable, NamedTuple


class SearchData(NamedTuple):
    train_batches: Callable
    val_batches: Callable
    loss_fn: Callable
    model_factory: Callable  # model_factory(encoder) -> nn.Module
    input_size: int  # the encoder's input features

    @classmethod
    def of(cls, data) -> "SearchData":
        """``data`` as a SearchData (a 5-tuple or a SearchData), checked."""
        data = data if isinstance(data, cls) else cls(*data)
        if not callable(data.model_factory):
            raise ValueError("`model_factory` must be a callable: model_factory(encoder) -> "
                             f"nn.Module, got {data.model_factory!r}.")
        size = data.input_size
        if not isinstance(size, numbers.Integral) or isinstance(size, bool) or size < 1:
            raise ValueError(f"`input_size` (the encoder's input features) must be an int >= 1, "
                             f"got {size!r}.")
        return data
