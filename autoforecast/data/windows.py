"""Lazy sliding windows over one series, by index arithmetic on strided views.

No ``(n_windows, lookback, n_features)`` array is ever built: ``Tensor.unfold`` gives views of
the series, and only one batch of windows is gathered (copied) at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch


class Windows:
    """Input/target windows at the given origins of a series.

    An origin ``t`` pairs the inputs ``series[t - lookback : t]`` with the targets
    ``series[t : t + horizon, targets]``. Batches are ``x: (batch, lookback, n_features)`` and
    ``y: (batch, horizon, n_targets)``; with ``horizon=0`` only inputs are produced. With
    ``ahead > 0`` the inputs also hold the ``ahead`` rows after the origin, ``series[t - lookback
    : t + ahead]`` (the known-future covariates' values; a network reads those columns alone).
    """

    def __init__(self, series, origins, lookback: int, horizon: int, targets=None,
                 dtype=torch.float32, ahead: int = 0):
        self.series = torch.as_tensor(series, dtype=dtype)  # (n_rows, n_features)
        self.origins = np.asarray(origins, dtype=np.int64)
        self.lookback, self.horizon, self.ahead = int(lookback), int(horizon), int(ahead)
        n_features = self.series.shape[1]
        self.targets = np.arange(n_features) if targets is None else np.asarray(targets)
        after = max(self.horizon, self.ahead)
        if len(self.origins) and (self.origins.min() < self.lookback
                                  or self.origins.max() + after > len(self.series)):
            raise ValueError(
                f"window origins must lie in [{self.lookback}, {len(self.series) - after}] "
                f"for lookback={self.lookback}, horizon={self.horizon}"
                + (f", {self.ahead} known-future rows" if self.ahead else "")
                + f" and {len(self.series)} rows; got [{self.origins.min()}, "
                f"{self.origins.max()}]."
            )
        # Views, no copies: (n_rows - lookback + 1, n_features, lookback) and likewise for targets.
        self._inputs = self.series.unfold(0, self.lookback + self.ahead, 1)
        self._outputs = self.series.unfold(0, self.horizon, 1) if self.horizon else None

    def __getstate__(self):  # pickle the series once, not the strided views of it
        state = dict(self.__dict__)
        del state["_inputs"], state["_outputs"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.ahead = state.get("ahead", 0)
        self._inputs = self.series.unfold(0, self.lookback + self.ahead, 1)
        self._outputs = self.series.unfold(0, self.horizon, 1) if self.horizon else None

    def __len__(self) -> int:
        return len(self.origins)

    def inputs(self, idx: np.ndarray) -> torch.Tensor:
        """Input windows for positions ``idx`` of ``origins``: (batch, lookback + ahead,
        n_features)."""
        starts = torch.from_numpy(self.origins[idx] - self.lookback)
        return self._inputs[starts].transpose(1, 2)

    def targets_at(self, idx: np.ndarray) -> torch.Tensor:
        """Target windows for positions ``idx``: (batch, horizon, n_targets)."""
        rows = self._outputs[torch.from_numpy(self.origins[idx])]  # (batch, n_features, horizon)
        return rows[:, torch.from_numpy(self.targets)].transpose(1, 2)

    def batches(self, batch_size: int, shuffle: bool = False,
                generator: np.random.Generator | None = None, min_size: int = 1) -> Iterator[tuple]:
        """One pass over all windows: ``(x, y)`` pairs (``x`` alone when ``horizon == 0``).

        A last batch smaller than ``min_size`` joins the one before it (batch normalisation
        in training mode needs at least 2 windows a batch).
        """
        order = np.arange(len(self))
        if shuffle:
            if generator is None:
                raise ValueError("shuffle=True needs a numpy Generator for reproducibility.")
            order = generator.permutation(order)
        starts = list(range(0, len(order), batch_size))
        if len(starts) > 1 and len(order) - starts[-1] < min_size:
            starts.pop()
        for i, start in enumerate(starts):
            stop = starts[i + 1] if i + 1 < len(starts) else len(order)
            idx = order[start:stop]
            if self.horizon:
                yield self.inputs(idx), self.targets_at(idx)
            else:
                yield self.inputs(idx)


def future_values(values: np.ndarray, origins, horizon: int, columns) -> np.ndarray:
    """``values[t : t + horizon, columns]`` for every origin ``t``: (n_origins, horizon, n_columns),
    e.g. the observed targets a forecast from each origin is scored against."""
    origins = np.asarray(origins, dtype=np.int64)
    if len(origins) and (origins.min() < 0 or origins.max() + horizon > len(values)):
        raise ValueError(f"origins must lie in [0, {len(values) - horizon}] for horizon={horizon} "
                         f"and {len(values)} rows; got [{origins.min()}, {origins.max()}].")
    rows = origins[:, None] + np.arange(horizon)  # (n_origins, horizon)
    return values[rows][:, :, np.asarray(columns)]


class EpochBatches:
    """A picklable zero-argument callable: each call is one epoch of ``(x, y)`` batches.

    With ``shuffle``, the order comes from its own numpy generator seeded with ``seed``, which
    advances from epoch to epoch; a copy sent to another process replays the same epochs.
    """

    def __init__(self, windows: Windows, batch_size: int, shuffle: bool = False, seed: int = 0,
                 min_size: int = 1):
        self.windows, self.batch_size, self.shuffle = windows, batch_size, shuffle
        self.generator = np.random.default_rng(seed)
        self.min_size = min_size

    def __call__(self):
        return self.windows.batches(self.batch_size, self.shuffle, self.generator, self.min_size)
