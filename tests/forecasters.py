"""Tiny instances of every forecaster, for the contract tests. Add each new forecaster here."""

from autoforecast.baselines import (ARIMAForecaster, GRUForecaster, LinearForecaster,
                                    LSTMForecaster, NaiveForecaster, SeasonalNaiveForecaster)
from autoforecast.estimators import AutoCellForecaster
from autoforecast.settings import SearchSettings

# Settings small enough for sklearn's estimator checks (some use 10 rows).
TINY = dict(lookback=2, horizon=1, validation_size=0.2)
TINY_TORCH = dict(epochs=2, batch_size=8, device="cpu", random_state=0)
TINY_SEARCH = dict(hidden_size=4, baselines=("naive",), **TINY_TORCH,
                   search=SearchSettings(max_nodes=2, grow_every=1, epochs=2, n_searches=1))


def tiny_forecasters():
    return [
        NaiveForecaster(**TINY),
        SeasonalNaiveForecaster(season=2, horizon=1, validation_size=0.2),
        LinearForecaster(**TINY),
        LSTMForecaster(hidden_size=4, **TINY, **TINY_TORCH),
        GRUForecaster(hidden_size=4, segment_length=2, normalization="revin", **TINY,
                      **TINY_TORCH),
        ARIMAForecaster(order=(1, 0, 0), **TINY),
        AutoCellForecaster(**TINY, test_size=0.2, **TINY_SEARCH),
    ]


def small_forecasters(lookback=6, horizon=3):
    """Instances for the contract tests on a 120-row series."""
    return [
        NaiveForecaster(lookback=lookback, horizon=horizon),
        SeasonalNaiveForecaster(season=12, horizon=horizon),
        LinearForecaster(lookback=lookback, horizon=horizon),
        LSTMForecaster(lookback=lookback, horizon=horizon, hidden_size=8, validation_size=0.2,
                       **TINY_TORCH),
        GRUForecaster(lookback=lookback, horizon=horizon, hidden_size=8, validation_size=0.2,
                      segment_length=4, linear_skip=True, **TINY_TORCH),
        ARIMAForecaster(lookback=20, horizon=horizon, max_p=1, max_d=1, max_q=1),
        AutoCellForecaster(lookback=lookback, horizon=horizon, **TINY_SEARCH),
    ]
