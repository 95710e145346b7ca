"""The shared shell of every recurrent forecaster: the network, windows, device, training.

Every recurrent forecaster trains one network (``cells/segments.py``, docs/method.md section 7): per
window instance normalisation, one sequence per target series with its covariates, segments of
``segment_length_`` steps, parallel decoding. A subclass lists its parameters in ``__init__``
(the common ones below plus its own) and implements ``_build_encoder()``, the recurrent cell
(input and state size ``hidden_size``) that the network runs.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .base import BaseForecaster, check_positive_int
from .cells.segments import SegmentConfig, SegmentNet
from .data import EpochBatches, Windows
from .data.normalization import check_normalization
from .data.splits import n_rows_of
from .data.timeindex import segment_length_for
from .events import epoch_losses
from .calendar import named
from .future import check_future_covariates, future_columns
from .normalization_choice import NormalizationChoice
from .ridge import linear_map
from .settings import COVARIATES
from .training import seed_everything_local, train_module

DEVICES = ("auto", "cpu", "cuda")
AUTO_SEGMENTS = 30  # lookback="auto": 30 segments (720 hourly steps, SegRNN's), if the data allow


@dataclass(frozen=True)
class Recipe:
    """The training recipe every recurrent forecaster takes by default, the searched cell's
    retraining, the GRU and the LSTM alike (docs/method.md, section 9): Adam at ``lr``, at
    most ``epochs`` epochs of ``batch_size`` windows, stopped after ``patience`` epochs
    without a lower validation loss, the best epoch's weights kept."""

    epochs: int
    patience: int
    batch_size: int
    lr: float


# Chosen on the validation parts of five data sets, the same trials for the searched cell and
# the GRU (recipe "A" of benchmarks/bench_network.py's RECIPES, against a lower rate and longer
# patience "B"; docs/benchmarks.md, "Recipe trials"; docs/method.md, section 9).
RECIPE = Recipe(epochs=10, patience=3, batch_size=256, lr=6e-3)


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


class NeuralForecaster(NormalizationChoice, BaseForecaster):
    """Base of the recurrent forecasters; not used directly (``_build_encoder`` is abstract).

    Network parameters: ``lookback`` (an int, or "auto": ``AUTO_SEGMENTS`` segments, at most
    half of the training part's rows after the horizon), ``segment_length`` (an int, or "auto":
    from the index frequency, ``data.timeindex.segment_length_for``; at most the lookback),
    ``normalization`` ("last", the default, "revin" or "none": per window and series; "auto":
    one of them chosen per fit by the least-squares map's error on the last fifth of the
    training part's windows, ``normalization_choice``), ``covariates``
    ("others": the columns that are not targets are appended to every target's segments;
    "all": the other targets too; "none"), ``linear_skip`` (a highway from each normalised
    window to its normalised forecast, started at the least-squares map in that space),
    ``hidden_size`` (the cell's input and state size), ``future_covariates`` (None, or the
    columns whose values over the horizon are known: the decoding step reads them, and
    ``predict(future=...)`` gives them; :mod:`autoforecast.future`).

    Training: ``epochs``, ``batch_size`` (windows; each holds one sequence per target),
    ``lr``, ``weight_decay``, ``patience`` (early-stopping epochs without improvement on the
    validation part; None: never stop), ``device`` ("auto", "cpu", "cuda"), ``max_time``
    (seconds for the whole fit; None: no cap), ``random_state`` and ``verbose`` (render the
    fit's progress events on stderr when no ``callback`` is given). Training and prediction use
    torch's own thread setting (``torch.set_num_threads``). Progress: one ``"train"`` event per epoch, its record
    (``train_loss``, ``val_loss``, ...) in the event's ``data``.

    The network starts as the normalisation's own forecast (its output map is zero: the last
    value under "last", the window mean under "revin"), plus the highway where there is one,
    and early stopping also weighs these untrained weights (``best_epoch_ == -1`` when no epoch
    beat them on the validation part): a model that learns nothing keeps that, visibly.

    Intervals (``predict_interval``): the calibration residuals (``residuals_``) are the
    errors of the trained network on the validation part's windows; ``validation_size=0``
    leaves none.

    Fitted: ``module_`` (on the CPU), ``lookback_``, ``normalization_`` (the normalisation
    used; with "auto", ``normalization_scores_``: each one's error), ``segment_length_``,
    ``covariate_idx_`` (columns appended to every target's segments), ``future_idx_`` (the
    known-future columns), ``history_`` (one dict
    per epoch), ``best_epoch_``, ``device_``, ``time_capped_``, ``n_targets_``, ``residuals_``.
    """

    _first_readable_version = "0.2.0"  # 0.2 replaced the network: older files need a refit

    # --------------------------------------------------------------------- parameters
    def _check_common_params(self) -> int | None:
        lookback = None if self.lookback == "auto" else super()._check_common_params()
        check_positive_int(self.horizon, "horizon")
        check_positive_int(self.epochs, "epochs")
        check_positive_int(self.batch_size, "batch_size")
        check_positive_int(self.hidden_size, "hidden_size")
        if self.segment_length != "auto":
            check_positive_int(self.segment_length, "segment_length")
        check_normalization(self.normalization)
        check_future_covariates(self.future_covariates)
        if self.covariates not in COVARIATES:
            raise ValueError(f"`covariates` must be one of {COVARIATES}, got {self.covariates!r}.")
        for name in ("lr", "weight_decay"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or isinstance(value, bool) or value < 0 or (
                    name == "lr" and value == 0):
                raise ValueError(f"`{name}` must be a number {'> 0' if name == 'lr' else '>= 0'}, "
                                 f"got {value!r}.")
        if self.patience is not None:
            check_positive_int(self.patience, "patience")
        if self.max_time is not None and not (isinstance(self.max_time, numbers.Real)
                                              and self.max_time > 0):
            raise ValueError(f"`max_time` must be None or seconds > 0, got {self.max_time!r}.")
        return lookback

    def _segment_length(self, lookback: int | None = None) -> int:
        """The segment length for this data (``freq_``), at most ``lookback``."""
        w = (segment_length_for(self.freq_) if self.segment_length == "auto"
             else int(self.segment_length))
        return w if lookback is None else min(w, lookback)

    def _auto_lookback(self, n_rows: int) -> int:
        """``AUTO_SEGMENTS`` segments, at most half the training rows left after the horizon
        (so that at least as many training windows remain), a whole number of segments."""
        n_train = (n_rows - n_rows_of(self.validation_size, n_rows, "validation_size")
                   - n_rows_of(self.test_size, n_rows, "test_size"))
        w = self._segment_length()
        lookback = min(AUTO_SEGMENTS * w, (n_train - int(self.horizon)) // 2)
        return max(lookback - lookback % w if lookback >= w else lookback, 1)

    # ---------------------------------------------------------------------------- fit
    def _fit_scaled(self, Z, split) -> None:
        self.device_ = resolve_device(self.device)
        self._prepare_network(Z, split)
        self._train_network(Z, split)

    def _train_network(self, Z, split) -> None:
        """Build the network and train it (``device_`` and the network's settings resolved)."""
        seed = self._seed()
        self.n_targets_ = len(self.target_idx_)
        with seed_everything_local(seed):
            module = self.build_module()
            if self.linear_skip:
                module.set_linear_map(*self._linear_map(Z, split))
            result = self._train(module, *self._split_windows(Z, split), seed)
        self.module_ = module.cpu().eval()
        self.history_ = result.history
        self.best_epoch_ = result.best_epoch
        self.time_capped_ = result.time_capped
        if result.time_capped:
            self._time_capped("the training", f", after {len(result.history)} of {self.epochs} "
                                              "epochs")

    def _calibration_residuals(self, Z, split) -> np.ndarray:
        """The errors on the validation part's windows (the most recent ones)."""
        return self._residuals_at(Z, split.recent_origins("val", self.lookback_, self.horizon))

    def residual_source(self) -> str:
        return (f"They are the errors on the validation part's windows (validation_size="
                f"{self.validation_size!r}); refit with a larger validation_size (e.g. 0.2).")

    def _prepare_network(self, Z, split) -> None:
        """Resolve the network's settings that depend on the data (the training part's)."""
        self._choose_normalization(Z, split)
        self.segment_length_ = self._segment_length(self.lookback_)
        targets = set(self.target_idx_)
        self.covariate_idx_ = ([] if self.covariates == "none" else
                               [c for c in range(Z.shape[1]) if c not in targets])
        self.future_idx_ = future_columns(named(self.future_covariates, self.calendar_),
                                          self._fitted_columns(), self.target_idx_)

    def _network_config(self) -> SegmentConfig:
        return SegmentConfig(
            lookback=self.lookback_, horizon=int(self.horizon), segment=self.segment_length_,
            targets=tuple(int(t) for t in self.target_idx_),
            covariates=tuple(int(c) for c in self.covariate_idx_),
            other_targets=self.covariates == "all", normalization=self._normalization(),
            hidden_size=int(self.hidden_size), linear_skip=bool(self.linear_skip),
            future=tuple(int(c) for c in getattr(self, "future_idx_", ())))

    def build_module(self) -> nn.Module:
        """An untrained network, shaped by the fitted settings, around a new encoder (training
        builds one; the safe format rebuilds ``module_`` with it, then loads the weights)."""
        return SegmentNet(self._build_encoder(), self._network_config())

    def _linear_map(self, Z, split, origins=None):
        """The least-squares map of the training windows (or of ``origins``) in the network's
        normalised space, where the highway starts."""
        if origins is None:
            origins = split.origins("train", self.lookback_, self.horizon)
        return linear_map(Z, self.target_idx_, origins, self.lookback_, int(self.horizon),
                          normalization=self._normalization())

    def _split_windows(self, Z, split) -> tuple[Windows, Windows | None]:
        """Training windows, and validation windows (None when the validation part is empty)."""
        def windows(part):
            return self._windows(Z, split.origins(part, self.lookback_, self.horizon))

        val = windows("val") if split.n_val else None
        return windows("train"), (val if val is not None and len(val) else None)

    def _windows(self, Z, origins, horizon=None) -> Windows:
        """The network's windows at ``origins`` of ``Z`` (targets over ``horizon``, default the
        model's; 0: inputs only), each with the horizon's rows after it where the network reads
        known-future covariates."""
        horizon = int(self.horizon) if horizon is None else horizon
        ahead = int(self.horizon) if getattr(self, "future_idx_", None) else 0
        origins = np.asarray(origins)
        if ahead and len(origins) and origins.max() + ahead > len(Z):
            raise ValueError(
                f"this model reads the known-future covariates {self._future_names()}, whose "
                f"values over the horizon ({ahead} rows after each origin) must be in the data; "
                f"the origin {int(origins.max())} of {len(Z)} rows leaves "
                f"{len(Z) - int(origins.max())}. Forecast after the end of the data with "
                "predict(future=...).")
        return Windows(Z, origins, self.lookback_, horizon, self.target_idx_, ahead=ahead)

    def _train(self, module: nn.Module, train: Windows, val: Windows | None, seed: int):
        """Train ``module`` in place with the shared loop (training windows shuffled by
        ``seed``); returns its ``TrainResult``."""
        return train_module(
            module, EpochBatches(train, self.batch_size, shuffle=True, seed=seed),
            EpochBatches(val, self.batch_size) if val is not None else None, nn.MSELoss(),
            epochs=self.epochs, lr=self.lr, weight_decay=self.weight_decay,
            patience=self.patience, device=self.device_, max_time=self._time_left(),
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
        windows = self._windows(Z, origins, horizon=0)
        module = self.module_.to(device)
        out = []
        try:
            with torch.no_grad():
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
    def _build_encoder(self) -> nn.Module:
        """The recurrent cell: ``forward(x (N, n, hidden_size), state=None) -> (outputs,
        state)``."""
        raise NotImplementedError(f"{type(self).__name__} must implement _build_encoder.")
