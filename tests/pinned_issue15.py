"""Re-pin the values of the forecasters whose results issue 15 changed by design.

Issue 15 made ARIMA's default a seasonal stepwise search by AICc with CSS estimates (0.1: a
grid of p, q by AIC with exact ML) and made ``predict()`` continue from the fit's final state
(0.1: it refiltered the last ``lookback`` rows). The "arima" case of ``pinned_cases.py`` (a
``max_p=1, max_d=1, max_q=1`` search on a 120-row hourly series) therefore forecasts
differently. This script writes that case's new values to ``tests/pinned/issue15_arima.json``;
``tests/pinned/values.json`` (0.1's values) is left as it is, and the model files 0.1 wrote
must still load and forecast as 0.1 did (``test_pinned.py`` checks both).

    python tests/pinned_issue15.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's autoforecast
import pinned_cases as cases  # noqa: E402

REPINNED = ("arima",)
PATH = cases.PINNED / "issue15_arima.json"


def values() -> dict:
    frame = cases.series()
    out = {}
    for name in REPINNED:
        est = cases.forecasters()[name].fit(frame)
        out[name] = cases.forecaster_values(name, est, frame)
    return out


if __name__ == "__main__":
    PATH.write_text(json.dumps({"issue": 15, "forecasters": values()}, indent=1) + "\n")
    print(f"wrote {PATH}")
