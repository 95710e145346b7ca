"""Soak test: many successive small fits and predictions in one process, resident memory logged.

    python benchmarks/soak.py [--fits 60]

Fits tiny AutoCellForecaster and LSTMForecaster models one after another (and saves / loads
each through both file formats), reads the resident set size from /proc after every fit, and
compares the memory after the first 10 fits (warm-up: allocator pools, imports) with the
memory at the end. Exits non-zero when it grew by more than 50 MB. Outside CI (it takes
minutes); the figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conftest import make_series  # noqa: E402

import autoforecast  # noqa: E402
from autoforecast import SearchSettings  # noqa: E402
from autoforecast.baselines import LSTMForecaster  # noqa: E402
from autoforecast.estimators import AutoCellForecaster  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def one_round(i: int, folder: Path) -> None:
    data = make_series(150, 3, seed=i)
    search = SearchSettings(max_nodes=2, grow_every=1, epochs=2, n_searches=1)
    models = [AutoCellForecaster(lookback=8, horizon=2, hidden_size=6, search=search, epochs=2,
                                 batch_size=32, baselines=("naive",), device="cpu",
                                 random_state=i),
              LSTMForecaster(lookback=8, horizon=2, hidden_size=6, epochs=2, device="cpu",
                             random_state=i)]
    for est in models:
        est.fit(data)
        forecast = est.predict()
        for suffix in (".joblib", ".afm"):
            back = autoforecast.load(autoforecast.save(est, folder / f"m{suffix}"))
            np.testing.assert_array_equal(back.predict().to_numpy(), forecast.to_numpy())


def main(n_fits: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        trace = []
        for i in range(n_fits):
            one_round(i, Path(folder))
            gc.collect()
            trace.append(rss_mb())
            if i % 10 == 9:
                print(f"after {i + 1} rounds: {trace[-1]:.1f} MB", flush=True)
    warm, end = trace[min(9, len(trace) - 1)], trace[-1]
    print(f"resident memory after 10 rounds {warm:.1f} MB, after {n_fits}: {end:.1f} MB, "
          f"growth {end - warm:+.1f} MB ({2 * n_fits} fits, {4 * n_fits} saves and loads)")
    return 1 if end - warm > 50 else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=60)
    sys.exit(main(parser.parse_args().fits))
