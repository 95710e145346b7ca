"""Instance normalisation of windows: the forecasting network's, and the linear map's space.

Each window is normalised per column before a model sees it, and the forecast is mapped back:
"last" subtracts the window's last value (NLinear, SegRNN), "revin" subtracts its mean and
divides by its standard deviation (RevIN, Kim et al. 2022, without the affine part), "none"
leaves it. Adding a constant to a column's window shifts that column's forecast by the same
constant under "last" and "revin". The estimators' parameter may also be "auto": one of these
chosen per fit (:mod:`autoforecast.normalization_choice`).
"""

from __future__ import annotations

import torch

from autoforecast.settings import NORMALIZATIONS, WINDOW_NORMALIZATIONS

REVIN_EPS = 1e-5  # added to the variance: a constant window has scale sqrt(eps), not 0


def check_normalization(name) -> str:
    """The estimators' parameter: one of ``NORMALIZATIONS`` ("auto" included)."""
    if not isinstance(name, str) or name not in NORMALIZATIONS:
        raise ValueError(f"`normalization` must be one of {NORMALIZATIONS}, got {name!r}. Pass "
                         '"auto" (chosen from the training part) or one of the others.')
    return name


def check_window_normalization(name) -> str:
    """A window's normalisation: one of ``WINDOW_NORMALIZATIONS`` ("auto" is resolved by the
    fit, as ``normalization_``, before any window is normalised)."""
    if not isinstance(name, str) or name not in WINDOW_NORMALIZATIONS:
        raise ValueError(f"a window's normalisation must be one of {WINDOW_NORMALIZATIONS}, got "
                         f"{name!r}; \"auto\" is resolved by the estimator's fit "
                         "(normalization_).")
    return name


def normaliser(x: torch.Tensor, normalization: str):
    """``(shift, scale)`` of each window and column of ``x`` (batch, lookback, n_cols), each
    (batch, 1, n_cols), without gradients: the normalised window is ``(x - shift) / scale``
    and a forecast ``f`` in that space is ``f * scale + shift`` in ``x``'s."""
    check_window_normalization(normalization)
    x = x.detach()
    if normalization == "last":
        return x[:, -1:], torch.ones_like(x[:, -1:])
    if normalization == "revin":
        return x.mean(1, keepdim=True), (x.var(1, keepdim=True, unbiased=False) + REVIN_EPS).sqrt()
    return torch.zeros_like(x[:, -1:]), torch.ones_like(x[:, -1:])
