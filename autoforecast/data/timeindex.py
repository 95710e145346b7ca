"""Index labels for the steps after the end of a series."""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd


def _offsets_from_infer_freq():
    """Opt in to pandas' future ``infer_freq`` (an offset, not a string) where it exists."""
    try:
        return pd.option_context("future.infer_freq_returns_offset", True)
    except (KeyError, pd.errors.OptionError):
        return contextlib.nullcontext()


def infer_freq(index: pd.Index):
    """The index's frequency (set, or inferred from its labels), or None."""
    if isinstance(index, pd.PeriodIndex):
        return index.freq
    if isinstance(index, pd.DatetimeIndex):
        if index.freq is not None:
            return index.freq
        if len(index) >= 3:
            try:
                with _offsets_from_infer_freq():
                    return pd.infer_freq(index)
            except (TypeError, ValueError):
                return None
    return None


def gapless_index(index: pd.Index):
    """The full index of a DatetimeIndex that steps regularly except for missing rows: every
    timestamp from its first to its last at its frequency (business days; the frequency of a
    run of three rows, calendar ones included; or its most common step when every step is a
    multiple of it), with that frequency set. None when no row is missing (a frequency is set
    or inferred) or when no such frequency is found (irregular timestamps)."""
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 3 or infer_freq(index) is not None:
        return None
    candidates = [pd.bdate_range(index[0], index[-1], tz=index.tz, name=index.name)]
    for start in (0, len(index) - 3):
        freq = infer_freq(index[start:start + 3].copy())  # a run of three: its frequency
        if freq is not None:
            candidates.append(pd.date_range(index[0], index[-1], freq=freq, name=index.name))
    steps = pd.Series(index[1:] - index[:-1])
    step = steps.mode().iloc[0]
    if step > pd.Timedelta(0) and (steps % step == pd.Timedelta(0)).all():
        candidates.append(pd.date_range(index[0], index[-1], freq=step, name=index.name))
    return next((full for full in candidates if len(full) and index.isin(full).all()), None)


def describe_steps(index: pd.DatetimeIndex, limit: int = 3) -> str:
    """The first few distinct steps between the rows, as text ("1 hour, 37 minutes, ...")."""
    steps = list(dict.fromkeys(pd.Series(index[1:] - index[:-1])))
    shown = ", ".join(step_name(step) for step in steps[:limit])
    return shown + (", ..." if len(steps) > limit else "")


def step_name(freq) -> str:
    """A frequency or a step as words: "1 hour", "10 minutes", "business days"."""
    if isinstance(freq, pd.offsets.BusinessDay):
        return "business days"
    try:
        step = pd.Timedelta(freq)
    except (TypeError, ValueError):
        return f"the frequency {pd.tseries.frequencies.to_offset(freq).freqstr}"
    for unit, seconds in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count = step.total_seconds() / seconds
        if count >= 1 and count == int(count):
            return f"{int(count)} {unit}{'s' if count != 1 else ''}"
    return str(step)


def future_index(index: pd.Index, horizon: int, freq=None, n_rows: int | None = None) -> pd.Index:
    """Labels of the ``horizon`` rows after ``index``.

    Timestamps continue at the index's frequency (given, set or inferred); periods continue by
    one period a step; a RangeIndex, or a numeric index with a constant step (years, say),
    continues with its step; anything else (irregular timestamps or numbers) becomes a
    RangeIndex that continues the row count, ``n_rows`` (the rows of the whole series of
    which ``index`` may be only the tail; default ``len(index)``).
    """
    n_rows = len(index) if n_rows is None else n_rows
    if isinstance(index, pd.PeriodIndex):
        return pd.period_range(index[-1] + 1, periods=horizon, freq=index.freq)
    if isinstance(index, pd.DatetimeIndex):
        freq = freq if freq is not None else infer_freq(index)
        if freq is not None:
            return pd.date_range(index[-1], periods=horizon + 1, freq=freq)[1:]
    if isinstance(index, pd.RangeIndex) and len(index):
        step = index.step
        return pd.RangeIndex(index[-1] + step, index[-1] + step * (horizon + 1), step)
    if pd.api.types.is_numeric_dtype(index) and len(index) >= 2:
        steps = np.diff(np.asarray(index))
        if np.all(steps == steps[0]) and steps[0] > 0:
            return pd.Index(index[-1] + steps[0] * np.arange(1, horizon + 1), name=index.name)
    return pd.RangeIndex(n_rows, n_rows + horizon)


FALLBACK_SEGMENT = 24  # steps a segment, for arrays and irregular indexes
# Segments of calendar frequencies: about a natural period (a week of days, a year of months).
CALENDAR_SEGMENTS = {"B": 5, "C": 5, "D": 7, "W": 4, "SM": 2, "SMS": 2, "M": 12, "ME": 12,
                     "MS": 12, "BM": 12, "BME": 12, "BMS": 12, "Q": 4, "QE": 4, "QS": 4, "BQ": 4,
                     "BQE": 4, "BQS": 4, "Y": 1, "YE": 1, "YS": 1, "A": 1, "AS": 1, "BY": 1,
                     "BYE": 1, "BYS": 1}


def segment_length_for(freq) -> int:
    """The segment length (steps) of the forecasting network for data of frequency ``freq``:
    a day of steps when a day holds at most 48 (24 for hourly data, SegRNN's choice), else an
    hour of them (6 for 10-minute data) up to 60; a week of days, a year of months, ...; for
    no frequency (arrays, irregular indexes), ``FALLBACK_SEGMENT``."""
    if freq is None:
        return FALLBACK_SEGMENT
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, pd.offsets.Tick) and pd.Timedelta(offset) < pd.Timedelta(days=1):
        step = pd.Timedelta(offset)  # fixed durations under a day: hours, minutes, seconds
        per_day = pd.Timedelta(days=1) / step
        if per_day <= 48:
            return max(int(per_day), 1)
        return int(min(max(pd.Timedelta(hours=1) / step, 1), 60))
    base = offset.rule_code.split("-")[0]
    return CALENDAR_SEGMENTS.get(base, FALLBACK_SEGMENT)
