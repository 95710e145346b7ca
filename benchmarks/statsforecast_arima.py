"""statsforecast's AutoARIMA on a task written by ``bench_baselines.py --arima`` (run in its own
environment; it imports neither autoforecast nor torch).

    python -m venv /tmp/sf && /tmp/sf/bin/pip install statsforecast
    /tmp/sf/bin/python benchmarks/statsforecast_arima.py TASK.npz OUT.npz

TASK.npz holds ``values`` (n_rows, n_series), ``start`` (the first forecast origin: the model is
fitted on the rows before it), ``horizon`` and ``m``. AutoARIMA(season_length=m) with its
defaults is fitted once per series and forecasts from every origin ``start .. n - horizon``
through ``cross_validation(refit=False)``, in this one process. OUT.npz: ``forecast``
(n_origins, horizon, n_series), ``seconds`` (fit and forecasts, after a small warm-up fit that
compiles numba's code, which is not counted), ``version``.
"""

import sys
import time

import numpy as np
import pandas as pd
import statsforecast
from statsforecast import StatsForecast
from statsforecast.models import AutoARIMA


def frame(values: np.ndarray) -> pd.DataFrame:
    n, k = values.shape
    return pd.DataFrame({"unique_id": np.repeat([f"s{j}" for j in range(k)], n),
                         "ds": np.tile(np.arange(n), k), "y": values.T.ravel()})


def main(task_path: str, out_path: str) -> None:
    task = np.load(task_path)
    values, start = task["values"], int(task["start"])
    horizon, m = int(task["horizon"]), int(task["m"])
    n, k = values.shape
    n_windows = n - horizon - start + 1
    warm = np.sin(np.arange(3 * max(m, 8)) * 0.7)[:, None] + 0.01 * np.arange(3 * max(m, 8))[:, None]
    StatsForecast(models=[AutoARIMA(season_length=m)], freq=1, n_jobs=1).cross_validation(
        df=frame(warm), h=2, step_size=1, n_windows=2, refit=False)
    started = time.perf_counter()
    sf = StatsForecast(models=[AutoARIMA(season_length=m)], freq=1, n_jobs=1)
    cv = sf.cross_validation(df=frame(values), h=horizon, step_size=1, n_windows=n_windows,
                             refit=False)
    seconds = time.perf_counter() - started
    cv = cv.sort_values(["unique_id", "cutoff", "ds"])
    forecast = np.empty((n_windows, horizon, k))
    for j in range(k):
        part = cv[cv["unique_id"] == f"s{j}"]
        forecast[:, :, j] = part["AutoARIMA"].to_numpy().reshape(n_windows, horizon)
    np.savez(out_path, forecast=forecast, seconds=seconds, version=statsforecast.__version__)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
