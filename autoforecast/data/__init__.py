"""The data layer: validation, chronological splits, scaling, lazy windows, time indexes."""

from .errors import MissingValuesError, NotEnoughDataError
from .scaling import SeriesScaler
from .splits import Split, resolve_split
from .timeindex import future_index
from .validation import SeriesData, check_series, resolve_target
from .windows import Windows

__all__ = [
    "MissingValuesError",
    "NotEnoughDataError",
    "SeriesData",
    "SeriesScaler",
    "Split",
    "Windows",
    "check_series",
    "future_index",
    "resolve_split",
    "resolve_target",
]
