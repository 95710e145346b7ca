"""A model file format that cannot run code when loaded.

A ``.afm`` file is a zip archive of ``meta.json`` (the estimator's class, parameters and
fitted state as JSON) and ``tensors.pt`` (arrays and module weights, read back with
``torch.load(weights_only=True)``). Loading builds only the classes named in ``ESTIMATORS`` and
``DATACLASSES`` below; modules are rebuilt empty by the estimator
(``_rebuild_module(attribute)`` where it has one, else ``_build_module``) and then given the
stored weights. Use it for model files from others; joblib files are pickles.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile

import numpy as np
import pandas as pd
import torch
from torch import nn

FORMAT = "autoforecast-safe/1"


def _registries():
    from .baselines import (ARIMAForecaster, LinearForecaster, LSTMForecaster, NaiveForecaster,
                            SeasonalNaiveForecaster)
    from .baselines.arima import SeriesFit
    from .data import SeriesScaler, Split
    from .data.text import Vocabulary
    from .estimators import AutoCellForecaster
    from .language_model import AutoCellLanguageModel
    from .search import Candidate, DartsNode, Genotype, SearchResult, TwoInputNode

    estimators = [AutoCellForecaster, LSTMForecaster, LinearForecaster, ARIMAForecaster,
                  NaiveForecaster, SeasonalNaiveForecaster, AutoCellLanguageModel]
    dataclasses_ = [Split, SeriesFit, SearchResult, Candidate, Genotype, DartsNode, TwoInputNode,
                    Vocabulary]
    return ({c.__name__: c for c in estimators}, {c.__name__: c for c in dataclasses_},
            SeriesScaler)


class UnsupportedModelError(TypeError, ValueError):
    """The estimator (or a part of it) cannot be stored in the safe format."""


class _Encoder:
    """Turns fitted state into JSON-able values; arrays and weights go to ``tensors``."""

    def __init__(self):
        self.tensors: dict[str, torch.Tensor] = {}
        self.estimators, self.dataclasses, self.scaler = _registries()

    def encode(self, value, key: str):
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, nn.Module):
            for name, tensor in value.state_dict().items():
                self.tensors[f"{key}.{name}"] = tensor.detach().cpu().clone()
            return {"__module__": key}
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "biuf":  # strings, objects, dates: element by element
                return {"__objects__": [self.encode(v, key) for v in value.tolist()]}
            self.tensors[key] = torch.from_numpy(np.array(value, order="C", copy=True))
            return {"__array__": key}
        if isinstance(value, (list, tuple)):
            items = [self.encode(v, f"{key}.{i}") for i, v in enumerate(value)]
            return items if isinstance(value, list) else {"__tuple__": items}
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise TypeError(f"{key}: dict keys must be strings for the safe format.")
            return {"__dict__": {k: self.encode(v, f"{key}.{k}") for k, v in value.items()}}
        return self._encode_object(value, key)

    def _encode_object(self, value, key: str):
        if isinstance(value, pd.DataFrame):
            return {"__frame__": {"index": _index_to_json(value.index),
                                  "columns": [str(c) for c in value.columns],
                                  "values": [self.encode(value[c].to_numpy(), f"{key}.{c}")
                                             for c in value.columns]}}
        if isinstance(value, pd.Index):
            return {"__index__": _index_to_json(value)}
        if isinstance(value, pd.offsets.BaseOffset):
            return {"__offset__": value.freqstr}
        if isinstance(value, torch.device):
            return {"__device__": str(value)}
        if isinstance(value, self.scaler):
            return {"__scaler__": self.encode(dict(vars(value)), key)}
        if type(value).__name__ in self.estimators and hasattr(value, "get_params"):
            return {"__estimator__": encode_estimator(value, self, key)}
        if dataclasses.is_dataclass(value) and type(value).__name__ in self.dataclasses:
            fields = {f.name: self.encode(getattr(value, f.name), f"{key}.{f.name}")
                      for f in dataclasses.fields(value)}
            return {"__dataclass__": type(value).__name__, "fields": fields}
        raise UnsupportedModelError(
            f"{key} holds a {type(value).__module__}.{type(value).__name__}, which the safe "
            "format cannot store; save this model with joblib (a .joblib path) instead."
        )


def encode_estimator(est, encoder: _Encoder, prefix: str = "") -> dict:
    name = type(est).__name__
    if name not in encoder.estimators:
        raise UnsupportedModelError(
            f"the safe format cannot store a {name}; save it with joblib (a .joblib path).")
    state = {k: encoder.encode(v, f"{prefix}{k}") for k, v in vars(est).items()
             if k.endswith("_") and not k.startswith("_")}
    return {"class": name, "params": encoder.encode(est.get_params(deep=False), f"{prefix}params"),
            "state": state}


def _index_to_json(index: pd.Index) -> dict:
    if isinstance(index, pd.RangeIndex):
        return {"kind": "range", "start": index.start, "stop": index.stop, "step": index.step}
    if isinstance(index, pd.DatetimeIndex):
        return {"kind": "datetime", "values": index.astype(str).tolist(),
                "tz": str(index.tz) if index.tz else None, "name": index.name}
    if isinstance(index, pd.PeriodIndex):
        return {"kind": "period", "values": index.astype(str).tolist(), "freq": index.freqstr,
                "name": index.name}
    return {"kind": "plain", "values": [v.item() if isinstance(v, np.generic) else v
                                        for v in index.tolist()], "name": index.name}


def _index_from_json(data: dict) -> pd.Index:
    kind = data["kind"]
    if kind == "range":
        return pd.RangeIndex(data["start"], data["stop"], data["step"])
    if kind == "datetime":
        return pd.DatetimeIndex(data["values"], tz=data["tz"], name=data["name"])
    if kind == "period":
        return pd.PeriodIndex(data["values"], freq=data["freq"], name=data["name"])
    return pd.Index(data["values"], name=data["name"])


class _Decoder:
    def __init__(self, tensors: dict):
        self.tensors = tensors
        self.estimators, self.dataclasses, self.scaler = _registries()
        self.modules: list = []  # (estimator, attribute, weights prefix), rebuilt at the end

    def decode(self, value, owner=None, attr=None):
        if not isinstance(value, (dict, list)):
            return value
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        tag = next(iter(value), None)
        if tag == "__array__":
            return self.tensors[value["__array__"]].numpy().copy()
        if tag == "__module__":
            self.modules.append((owner, attr, value["__module__"]))
            return None
        decoders = {
            "__objects__": lambda v: np.array([self.decode(x) for x in v], dtype=object),
            "__tuple__": lambda v: tuple(self.decode(x) for x in v),
            "__dict__": lambda v: {k: self.decode(x) for k, x in v.items()},
            "__frame__": lambda v: pd.DataFrame(
                dict(zip(v["columns"], (self.decode(x) for x in v["values"]))),
                index=_index_from_json(v["index"])),
            "__index__": _index_from_json,
            "__offset__": pd.tseries.frequencies.to_offset,
            "__device__": torch.device,
            "__scaler__": self._scaler,
            "__estimator__": self.estimator,
            "__dataclass__": lambda name: self._dataclass(name, value["fields"]),
        }
        if tag not in decoders:
            raise ValueError(f"unknown entry {tag!r} in a safe model file.")
        return decoders[tag](value[tag])

    def _scaler(self, data):
        scaler = self.scaler()
        vars(scaler).update(self.decode(data))
        return scaler

    def _dataclass(self, name: str, fields: dict):
        if name not in self.dataclasses:
            raise ValueError(f"a safe model file names an unknown type {name!r}.")
        return self.dataclasses[name](**{k: self.decode(v) for k, v in fields.items()})

    def estimator(self, data: dict):
        cls = self.estimators.get(data["class"])
        if cls is None:
            raise ValueError(f"a safe model file names an unknown estimator {data['class']!r}.")
        est = cls(**self.decode(data["params"]))
        for name, value in data["state"].items():
            setattr(est, name, self.decode(value, est, name))
        return est

    def rebuild_modules(self) -> None:
        for est, attr, prefix in self.modules:  # in the order the estimator set them
            if hasattr(est, "_rebuild_module"):
                module = est._rebuild_module(attr)
            else:
                module = est._build_module(est.n_features_in_, len(est.target_idx_))
            weights = {k[len(prefix) + 1:]: t for k, t in self.tensors.items()
                       if k.startswith(prefix + ".")}
            module.load_state_dict(weights, strict=True)
            setattr(est, attr, module.eval())


def write_safe(est, handle) -> None:
    """Write ``est`` in the safe format to a binary file object."""
    from . import __version__

    encoder = _Encoder()
    meta = {"format": FORMAT, "autoforecast": __version__,
            "estimator": encode_estimator(est, encoder)}
    buffer = io.BytesIO()
    torch.save(encoder.tensors, buffer)
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("meta.json", json.dumps(meta))
        archive.writestr("tensors.pt", buffer.getvalue())


def read_safe(path):
    """Read an estimator written by :func:`write_safe`; no code from the file is run."""
    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read("meta.json"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"unsupported safe-format version {meta.get('format')!r}.")
        tensors = torch.load(io.BytesIO(archive.read("tensors.pt")), weights_only=True)
    decoder = _Decoder(tensors)
    est = decoder.estimator(meta["estimator"])
    decoder.rebuild_modules()
    return est, meta["autoforecast"]
