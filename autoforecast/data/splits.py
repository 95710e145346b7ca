"""Chronological train / validation / test splits of one series.

A part is the set of rows whose values are forecast targets; the input windows of a part may
reach back into the part before it (as in the ETT long-horizon protocol), so the validation and
test parts need only ``horizon`` rows each, and the training part ``lookback + horizon``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from .errors import NotEnoughDataError

MAX_RESIDUAL_WINDOWS = 5000  # the most recent calibration windows a model keeps


@dataclass(frozen=True)
class Split:
    n_rows: int
    train_end: int  # rows [0, train_end) are the training part
    val_end: int  # rows [train_end, val_end) validation, [val_end, n_rows) test

    @property
    def n_val(self) -> int:
        return self.val_end - self.train_end

    @property
    def n_test(self) -> int:
        return self.n_rows - self.val_end

    def origins(self, part: str, lookback: int, horizon: int) -> np.ndarray:
        """Window origins whose ``horizon`` targets all lie in ``part``.

        An origin ``t`` means: inputs are rows ``[t - lookback, t)``, targets ``[t, t + horizon)``.
        ``part`` is "train", "val", "test", "fit" (the training and validation parts) or
        "all" (every origin).
        """
        start, stop = {
            "train": (lookback, self.train_end),
            "val": (self.train_end, self.val_end),
            "test": (self.val_end, self.n_rows),
            "fit": (lookback, self.val_end),
            "all": (lookback, self.n_rows),
        }[part]
        start = max(start, lookback)
        return np.arange(start, stop - horizon + 1, dtype=np.int64)

    def recent_origins(self, part: str, lookback: int, horizon: int) -> np.ndarray:
        """The part's most recent origins, as many as a model keeps residuals of."""
        return self.origins(part, lookback, horizon)[-MAX_RESIDUAL_WINDOWS:]

    def calibration(self, size) -> Split:
        """The training part alone, its last ``size`` rows (an int, or a fraction of the
        training part) as its validation part."""
        n_cal = n_rows_of(size, self.train_end, "calibration_size")
        return Split(n_rows=self.train_end, train_end=self.train_end - n_cal, val_end=self.train_end)


@dataclass(frozen=True)
class PanelSplit:
    """The splits of many series stored one after the other (series ``i`` in rows
    ``starts[i]:starts[i + 1]``, its own :class:`Split` ``splits[i]``): every part is the last
    steps of each series, not one date cut across them. Same interface as :class:`Split`;
    origins are positions in the stacked rows."""

    starts: tuple
    splits: tuple

    @property
    def n_rows(self) -> int:
        return int(self.starts[-1])

    @property
    def n_val(self) -> int:
        return sum(s.n_val for s in self.splits)

    @property
    def n_test(self) -> int:
        return sum(s.n_test for s in self.splits)

    def origins(self, part: str, lookback: int, horizon: int) -> np.ndarray:
        parts = [s.origins(part, lookback, horizon) + start
                 for s, start in zip(self.splits, self.starts)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def recent_origins(self, part: str, lookback: int, horizon: int) -> np.ndarray:
        """The part's origins, at most as many as a model keeps residuals of: evenly spread
        over the series (the latest of each series first kept), not the last series alone."""
        origins = self.origins(part, lookback, horizon)
        if len(origins) <= MAX_RESIDUAL_WINDOWS:
            return origins
        keep = np.linspace(len(origins) - 1, 0, MAX_RESIDUAL_WINDOWS).round().astype(np.int64)
        return np.sort(origins[np.unique(keep)])

    def calibration(self, size) -> PanelSplit:
        return PanelSplit(self.starts, tuple(s.calibration(size) for s in self.splits))


def n_rows_of(size, n: int, name: str) -> int:
    """A part's size in rows: ``size`` rows (an int) or a fraction of ``n`` (a float in [0, 1))."""
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        if size < 0:
            raise ValueError(f"`{name}` must be >= 0, got {size}.")
        return int(size)
    if isinstance(size, numbers.Real) and not isinstance(size, bool):
        if not 0.0 <= size < 1.0:
            raise ValueError(
                f"`{name}` as a fraction must be in [0, 1), got {size}; "
                "pass an int for a number of rows."
            )
        return int(round(size * n))
    raise TypeError(f"`{name}` must be an int (rows) or a float (fraction), got {size!r}.")


def resolve_split(n: int, lookback: int, horizon: int, validation_size, test_size) -> Split:
    """Turn sizes (rows or fractions) into row boundaries, or explain why the data is too short."""
    n_val = n_rows_of(validation_size, n, "validation_size")
    n_test = n_rows_of(test_size, n, "test_size")
    n_train = n - n_val - n_test
    short = [
        f"{name}={size} gives {rows} rows, fewer than horizon={horizon}"
        for name, size, rows in (("validation_size", validation_size, n_val),
                                 ("test_size", test_size, n_test))
        if 0 < rows < horizon
    ]
    need = lookback + horizon
    if n_train < need or short:
        reasons = "; ".join(short + ([f"the training part has {n_train} rows, fewer than "
                                      f"lookback + horizon = {need}"] if n_train < need else []))
        raise NotEnoughDataError(
            f"X has {n} sample(s) (rows), too few for lookback={lookback}, horizon={horizon}, "
            f"validation_size={validation_size!r}, test_size={test_size!r}: {reasons}. "
            "Pass a longer series, or reduce lookback, horizon or the split sizes."
        )
    return Split(n_rows=n, train_end=n_train, val_end=n_train + n_val)
