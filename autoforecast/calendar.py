"""Calendar features: known-future covariates computed from the time index.

``future_covariates=["calendar"]`` (alone, or beside column names: ``["promo", "calendar"]``)
adds sin/cos pairs of the cycles that the index's frequency can show, computed from the
timestamps: for the training windows from the data's own times, for the forecast from the
horizon's times, so ``predict()`` needs no ``future=`` when the calendar is all the model reads.

=====================  =====================================  ==================================
step of the index      cycles                                 columns
=====================  =====================================  ==================================
under a day            time of day, day of the week           hour_of_day_sin/cos,
                                                              day_of_week_sin/cos
a day to under a week  day of the week, day of the year       day_of_week_sin/cos,
                                                              day_of_year_sin/cos
a week to under 28 d   day of the year                        day_of_year_sin/cos
28 days to under 365   month of the year                      month_of_year_sin/cos
=====================  =====================================  ==================================

Each cycle's phase ``p`` in [0, 1) gives the columns ``sin(2 pi p)`` and ``cos(2 pi p)``: the
time of day is ``(hour + minute / 60 + second / 3600) / 24``, the day of the week Monday = 0
over 7, the day of the year ``(day_of_year - 1)`` over the year's days (365 or 366), the month
``(month - 1) / 12``. Integer times (M4), arrays, yearly data and irregular timestamps have no
such cycles: fitting them with "calendar" is an error that says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CALENDAR = "calendar"  # the entry of ``future_covariates`` that asks for these columns

_CYCLES = {  # cycle -> its phase in [0, 1) at the times (a DatetimeIndex)
    "hour_of_day": lambda t: (t.hour + t.minute / 60 + t.second / 3600) / 24,
    "day_of_week": lambda t: t.day_of_week / 7,
    "day_of_year": lambda t: (t.day_of_year - 1) / (365 + t.is_leap_year),
    "month_of_year": lambda t: (t.month - 1) / 12,
}


def wants_calendar(future_covariates) -> bool:
    """Whether ``future_covariates`` asks for the calendar columns."""
    if isinstance(future_covariates, str):
        return future_covariates == CALENDAR
    return future_covariates is not None and CALENDAR in list(future_covariates)


def named(future_covariates, calendar: list) -> list | None:
    """``future_covariates`` as column names: "calendar" replaced by the ``calendar``
    columns (None stays None)."""
    if future_covariates is None:
        return None
    value = [future_covariates] if isinstance(future_covariates, str) else future_covariates
    return [n for v in value for n in (calendar if v == CALENDAR else [v])]


def _step(freq) -> pd.Timedelta:
    """The length of one step of ``freq`` (a calendar one's first whole step in 2001)."""
    offset = pd.tseries.frequencies.to_offset(freq)
    start = offset.rollforward(pd.Timestamp("2001-01-01"))
    return (start + offset) - start


def calendar_cycles(freq, where: str = "the data") -> list[str]:
    """The cycles (``_CYCLES``' keys) shown by data at ``freq``; an error for times without a
    calendar (``freq`` an int step or None) or data a year apart."""
    if freq is None or isinstance(freq, (int, np.integer)):
        what = ("integer times (a step count, as M4's), which have no calendar"
                if freq is not None else "no regular timestamps (an array, integer or irregular "
                "index), from which no calendar can be read")
        raise ValueError(
            f'future_covariates asks for "calendar" features, but {where} has {what}. Drop '
            '"calendar" from future_covariates, or give timestamps at a regular frequency '
            "(or your own calendar columns, named in future_covariates).")
    step = _step(freq)
    if step < pd.Timedelta(days=1):
        return ["hour_of_day", "day_of_week"]
    if step < pd.Timedelta(days=7):
        return ["day_of_week", "day_of_year"]
    if step < pd.Timedelta(days=28):
        return ["day_of_year"]
    if step < pd.Timedelta(days=365):
        return ["month_of_year"]
    raise ValueError(
        f'future_covariates asks for "calendar" features, but {where} steps by a year or more '
        f"({pd.tseries.frequencies.to_offset(freq).freqstr}), so no cycle within the year shows "
        'in it. Drop "calendar" from future_covariates.')


def calendar_columns(freq, where: str = "the data") -> list[str]:
    """The calendar columns for data at ``freq``: a sin and a cos per cycle."""
    return [f"{c}_{part}" for c in calendar_cycles(freq, where) for part in ("sin", "cos")]


def calendar_values(times, columns: list[str]) -> np.ndarray:
    """The values (n, len(columns)) of the calendar ``columns`` at ``times`` (timestamps or
    periods)."""
    times = pd.Index(times)
    if isinstance(times, pd.PeriodIndex):
        times = times.to_timestamp()
    times = pd.DatetimeIndex(times)
    out = np.empty((len(times), len(columns)))
    for j, name in enumerate(columns):
        cycle, _, part = name.rpartition("_")
        angle = 2 * np.pi * np.asarray(_CYCLES[cycle](times), dtype=np.float64)
        out[:, j] = np.sin(angle) if part == "sin" else np.cos(angle)
    return out


def check_no_clash(columns: list, calendar: list[str]) -> None:
    """An error when the data already has a column named "calendar" or like a calendar one."""
    clash = [c for c in columns if c == CALENDAR or c in calendar]
    if clash:
        raise ValueError(
            f'future_covariates asks for "calendar" features, but the data has a column named '
            f"{clash[0]!r}, which they would shadow; rename that column.")
