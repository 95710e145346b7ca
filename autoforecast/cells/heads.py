"""Old home of ``ForecastHead``, 0.1's head on the last state of a per-time-step encoder; the
forecasting network of 0.2 (``cells/segments.py``) replaced it. The name stays as a stand-in
(:mod:`autoforecast.legacy`) so that 0.1 model files are read far enough to ask for a refit."""

from autoforecast.legacy import RemovedModule as ForecastHead  # noqa: F401 (0.1 pickles name it)
