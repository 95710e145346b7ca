"""Exception types of the data layer; all are ValueErrors, so callers can catch either."""


class NotEnoughDataError(ValueError):
    """The series has too few rows for the lookback, the horizon and the splits asked for."""


class MissingValuesError(ValueError):
    """The series holds missing values (NaN) and the missing-value policy is ``"raise"``."""


class InputWarning(UserWarning):
    """Something about the input or a requested output the user should know: the work went on
    without it (an interval level with too few calibration residuals, ...)."""
