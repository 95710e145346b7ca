"""The seasonal period ``m`` an index's frequency implies (R's ``frequency()`` conventions)."""

from __future__ import annotations

from pandas.tseries.frequencies import to_offset

# Periods per cycle for one step of each base frequency: a day of hours, a week of days, ...
CYCLE = {"h": 24, "H": 24, "D": 7, "B": 5, "C": 5, "W": 52,
         "M": 12, "ME": 12, "MS": 12, "BM": 12, "BME": 12, "BMS": 12, "SM": 24, "SMS": 24,
         "Q": 4, "QE": 4, "QS": 4, "BQ": 4, "BQE": 4, "BQS": 4,
         "A": 1, "Y": 1, "YE": 1, "YS": 1, "AS": 1, "BA": 1, "BY": 1, "BYE": 1, "BYS": 1}
SUB_HOURLY = {"min", "T", "s", "S", "ms", "L", "us", "U", "ns", "N"}
MAX_AUTO_PERIOD = 52


def period_from_freq(freq) -> tuple[int, str | None]:
    """(m, note): the period for ``freq`` (an offset, a string or None) and, when no seasonal
    terms are used for a reason worth recording, why."""
    if freq is None:
        return 1, None  # arrays, RangeIndex: no calendar, no season
    try:
        offset = to_offset(freq)
    except (TypeError, ValueError):
        return 1, f"index frequency {freq!r} not understood: no seasonal terms"
    base = offset.rule_code.split("-")[0]
    hint = "; pass seasonal_period= to set one"
    if base in SUB_HOURLY:
        return 1, f"sub-hourly data (freq {offset.freqstr}): no seasonal terms{hint}"
    if base not in CYCLE:
        return 1, f"no seasonal period known for freq {offset.freqstr}: no seasonal terms{hint}"
    per_cycle, step = CYCLE[base], max(1, offset.n)
    if per_cycle % step:
        return 1, (f"freq {offset.freqstr} does not divide its cycle of {per_cycle}: no "
                   f"seasonal terms{hint}")
    m = per_cycle // step
    if m > MAX_AUTO_PERIOD:
        return 1, f"period {m} > {MAX_AUTO_PERIOD} (freq {offset.freqstr}): no seasonal terms{hint}"
    return m, None
