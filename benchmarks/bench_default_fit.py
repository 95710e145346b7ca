"""How long a default AutoCellForecaster fit takes on a series of 10,000 rows and 8 columns.

    python benchmarks/bench_default_fit.py

The series: the first 10,000 rows and 8 columns of the shipped UCI Appliances data (10-minute
steps). Every parameter at its default (search, retraining, LSTM and ARIMA baselines), but
``random_state=0`` and ``horizon=6``. Prints the time of each stage from the progress events,
the total wall time, the CPU time of the process (on a busy shared machine, the better guide
to the wall time on an idle one, as the search runs one thread), and the machine's load.
"""

from __future__ import annotations

import os
import resource
import time

from autoforecast.datasets import load_appliances
from autoforecast.estimators import AutoCellForecaster


def main() -> None:
    frame = load_appliances().iloc[:10_000, :8]
    first_seen, started = {}, time.perf_counter()

    def on_event(event):
        first_seen.setdefault(event.stage, time.perf_counter() - started)

    print(f"cores: {os.cpu_count()}, load before: {os.getloadavg()}", flush=True)
    est = AutoCellForecaster(horizon=6, random_state=0).fit(frame, callback=on_event)
    total = time.perf_counter() - started
    print(f"stage start times (s): {({k: round(v, 1) for k, v in first_seen.items()})}")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    print(f"search and retraining {est.fit_seconds_:.0f} s, total fit {total:.0f} s "
          f"({total / 60:.1f} min) wall, {cpu:.0f} s CPU in this process; load after: "
          f"{os.getloadavg()}")
    print(f"cell: {est.genotype_}")
    print(est.report_.to_string())


if __name__ == "__main__":
    main()
