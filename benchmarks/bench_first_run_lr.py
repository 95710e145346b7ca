"""The README's first run at several learning rates: why the recurrent models' default is 5e-3.

    python benchmarks/bench_first_run_lr.py [--lrs 0.001,0.005,0.01] [--seeds 0,1]

The data and budget of ``autoforecast fit --dataset appliances --target Appliances --last 2000
--horizon 6`` as the CLI's default ``--budget small`` was before the presets of
``autoforecast/presets.py`` (6 search epochs, 15 retraining epochs, hidden 16, at most 3 nodes,
one search; today's ``small`` is the library's defaults, so the budget is stated here), with the
naive and LSTM baselines in the report (the LSTM at the same learning rate). One row per (lr,
seed) in ``benchmarks/results/first_run_lr.csv``: the test RMSE of the cell, the last value and
the LSTM, the cell's best epoch, the cell found.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import RESULTS, ResultLog  # noqa: E402

# the CLI's former --budget small (before autoforecast/presets.py)
SMALL = dict(epochs=15, hidden_size=16)
SMALL_SEARCH = dict(epochs=6, max_nodes=3, n_searches=1)


def run(lrs: list[float], seeds: list[int]) -> None:
    from autoforecast import AutoCellForecaster, SearchSettings
    from autoforecast.datasets import load_appliances

    frame = load_appliances().iloc[-2000:]
    log = ResultLog(RESULTS / "first_run_lr.csv", ("task", "model", "seed"))
    for seed, model in log.pending("first_run", [f"autocell@lr={lr:g}" for lr in lrs], seeds,
                                   set()):
        lr = float(model.split("=")[1])
        est = AutoCellForecaster(horizon=6, target=["Appliances"], random_state=seed, lr=lr,
                                 baselines=("naive", "lstm"),
                                 search=SearchSettings(**SMALL_SEARCH), **SMALL)
        started = time.process_time()
        est.fit(frame)
        rmse = est.report_["rmse"]
        row = {"task": "first_run", "model": model, "seed": seed,
               **{f"rmse_{name}": round(float(value), 2) for name, value in rmse.items()},
               "best_epoch": est.best_epoch_, "cpu_s": round(time.process_time() - started, 1),
               "genotype": str(est.genotype_)}
        log.append(row)
        print(row, flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lrs", default="0.001,0.005,0.01")
    parser.add_argument("--seeds", default="0,1")
    args = parser.parse_args()
    run([float(v) for v in args.lrs.split(",")], [int(s) for s in args.seeds.split(",")])
