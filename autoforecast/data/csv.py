"""Reading a series from a CSV file and writing frames to CSV, with errors a user can act on.

``read_series_csv`` returns a DataFrame indexed by the file's time column (a DatetimeIndex, or
the column's numbers when they are plain numbers, or a RangeIndex when the file has none). It
checks what only the file can tell: that it exists and has rows, that the time column parses,
that the columns asked for are there, and that the rows are in time order. Whether the values
are numeric and complete is left to the estimators' validation (``check_series``).

``write_frame_csv`` writes through a temporary file and a rename, so an interrupted or failing
write leaves no half-written file.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from ..files import atomic_path

TIME_COLUMN_NAMES = ("date", "datetime", "time", "timestamp", "ds")


def read_series_csv(path, time_column="auto", columns=None, *, time_format=None,
                    sep=",") -> pd.DataFrame:
    """Read a time series from ``path``: rows in time order, one column per variable.

    ``time_column``: ``"auto"`` takes a column named like a time (``date``, ``datetime``,
    ``time``, ``timestamp``, ``ds``, any case), else the first column when all its values parse
    as dates, else none (a RangeIndex); a name uses that column; ``None`` uses none.
    ``columns``: names of the columns to keep (default: all but the time column).
    ``time_format``: a ``strftime`` format for the time column (default: inferred).
    ``sep``: the field separator; a file that looks separated by another one (``;``, tabs,
    ``|``) is refused with a message that says so.
    """
    path = Path(path)
    frame = _read_raw(path, sep)
    name = _resolve_time_column(frame, time_column, path, time_format)
    if name is not None:
        frame = frame.set_index(name)
        frame.index = _parse_index(frame.index, name, path, time_format)
        _check_order(frame.index, name, path)
    if columns is not None:
        frame = frame[_check_columns(frame, columns, path, name)]
    if frame.shape[1] == 0:
        raise ValueError(
            f"{path} has no data column besides the time column {name!r}; expected at least one "
            "column of numbers."
        )
    return frame


def read_long_csv(path, id_column="unique_id", time_column="ds", *, time_format=None,
                  sep=",") -> pd.DataFrame:
    """Read a long file from ``path``: one row per (series, time), an id column, a time column
    (parsed as timestamps, or kept as integers) and value columns; a RangeIndex. The file's
    own checks are :func:`read_series_csv`'s; the rest (duplicates, order, frequencies) is
    left to the estimators' validation (:func:`autoforecast.data.long.check_long`)."""
    path = Path(path)
    frame = _read_raw(path, sep)
    for role, name in (("id", id_column), ("time", time_column)):
        if name not in frame.columns:
            raise ValueError(
                f"{path} has no {role} column {name!r}; its columns are "
                f"{_listing(frame.columns)}. Name its {role} column with {role}_column=.")
    times = _parse_index(pd.Index(frame[time_column]), time_column, path, time_format)
    frame[time_column] = times.to_numpy()
    return frame


def is_long_csv(path, id_column="unique_id", time_column="ds", sep=",") -> bool:
    """Whether the file at ``path`` has the columns ``id_column`` and ``time_column`` in its
    header line (False when it cannot be read: the reader says why)."""
    try:
        header = pd.read_csv(path, sep=sep, nrows=0).columns
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return id_column in header and time_column in header


def write_frame_csv(frame: pd.DataFrame, path, index_label=None) -> Path:
    """Write ``frame`` (with its index) to ``path`` atomically; returns the path."""
    with atomic_path(path, suffix=".csv") as tmp:
        frame.to_csv(tmp, index_label=index_label)
    return Path(path)


def _read_raw(path: Path, sep: str) -> pd.DataFrame:
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; expected a CSV file.")
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; expected a CSV file. Check the path.")
    if not isinstance(sep, str) or len(sep) != 1:
        raise ValueError(f"`sep` must be a single character, such as ',' or ';' (or a tab), got "
                         f"{sep!r}.")
    _check_text(path)
    _check_separator(path, sep)
    try:
        frame = pd.read_csv(path, sep=sep)
    except pd.errors.EmptyDataError:
        raise ValueError(
            f"{path} is empty; expected a CSV file with a header line and one row per time step."
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ValueError(
            f"{path} could not be read as CSV ({type(error).__name__}: {error}). Expected "
            f"comma-separated text with a header line."
        ) from None
    if frame.empty:
        raise ValueError(
            f"{path} has a header ({', '.join(map(str, frame.columns[:10]))}) but no data rows; "
            "expected one row per time step."
        )
    _check_header(path, sep, frame)
    return frame


def _check_text(path: Path) -> None:
    """Refuse a file that is not text (a zip, a picture, a model file): its first bytes hold
    NUL bytes or many control characters."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    text = head.decode("utf-8", errors="replace")
    odd = sum(1 for ch in text if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\t\r\n"))
    if b"\x00" in head or odd > max(2, len(text) // 20):
        raise ValueError(f"{path} is not a text CSV file: its first bytes are binary data. "
                         "Expected comma-separated text with a header line.")


def _check_header(path: Path, sep: str, frame: pd.DataFrame) -> None:
    """Refuse what pandas would read silently wrong: a column name given twice (it renames the
    second ``y.1``), and lines that end with the separator (an empty column without a name, or
    rows one field longer than the header, which pandas reads as an index)."""
    names = [str(n) for n in pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str)
             .iloc[0].tolist()]
    repeated = [n for n in dict.fromkeys(names) if n != "nan" and names.count(n) > 1]
    if repeated:
        raise ValueError(
            f"{path}: the header line names the column {repeated[0]!r} {names.count(repeated[0])} "
            "times; expected each column named once. Rename or drop the repeated columns.")
    last = frame.columns[-1]
    if names[-1] == "nan" and frame[last].isna().all():
        raise ValueError(
            f"{path}: every line ends with {sep!r}, which makes an empty column without a name "
            f"after {str(frame.columns[-2]) if len(frame.columns) > 1 else 'the others'!r}; "
            f"remove the trailing {sep!r} from the lines.")
    if not isinstance(frame.index, pd.RangeIndex):
        raise ValueError(
            f"{path}: the data rows have more fields than the header line ({len(names)} names); "
            f"a trailing {sep!r} on each row? Remove it, or name every column in the header.")


SEPARATORS = {";": "';'", "\t": "tab", "|": "'|'"}


def _check_separator(path: Path, sep: str) -> None:
    """Refuse a file whose header line holds none of ``sep`` but another usual separator (read
    with the wrong one, its rows come out as one text column or a MultiIndex)."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        header = handle.readline().rstrip("\r\n")
    if sep in header:
        return
    for other, name in SEPARATORS.items():
        if other != sep and other in header:
            shown = header if len(header) <= 60 else header[:57] + "..."
            raise ValueError(
                f"{path} looks {name}-separated, not {sep!r}-separated: its header line is "
                f"{shown!r}. Pass the separator: read_series_csv(path, sep={other!r}), or "
                f"--sep {other!r} on the command line.")


def _resolve_time_column(frame: pd.DataFrame, time_column, path: Path, time_format):
    if time_column is None:
        return None
    if time_column != "auto":
        if time_column not in frame.columns:
            raise ValueError(
                f"{path} has no time column {time_column!r}; its columns are "
                f"{_listing(frame.columns)}. Pass one of them, or 'auto', or none."
            )
        return time_column
    for column in frame.columns:
        if str(column).strip().lower() in TIME_COLUMN_NAMES:
            return column
    first = frame.columns[0]
    if _is_text(frame[first]) and _to_datetime(frame[first], time_format).notna().all():
        return first
    return None


def _parse_index(values: pd.Index, name, path: Path, time_format) -> pd.Index:
    series = pd.Series(values)
    blank = series.isna() | series.astype(str).str.strip().eq("")
    if blank.any():
        row = int(blank.to_numpy().nonzero()[0][0])
        raise ValueError(
            f"{path}: the time column {name!r} is empty at line {row + 2} (data row {row + 1}); "
            "every row needs a timestamp. Fill it or drop the row."
        )
    if not _is_text(series):
        return pd.Index(series.to_numpy(), name=name)  # plain numbers: a numeric index
    parsed = _to_datetime(series, time_format)
    bad = parsed.isna().to_numpy().nonzero()[0]
    if len(bad):
        row = int(bad[0])
        expected = f"format {time_format!r}" if time_format else "dates such as 2021-01-31 13:00"
        raise ValueError(
            f"{path}: the time column {name!r} has {len(bad)} value(s) that are not dates, first "
            f"{series.iloc[row]!r} at line {row + 2}; expected {expected}. Fix those values, pass "
            "--time-format, or name another time column."
        )
    return pd.DatetimeIndex(parsed, name=name)


def _to_datetime(series: pd.Series, time_format) -> pd.Series:
    """Parse text to timestamps (NaT where a value does not parse): ISO 8601, else inferred."""
    text = series.astype(str).str.strip()
    if time_format:
        return pd.to_datetime(text, format=time_format, errors="coerce")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "could not infer format" on odd values
        iso = pd.to_datetime(text, format="ISO8601", errors="coerce")
        if iso.notna().all():
            return iso
        inferred = pd.to_datetime(text, errors="coerce")
    return inferred if inferred.notna().sum() > iso.notna().sum() else iso


def _check_order(index: pd.Index, name, path: Path) -> None:
    values = pd.Series(index)
    duplicated = values.duplicated().to_numpy().nonzero()[0]
    if len(duplicated):
        row = int(duplicated[0])
        raise ValueError(
            f"{path}: the time column {name!r} repeats {values.iloc[row]} at line {row + 2}; "
            "expected one row per time step. Aggregate or drop the repeated rows."
        )
    backwards = (values.diff() < pd.Timedelta(0) if isinstance(index, pd.DatetimeIndex)
                 else values.diff() < 0).to_numpy().nonzero()[0]
    if len(backwards):
        row = int(backwards[0])
        raise ValueError(
            f"{path}: rows are not in time order: {values.iloc[row]} at line {row + 2} comes "
            f"after {values.iloc[row - 1]}. Sort the file by {name!r}."
        )


def _check_columns(frame: pd.DataFrame, columns, path: Path, time_name) -> list:
    columns = [columns] if isinstance(columns, str) else list(columns)
    if not columns:
        raise ValueError("`columns` is empty; pass None for all columns or name at least one.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        note = f" (time column: {time_name!r})" if time_name is not None else ""
        raise ValueError(
            f"{path} has no column(s) {missing}; its columns are {_listing(frame.columns)}"
            f"{note}. Check the spelling (names are case-sensitive)."
        )
    if len(set(columns)) != len(columns):
        raise ValueError(f"a column is named twice in {columns}; name each once.")
    return columns


def _is_text(series: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series))


def _listing(columns, limit: int = 30) -> str:
    names = [str(c) for c in columns]
    more = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more
