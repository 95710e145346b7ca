"""The cases behind ``tests/pinned/``: results of version 0.1 recorded before the consolidation
(issue 12) moved code, so that the moved code can be checked to compute the same.

``python tests/pinned_cases.py`` wrote ``tests/pinned/values.json`` and the model files
(``*.joblib``, ``*.afm``) on 0.1; ``tests/test_pinned.py`` recomputes every value and loads
every file. Version 0.2 replaced the recurrent forecasters' network (issue 13): their 0.1
values stay in ``values.json`` as the record, their files must be refused with a clear error,
and their 0.2 values are pinned in ``tests/pinned/network.json`` (``python
tests/pinned_cases.py --network`` writes that file alone). Version 0.3 made the carry path
(docs/method.md, section 8) the estimators' default: the cases above are records of versions
without it and keep it off (``carry=False``); the default fits with it are pinned in
``tests/pinned/carry.json`` (``python tests/pinned_cases.py --carry`` writes that file alone).
Regenerate only when a change of results is intended, and say so in the commit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import torch
from torch import nn

HERE = Path(__file__).resolve().parent
PINNED = HERE / "pinned"
sys.path.insert(0, str(HERE))

LOOKBACK, HORIZON = 6, 3
# the forecasters whose network 0.2 replaced: pinned again in network.json
RECURRENT = ("lstm", "gru", "autocell", "autocell_darts", "autocell_random", "autocell_refit")
# normalization="auto" became the default after these were pinned: each case names the
# normalisation it was pinned with (the recurrent forecasters' default was "last", the linear one's
# "none"). The shared recipe (0.3) changed the default learning rate;
# the records were pinned at 5e-3, the former default, and name it.
TORCH = dict(epochs=2, batch_size=8, lr=5e-3, device="cpu", random_state=0, normalization="last")
SEARCH = dict(hidden_size=4, baselines=("naive", "linear"), **TORCH)
# One candidate a search: the searches of these records derived one cell each (0.3 derives
# several by default, docs/method.md section 8). The random control draws as many cells as the
# search yields candidates; the records drew (epochs + selection_epochs) // selection_epochs =
# (2 + 2) // 2 = 2 cells, which is n_candidates=2 under that rule (RANDOM_CANDIDATES).
SEARCH_SETTINGS = dict(max_nodes=2, grow_every=1, epochs=2, n_searches=1, n_candidates=1)
RANDOM_CANDIDATES = dict(n_candidates=2)
NO_CARRY = dict(carry=False)  # the records of 0.1 and 0.2, which had no carry path
# the searching forecasters pinned again with the estimators' default carry path, in carry.json
CARRY = ("autocell", "autocell_random", "autocell_refit", "autocell_random_grown")
LM_TEXT = ["the cat sat on the mat", "a dog ran to the park", "the cat ate a fish"] * 30


def series() -> pd.DataFrame:
    from conftest import make_series

    return make_series(120, 3)


def forecasters(carry: bool = False) -> dict:
    """name -> unfitted forecaster, one of every kind (both backbones, random cells); the
    searching ones without the carry path, or with ``carry`` at the estimator's default."""
    from autoforecast.baselines import (ARIMAForecaster, GRUForecaster, LinearForecaster,
                                        LSTMForecaster, NaiveForecaster, SeasonalNaiveForecaster)
    from autoforecast.estimators import AutoCellForecaster
    from autoforecast.settings import SearchSettings

    common = dict(lookback=LOOKBACK, horizon=HORIZON)

    def search(**changes):
        return SearchSettings(**(SEARCH_SETTINGS | ({} if carry else NO_CARRY) | changes))

    return {
        "naive": NaiveForecaster(**common),
        "seasonal_naive": SeasonalNaiveForecaster(season=12, horizon=HORIZON),
        "linear": LinearForecaster(normalization="none", **common),
        "linear_auto": LinearForecaster(alpha="auto", validation_size=0.2, normalization="none",
                                        **common),
        "lstm": LSTMForecaster(hidden_size=8, validation_size=0.2, **common, **TORCH),
        "gru": GRUForecaster(hidden_size=8, validation_size=0.2, linear_skip=True, **common,
                             **(TORCH | {"normalization": "revin"})),
        "arima": ARIMAForecaster(lookback=20, horizon=HORIZON, max_p=1, max_d=1, max_q=1),
        "autocell": AutoCellForecaster(**common, **SEARCH, search=search()),
        "autocell_darts": AutoCellForecaster(**common, **SEARCH, search=search(backbone="darts")),
        "autocell_random": AutoCellForecaster(**common, **SEARCH,
                                              search=search(strategy="random",
                                                            **RANDOM_CANDIDATES)),
        "autocell_refit": AutoCellForecaster(refit=True, **common, **(SEARCH | {"epochs": 3}),
                                             search=search()),
        # a search that grows to 2 of its 3 nodes: the control draws 2-node cells (0.3's first
        # control drew max_nodes); pinned in carry.json only
        "autocell_random_grown": AutoCellForecaster(
            **common, **SEARCH, search=search(strategy="random", max_nodes=3,
                                              **RANDOM_CANDIDATES)),
    }


def forecaster_values(name: str, est, frame: pd.DataFrame) -> dict:
    out = {"predict": est.predict().to_numpy().tolist(),
           "predict_head": est.predict(frame.iloc[:80]).to_numpy().tolist(),
           "score": est.score(frame.iloc[60:]),
           "backtest": est.backtest(frame, start=100)["forecast"].tolist()}
    if hasattr(est, "genotype_"):
        out["genotype"] = est.genotype_.to_dict()
        out["report"] = est.report_[["mae", "rmse"]].to_dict()
        out["best_epoch"] = int(est.best_epoch_)
    return out


def planted(seed: int, n: int):
    """Next value = product of two lagged inputs (the search tests' planted task)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 4, 2, generator=g) * 2 - 1  # (batch, time, input)
    y = (x[:, -1, 0] * x[:, -2, 1]).unsqueeze(-1)
    return x, y / y.std()


class Batches:
    """One epoch of ``(x, y)`` batches of ``size`` rows, in order (picklable)."""

    def __init__(self, x, y, size=64):
        self.x, self.y, self.size = x, y, size

    def __call__(self):
        return [(self.x[i:i + self.size], self.y[i:i + self.size])
                for i in range(0, len(self.x), self.size)]


class LastStateModel(nn.Module):
    """A model factory of the search: the searched cell, then a linear map of its last state
    to one output (made in this order, so the planted searches draw the numbers they drew
    when this was the search's default head)."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder, self.head = encoder, nn.Linear(encoder.cell.hidden_size, 1)

    def forward(self, x):
        outputs, h_last = self.encoder(x)  # (batch, time, hidden), (batch, hidden)
        return self.head(h_last)


class PlantedTask:
    """``task(seed)`` of ``run_searches``: the planted data (2 inputs), a last-state model, MSE."""

    def __call__(self, seed):
        from autoforecast.search import SearchData

        return SearchData(Batches(*planted(1, 256)), Batches(*planted(2, 128)),
                          nn.functional.mse_loss, LastStateModel, 2)


def search_config(backbone: str, **kw):
    from autoforecast.search import SearchConfig

    base = dict(backbone=backbone, hidden_size=4, init_nodes=1, max_nodes=3, epochs=4,
                grow_every=1, warmup_epochs=1, growth_warmup_steps=1, num_threads=1)
    return SearchConfig(**(base | kw))


def search_genotypes(backbone: str, mode: str = "grow_then_prune") -> list:
    """The genotype of one tiny search per seed 0..4 (one seed a run)."""
    from autoforecast.search.parallel import run_searches

    config = search_config(backbone, mode=mode)
    return [run_searches(config, PlantedTask(), seed).genotype.to_dict() for seed in range(5)]


def multi_seed(backbone: str) -> dict:
    """Three seeds and the selection among them, through the one multi-seed entry."""
    from autoforecast.search.parallel import run_searches

    config = search_config(backbone, n_searches=3, selection_epochs=1)
    result = run_searches(config, PlantedTask(), 7)
    return {"genotype": result.genotype.to_dict(),
            "candidates": [[c.genotype.to_dict(), c.seed, c.selection_val_loss]
                           for c in result.candidates],
            "history_rows": len(result.history)}


def language_model(carry: bool = False):
    """The tiny language model, without the carry path (0.1's record) or with it (``carry``; the
    language model's default keeps it off until it is measured there)."""
    from autoforecast.language_model import AutoCellLanguageModel
    from autoforecast.settings import SearchSettings

    search = SearchSettings(max_nodes=2, epochs=2, n_candidates=1,
                            **({"carry": True} if carry else NO_CARRY))
    return AutoCellLanguageModel(embedding_size=8, hidden_size=8, epochs=3, bptt=8, batch_size=4,
                                 lr=1e-2, dropout_x=0.0, dropout_o=0.0, random_state=0,
                                 device="cpu", search=search)


def lm_values(lm) -> dict:
    return {"genotype": lm.genotype_.to_dict(),
            "report": lm.report_[["val_perplexity", "test_perplexity", "parameters"]].to_dict(),
            "perplexity": lm.perplexity(["the cat sat on a dog", "a fish ran"])}


def network_values() -> dict:
    """0.2's values of the recurrent forecasters (their network replaced 0.1's)."""
    frame, models = series(), forecasters()
    return {name: forecaster_values(name, models[name].fit(frame), frame) for name in RECURRENT}


def carry_values() -> dict:
    """0.3's default fits, with the carry path: the searching forecasters and the language model."""
    frame, models = series(), forecasters(carry=True)
    out = {"forecasters": {name: forecaster_values(name, models[name].fit(frame), frame)
                           for name in CARRY}}
    out["language_model"] = lm_values(language_model(carry=True).fit(LM_TEXT))
    return out


def main() -> None:
    from autoforecast import __version__, save

    torch.set_num_threads(1)
    PINNED.mkdir(exist_ok=True)
    frame = series()
    values = {"version": __version__, "forecasters": {}, "searches": {}}
    for name, est in forecasters().items():
        est.fit(frame)
        values["forecasters"][name] = forecaster_values(name, est, frame)
        save(est, PINNED / f"{name}.joblib")
        if name != "linear_auto":  # 0.1 cannot store alpha_scores_ (float keys) safely
            save(est, PINNED / f"{name}.afm")
    for backbone in ("two_input", "darts"):
        values["searches"][backbone] = search_genotypes(backbone)
        values["searches"][f"{backbone}_grow_and_prune"] = search_genotypes(backbone, "grow_and_prune")
        values["searches"][f"{backbone}_multi_seed"] = multi_seed(backbone)
    lm = language_model().fit(LM_TEXT)
    values["language_model"] = lm_values(lm)
    save(lm, PINNED / "language_model.joblib")
    save(lm, PINNED / "language_model.afm")
    (PINNED / "values.json").write_text(json.dumps(values, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    torch.set_num_threads(1)
    if sys.argv[1:] == ["--network"]:
        (PINNED / "network.json").write_text(json.dumps(network_values(), indent=1,
                                                        sort_keys=True) + "\n")
    elif sys.argv[1:] == ["--carry"]:
        (PINNED / "carry.json").write_text(json.dumps(carry_values(), indent=1,
                                                      sort_keys=True) + "\n")
    else:
        main()
