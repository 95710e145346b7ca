"""Recurrent models in the forecasting network (docs/method.md, sec. 7), under the published protocols.

    python benchmarks/bench_network.py --task etth1_96 --models gru_gate
    python benchmarks/bench_network.py --task etth1_96 --models autocell,random,gru --seeds 0,1,2
    python benchmarks/bench_network.py --task etth1_96 --validation-only --models gru@recipe=B

Tasks: etth1_96 / etth1_192 / etth1_336 / etth1_720 (ETTh1, LTSF protocol, MSE and MAE on the
standardised test windows), exchange3 / exchange24 (LSTNet exchange-rate, RSE and CORR of step
h), appliances / beijing (the shipped data: UCI Appliances averaged to hours, target
``Appliances``; Beijing PM2.5, target ``pm2.5`` with ``missing="interpolate"``; horizon 24,
chronological 60/20/20, every test window and step scored on the original scale, MAE, RMSE, RSE,
CORR; on Beijing only the test points whose truth was observed are scored). Models and their
budgets (stated so that runs are reproducible; one torch thread, ``torch.set_num_threads(1)``
before the fits):

- ``autocell``: ``AutoCellForecaster`` with its defaults (the default search, the shared
  training recipe, hidden 48: the default search's 3-node cell at the GRU's parameter count
  within 1 %), no report; ``random``: the same with ``SearchSettings(strategy="random")``:
  as many random cells of the same space, retrained and chosen on validation like the
  search's candidates; ``gru`` / ``lstm``: ``GRUForecaster`` (hidden 64) / ``LSTMForecaster``
  (hidden 56, the GRU's parameter count) with their defaults, the same recipe. All four
  at lookback 720 (168 on exchange-rate), segments of 24, on the CPU (issue 22's tables);
- ``@recipe=A`` ... ``D``: a recipe of ``RECIPES`` (the trials, with ``--validation-only``:
  fitted, never scored on the test part; rows in ``recipe_<task>.csv``; the ``autocell``
  trials ran at hidden 44, before the default search's cell was found to have 3 nodes);
- the labels of 0.2's and 0.3's development rows (``benchmarks/results/archive/``, where
  ``gru``, ``lstm`` and ``random`` name what is now ``gru_fixed``, ``lstm_fixed`` and
  ``random_fixed``): ``gru_gate``, the correctness gate, SegRNN's GRU as the prototype ran it
  (hidden 128, lookback 720, segment 24, batch 256, Adam 2e-3, 6 epochs, the epoch chosen on
  validation); ``gru_fixed``: hidden 64, at most 10 epochs with patience 3, batch 256, Adam
  6e-3 (rows named ``...@lr=0.002`` were run at 2e-3); ``lstm_fixed``: the same at hidden
  56; ``two_input_grow``: the searched two-input cell grown 2 -> 4 nodes, hidden 48, 3 search
  epochs on 2000 training windows evenly spaced, one search run, then retraining as
  ``gru_fixed``; ``darts``: the DARTS backbone, 4 nodes from the start, no growth, hidden 46;
  ``random_fixed``: random cells of the two-input space at that budget (4 nodes, hidden 48);
- ``linear`` / ``nlinear``: the least-squares map on plain / last-value-normalised windows
  (lookback 336 and 720: ``linear336``, ``nlinear720``, ...). ``nlinear720`` is also the
  highway alone: a network's highway starts at exactly that map (a test checks it), so it is
  not run twice; ``naive``: the last value.
- ``model@name=value`` (e.g. ``two_input_grow@lr=0.006``): the model with that parameter set
  (numbers are read as numbers); the row's model is the whole string, so it resumes apart. A
  search setting is ``search__<field>`` (``two_input_grow@search__derivation=argmax``); the
  names before the search settings existed (``@derivation=``, ``@search_epochs=``, ...: the
  rows' names) are read as those fields (``autoforecast.renames``), so such rows resume.
  ``@max_time=`` on a searched model caps its whole fit (search, retraining and refit share
  it since 0.3), not each stage as before.
- ``..._nocov`` (``gru_nocov``, ``two_input_grow_nocov``): the same with ``covariates="none"``
  (each target series alone) instead of the default ``"others"`` (the other columns appended
  to each segment); on the shipped data sets the recurrent models use ``lookback="auto"``.

Every row records the fit's CPU seconds, the parameter count, the best validation loss,
``best_epoch_`` (-1: the model
kept its untrained weights, i.e. the normalisation's or the highway's forecast), the commit
and version (benchmarks/common.py). One row per finished run goes to
benchmarks/results/network_<task>.csv; a rerun resumes.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import (RESULTS, ResultLog, appliances_hourly, etth1_run,  # noqa: E402
                    exchange_rate_run, holdout_run)

from autoforecast.renames import RENAMED_PARAMS  # noqa: E402

# normalization="last": the rows' configuration before "auto" became the default (0.3)
TRAIN = dict(batch_size=256, lr=6e-3, epochs=10, patience=3, normalization="last")
SEARCHED = dict(baselines=(), test_size=0, **TRAIN)
# SearchSettings fields shared by the searched models
SEARCH = dict(epochs=3, subsample=2000, n_searches=1, selection_epochs=0, grow_every=1,
              n_candidates=1)  # one cell a search, as the rows before candidates existed


def tasks():
    runs = {f"etth1_{H}": ("etth1", partial(etth1_run, H=H)) for H in (96, 192, 336, 720)}
    runs |= {f"exchange{h}": ("exchange", partial(exchange_rate_run, h=h)) for h in (3, 24)}
    runs["appliances"] = ("shipped", _appliances)
    runs["beijing"] = ("shipped", _beijing)
    return runs


def _appliances(estimator, score=True):
    return holdout_run(estimator, appliances_hourly(), horizon=24, target=["Appliances"],
                       score=score)


def _beijing(estimator, score=True):
    from autoforecast.datasets import load_beijing_pm25

    estimator.set_params(missing="interpolate")
    return holdout_run(estimator, load_beijing_pm25(), horizon=24, target=["pm2.5"],
                       score=score)


# Recipes tried on the validation parts (``model@recipe=<name>``, rows in recipe_<task>.csv):
# every field of the training recipe, so that a trial does not depend on the defaults of the day.
RECIPES = {
    "A": dict(lr=6e-3, batch_size=256, epochs=10, patience=3),
    "B": dict(lr=2e-3, batch_size=256, epochs=20, patience=5),
    "C": dict(lr=6e-3, batch_size=256, epochs=20, patience=5),
    "D": dict(lr=3e-3, batch_size=128, epochs=20, patience=5),
    # the long horizons' overfitting (issue 22, item 3): A with an L2 penalty (Adam's)
    "E": dict(lr=6e-3, batch_size=256, epochs=10, patience=3, weight_decay=1e-4),
    "F": dict(lr=6e-3, batch_size=256, epochs=10, patience=3, weight_decay=1e-3),
}


def make(model: str, family: str, seed: int):
    from autoforecast import (AutoCellForecaster, GRUForecaster, LinearForecaster,
                              LSTMForecaster, NaiveForecaster, SearchSettings)

    lookback = {"etth1": 720, "exchange": 168, "shipped": "auto"}[family]
    network = dict(lookback=lookback, segment_length=24, random_state=seed, device="cpu")
    rnn = dict(hidden_size=64, **network, **TRAIN)

    def searched(hidden_size=48, **search):
        return AutoCellForecaster(hidden_size=hidden_size,
                                  search=SearchSettings(**SEARCH, **search),
                                  **network, **SEARCHED)

    def autocell(**search):
        """AutoCellForecaster with its defaults (search, recipe, and the hidden size that gives
        the default search's cell the GRU's parameter count), no report."""
        return AutoCellForecaster(baselines=(), test_size=0, search=SearchSettings(**search),
                                  **network)

    linear = {f"{kind}{L}": partial(LinearForecaster, lookback=L,
                                    normalization="last" if kind == "nlinear" else "none")
              for kind in ("linear", "nlinear") for L in (336, 720)}
    models = {
        # the tables of issue 22: the estimators' defaults (one recipe), equal parameter counts
        "autocell": autocell,
        "random": lambda: autocell(strategy="random"),
        "gru": lambda: GRUForecaster(hidden_size=64, **network),
        "lstm": lambda: LSTMForecaster(hidden_size=56, **network),
        # the labels of 0.2 and 0.3's development rows (benchmarks/results/archive/)
        "gru_gate": lambda: GRUForecaster(**{**rnn, "hidden_size": 128, "epochs": 6,
                                             "patience": None, "lr": 2e-3}),
        "gru_fixed": lambda: GRUForecaster(**rnn),
        "lstm_fixed": lambda: LSTMForecaster(**{**rnn, "hidden_size": 56}),
        "two_input_grow": lambda: searched(backbone="two_input", init_nodes=2, max_nodes=4),
        "darts": lambda: searched(backbone="darts", init_nodes=4, max_nodes=4, growth="none",
                                  hidden_size=46),
        "random_fixed": lambda: searched(backbone="two_input", strategy="random", max_nodes=4),
        "naive": lambda: NaiveForecaster(lookback=1),
        **{name: build for name, build in linear.items()},
    }
    if "@" in model:
        name, *settings = model.split("@")
        pairs = dict(setting.split("=", 1) for setting in settings)
        pairs = {RENAMED_PARAMS.get(k, k): _number(v) for k, v in pairs.items()}
        recipe = RECIPES[pairs.pop("recipe")] if "recipe" in pairs else {}
        return make(name, family, seed).set_params(**(recipe | pairs))
    if model.endswith("_nocov"):
        return models[model.removesuffix("_nocov")]().set_params(covariates="none")
    return models[model]()


def _best_val_loss(estimator):
    """The chosen epoch's validation loss (normalised scale): what a setting is chosen by."""
    losses = [r.get("val_loss") for r in getattr(estimator, "history_", None) or []]
    losses = [v for v in losses if v is not None]
    return round(min(losses), 6) if losses else ""


def _number(text: str):
    """A ``@name=value`` value: an int, a float, True / False, else the text."""
    if text in ("True", "False"):
        return text == "True"
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


DETERMINISTIC = {"naive", "linear336", "linear720", "nlinear336", "nlinear720"}


def run(task: str, models: list[str], seeds: list[int], validation_only: bool = False) -> None:
    import torch

    torch.set_num_threads(1)  # the stated budgets: one torch thread
    family, protocol = tasks()[task]
    name = f"recipe_{task}.csv" if validation_only else f"network_{task}.csv"
    log = ResultLog(RESULTS / name, ("task", "model", "seed"))
    for seed, model in log.pending(task, models, seeds, DETERMINISTIC):
        estimator = make(model, family, seed)
        started = time.process_time()
        scores = protocol(estimator, score=not validation_only)
        module = getattr(estimator, "module_", None)
        row = {"task": task, "model": model, "seed": seed,
               **{k: scores.get(k, "") for k in ("mse", "mae", "rmse", "rse", "corr", "fit_s",
                                                 "scored", "unscored")},
               "cpu_s": round(time.process_time() - started, 1),
               "parameters": sum(p.numel() for p in module.parameters()) if module else "",
               "best_epoch": getattr(estimator, "best_epoch_", ""),
               "epochs_run": len(getattr(estimator, "history_", []) or []),
               "val_loss": _best_val_loss(estimator),
               "lookback": estimator.lookback_,
               "genotype": str(getattr(estimator, "genotype_", ""))}
        log.append(row)
        print(row, flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True, choices=sorted(tasks()))
    parser.add_argument("--models", required=True)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--validation-only", action="store_true",
                        help="fit only (the test part is not scored): a recipe trial, judged by "
                             "its validation loss; rows go to recipe_<task>.csv")
    args = parser.parse_args()
    run(args.task, args.models.split(","), [int(s) for s in args.seeds.split(",")],
        args.validation_only)
