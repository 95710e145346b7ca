"""Stand-ins for classes that version 0.2 removed, so that model files of 0.1 can still be read
far enough to say which version wrote them (and to refit), instead of failing to unpickle.

0.2 replaced the network of the recurrent forecasters (``cells/segments.py``): a 0.1 file of
an LSTM or searched-cell forecaster holds modules of classes that no longer exist. They are
unpickled as :class:`RemovedModule`; the forecaster's ``__setstate__`` then raises
:class:`autoforecast.persistence.OutdatedModelError`.
"""

from __future__ import annotations

from torch import nn


class RemovedModule(nn.Module):
    """A module of a class that this version no longer has; it cannot run."""

    def forward(self, *args, **kwargs):
        raise RuntimeError("this module was written by an older autoforecast whose network this "
                           "version replaced; refit the model.")
