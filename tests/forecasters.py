"""Tiny instances of every forecaster, for the contract tests. Add each new forecaster here."""

from autoforecast.baselines import NaiveForecaster, SeasonalNaiveForecaster

# Settings small enough for sklearn's estimator checks (some use 10 rows).
TINY = dict(lookback=2, horizon=1, validation_size=0.2)


def tiny_forecasters():
    return [
        NaiveForecaster(**TINY),
        SeasonalNaiveForecaster(season=2, horizon=1, validation_size=0.2),
    ]


def small_forecasters(lookback=6, horizon=3):
    """Instances for the contract tests on a 120-row series."""
    return [
        NaiveForecaster(lookback=lookback, horizon=horizon),
        SeasonalNaiveForecaster(season=12, horizon=horizon),
    ]
