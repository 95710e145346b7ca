"""Long-format data: one row per (series, time), many series of their own lengths and starts.

A long frame has an id column, a time column, a target column and optionally other columns
(covariates, as a wide frame's non-target columns are). It is recognised by the columns
``unique_id`` and ``ds`` (Nixtla's convention), or named by the keyword arguments ``id_col``,
``time_col`` and ``target_col`` of ``fit`` and ``predict`` (the target is ``y`` unless
``target_col`` names another). :func:`check_long` validates it and returns a :class:`Panel`:
every series regular at one common frequency (gaps filled by the ``missing`` policy), rows
sorted by id then time, values of all series in one array (``values[starts[i]:starts[i + 1]]``
is series ``i``), so windows can index into it lazily (:class:`autoforecast.data.Windows`).

Every problem raises one error that says what was wrong, what was expected, what came and
how to fix it (docs/long_format.md lists them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import MissingValuesError
from .timeindex import gapless_index, infer_freq, step_name
from .validation import MAX_ABS_VALUE, _apply_missing_policy

ID_COL, TIME_COL, TARGET_COL = "unique_id", "ds", "y"


@dataclass(frozen=True)
class LongColumns:
    """The names of a long frame's id, time and target columns."""

    id: str = ID_COL
    time: str = TIME_COL
    target: str = TARGET_COL


def long_columns(X, id_col=None, time_col=None, target_col=None) -> LongColumns | None:
    """The long frame's columns, or None when ``X`` is not a long frame (a wide frame, an
    array). A frame is long when it has the columns ``unique_id`` and ``ds``, or when
    ``id_col`` / ``time_col`` are given; names given for a frame that lacks them are an error."""
    named = any(name is not None for name in (id_col, time_col, target_col))
    if not isinstance(X, pd.DataFrame):
        if named:
            raise ValueError(
                "id_col, time_col and target_col name the columns of a long DataFrame, but X is "
                f"a {type(X).__name__}. Pass a DataFrame with one row per (series, time), or "
                "leave these arguments out for a wide series.")
        return None
    columns = LongColumns(id_col or ID_COL, time_col or TIME_COL, target_col or TARGET_COL)
    if not named and not (columns.id in X.columns and columns.time in X.columns):
        return None
    absent = [f"{role}={name!r}" for role, name in (("id_col", columns.id),
                                                    ("time_col", columns.time),
                                                    ("target_col", columns.target))
              if name not in X.columns]
    if absent:
        raise ValueError(
            f"the long frame has no column {', '.join(absent)}; its columns are "
            f"{list(X.columns)[:20]}. Name its id, time and target columns with id_col=, "
            f"time_col= and target_col= (defaults {ID_COL!r}, {TIME_COL!r}, {TARGET_COL!r}).")
    return columns


@dataclass
class Panel:
    """Validated long data: series ``i`` is ``values[starts[i]:starts[i + 1]]`` (rows in time
    order at the common frequency ``freq``, its first time ``first_times[i]``); column 0 is the
    target, the others the covariates (``columns``)."""

    ids: np.ndarray  # (n_series,) the series ids, sorted
    values: np.ndarray  # (n_rows, n_features) float64, finite
    starts: np.ndarray  # (n_series + 1,) row offsets
    first_times: pd.Index  # (n_series,) the first time of each series
    freq: object  # a pandas offset (timestamps) or an int step (integer times)
    columns: list  # [target, *covariates]
    names: LongColumns

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.starts)

    def __len__(self) -> int:
        return len(self.ids)

    def series(self, i: int) -> np.ndarray:
        return self.values[self.starts[i]:self.starts[i + 1]]

    def times(self, i: int) -> pd.Index:
        """Series ``i``'s time labels."""
        return times_after(self.first_times[i], self.freq, int(self.lengths[i]), include=True)

    def last_times(self) -> pd.Index:
        return pd.Index([shift(t, self.freq, int(n) - 1)
                         for t, n in zip(self.first_times, self.lengths)])

    def wide(self, i: int) -> pd.DataFrame:
        """Series ``i`` as a wide frame indexed by its times (columns: target, covariates)."""
        return pd.DataFrame(self.series(i), index=self.times(i), columns=self.columns)


def shift(time, freq, steps: int):
    """``time`` moved by ``steps`` steps of ``freq``."""
    return time + steps * freq


def times_after(time, freq, n: int, include: bool = False) -> pd.Index:
    """The ``n`` times after ``time`` (from ``time`` itself with ``include``) at ``freq``."""
    first = 0 if include else 1
    if isinstance(freq, (int, np.integer)):
        return pd.Index(time + freq * np.arange(first, first + n), dtype=np.int64)
    return pd.date_range(time, periods=n + first, freq=freq)[first:]


def times_after_each(times, freq, counts, include: bool = False) -> np.ndarray:
    """:func:`times_after` of each of ``times``, one series after another, as one array:
    ``counts`` times each (one count for all, or one per time). Integer and fixed-length
    (``Tick``) frequencies are one vectorised sum; calendar ones (months, business days) go
    time by time."""
    counts = np.broadcast_to(np.asarray(counts, dtype=np.int64), (len(times),))
    if isinstance(freq, (int, np.integer)) or isinstance(freq, pd.offsets.Tick):
        steps = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
                 + (0 if include else 1))
        if isinstance(freq, pd.offsets.Tick):
            starts = np.asarray(pd.DatetimeIndex(times).values)
            return np.repeat(starts, counts) + np.timedelta64(int(freq.nanos), "ns") * steps
        return np.repeat(np.asarray(times, dtype=np.int64), counts) + freq * steps
    return np.concatenate([np.asarray(times_after(t, freq, int(n), include))
                           for t, n in zip(times, counts)])


def check_long(X: pd.DataFrame, names: LongColumns, missing: str = "raise") -> Panel:
    """Validate a long frame (see the module's docstring) and return its :class:`Panel`."""
    ids, times = X[names.id], X[names.time]
    _check_ids(ids, names)
    times = _check_times(times, names)
    columns = [names.target] + [c for c in X.columns if c not in (names.id, names.time,
                                                                  names.target)]
    _check_numeric(X, columns, names)
    order = None
    if not _is_sorted(ids.to_numpy(), times.to_numpy()):  # sorted by id, then time
        order = np.lexsort((times.to_numpy(), ids.to_numpy()))
    ids = ids.to_numpy() if order is None else ids.to_numpy()[order]
    times = times if order is None else times.iloc[order]
    values = X[columns].to_numpy(dtype=np.float64)
    values = values if order is None else values[order]
    codes = np.r_[True, ids[1:] != ids[:-1]]
    starts = np.r_[np.flatnonzero(codes), len(ids)]
    t = times.to_numpy()
    _check_duplicates(ids, t, starts, names)
    freq = _common_freq(ids, times, starts, names)
    _check_finite(values, ids, t, names)
    series_ids, first = ids[starts[:-1]], pd.Index(t[starts[:-1]])
    values, starts = _fill(values, ids, t, starts, freq, names, missing, columns)
    return Panel(ids=series_ids, values=values, starts=starts, first_times=first, freq=freq,
                 columns=columns, names=names)


def _is_sorted(ids: np.ndarray, times: np.ndarray) -> bool:
    if len(ids) < 2:
        return True
    same = ids[1:] == ids[:-1]
    try:
        ids_up = bool(np.all(ids[1:][~same] > ids[:-1][~same]))
    except TypeError:  # ids that do not compare are refused before; be safe
        return False
    return ids_up and bool(np.all(times[1:][same] > times[:-1][same]))


def _check_ids(ids: pd.Series, names: LongColumns) -> None:
    if ids.isna().any():
        row = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise ValueError(
            f"the id column {names.id!r} has {int(ids.isna().sum())} missing id(s), first in row "
            f"{row}; every row needs the id of its series. Fill or drop those rows.")
    kinds = {_kind(v) for v in pd.unique(ids.to_numpy())}
    if len(kinds) > 1:
        examples = {}
        for v in pd.unique(ids.to_numpy()):
            examples.setdefault(_kind(v), v)
        shown = ", ".join(f"{k} ({examples[k]!r})" for k in sorted(kinds))
        raise ValueError(
            f"the id column {names.id!r} mixes id types: {shown}; expected one type (all "
            f"strings or all integers). Convert them, e.g. `df[{names.id!r}] = "
            f"df[{names.id!r}].astype(str)`.")


def _kind(value) -> str:
    if isinstance(value, str):
        return "str"
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, np.integer)):
        return "int"
    if isinstance(value, (float, np.floating)):
        return "float"
    return type(value).__name__


def _check_times(times: pd.Series, names: LongColumns) -> pd.Series:
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        raise ValueError(
            f"the time column {names.time!r} is time-zone aware ({times.dtype}); the long format "
            "takes naive timestamps. Drop the time zone first: `df[{0!r}] = "
            "df[{0!r}].dt.tz_convert(None)` (as UTC), or `.dt.tz_localize(None)` (as local "
            "wall-clock times).".format(names.time))
    if pd.api.types.is_datetime64_any_dtype(times):
        if times.isna().any():
            raise ValueError(f"the time column {names.time!r} holds {int(times.isna().sum())} "
                             "missing timestamp(s) (NaT); every row needs one. Drop those rows.")
        return times
    if pd.api.types.is_integer_dtype(times) and not pd.api.types.is_bool_dtype(times):
        return times.astype(np.int64)
    raise ValueError(
        f"the time column {names.time!r} must hold timestamps (datetime64) or integers, got dtype "
        f"{times.dtype} (first value {times.iloc[0]!r}). Parse it with "
        f"`pd.to_datetime(df[{names.time!r}])`, or number the steps with integers.")


def _check_numeric(X: pd.DataFrame, columns: list, names: LongColumns) -> None:
    for c in columns:
        dtype = X[c].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            role = "target" if c == names.target else "covariate"
            raise ValueError(
                f"the {role} column {c!r} must be numeric, got dtype {dtype} (first value "
                f"{X[c].iloc[0]!r}). Convert it (`pd.to_numeric`), or drop it"
                + (" (every column other than the id, time and target is a covariate)"
                   if role == "covariate" else ", or name another target with target_col=")
                + ".")


def _check_duplicates(ids, times, starts, names: LongColumns) -> None:
    dup = np.r_[False, (ids[1:] == ids[:-1]) & (times[1:] == times[:-1])]
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        raise ValueError(
            f"the long frame has {int(dup.sum())} duplicated ({names.id}, {names.time}) pair(s), "
            f"first {names.id}={ids[row]!r}, {names.time}={_time_text(times[row])}; expected one "
            "row per series and time. Aggregate or drop the duplicates first (e.g. "
            f"`df.drop_duplicates([{names.id!r}, {names.time!r}])`).")


def _time_text(t) -> str:
    return str(pd.Timestamp(t)) if isinstance(t, np.datetime64) else str(t)


def _common_freq(ids, times: pd.Series, starts, names: LongColumns):
    """The frequency every series steps by (gaps allowed: a series' step is its smallest)."""
    t = times.to_numpy()
    if np.issubdtype(t.dtype, np.datetime64):
        # nanoseconds whatever the unit (pandas 3 parses timestamps to microseconds)
        steps = _series_steps(t.astype("datetime64[ns]").view(np.int64), starts)
        freq = {}
        for i, step in enumerate(steps):
            if step is None:
                continue
            offset = _offset_of(times.iloc[starts[i]:starts[i + 1]], step)
            freq.setdefault(offset, i)
            if len(freq) > 1:
                break
    else:
        steps = _series_steps(t, starts)
        freq = {}
        for i, step in enumerate(steps):
            if step is not None:
                freq.setdefault(int(step), i)
                if len(freq) > 1:
                    break
    if len(freq) > 1:
        (fa, a), (fb, b) = list(freq.items())[:2]
        raise ValueError(
            f"the series are on different frequencies: {names.id}={ids[starts[a]]!r} steps by "
            f"{_freq_text(fa)}, {names.id}={ids[starts[b]]!r} by {_freq_text(fb)}; expected one "
            "frequency for all series. Resample them to a common frequency first (e.g. "
            "`df.set_index(ds).groupby(unique_id).resample(...)`), or fit them separately.")
    if not freq:
        return 1 if not np.issubdtype(t.dtype, np.datetime64) else pd.tseries.frequencies.to_offset("D")
    return next(iter(freq))


def _freq_text(freq) -> str:
    return f"{freq} step(s)" if isinstance(freq, int) else step_name(freq)


def _series_steps(t: np.ndarray, starts) -> list:
    """Each series' step: the greatest common divisor of its time differences (None for a
    series of one row)."""
    diffs = np.diff(t)
    out = []
    for a, b in zip(starts[:-1], starts[1:]):
        d = diffs[a:b - 1]
        out.append(int(np.gcd.reduce(d)) if len(d) else None)
    return out


def _offset_of(times: pd.Series, step_ns: int):
    """The pandas offset of one series' timestamps: inferred where it can be (calendar
    frequencies), else the fixed step."""
    index = pd.DatetimeIndex(times.to_numpy())
    if len(index) >= 3:
        inferred = infer_freq(index)
        if inferred is not None:
            return pd.tseries.frequencies.to_offset(inferred)
        full = gapless_index(index)
        if full is not None:
            return full.freq
    return pd.tseries.frequencies.to_offset(pd.Timedelta(step_ns, unit="ns"))


def _check_finite(values, ids, times, names: LongColumns) -> None:
    with np.errstate(invalid="ignore"):
        bad = np.isinf(values) | (np.abs(values) > MAX_ABS_VALUE)
    if bad.any():
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        raise ValueError(
            f"the long frame holds {int(bad.sum())} infinite or too large value(s) (beyond "
            f"+-{MAX_ABS_VALUE:g}), first at {names.id}={ids[row]!r}, "
            f"{names.time}={_time_text(times[row])}. Replace them (for example with NaN and a "
            "`missing` policy).")


def _fill(values, ids, t, starts, freq, names: LongColumns, missing: str, columns: list):
    """Insert the rows missing inside each series (gaps) as NaN, then apply ``missing`` per
    series. Returns the new values and starts."""
    lengths = np.diff(starts)
    full_lengths = np.array([_n_steps(t[a], t[b - 1], freq) for a, b in zip(starts[:-1],
                                                                               starts[1:])])
    gaps = np.flatnonzero(full_lengths != lengths)
    if len(gaps) and missing == "raise":
        i = int(gaps[0])
        a, b = starts[i], starts[i + 1]
        j = a + int(np.flatnonzero(np.diff(_positions(t[a:b], freq)) > 1)[0])
        raise MissingValuesError(
            f"the series {names.id}={ids[a]!r} steps by {_freq_text(freq)} but has "
            f"{int(full_lengths[i] - lengths[i])} missing time(s), first between "
            f"{_time_text(t[j])} and {_time_text(t[j + 1])} ({len(gaps)} series have gaps); "
            "add the missing rows, or pass missing='ffill' or missing='interpolate' to insert "
            "them and fill them.")
    if len(gaps):
        new_starts = np.r_[0, np.cumsum(full_lengths)]
        filled = np.full((int(new_starts[-1]), values.shape[1]), np.nan)
        gapped = set(gaps.tolist())
        for i, (a, b) in enumerate(zip(starts[:-1], starts[1:])):
            pos = _positions(t[a:b], freq) if i in gapped else np.arange(b - a)
            filled[new_starts[i] + pos] = values[a:b]
        values, starts = filled, new_starts
    if np.isnan(values).any():
        for i in np.flatnonzero(np.add.reduceat(np.isnan(values).any(axis=1), starts[:-1])
                                if len(values) else []):
            a, b = starts[i], starts[i + 1]
            try:
                values[a:b] = _apply_missing_policy(values[a:b], pd.RangeIndex(b - a), missing,
                                                    [repr(c) for c in columns])
            except MissingValuesError as error:
                raise MissingValuesError(f"in the series {names.id}={ids[a]!r}: {error}") from None
    return values, starts


def _positions(times: np.ndarray, freq) -> np.ndarray:
    """Each of one series' (sorted) ``times`` as its step from the first at ``freq``: the rows
    from the first to it, less one (as :func:`_n_steps`, in one pass)."""
    if isinstance(freq, int):
        return (times - times[0]) // freq
    if isinstance(freq, pd.offsets.Tick):
        return (times - times[0]).astype("timedelta64[ns]").astype(np.int64) // freq.nanos
    grid = pd.date_range(pd.Timestamp(times[0]), pd.Timestamp(times[-1]), freq=freq)
    return grid.searchsorted(times, side="right") - 1


def _n_steps(first, last, freq) -> int:
    """Rows from ``first`` to ``last`` inclusive at ``freq``."""
    if isinstance(freq, int):
        return int((last - first) // freq) + 1
    step = getattr(freq, "nanos", None) if isinstance(freq, pd.offsets.Tick) else None
    if step is not None:
        return int((last - first).astype("timedelta64[ns]").astype(np.int64) // step) + 1
    return len(pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq=freq))
