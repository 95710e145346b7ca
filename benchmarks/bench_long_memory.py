"""Peak memory of a global fit on a long frame: 10,000 series of 1,000 hourly points each.

    python benchmarks/bench_long_memory.py [--series 10000] [--points 1000] [--max-time 60]

Builds the long frame (``unique_id`` strings, ``ds`` timestamps with a different start per
series, ``y``), then fits ``GRUForecaster`` (lookback 96, horizon 24, hidden size 32, batch
size 64, one epoch cut by ``max_time``; the last 24 steps of each series validate) and forecasts
every series. Prints the peak resident memory of the process (``ru_maxrss``) after building
the frame, after the fit and after ``predict``, with the times. A batch holds ``batch_size``
windows whatever the number of series: the windows index lazily into one array of every
series' values (``autoforecast.data.Windows``), so what grows with the series is that array
(10 million float64 values: 80 MB, and a float32 copy for torch) and the frame itself.
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings

import numpy as np
import pandas as pd

from autoforecast import GRUForecaster


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def long_frame(n_series: int, n_points: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n_points)
    offsets = rng.integers(0, 24 * 365, n_series)  # each series starts at its own hour
    ds = (np.datetime64("2020-01-01T00", "h") + offsets[:, None] + t).astype("datetime64[ns]")
    y = (10 * rng.random((n_series, 1)) + np.sin(2 * np.pi * (t + offsets[:, None]) / 24)
         + 0.1 * rng.normal(size=(n_series, n_points)))
    ids = np.array([f"s{i}" for i in range(n_series)], dtype=object)
    return pd.DataFrame({"unique_id": np.repeat(ids, n_points), "ds": ds.ravel(), "y": y.ravel()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=1_000)
    parser.add_argument("--max-time", type=float, default=60.0)
    args = parser.parse_args()
    started = time.perf_counter()
    frame = long_frame(args.series, args.points)
    print(f"frame: {len(frame):,} rows, {frame.memory_usage(deep=True).sum() / 2**20:.0f} MB; "
          f"peak RSS {peak_mb():.0f} MB ({time.perf_counter() - started:.1f} s)", flush=True)
    est = GRUForecaster(lookback=96, horizon=24, hidden_size=32, batch_size=64, epochs=1,
                        validation_size=24, max_time=args.max_time, device="cpu", random_state=0)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MaxTimeWarning: the cut is the point
        est.fit(frame)
    record = est.history_[-1]
    print(f"fit: {time.perf_counter() - started:.1f} s, {record['samples']:,} training windows "
          f"of {len(est.split_.origins('train', 96, 24)):,} in the cut epoch; peak RSS "
          f"{peak_mb():.0f} MB", flush=True)
    started = time.perf_counter()
    out = est.predict()
    print(f"predict: {len(out):,} rows in {time.perf_counter() - started:.1f} s; peak RSS "
          f"{peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
