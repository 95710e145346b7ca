"""The data layer: validation, chronological splits, scaling, lazy windows, time indexes."""

from .csv import is_long_csv, read_long_csv, read_series_csv, write_frame_csv
from .errors import InputWarning, MissingValuesError, NotEnoughDataError
from .scaling import SeriesScaler
from .splits import Split, resolve_split
from .timeindex import future_index
from .validation import SeriesData, check_series, resolve_target
from .windows import EpochBatches, Windows, future_values

__all__ = [
    "InputWarning",
    "MissingValuesError",
    "NotEnoughDataError",
    "SeriesData",
    "SeriesScaler",
    "Split",
    "EpochBatches",
    "Windows",
    "check_series",
    "future_index",
    "future_values",
    "is_long_csv",
    "read_long_csv",
    "read_series_csv",
    "resolve_split",
    "resolve_target",
    "write_frame_csv",
]
