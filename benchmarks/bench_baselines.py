"""Baselines under the published protocols: naive, linear, ARIMA and LSTM.

    python benchmarks/bench_baselines.py [--only exchange|ett] [--models naive,linear,...]
    python benchmarks/bench_baselines.py --arima [--tasks exchange_rate:3,ETTh1:96,...]

``--arima`` (issue 15): our ARIMAForecaster beside statsforecast's AutoARIMA, one (data set,
horizon) at a time; see ``arima_comparison.py``.

Writes one row per finished run to benchmarks/results/baselines.csv (a rerun skips the rows that
are there) and the tables to docs/benchmarks_baselines.md. Budgets: LSTM hidden 64, at most 30
epochs with patience 5, batch 128, one seed (a fit takes about 9 minutes on this 2-core machine;
the same-budget LSTM of benchmarks/bench_autocell.py runs 3 seeds); ARIMA: the default seasonal
search (issue 15) with m = 1 on exchange-rate (its daily index is a convention), 24 on ETTh1. Lookback:
168 on exchange-rate; on ETTh1 336 for naive and linear (the reference figures), 96 for the
LSTM (CPU budget; neuralforecast's reference runs also use 96). ARIMA filters all history.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import (RESULTS, ROOT, ResultLog, etth1_run, exchange_rate_run,  # noqa: E402
                    markdown_table, mean_over_seeds)

SEEDS = (0,)
DEFAULT_MODELS = "naive,linear,arima,lstm"


def make(name: str, lookback: int, seed: int, dataset: str = ""):
    from autoforecast.baselines import (ARIMAForecaster, LinearForecaster, LSTMForecaster,
                                        NaiveForecaster)

    return {
        "naive": lambda: NaiveForecaster(lookback=lookback),
        "linear": lambda: LinearForecaster(lookback=lookback),
        "arima": lambda: ARIMAForecaster(lookback=lookback, n_jobs=2, seasonal_period=(
            1 if dataset == "exchange_rate" else None)),
        "lstm": lambda: LSTMForecaster(lookback=lookback, hidden_size=64, epochs=30, patience=5,
                                       batch_size=128, random_state=seed),
    }[name]()


def seeds_for(name):
    return SEEDS if name == "lstm" else (0,)


def run(only, models):
    log = ResultLog(RESULTS / "baselines.csv", ("dataset", "horizon", "model", "seed"))
    tasks = []
    if only in (None, "exchange"):
        tasks += [("exchange_rate", h, 168, exchange_rate_run) for h in (3, 6, 12, 24)]
    if only in (None, "ett"):
        tasks += [("ETTh1", H, None, etth1_run) for H in (96, 336)]
    for dataset, horizon, model_lookback, protocol in tasks:
        for name in models:
            for seed in seeds_for(name):
                if log.done(dataset=dataset, horizon=horizon, model=name, seed=seed):
                    continue
                lookback = model_lookback or (96 if name == "lstm" else 336)
                scores = protocol(make(name, lookback, seed, dataset), horizon)
                row = {"dataset": dataset, "horizon": horizon, "model": name, "seed": seed,
                       "lookback": lookback, **{k: scores.get(k, "") for k in
                                                ("rse", "corr", "mse", "mae", "fit_s")}}
                log.append(row)
                print(row, flush=True)
    write_docs(log.rows)


def write_docs(rows):
    out = ["# Baselines under the published protocols", "",
           "Produced by `python benchmarks/bench_baselines.py` (rows in "
           "`benchmarks/results/baselines.csv`). Mean ± std over seeds where a model has seeds.",
           ""]
    for dataset, metric_names in (("exchange_rate", ("rse", "corr")), ("ETTh1", ("mse", "mae"))):
        subset = [r for r in rows if r["dataset"] == dataset]
        if not subset:
            continue
        table = []
        for metric in metric_names + ("fit_s",):
            for (model, horizon), (mean, std, n) in mean_over_seeds(
                    subset, ("model", "horizon"), metric).items():
                entry = next((t for t in table if t["model"] == model and t["horizon"] == horizon), None)
                if entry is None:
                    entry = {"model": model, "horizon": horizon, "seeds": n}
                    table.append(entry)
                entry[metric] = f"{mean:.4f}" + (f" ± {std:.4f}" if n > 1 else "")
        table.sort(key=lambda t: (int(t["horizon"]), t["model"]))
        out += [f"## {dataset}", "", markdown_table(table, ["horizon", "model", "seeds",
                                                            *metric_names, "fit_s"]), ""]
    from arima_comparison import comparison_section

    out += comparison_section()
    (ROOT / "docs" / "benchmarks_baselines.md").write_text("\n".join(out))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("exchange", "ett"))
    parser.add_argument("--models", default=DEFAULT_MODELS,
                        help="with --arima: arima,statsforecast (the default: both)")
    parser.add_argument("--arima", action="store_true",
                        help="ARIMA beside statsforecast's AutoARIMA (arima_comparison.py)")
    parser.add_argument("--tasks", default=None, help="with --arima: dataset:horizon,...")
    args = parser.parse_args()
    if args.arima:
        from arima_comparison import run_comparison

        run_comparison(args.tasks.split(",") if args.tasks else None,
                       args.models.split(",") if args.models != DEFAULT_MODELS else
                       ("arima", "statsforecast"))
        write_docs(ResultLog(RESULTS / "baselines.csv", ("dataset", "horizon", "model",
                                                         "seed")).rows)
    else:
        run(args.only, args.models.split(","))
