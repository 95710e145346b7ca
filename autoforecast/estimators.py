"""AutoCellForecaster: search a recurrent cell, retrain it, report its skill against baselines.

``fit(X)``:
1. validates and splits the series chronologically (training, validation, held-out test);
2. searches a cell (growable differentiable search, :mod:`autoforecast.search`) on windows of
   the training part, architecture steps on the validation part;
3. retrains the derived cell from scratch, early-stopped on the validation part;
4. keeps the cell's errors on the validation part for prediction intervals (``residuals_``);
5. fits the baselines on the same rows and scores every model on the test part (``report_``,
   with the coverage and width of each model's 90 % interval);
6. with ``refit=True``, retrains the cell on all rows before ``predict``.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from torch import nn

from .cells.base import n_parameters
from .cells.segments import SegmentNet, SegmentNetFactory
from .data import EpochBatches, NotEnoughDataError, SeriesData, Windows, future_values
from .data.errors import InputWarning
from .data.splits import PanelSplit
from .evaluation import REPORT_COVERAGE, interval_bounds_or_none, skill_table
from .events import epoch_losses, search_reached
from .models import model_class, model_names
from .neural import RECIPE, NeuralForecaster, resolve_device
from .search import SearchConfig, build_encoder, genotype_of
from .search.data import SearchData
from .search.events import SearchResult
from .search.parallel import run_searches
from .settings import SearchSettings
from .training import seed_everything_local, train_module

BASELINES = model_names(baseline=True)
# settings the baselines take from the estimator when they have them (the LSTM: all of them but
# the hidden size, which gives its network the cell's parameter count: ``matched_hidden_size``)
SHARED_WITH_BASELINES = ("segment_length", "normalization", "covariates",
                         "linear_skip", "epochs", "batch_size", "lr", "weight_decay", "patience",
                         "device")
# The search of a default fit (SearchSettings' fields left at None take these). 4 candidates a
# search, 2 searches: 8 cells retrained 2 epochs each, the best on validation kept
# (docs/method.md, section 8).
DEFAULT_SEARCH = SearchSettings(
    backbone="two_input", mode="grow_then_prune", n_active=1, init_nodes=1, max_nodes=4,
    growth="schedule", grow_every=2, epochs=6, n_searches=2, selection_epochs=2,
    second_order=False, activations=False, subsample=2000, strategy="search",
    derivation="argmax", genotype=None, carry=True, n_candidates=4)


# The default cell's hidden size: the default search's cell (3 nodes: grown from 1 every 2 of
# its 6 epochs; the carry path) then has the parameter count of the GRU forecaster's default
# network (hidden 64) within 1 %: 28,374 against 28,472 on ETTh1 (the count depends on the
# hidden size and the number of nodes, not on the nodes' operations).
CELL_HIDDEN_SIZE = 48


class ForecastSearchTask:
    """The search's data for one seed (picklable, for joblib workers): windows, and the
    forecasting network built around the supernet (or a candidate cell) as it will be trained,
    so that the search ranks cells as they will be used."""

    def __init__(self, train: Windows, val: Windows, batch_size: int, factory: SegmentNetFactory):
        self.train, self.val, self.batch_size, self.factory = train, val, batch_size, factory

    def __call__(self, seed: int) -> SearchData:
        # The supernet's batch normalisation needs at least 2 windows a batch.
        return SearchData(EpochBatches(self.train, self.batch_size, shuffle=True, seed=seed,
                                       min_size=2),
                          EpochBatches(self.val, self.batch_size, min_size=2),
                          nn.MSELoss(), self.factory, self.factory.config.hidden_size)


class AutoCellForecaster(NeuralForecaster):
    """Forecaster whose recurrent cell is found by growable differentiable architecture search.

    Search: ``search``, a :class:`~autoforecast.SearchSettings` (None: the defaults below; a
    field left unset takes its default): the backbone, growth, epochs, seeds and strategy of
    the search (docs/search.md). Each field is also a parameter of its own, the sklearn way:
    ``set_params(search__max_nodes=6)``, ``GridSearchCV(est, {"search__backbone": [...]})``.
    The defaults: ``DEFAULT_SEARCH``. ``subsample`` caps the training windows the search runs
    on, taken evenly spaced over the training part (it bounds the search's cost on long
    series). Network (the searched cell in the forecasting network of every recurrent
    forecaster, :class:`autoforecast.neural.NeuralForecaster`): ``lookback``,
    ``segment_length``, ``normalization``, ``covariates``, ``linear_skip``, ``hidden_size``.
    Retraining: ``epochs``, ``patience``, ``lr``, ``batch_size``, ``weight_decay``. Report:
    ``baselines`` among "lstm", "gru", "arima", "linear", "naive", scored on the last
    ``test_size`` rows (``test_size=0`` skips the report). ``n_jobs`` runs searches,
    candidate retrainings and baselines through joblib. ``max_time`` (seconds) caps the whole
    fit: the search, the retraining and the refit share it, each getting what the ones before
    left; a capped fit warns (:class:`~autoforecast.shell.MaxTimeWarning`) that it is not
    reproducible.

    The report (``report_``, one row per model) also gives the empirical coverage and mean
    width of each model's 90 % prediction interval on the test part (``coverage_90``,
    ``width_90``; NaN for a model with too few calibration residuals).

    Intervals (``predict_interval``): the calibration residuals are the errors of the retrained
    cell on the validation part, taken before ``refit=True`` retrains on all rows. After a
    refit they are a heuristic: the refitted network saw the validation rows, and its errors
    on new data may differ from those of the validated network.

    Candidates: each search derives ``n_candidates`` distinct cells (its argmax, then the
    cells that swap in the runner-up op or side input at its least decided nodes); every
    candidate is retrained ``selection_epochs`` epochs and the best on validation is kept
    (a cell of pass-through nodes only is kept only by winning, never by a tie;
    docs/method.md, section 8). ``candidates_`` (DataFrame, one row per candidate:
    ``genotype``, ``seed``, ``search_val_loss``, ``selection_val_loss``, ``kept``) reports
    them; ``strategy="random"`` samples as many cells and reports them the same way.

    Fitted: ``search_settings_`` (every field set), ``genotype_``, ``module_``,
    ``search_history_``, ``search_result_``, ``candidates_``, ``history_``, ``report_``
    (DataFrame, one row per model), ``baselines_``, ``residuals_``, ``n_features_in_``,
    ``feature_names_in_`` (DataFrames).
    """

    _search_defaults = DEFAULT_SEARCH

    def __init__(self, lookback="auto", horizon=1, target=None, validation_size=0.2,
                 test_size=0.2, missing="raise", search=None, hidden_size=CELL_HIDDEN_SIZE,
                 segment_length="auto", normalization="last", covariates="others",
                 linear_skip=False, epochs=RECIPE.epochs, batch_size=RECIPE.batch_size,
                 lr=RECIPE.lr, weight_decay=0.0, patience=RECIPE.patience,
                 baselines=("naive", "lstm", "arima"), refit=False, device="auto",
                 max_time=None, random_state=None, verbose=0, n_jobs=None,
                 future_covariates=None):
        self.lookback = lookback
        self.horizon = horizon
        self.target = target
        self.validation_size = validation_size
        self.test_size = test_size
        self.missing = missing
        self.search = search
        self.hidden_size = hidden_size
        self.segment_length = segment_length
        self.normalization = normalization
        self.covariates = covariates
        self.linear_skip = linear_skip
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.baselines = baselines
        self.refit = refit
        self.device = device
        self.max_time = max_time
        self.random_state = random_state
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.future_covariates = future_covariates

    # ---------------------------------------------------------------------- fit
    # fit(X, y=None, callback=None): autoforecast.shell.EstimatorShell.fit
    def _check_common_params(self) -> int:
        lookback = super()._check_common_params()
        baselines = self.baselines
        if isinstance(baselines, str) or not isinstance(baselines, (tuple, list)) or any(
                b not in BASELINES for b in baselines):
            raise ValueError(f"`baselines` must be a tuple of names from {BASELINES}, got "
                             f"{self.baselines!r}.")
        self.search_settings_ = self._search_settings()
        self._search_config()  # validates the search settings before any work starts
        return lookback

    def _search_config(self) -> SearchConfig:
        return SearchConfig.from_settings(self.search_settings_, hidden_size=self.hidden_size,
                                          lr=self.lr, max_time=self._time_left())

    def _fit_scaled(self, Z, split) -> None:
        self.device_ = resolve_device(self.device)
        self._prepare_network(Z, split)
        self._search(Z, split)
        self._emit("retrain", 0, self.epochs, f"retraining {self.genotype_}, normalisation "
                   f"{self._normalization_note()}", normalization=self.normalization_)
        self._train_network(Z, split)  # retrains the derived cell (see build_module)
        self.fit_seconds_ = self._elapsed()  # search and retraining

    def _finish_fit(self, Z, split) -> None:
        """After the calibration residuals (taken from the validated model, before a refit):
        the report on the test part, then the refit on all rows."""
        long = isinstance(split, PanelSplit)
        if long and split.n_test and not self.refit:
            warnings.warn(
                f"{type(self).__name__} on a long frame makes no skill report, so its test part "
                f"(the last test_size={self.test_size!r} of each series, {split.n_test} rows in "
                "all) is held out and used by nothing. Pass test_size=0 to train on those rows, "
                "and compare models on a long frame with compare_models or backtest.",
                InputWarning, stacklevel=6)  # fit's caller
        if split.n_test and self.baselines and not long:
            names = ", ".join(self.baselines)
            self._emit("baselines", 0, len(self.baselines), f"fitting the baselines: {names}",
                       reached=f"fitting the baselines ({names})")
        self._report(Z, split)
        if self.refit:
            self._refit_all(Z)

    def _search(self, Z, split) -> None:
        settings = self.search_settings_
        if settings.genotype is not None:  # given: no search
            result = SearchResult(genotype_of(settings.genotype))
        else:
            result = run_searches(self._search_config(), self._search_task(Z, split),
                                  self._seed(), self.device_, self.n_jobs, self._on_search_event)
        self.search_result_ = result
        self.candidates_ = result.candidate_table()
        self.genotype_ = result.genotype
        self.search_history_ = result.history
        if result.time_capped:
            self._time_capped("the search")

    def _search_task(self, Z, split) -> ForecastSearchTask:
        """The search's windows (at most ``subsample`` training windows, evenly spaced)."""
        train, val = self._split_windows(Z, split)
        if val is None or len(val) < 2 or len(train) < 2:
            raise NotEnoughDataError(
                f"the search needs at least 2 training and 2 validation windows, got {len(train)} "
                f"and {0 if val is None else len(val)}; pass a longer series or a larger "
                f"validation_size (got {self.validation_size!r}).")
        limit = self.search_settings_.subsample
        if limit != "all" and len(train) > limit:
            keep = np.linspace(0, len(train) - 1, limit).round().astype(int)
            train = self._windows(Z, train.origins[keep])
        start = self._linear_map(Z, split) if self.linear_skip else None
        return ForecastSearchTask(train, val, int(self.batch_size),
                                  SegmentNetFactory(self._network_config(), start))

    def _build_encoder(self) -> nn.Module:
        d = int(self.hidden_size)
        return build_encoder(self.genotype_, d, d)

    # ------------------------------------------------------------------- report
    def baseline(self, name: str):
        """The baseline ``name`` of the model registry, on the same windows, and for a neural
        one with the same head, training recipe and early stopping as the cell, and the hidden
        size that gives its network the cell's parameter count."""
        cls = model_class(name)
        accepted = cls().get_params()
        settings = {k: getattr(self, k) for k in SHARED_WITH_BASELINES if k in accepted}
        if "hidden_size" in accepted:
            settings["hidden_size"] = self.matched_hidden_size(cls)
        settings |= dict(lookback=self.lookback_, horizon=self.horizon,
                         target=list(self.target_idx_), missing="raise")
        if "normalization" in accepted:  # the one the cell's network uses ("auto": chosen)
            settings["normalization"] = self._normalization()
        if "random_state" in accepted:
            settings["random_state"] = self._seed()
        if "n_jobs" in accepted:  # one process: the baselines themselves run in parallel
            settings["n_jobs"] = 1
        if "seasonal_period" in accepted:  # baselines get arrays: give ARIMA the index's period
            from .baselines.arima_period import period_from_freq

            settings["seasonal_period"] = period_from_freq(self.freq_)[0]
        return cls(**settings)

    def matched_hidden_size(self, cls) -> int:
        """The hidden size at which the recurrent forecaster ``cls`` (one layer, its defaults
        otherwise) gives the fitted network the parameter count closest to the cell's."""
        target = n_parameters(self.module_)
        config = self._network_config()

        def count(hidden: int) -> int:
            encoder = cls(hidden_size=hidden)._build_encoder()
            return n_parameters(SegmentNet(encoder, replace(config, hidden_size=hidden)))

        low, high = 1, 2 * int(self.hidden_size) + 8  # the count grows with the hidden size
        while count(high) < target:
            high *= 2
        while high - low > 1:  # the largest size at or below the cell's count, and the next
            mid = (low + high) // 2
            low, high = (mid, high) if count(mid) <= target else (low, mid)
        return min((low, high), key=lambda h: abs(count(h) - target))

    def _report(self, Z, split) -> None:
        self.baselines_ = {}
        self.report_ = None
        if not split.n_test or not self.baselines or isinstance(split, PanelSplit):
            return  # a long frame's models are compared by compare_models
        values = self.scaler_.inverse_transform(Z)  # the original units
        fit_part = values[: split.val_end]
        fitted = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_timed)(self.baseline(name), fit_part, split.n_val)
            for name in self.baselines)
        self.baselines_ = {name: est for name, (est, _) in zip(self.baselines, fitted)}
        data = SeriesData(values, pd.RangeIndex(len(values)), list(range(values.shape[1])), False)
        origins = split.origins("test", self.lookback_, self.horizon)
        forecasts = {"autocell": self._forecast_origins(data, origins)}
        forecasts |= {name: est.predict_at(values, origins) for name, est in self.baselines_.items()}
        seconds = {"autocell": round(self.fit_seconds_, 2)}
        seconds |= {name: round(s, 2) for name, (_, s) in zip(self.baselines, fitted)}
        truth = future_values(values, origins, self.horizon, self.target_idx_)
        models = {"autocell": self, **self.baselines_}
        bounds = {name: interval_bounds_or_none(est, values, origins, forecasts[name],
                                                [REPORT_COVERAGE])
                  for name, est in models.items()}
        self.report_ = skill_table(truth, forecasts, "autocell", seconds, bounds,
                                   [REPORT_COVERAGE])
        self._emit("report", 1, 1, "skill on the test part:\n" + self.report_.to_string())

    def _refit_all(self, Z) -> None:
        """Retrain the cell on every row, for as many epochs as early stopping chose.

        When no epoch beat the untrained weights (``best_epoch_ == -1``), the validated model
        is kept as it is: there is nothing to retrain for.
        """
        if self.best_epoch_ < 0:
            return
        origins = self.split_.origins("all", self.lookback_, self.horizon)
        windows = self._windows(Z, origins)
        seed = self._seed()
        with seed_everything_local(seed):
            module = self.build_module()
            if self.linear_skip:
                module.set_linear_map(*self._linear_map(Z, None, origins))
            result = train_module(module, EpochBatches(windows, self.batch_size, True, seed),
                                  None, nn.MSELoss(), epochs=self.best_epoch_ + 1, lr=self.lr,
                                  weight_decay=self.weight_decay, patience=None,
                                  device=self.device_, max_time=self._time_left(),
                                  on_epoch=self._log_refit_epoch)
        self.module_ = module.cpu().eval()
        if result.time_capped:
            self._time_capped("the refit on all rows", f", after {len(result.history)} of "
                                                         f"{self.best_epoch_ + 1} epochs")

    def _log_refit_epoch(self, record: dict) -> None:
        done, total = record["epoch"] + 1, self.best_epoch_ + 1
        self._emit("refit", done, total, epoch_losses(record),
                   reached=f"refitting on all rows, epoch {done} of {total}", **record)

    # ----------------------------------------------------------------- progress
    # _emit, the record of how far the fit got: autoforecast.shell.EstimatorShell
    _epoch_stage = ("retrain", "retraining")  # NeuralForecaster._log_epoch's events

    def _on_search_event(self, event) -> None:
        epochs = self.search_settings_.epochs
        kind, reached = event.kind, search_reached(event, epochs)
        if kind == "epoch":
            self._emit("search", event.epoch + 1, epochs,
                       f"run {event.search_index}: {event.n_nodes} nodes, train {event.train_loss:.4f}"
                       f", val {event.val_loss:.4f}, {event.genotype}", reached=reached,
                       **_fields(event))
        elif kind in ("grow", "prune", "search_done", "candidate", "selected"):
            self._emit("search", getattr(event, "epoch", 0) + 1, None,
                       f"{kind}: " + _describe(event), reached=reached, **_fields(event))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


def _fit_timed(estimator, values, n_val):
    started = time.perf_counter()
    estimator.set_params(validation_size=n_val, test_size=0).fit(values)
    return estimator, time.perf_counter() - started


def _fields(event) -> dict:
    out = {k: v for k, v in vars(event).items() if k != "genotype"}
    if getattr(event, "genotype", None) is not None:
        out["genotype"] = event.genotype.to_dict()
    return out


def _describe(event) -> str:
    parts = [f"{k}={v}" for k, v in vars(event).items() if k not in ("kind", "genotype")]
    if getattr(event, "genotype", None) is not None:
        parts.append(str(event.genotype))
    return ", ".join(parts)

