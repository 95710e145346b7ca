"""The shared shell of every torch forecaster: windows, seeding, device, training, forecasting.

A subclass lists its parameters in ``__init__`` (the common ones below plus its own) and
implements ``_build_module(n_features, n_targets)``, an ``nn.Module`` that maps
``x: (batch, lookback, n_features)`` to ``(batch, horizon, n_targets)`` on the scaled series.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
from torch import nn

from .base import BaseForecaster, check_positive_int
from .data import Windows
from .cells.heads import warm_start_heads
from .events import epoch_losses
from .ridge import linear_map
from .shell import MaxTimeWarning  # noqa: F401 (its import path before the shell existed)
from .training import seed_everything_local, torch_threads, train_module

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device) -> torch.device:
    """``"auto"`` is CUDA when available, else the CPU; ``"cuda"`` without CUDA is an error."""
    if isinstance(device, torch.device):
        device = device.type
    if device not in DEVICES:
        raise ValueError(f"`device` must be one of {DEVICES}, got {device!r}.")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "device='cuda' was asked for, but torch sees no CUDA device "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'none'}). "
            "Pass device='cpu' or device='auto', or install a CUDA build of torch."
        )
    return torch.device(device)


class NeuralForecaster(BaseForecaster):
    """Base of the torch forecasters; not used directly (``_build_module`` is abstract).

    Common parameters: ``epochs``, ``batch_size``, ``lr``, ``weight_decay``, ``patience``
    (early-stopping epochs without improvement on the validation part; None: never stop),
    ``device`` ("auto", "cpu", "cuda"), ``max_time`` (seconds; None: no cap), ``random_state``,
    ``verbose`` (render the fit's progress events on stderr when no ``callback`` is given) and
    ``n_threads`` (torch intra-op threads during fit and predict; None: torch's setting).
    Progress: one ``"train"`` event per epoch, its record (``train_loss``, ``val_loss``, ...)
    in the event's ``data``.

    The shared head's linear highway (``linear_skip``) starts at the least-squares linear map
    of the training windows (what ``LinearForecaster`` fits), and early stopping also weighs
    the untrained weights (``best_epoch_ == -1`` when no epoch beat them on the validation
    part): a model that learns nothing useful on top of the linear map keeps it, visibly.

    Fitted: ``module_`` (on the CPU), ``history_`` (one dict per epoch), ``best_epoch_``,
    ``device_``, ``time_capped_``, ``n_targets_``.
    """

    # --------------------------------------------------------------------- parameters
    def _check_common_params(self) -> int:
        lookback = super()._check_common_params()
        check_positive_int(self.epochs, "epochs")
        check_positive_int(self.batch_size, "batch_size")
        for name in ("lr", "weight_decay"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or isinstance(value, bool) or value < 0 or (
                    name == "lr" and value == 0):
                raise ValueError(f"`{name}` must be a number {'> 0' if name == 'lr' else '>= 0'}, "
                                 f"got {value!r}.")
        if self.patience is not None:
            check_positive_int(self.patience, "patience")
        if self.n_threads is not None:
            check_positive_int(self.n_threads, "n_threads")
        if self.max_time is not None and not (isinstance(self.max_time, numbers.Real)
                                              and self.max_time > 0):
            raise ValueError(f"`max_time` must be None or seconds > 0, got {self.max_time!r}.")
        return lookback

    # ---------------------------------------------------------------------------- fit
    def _fit_scaled(self, Z, split) -> None:
        self.device_ = resolve_device(self.device)
        seed = self._seed()
        self.n_targets_ = len(self.target_idx_)
        with torch_threads(self.n_threads), seed_everything_local(seed):
            module = self._build_module(Z.shape[1], self.n_targets_)
            warm_start_heads(module, *self._linear_map(Z, split))
            result = self._train(module, *self._split_windows(Z, split),
                                 generator=np.random.default_rng(seed))
        self.module_ = module.cpu().eval()
        self.history_ = result.history
        self.best_epoch_ = result.best_epoch
        self.time_capped_ = result.time_capped
        if result.time_capped:
            self._time_capped("the training", f", after {len(result.history)} of {self.epochs} "
                                              "epochs")

    def _linear_map(self, Z, split):
        """The least-squares linear map of the training windows, where the highway starts."""
        return linear_map(Z, self.target_idx_, split.origins("train", self.lookback_, self.horizon),
                          self.lookback_, self.horizon)

    def _split_windows(self, Z, split) -> tuple[Windows, Windows | None]:
        """Training windows, and validation windows (None when the validation part is empty)."""
        def windows(part):
            origins = split.origins(part, self.lookback_, self.horizon)
            return Windows(Z, origins, self.lookback_, self.horizon, self.target_idx_)

        val = windows("val") if split.n_val else None
        return windows("train"), (val if val is not None and len(val) else None)

    def _train(self, module: nn.Module, train: Windows, val: Windows | None, generator):
        """Train ``module`` in place with the shared loop; returns its ``TrainResult``."""
        def train_batches():
            return train.batches(self.batch_size, shuffle=True, generator=generator)

        def val_batches():
            return val.batches(self.batch_size)

        return train_module(
            module, train_batches, val_batches if val is not None else None, nn.MSELoss(),
            epochs=self.epochs, lr=self.lr, weight_decay=self.weight_decay,
            patience=self.patience, device=self.device_, max_time=self.max_time,
            on_epoch=self._log_epoch, keep_initial=True,
        )

    _epoch_stage = ("train", "training")  # the per-epoch events' stage, and how it reads

    def _log_epoch(self, record: dict) -> None:
        """One progress event per epoch (``verbose`` renders it on stderr)."""
        (stage, doing), done = self._epoch_stage, record["epoch"] + 1
        self._emit(stage, done, self.epochs, epoch_losses(record),
                   reached=f"{doing} epoch {done} of {self.epochs}", **record)

    # ------------------------------------------------------------------------ predict
    def _forecast_scaled(self, Z, origins):
        device = self._predict_device()
        windows = Windows(Z, origins, self.lookback_, 0)
        module = self.module_.to(device)
        out = []
        try:
            with torch_threads(self.n_threads), torch.no_grad():
                for x in windows.batches(self.batch_size):
                    out.append(module(x.to(device)).cpu())  # (batch, horizon, n_targets)
        finally:
            self.module_.cpu()
        return torch.cat(out).numpy().astype(np.float64)

    def _predict_device(self) -> torch.device:
        """The fit's device when it is available here; else the CPU (same computation)."""
        if self.device_.type == "cuda" and not torch.cuda.is_available():
            return torch.device("cpu")
        return self.device_

    # --------------------------------------------------------------------- subclasses
    def _build_module(self, n_features: int, n_targets: int) -> nn.Module:
        raise NotImplementedError(f"{type(self).__name__} must implement _build_module.")
