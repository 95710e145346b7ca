"""Index labels for the steps after the end of a series."""

from __future__ import annotations

import contextlib

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


def future_index(index: pd.Index, horizon: int, freq=None) -> pd.Index:
    """Labels of the ``horizon`` rows after ``index``.

    Timestamps continue at the index's frequency (given, set or inferred); periods continue by
    one period a step; a RangeIndex continues with its step; anything else becomes a RangeIndex
    that continues the row count.
    """
    if isinstance(index, pd.PeriodIndex):
        return pd.period_range(index[-1] + 1, periods=horizon, freq=index.freq)
    if isinstance(index, pd.DatetimeIndex):
        freq = freq if freq is not None else infer_freq(index)
        if freq is not None:
            return pd.date_range(index[-1], periods=horizon + 1, freq=freq)[1:]
    if isinstance(index, pd.RangeIndex) and len(index):
        step = index.step
        return pd.RangeIndex(index[-1] + step, index[-1] + step * (horizon + 1), step)
    return pd.RangeIndex(len(index), len(index) + horizon)
