"""The registry of models: every estimator the package offers, by the name users give it.

One table feeds the command line's choices (``--model``, ``--baseline``), the baselines of
``AutoCellForecaster``'s report, the top-level names (``from autoforecast import
LSTMForecaster``), the classes the safe model format may build, and the tests. An entry names
its class as ``"module:Class"`` and imports it on first use, so that reading the table (the
command line's ``--help``) loads neither torch nor statsmodels. A new forecaster is added here
once.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

FORECASTER, LANGUAGE_MODEL = "forecaster", "language_model"


@dataclass(frozen=True)
class Model:
    name: str  # as users give it: "lstm"
    target: str  # where the class lives: "autoforecast.baselines.rnn:LSTMForecaster"
    summary: str  # one line for help texts
    kind: str = FORECASTER
    baseline: bool = False  # may stand among AutoCellForecaster's baselines

    @property
    def class_name(self) -> str:
        return self.target.rpartition(":")[2]

    def load(self) -> type:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)


MODELS = {m.name: m for m in (
    Model("autocell", "autoforecast.estimators:AutoCellForecaster",
          "recurrent cell found by architecture search"),
    Model("lstm", "autoforecast.baselines.rnn:LSTMForecaster",
          "LSTM in the same network, same budget", baseline=True),
    Model("gru", "autoforecast.baselines.rnn:GRUForecaster",
          "GRU in the same network (SegRNN), same budget", baseline=True),
    Model("arima", "autoforecast.baselines.arima:ARIMAForecaster", "ARIMA per series",
          baseline=True),
    Model("linear", "autoforecast.baselines.linear:LinearForecaster",
          "least-squares linear map shared by all series", baseline=True),
    Model("naive", "autoforecast.baselines.naive:NaiveForecaster", "the last value",
          baseline=True),
    Model("seasonal_naive", "autoforecast.baselines.naive:SeasonalNaiveForecaster",
          "the value one season before"),
    Model("language_model", "autoforecast.language_model:AutoCellLanguageModel",
          "word-level language model with a searched cell", kind=LANGUAGE_MODEL),
)}


def model_names(kind: str = FORECASTER, baseline: bool | None = None) -> tuple[str, ...]:
    """Names of the models of ``kind`` (``baseline=True``: only those allowed as baselines)."""
    return tuple(m.name for m in MODELS.values()
                 if m.kind == kind and (baseline is None or m.baseline == baseline))


def model_class(name: str, kind: str = FORECASTER) -> type:
    """The estimator class registered as ``name``, a model of ``kind``."""
    if name not in MODELS or MODELS[name].kind != kind:
        raise ValueError(f"unknown model {name!r}; expected one of "
                         f"{', '.join(model_names(kind))}.")
    return MODELS[name].load()


def class_names() -> dict[str, Model]:
    """Registered class name -> its entry (the names the top-level package exports)."""
    return {m.class_name: m for m in MODELS.values()}
