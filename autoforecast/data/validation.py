"""Validation of an observed series: shape, types, index order, infinities and missing values.

Every problem raises an error that says what was wrong, what was expected, what came, and how
to fix it. Rows are never dropped.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.utils.validation import validate_data

from .errors import MissingValuesError
from .timeindex import gapless_index, step_name

MISSING_POLICIES = ("raise", "ffill", "interpolate")
# The largest magnitude accepted: standardising squares the values and sums the squares over
# the rows, which must not overflow float64 (about 1.8e308) even for very long series.
MAX_ABS_VALUE = 1e100


@dataclass
class SeriesData:
    values: np.ndarray  # (n_rows, n_features) float64, finite
    index: pd.Index  # one label per row; a RangeIndex for arrays
    columns: list  # column labels; positions for arrays
    is_frame: bool  # the input was a DataFrame


def check_series(estimator, X, *, reset: bool, missing: str = "raise") -> SeriesData:
    """Validate ``X`` for ``estimator`` (sklearn's ``validate_data`` bookkeeping included).

    ``reset=True`` in ``fit`` records ``n_features_in_`` (and ``feature_names_in_``);
    ``reset=False`` checks ``X`` against them.
    """
    if missing not in MISSING_POLICIES:
        raise ValueError(f"`missing` must be one of {MISSING_POLICIES}, got {missing!r}.")
    is_frame = isinstance(X, pd.DataFrame)
    if isinstance(X, pd.Series):
        raise ValueError(
            "X must be 2-D (n_timesteps, n_features); got a pandas Series. "
            "Use `series.to_frame()` for a single series."
        )
    if is_frame:
        _check_frame(X)
        index = X.index
    values = validate_data(
        estimator, X, reset=reset, dtype=np.float64, ensure_all_finite=False,
        ensure_min_samples=1,
    )
    values = np.array(values, dtype=np.float64, order="C", copy=True)
    if not is_frame:
        index = pd.RangeIndex(len(values))
    columns = list(X.columns) if is_frame else list(range(values.shape[1]))
    names = _column_names(columns, is_frame)
    _check_finite(values, index, names)
    values, index = _fill_gaps(values, index, missing)
    values = _apply_missing_policy(values, index, missing, names)
    return SeriesData(values=values, index=index, columns=columns, is_frame=is_frame)


def _column_names(columns: list, is_frame: bool) -> list[str]:
    """How messages name each column: its name for a frame, its position for an array."""
    return [f"{c!r}" if is_frame else f"{c}" for c in columns]


def row_label(index: pd.Index, row: int) -> str:
    """Row ``row`` as a user sees it: its timestamp (``2021-01-03 05:00:00``) or its number
    (``row 5``), without a Python repr."""
    label = index[row]
    if isinstance(label, (pd.Timestamp, pd.Period)):
        return str(label)
    return f"row {label}"


def _check_frame(X: pd.DataFrame) -> None:
    bad = [str(c) for c in X.columns if not (pd.api.types.is_numeric_dtype(X[c])
                                             and not pd.api.types.is_bool_dtype(X[c]))]
    if bad:
        raise ValueError(
            f"X must hold numeric columns only; non-numeric column(s): {bad} "
            f"(dtypes {[str(X[c].dtype) for c in bad[:5]]}). Drop them, encode them as "
            "numbers, or set the time column as the index."
        )
    index = X.index
    if isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)) or pd.api.types.is_numeric_dtype(index):
        if index.hasnans:
            raise ValueError("X's index holds missing timestamps (NaT/NaN); every row needs one.")
        dup = index.duplicated()
        if dup.any():
            raise ValueError(
                f"X's index has {int(dup.sum())} duplicated label(s), first "
                f"{row_label(index, int(np.flatnonzero(dup)[0]))}; "
                "rows must have unique timestamps. Aggregate or drop the duplicates first."
            )
        if not index.is_monotonic_increasing:
            pos = int(np.flatnonzero(np.asarray(index[1:] < index[:-1]))[0]) + 1
            raise ValueError(
                f"X's rows must be in time order, but the index is not increasing (near row {pos}). "
                "Sort it first, e.g. `X.sort_index()`."
            )
    else:
        raise ValueError(
            f"X's index must be a DatetimeIndex, PeriodIndex or a numeric (Range) index, got "
            f"{type(index).__name__} of dtype {index.dtype}. Parse the time column "
            "(`pd.to_datetime`) and set it as the index, or `reset_index(drop=True)`."
        )


def _check_finite(values: np.ndarray, index: pd.Index, names: list[str]) -> None:
    """Refuse infinite values, and values too large to standardise (see MAX_ABS_VALUE)."""
    inf = np.isinf(values)
    if inf.any():
        row, col = np.argwhere(inf)[0]
        raise ValueError(
            f"X contains {int(inf.sum())} infinite value(s) (inf), first in column {names[col]} "
            f"at {row_label(index, row)}. Replace them (for example with NaN and a `missing` "
            "policy).")
    with np.errstate(invalid="ignore"):
        huge = np.abs(values) > MAX_ABS_VALUE
    if huge.any():
        row, col = np.argwhere(huge)[0]
        raise ValueError(
            f"X contains {int(huge.sum())} value(s) too large to standardise, first "
            f"{values[row, col]:g} in column {names[col]} at {row_label(index, row)}; expected "
            f"values within +-{MAX_ABS_VALUE:g} (their squares must not overflow float64). "
            "Fix the value, or rescale the column (divide it by a power of ten).")


def _fill_gaps(values: np.ndarray, index: pd.Index, missing: str):
    """Rows missing from a regular time index (see ``gapless_index``) become rows of NaN at
    their timestamps, for the ``missing`` policy to fill; with "raise", an error names the
    first gap."""
    full = gapless_index(index)
    if full is None:
        return values, index
    present = full.get_indexer(index)
    if missing == "raise":
        row = int(np.flatnonzero(np.diff(present) > 1)[0])
        n_missing = len(full) - len(index)
        raise MissingValuesError(
            f"X's time index steps by {step_name(full.freq)} but {n_missing} timestamp(s) are "
            f"missing, first between {row_label(index, row)} and {row_label(index, row + 1)}. "
            "Add the missing rows, or pass missing='ffill' or missing='interpolate' to insert "
            "them as empty rows and fill them.")
    filled = np.full((len(full), values.shape[1]), np.nan)
    filled[present] = values
    return filled, full


def _apply_missing_policy(values: np.ndarray, index: pd.Index, missing: str,
                          names: list[str]) -> np.ndarray:
    nan = np.isnan(values)
    if not nan.any():
        return values
    cols = sorted({int(c) for c in np.flatnonzero(nan.any(axis=0))})
    first_row = int(np.flatnonzero(nan.any(axis=1))[0])
    listed = ", ".join(names[c] for c in cols[:10]) + (", ..." if len(cols) > 10 else "")
    if missing == "raise":
        raise MissingValuesError(
            f"X contains {int(nan.sum())} missing value(s) (NaN) in column(s) {listed}, first at "
            f"{row_label(index, first_row)}. Fill them, or pass missing='ffill' or "
            "missing='interpolate'."
        )
    empty = [names[c] for c in cols if nan[:, c].all()]
    if empty:
        raise MissingValuesError(
            f"X's column(s) {', '.join(empty)} hold no values at all (all NaN); drop them.")
    frame = pd.DataFrame(values)
    if missing == "ffill":
        frame = frame.ffill()
        if frame.isna().to_numpy().any():
            leading = ", ".join(names[c] for c in cols if np.isnan(values[0, c]))
            raise MissingValuesError(
                f"missing='ffill' cannot fill the NaN values at the start of column(s) {leading}: "
                "nothing comes before them. Use missing='interpolate' or trim the leading rows."
            )
    else:  # interpolate: linear inside, nearest value at the ends
        frame = frame.interpolate(method="linear", limit_direction="both")
    return frame.to_numpy(dtype=np.float64)


def resolve_target(target, columns: list, is_frame: bool) -> np.ndarray:
    """Positions of the target columns: ``None`` means all; names (frames) or positions."""
    if target is None:
        return np.arange(len(columns))
    items = [target] if isinstance(target, (str, numbers.Integral)) else list(target)
    if not items:
        raise ValueError("`target` is empty; pass None for all columns or name at least one.")
    positions = []
    for item in items:
        if isinstance(item, numbers.Integral) and not isinstance(item, bool) and not (
                is_frame and item in columns):
            if not 0 <= item < len(columns):
                raise ValueError(f"target position {item} is out of range for {len(columns)} columns.")
            positions.append(int(item))
        elif is_frame and item in columns:
            positions.append(columns.index(item))
        else:
            raise ValueError(
                f"unknown target {item!r}; expected one of the columns {columns[:20]}"
                + ("" if is_frame else " (X is an array: name targets by position)") + "."
            )
    if len(set(positions)) != len(positions):
        raise ValueError(f"`target` names a column twice: {items}.")
    return np.asarray(positions, dtype=np.int64)
