"""Speed-up of n_jobs=2 over n_jobs=1 for a fit with several search runs, measured in one run.

    python benchmarks/bench_scaleout.py [--searches 4] [--repeats 1]

The series is the shipped Appliances data (hourly means, target Appliances); the budget is
stated below. Both fits must find the same cell (a search depends only on its seed). Prints
the wall times and their ratio; the machine's other load is printed too (os.getloadavg),
since these machines are shared.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import appliances_hourly  # noqa: E402

from autoforecast import SearchSettings  # noqa: E402
from autoforecast.estimators import AutoCellForecaster  # noqa: E402

BUDGET = dict(lookback=24, horizon=6, target=["Appliances"], hidden_size=16, epochs=3,
              batch_size=64, baselines=(), test_size=0, device="cpu", random_state=0)
SEARCH = SearchSettings(max_nodes=3, grow_every=1, epochs=3, selection_epochs=1)


def timed_fit(frame, n_jobs, n_searches):
    est = AutoCellForecaster(search=SEARCH.replace(n_searches=n_searches), n_jobs=n_jobs,
                             **BUDGET)
    started = time.perf_counter()
    est.fit(frame)
    return time.perf_counter() - started, est


def main(n_searches: int, repeats: int) -> None:
    frame = appliances_hourly().iloc[:1500]
    print(f"cores: {os.cpu_count()}, load before: {os.getloadavg()}")
    for repeat in range(repeats):
        serial, a = timed_fit(frame, 1, n_searches)
        parallel, b = timed_fit(frame, 2, n_searches)
        assert a.genotype_ == b.genotype_, "n_jobs must not change the cell found"
        print(f"repeat {repeat}: n_jobs=1 {serial:.1f} s, n_jobs=2 {parallel:.1f} s, "
              f"speed-up {serial / parallel:.2f}x ({n_searches} search runs)", flush=True)
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    main(args.searches, args.repeats)
