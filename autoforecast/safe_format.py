"""A model file format that cannot run code when loaded.

A ``.afm`` file is a zip archive of ``meta.json`` (the estimator's class, parameters and
fitted state as JSON) and ``tensors.pt`` (arrays and module weights, read back with
``torch.load(weights_only=True)``). Loading builds only the classes of a declared allowlist:
the estimators of the model registry (:mod:`autoforecast.models`), and ``DATACLASSES`` and
``SCALER`` below, each imported when a file names it; modules are rebuilt empty by the estimator
(``rebuild_module(attribute)`` where it has one, else ``build_module()``) and then given the
stored weights. Use it for model files from others; joblib files are pickles.
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import zipfile

import numpy as np
import pandas as pd
import torch
from torch import nn

from ._version import __version__
from .models import MODELS
from .renames import upgrade_params

FORMAT = "autoforecast-safe/1"


# What a safe file may hold besides plain values: the registered estimators
# (:mod:`autoforecast.models`), these dataclasses and the scaler, named where they live and
# imported only when a file needs them.
DATACLASSES = (
    "autoforecast.data.splits:Split",
    "autoforecast.data.text:Vocabulary",
    "autoforecast.baselines.arima:SeriesFit",
    "autoforecast.search.events:SearchResult",
    "autoforecast.search.events:Candidate",
    "autoforecast.search.genotype:Genotype",
    "autoforecast.settings:SearchSettings",
    "autoforecast.search.node_types:DartsNode",
    "autoforecast.search.node_types:TwoInputNode",
)
SCALER = "autoforecast.data.scaling:SeriesScaler"


class _Allowed:
    """The allowlist, by class name (what a file stores), resolved on first use of each."""

    def __init__(self):
        targets = [m.target for m in MODELS.values()] + list(DATACLASSES) + [SCALER]
        self.targets = {t.rpartition(":")[2]: t for t in targets}
        self.estimators = {m.class_name for m in MODELS.values()}
        self.dataclasses = {t.rpartition(":")[2] for t in DATACLASSES}

    def holds(self, value) -> bool:
        """Whether ``value`` is an instance of exactly an allowed class (not a namesake)."""
        kind = type(value)
        return self.targets.get(kind.__name__) == f"{kind.__module__}:{kind.__qualname__}"

    def load(self, name: str) -> type:
        module, _, attr = self.targets[name].partition(":")
        return getattr(importlib.import_module(module), attr)


class UnsupportedModelError(TypeError, ValueError):
    """The estimator (or a part of it) cannot be stored in the safe format."""


class _Encoder:
    """Turns fitted state into JSON-able values; arrays and weights go to ``tensors``."""

    def __init__(self):
        self.tensors: dict[str, torch.Tensor] = {}
        self.allowed = _Allowed()

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
            if all(isinstance(k, str) for k in value):
                return {"__dict__": {k: self.encode(v, f"{key}.{k}") for k, v in value.items()}}
            if not all(isinstance(k, (bool, int, float, np.generic)) for k in value):
                raise UnsupportedModelError(f"{key}: dict keys must be strings or numbers for the "
                                            "safe format; save this model with joblib instead.")
            return {"__pairs__": [[self.encode(k, key), self.encode(v, f"{key}.{i}")]
                                  for i, (k, v) in enumerate(value.items())]}
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
        name, allowed = type(value).__name__, self.allowed
        if allowed.holds(value) and name == SCALER.rpartition(":")[2]:
            return {"__scaler__": self.encode(dict(vars(value)), key)}
        if allowed.holds(value) and name in allowed.estimators:
            return {"__estimator__": encode_estimator(value, self, key)}
        if allowed.holds(value) and name in allowed.dataclasses:
            fields = {f.name: self.encode(getattr(value, f.name), f"{key}.{f.name}")
                      for f in dataclasses.fields(value)}
            return {"__dataclass__": type(value).__name__, "fields": fields}
        raise UnsupportedModelError(
            f"{key} holds a {type(value).__module__}.{type(value).__name__}, which the safe "
            "format cannot store; save this model with joblib (a .joblib path) instead."
        )


def encode_estimator(est, encoder: _Encoder, prefix: str = "") -> dict:
    name = type(est).__name__
    if not (encoder.allowed.holds(est) and name in encoder.allowed.estimators):
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
    def __init__(self, tensors: dict, saved_by: str | None):
        self.tensors, self.saved_by = tensors, saved_by
        self.allowed = _Allowed()
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
            "__pairs__": lambda v: {self.decode(k): self.decode(x) for k, x in v},
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
        scaler = self.allowed.load(SCALER.rpartition(":")[2])()
        vars(scaler).update(self.decode(data))
        return scaler

    def _dataclass(self, name: str, fields: dict):
        if name not in self.allowed.dataclasses:
            raise ValueError(f"a safe model file names an unknown type {name!r}.")
        return self.allowed.load(name)(**{k: self.decode(v) for k, v in fields.items()})

    def estimator(self, data: dict):
        if data["class"] not in self.allowed.estimators:
            raise ValueError(f"a safe model file names an unknown estimator {data['class']!r}.")
        cls = self.allowed.load(data["class"])
        cls.check_saved_version(self.saved_by)
        params = upgrade_params(self.decode(data["params"]), cls().get_params(deep=False))
        est = cls(**params)
        for name, value in data["state"].items():
            setattr(est, name, self.decode(value, est, name))
        return est

    def rebuild_modules(self) -> None:
        for est, attr, prefix in self.modules:  # in the order the estimator set them
            if hasattr(est, "rebuild_module"):
                module = est.rebuild_module(attr)
            else:
                module = est.build_module()
            weights = {k[len(prefix) + 1:]: t for k, t in self.tensors.items()
                       if k.startswith(prefix + ".")}
            module.load_state_dict(weights, strict=True)
            setattr(est, attr, module.eval())


def write_safe(est, handle) -> None:
    """Write ``est`` in the safe format to a binary file object."""
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
    decoder = _Decoder(tensors, meta.get("autoforecast"))
    est = decoder.estimator(meta["estimator"])
    decoder.rebuild_modules()
    return est, meta["autoforecast"]
