"""Known-future covariates: columns whose values over the horizon are known when forecasting
(prices, planned events, holidays), named by the recurrent forecasters' ``future_covariates``.

At fit they are columns of the data like any other (their past values are covariates as
``covariates`` says), and each training window also carries its horizon's rows, of which the
network's decoding step reads these columns alone (``cells/segments.py``). To forecast after
the end of the data, ``predict(future=...)`` gives their values over the horizon: a DataFrame
indexed by the forecast's times (wide), or a long frame with the id and time columns (long).
Every problem raises one ``ValueError`` that says what is missing or misaligned.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .calendar import CALENDAR


def check_future_covariates(value) -> None:
    """``future_covariates`` is None, "calendar", or a non-empty list (or tuple) of column
    names, of which one may be "calendar" (:mod:`autoforecast.calendar`)."""
    if value is not None and value != CALENDAR and (
            isinstance(value, str) or not isinstance(value, (list, tuple)) or not value):
        raise ValueError(f"`future_covariates` must be None, \"calendar\" or a non-empty list of "
                         f"column names (\"calendar\" among them for the calendar features), "
                         f"got {value!r}; e.g. future_covariates=[{value!r}].")


def future_columns(value, columns: list, targets) -> list[int]:
    """The positions in ``columns`` of the columns ``future_covariates`` names (None: none)."""
    check_future_covariates(value)
    if value is None:
        return []
    absent = [v for v in value if v not in columns]
    if absent:
        raise ValueError(
            f"`future_covariates` names {absent}, but the data has no such column; its columns "
            f"are {list(columns)[:20]}. Name columns of the data: their values over the horizon "
            "then come with predict(future=...).")
    positions = [list(columns).index(v) for v in dict.fromkeys(value)]
    named_targets = [columns[i] for i in positions if i in set(int(t) for t in targets)]
    if named_targets:
        raise ValueError(f"`future_covariates` names the target {named_targets[0]!r}, whose "
                         "future is what is forecast; name other columns.")
    return positions


def _missing(names: list) -> ValueError:
    return ValueError(
        f"this model reads the known-future covariates {names}: predict needs their values over "
        "the horizon, as future= (a DataFrame indexed by the forecast's times, or a long frame "
        "with the id and time columns; on the command line, --future FILE).")


def _check_columns(future: pd.DataFrame, names: list) -> None:
    absent = [n for n in names if n not in future.columns]
    if absent:
        raise ValueError(f"future= has no column {absent}; its columns are "
                         f"{list(future.columns)[:20]}, the model reads the known-future "
                         f"covariates {names}.")


def _check_times(have: pd.Index, need: pd.Index, where: str) -> None:
    """An error when ``have`` (the future frame's times) lacks one of ``need`` (the forecast's):
    too short (it stops before the horizon's end) or misaligned (another start or step)."""
    absent = ~need.isin(have)
    if not absent.any():
        return
    first = need[int(np.flatnonzero(absent)[0])]
    span = f"{have.min()} .. {have.max()}" if len(have) else "none"
    if len(have) and need[0] in have and first > have.max():
        raise ValueError(
            f"future={where} is too short: its times end at {have.max()}, the forecast's "
            f"{len(need)} steps run from {need[0]} to {need[-1]}; give values for every step of "
            "the horizon.")
    raise ValueError(
        f"future={where} is misaligned: it has no row at {first}, one of the forecast's times "
        f"({need[0]} .. {need[-1]}, {len(need)} steps after the end of the data); its times are "
        f"{span}. Index it by the times after the data's last one, at the data's frequency.")


def _check_values(values: np.ndarray, names: list, where: str) -> np.ndarray:
    if not np.isfinite(values).all():
        raise ValueError(f"future={where} has missing or infinite values of {names} within the "
                         "horizon; fill them.")
    return values


def wide_future(future, times: pd.Index, names: list) -> np.ndarray:
    """The values (H, K) of the columns ``names`` at the forecast's ``times`` from ``future``:
    a DataFrame indexed by time (or, for a model fitted on arrays, an array (H, K))."""
    if future is None:
        raise _missing(names)
    if isinstance(future, np.ndarray):
        if future.shape != (len(times), len(names)):
            raise ValueError(f"future= as an array must have the shape (horizon, n_future) = "
                             f"({len(times)}, {len(names)}), got {future.shape}.")
        return _check_values(future.astype(np.float64), names, "")
    if not isinstance(future, pd.DataFrame):
        raise ValueError(f"future= must be a DataFrame indexed by the forecast's times, got a "
                         f"{type(future).__name__}.")
    _check_columns(future, names)
    _check_times(future.index, times, "")
    return _check_values(future.loc[times, names].to_numpy(dtype=np.float64), names, "")


def long_future(future, ids, times: np.ndarray, names: list, id_col: str,
                time_col: str) -> np.ndarray:
    """The values (S, H, K) of the columns ``names`` for each series of ``ids`` at its forecast
    times (``times``: S H of them, one series after another) from the long frame ``future``."""
    if future is None:
        raise _missing(names)
    if not isinstance(future, pd.DataFrame) or id_col not in future.columns \
            or time_col not in future.columns:
        raise ValueError(f"future= must be a long DataFrame with the columns {id_col!r} and "
                         f"{time_col!r} (and {names}), as the fit's frame.")
    _check_columns(future, names)
    keys = future[[id_col, time_col]]
    if keys.duplicated().any():
        row = keys[keys.duplicated()].iloc[0]
        raise ValueError(f"future= has duplicated ({id_col}, {time_col}) pairs, first "
                         f"{id_col}={row[id_col]!r}, {time_col}={row[time_col]}.")
    horizon = len(times) // max(len(ids), 1)
    need = pd.MultiIndex.from_arrays([np.repeat(np.asarray(ids), horizon), times])
    table = future.set_index([id_col, time_col])[names]
    values = table.reindex(need).to_numpy(dtype=np.float64)
    absent = np.isnan(values).any(axis=1) & ~need.isin(table.index)
    if absent.any():
        i = int(np.flatnonzero(absent)[0]) // horizon
        rows = future[future[id_col] == ids[i]]
        if not len(rows):
            raise ValueError(f"future= has no rows of the series {id_col}={ids[i]!r}; give the "
                             "known-future values of every series forecast.")
        _check_times(pd.Index(rows[time_col]), pd.Index(times[i * horizon:(i + 1) * horizon]),
                     f" (series {id_col}={ids[i]!r})")
    return _check_values(values, names, "").reshape(len(ids), horizon, len(names))


def append_rows(windows: np.ndarray, columns: list, values: np.ndarray) -> np.ndarray:
    """``windows`` (..., L, F) with H rows after each: the columns ``columns`` from ``values``
    (..., H, K), the others the window's last row (read by nothing, kept finite)."""
    horizon = values.shape[-2]
    last = np.repeat(windows[..., -1:, :], horizon, axis=-2)
    last[..., columns] = values
    return np.concatenate([windows, last], axis=-2)
