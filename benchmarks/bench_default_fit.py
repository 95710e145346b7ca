"""How long a default AutoCellForecaster fit takes on a series of 10,000 rows and 8 columns.

    python benchmarks/bench_default_fit.py [--stage arima]

The series: the first 10,000 rows and 8 columns of the shipped UCI Appliances data (10-minute
steps). Every parameter at its default (search, retraining, LSTM and ARIMA baselines), but
``random_state=0`` and ``horizon=6``, and ``baselines=("lstm", "arima")``: the default before
0.3, which added ``"naive"`` to it (cheap), stated so that the rows stay comparable. Prints the
time of each stage from the progress events, the total wall time, the CPU time of the process
(on a busy shared machine, the better guide to the wall time on an idle one, as the search runs
one thread), and the machine's load.
``--stage arima`` times only the ARIMA baseline as the fit's report builds it (issue 15's
target: under 60 s): the same rows, split and settings, then its forecasts on the test part.
"""

from __future__ import annotations

import os
import resource
import time

from autoforecast.datasets import load_appliances
from autoforecast.estimators import AutoCellForecaster

# The defaults but these: the baselines as the default was before 0.3 (it now adds "naive")
SETTINGS = dict(horizon=6, random_state=0, baselines=("lstm", "arima"))


def main() -> None:
    frame = load_appliances().iloc[:10_000, :8]
    first_seen, started = {}, time.perf_counter()

    def on_event(event):
        first_seen.setdefault(event.stage, time.perf_counter() - started)

    print(f"cores: {os.cpu_count()}, load before: {os.getloadavg()}", flush=True)
    est = AutoCellForecaster(**SETTINGS).fit(frame, callback=on_event)
    total = time.perf_counter() - started
    print(f"stage start times (s): {({k: round(v, 1) for k, v in first_seen.items()})}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    print(f"search and retraining {est.fit_seconds_:.0f} s, total fit {total:.0f} s "
          f"({total / 60:.1f} min) wall, {cpu:.0f} s CPU in this process; load after: "
          f"{os.getloadavg()}")
    print(f"cell: {est.genotype_}")
    print(est.report_.to_string())


def arima_stage() -> None:
    from autoforecast.data import resolve_split
    from autoforecast.data.timeindex import infer_freq

    frame = load_appliances().iloc[:10_000, :8]
    auto = AutoCellForecaster(**SETTINGS)
    auto.freq_, auto.target_idx_ = infer_freq(frame.index), list(range(frame.shape[1]))
    auto.lookback_ = auto._auto_lookback(len(frame))  # lookback="auto", as the fit resolves it
    split = resolve_split(len(frame), auto.lookback_, auto.horizon, auto.validation_size,
                          auto.test_size)
    arima, values = auto.baseline("arima"), frame.to_numpy()
    started = time.perf_counter()
    arima.set_params(validation_size=split.n_val, test_size=0).fit(values[: split.val_end])
    fit_s = time.perf_counter() - started
    arima.predict_at(values, split.origins("test", auto.lookback_, auto.horizon))
    total = time.perf_counter() - started
    print(f"ARIMA stage: fit {fit_s:.1f} s, fit and test forecasts {total:.1f} s; m = "
          f"{arima.seasonal_period_}; models: {list(zip(arima.orders_, arima.trends_))}; load "
          f"{os.getloadavg()}")


if __name__ == "__main__":
    import sys

    arima_stage() if sys.argv[1:] == ["--stage", "arima"] else main()
