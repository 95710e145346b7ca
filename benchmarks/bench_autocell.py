"""The searched cell against same-budget baselines, under the published protocols.

    python benchmarks/bench_autocell.py --task exchange3 [--models ...] [--seeds 0,1,2]

Tasks: exchange3 / exchange24 (LSTNet exchange-rate, h = 3 / 24, RSE and CORR of step h),
etth1_96 / etth1_336 (ETTh1 long horizon, MSE and MAE, standardised), appliances (UCI
Appliances, shipped, hourly means, target ``Appliances``, horizon 6, 60/20/20, all steps).
Models: ``two_input_grow`` (two-input backbone grown 1 -> 4 nodes, grow_then_prune),
``darts_fixed`` (DARTS backbone, 4 nodes from the start, no growth), ``random`` (random cells of
the two-input space, same epoch budget), ``lstm`` (same hidden size, head, epochs, early
stopping), ``naive``, ``linear``, ``arima`` (deterministic: one seed).

Budget per searched fit (stated, in epochs, so runs are reproducible): hidden 32, 3 search
epochs (the two-input backbone grows after each), 1 search run, 8 retraining epochs with
patience 3, batch 128, one torch thread (``torch.set_num_threads(1)`` before the fits).
Recurrent lookback: 48 on exchange-rate, 96 on ETTh1,
24 on Appliances; the linear map uses 168 / 336 / 24 (its reference setting).
One row per finished run goes to benchmarks/results/autocell_<task>.csv; a rerun resumes.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import (RESULTS, ResultLog, appliances_hourly, etth1_run,  # noqa: E402
                    exchange_rate_run, holdout_run)

SEARCH_BUDGET = dict(hidden_size=32, epochs=8, patience=3, batch_size=128, baselines=(),
                     test_size=0, device="cpu")
SEARCH = dict(epochs=3, n_searches=1)  # SearchSettings fields shared by the searched models
RECURRENT_LOOKBACK = {"exchange": 48, "etth1": 96, "appliances": 24}
LINEAR_LOOKBACK = {"exchange": 168, "etth1": 336, "appliances": 24}


def tasks():
    return {
        "exchange3": ("exchange", partial(_exchange, h=3)),
        "exchange24": ("exchange", partial(_exchange, h=24)),
        "etth1_96": ("etth1", partial(etth1_run, H=96)),
        "etth1_336": ("etth1", partial(etth1_run, H=336)),
        "appliances": ("appliances", _appliances),
    }


def _exchange(estimator, h):
    return exchange_rate_run(estimator, h)


def _appliances(estimator):
    return holdout_run(estimator, appliances_hourly(), horizon=6, target=["Appliances"])


def make(model: str, family: str, seed: int):
    from autoforecast import SearchSettings
    from autoforecast.baselines import (ARIMAForecaster, LinearForecaster, LSTMForecaster,
                                        NaiveForecaster)
    from autoforecast.estimators import AutoCellForecaster

    lookback = RECURRENT_LOOKBACK[family]

    def searched(**search):
        return AutoCellForecaster(lookback=lookback, random_state=seed, **SEARCH_BUDGET,
                                  search=SearchSettings(**SEARCH, **search))

    return {
        "two_input_grow": lambda: searched(backbone="two_input", init_nodes=1, max_nodes=4,
                                           grow_every=1),
        "darts_fixed": lambda: searched(backbone="darts", init_nodes=4, max_nodes=4,
                                        growth="none"),
        "random": lambda: searched(backbone="two_input", strategy="random", init_nodes=1,
                                   max_nodes=4),
        "lstm": lambda: LSTMForecaster(lookback=lookback, hidden_size=32, epochs=8, patience=3,
                                       batch_size=128, device="cpu", random_state=seed),
        "naive": lambda: NaiveForecaster(lookback=lookback),
        "linear": lambda: LinearForecaster(lookback=LINEAR_LOOKBACK[family]),
        "arima": lambda: ARIMAForecaster(lookback=LINEAR_LOOKBACK[family], n_jobs=1,
                                         # exchange-rate's daily index is a convention only
                                         **({"seasonal_period": 1} if family == "exchange"
                                            else {})),
    }[model]()


DETERMINISTIC = {"naive", "linear", "arima"}


def run(task: str, models: list[str], seeds: list[int]) -> None:
    import torch

    torch.set_num_threads(1)  # the stated budget: one torch thread
    family, protocol = tasks()[task]
    log = ResultLog(RESULTS / f"autocell_{task}.csv", ("task", "model", "seed"))
    for seed, model in log.pending(task, models, seeds, DETERMINISTIC):
        estimator = make(model, family, seed)
        scores = protocol(estimator)
        row = {"task": task, "model": model, "seed": seed,
               **{k: scores.get(k, "") for k in ("rse", "corr", "mse", "mae", "rmse", "fit_s")},
               "genotype": str(getattr(estimator, "genotype_", ""))}
        log.append(row)
        print(row, flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", required=True, choices=sorted(tasks()))
    parser.add_argument("--models", default="naive,linear,arima,lstm,two_input_grow,darts_fixed,random")
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    run(args.task, args.models.split(","), [int(s) for s in args.seeds.split(",")])
