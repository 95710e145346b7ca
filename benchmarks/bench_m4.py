"""M4 Hourly (414 series, horizon 48) under the organisers' protocol (issue 23).

    python benchmarks/bench_m4.py --models naive2,snaive
    python benchmarks/bench_m4.py --models arima --limit 10 --n-jobs 2   # rows "arima_first10"
    python benchmarks/bench_m4.py --models autocell,gru --seeds 0,1 --threads 2
    python benchmarks/bench_m4.py --models gru --limit 20 --max-time 120  # "gru_first20@max120"

Protocol (``../shared/data/README.md``, "M4 Hourly"; the organisers' ``Benchmarks and
Evaluation.R`` in ``Mcompetitions/M4-methods``): fit on each series of ``Hourly-train.csv``,
forecast the next 48 values, score them against ``Hourly-test.csv``. sMAPE (percent) is the mean
of ``200 |y - f| / (|y| + |f|)`` over every step of every series; MASE divides each series'
absolute errors by the in-sample mean of ``|y_t - y_{t-24}|`` of its training values and
averages over steps and series; OWA is ``(sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2) / 2`` from
those means (``autoforecast.metrics.owa``), Naive2 scored on the same series.

Models (one row each per seed in ``benchmarks/results/m4_hourly.csv``; a rerun resumes):

- ``naive2``: the organisers' Naive2. A series of at least 3 x 24 values whose lag-24
  autocorrelation passes their 90 % test (:func:`seasonality_test`) is divided by the indices
  of a classical multiplicative decomposition (:func:`seasonal_indices`, as R's
  ``decompose``); its last adjusted value is repeated and multiplied by the last 24 indices.
  Otherwise the last value. ``snaive``: the last 24 values repeated. Both deterministic
  (seed 0), computed here, not by library estimators.
- ``arima``: ``ARIMAForecaster`` per series, ``seasonal_period=24`` (auto order), the series
  fitted in parallel through joblib (``--n-jobs``; each fit one process).
- ``autocell``, ``gru``, ``lstm``: one global fit of all series in long format (``unique_id``,
  ``ds`` counting each series' steps from 0, ``y``; :func:`long_frame`), the estimator's
  defaults except 48 steps ahead, no test part, no baselines and validation on the last 48
  steps of each series (``validation_size=48``: rows of each series; issue 23's recipe,
  :func:`make`). Integer times give no frequency, so the period is set: ``segment_length=24``
  (what "auto" gives hourly timestamps), and the lookback is ``LOOKBACK`` = 336 steps (two
  weeks, 14 segments) for every model and subset: "auto" takes the median series length,
  which makes it 432 on all 414 series but 288 on the first 20 (all 700 long). Every series
  allows 336: the shortest has 700 values, 652 after its validation part, and a window needs
  336 + 48. ``nlinear``: ``LinearForecaster(normalization="last")`` (NLinear) on the same
  lookback, its other defaults (no validation part: the closed-form map is fitted on every
  value; deterministic, seed 0).

``--limit N`` scores the first N series only, under the label ``<model>_first<N>`` (a trial,
not a table row); OWA is then against Naive2 on the same N series. ``--max-time S`` caps each
global fit at S seconds (``max_time``), under the label ``<model>@max<S>`` (a trial too).
``fit_s`` is the wall time of fitting and forecasting all series; ``s_per_series`` that over
the number of series; ``threads`` torch's threads for a global model (``--threads``, default
1), ``n_jobs`` the joblib workers of arima.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from common import RESULTS, ResultLog, data_dir  # noqa: E402

from autoforecast import metrics  # noqa: E402

HORIZON, PERIOD = 48, 24
RESULTS_FILE = RESULTS / "m4_hourly.csv"
# The organisers' evaluation file on the hourly subset (../shared/data/README.md, "M4
# Hourly"): (entry, sMAPE, MASE, OWA); report.py's M4 page prints it
M4_PUBLISHED = [("best hourly entry (Doornik)", 8.913, 0.801, 0.410),
                ("winner (Smyl's ES-RNN)", 9.328, 0.893, 0.440),
                ("runner-up (FFORMA)", 11.506, 0.819, 0.484),
                ("seasonal naive", 13.912, 1.193, 0.627),
                ("best pure machine-learning entry", 14.006, 1.213, 0.634),
                ("MLP benchmark", 13.842, 2.607, 0.921),
                ("Naive2", 18.383, 2.395, 1.000),
                ("Theta", 18.138, 2.455, 1.006),
                ("RNN benchmark", 14.698, 3.048, 1.036)]
# the benchmarks this script computes itself, to check against the organisers' rows
PUBLISHED = {model: next(row[1:] for row in M4_PUBLISHED if row[0] == entry)
             for model, entry in (("naive2", "Naive2"), ("snaive", "seasonal naive"))}
DETERMINISTIC = {"naive2", "snaive", "nlinear"}  # one row, seed 0
GLOBAL = ("autocell", "gru", "lstm", "nlinear")  # one fit of every series: long format
LOOKBACK = 336  # steps: every series allows it (700 - 48 >= 336 + 48), whatever the subset


# --------------------------------------------------------------------------------- data
def load_m4(directory=None, subset: str = "Hourly") -> tuple[list[str], list[np.ndarray],
                                                              np.ndarray]:
    """The ids, the training series (1-D arrays of their own lengths) and the test values
    ``(n_series, horizon)`` of an M4 subset. The files are wide: a header row (``V1``, ...),
    then per series its id and values, right-padded with empty cells."""
    directory = Path(directory) if directory is not None else data_dir() / "m4"
    train = pd.read_csv(directory / f"{subset}-train.csv", index_col=0)
    test = pd.read_csv(directory / f"{subset}-test.csv", index_col=0)
    if list(train.index) != list(test.index):
        raise ValueError(f"{subset}: the train and test files list different series.")
    series = []
    for name, row in zip(train.index, train.to_numpy(dtype=np.float64)):
        length = int(np.sum(~np.isnan(row)))
        if np.isnan(row[:length]).any():
            raise ValueError(f"{subset} series {name} has an empty cell inside its values.")
        series.append(row[:length])
    truth = test.to_numpy(dtype=np.float64)
    if np.isnan(truth).any():
        raise ValueError(f"{subset}: the test file has empty cells.")
    return list(train.index), series, truth


# -------------------------------------------------------------------- organisers' benchmarks
def acf(x, nlags: int) -> np.ndarray:
    """Sample autocorrelations at lags 0..nlags as R's ``acf``: deviations from the mean,
    every lag's sum divided by the same ``n * variance``."""
    x = np.asarray(x, dtype=np.float64)
    dev = x - x.mean()
    denominator = np.dot(dev, dev)
    return np.array([np.dot(dev[: len(x) - k], dev[k:]) / denominator for k in range(nlags + 1)])


def seasonality_test(x, m: int, tcrit: float = 1.645) -> bool:
    """The M4 organisers' 90 % test: seasonal when ``len(x) >= 3 m`` and
    ``|r_m| > tcrit / sqrt(n) * sqrt(1 + 2 sum_{k<m} r_k^2)``."""
    n = len(x)
    if m <= 1 or n < 3 * m:
        return False
    r = acf(x, m)
    limit = tcrit / np.sqrt(n) * np.sqrt(1.0 + 2.0 * np.sum(r[1:m] ** 2))
    return bool(abs(r[m]) > limit)


def seasonal_indices(x, m: int) -> np.ndarray:
    """The seasonal component of a classical multiplicative decomposition, as R's
    ``decompose(type="multiplicative")``, one value per point of ``x``.

    The trend is the centred moving average (for even ``m``: weights 1/2, 1, ..., 1, 1/2 over
    ``m + 1`` points, divided by ``m``), undefined at the ends; each position in the cycle
    (counted from the first point) gets the mean of ``x / trend`` at that position, and the
    ``m`` figures are divided by their mean."""
    x = np.asarray(x, dtype=np.float64)
    weights = (np.r_[0.5, np.ones(m - 1), 0.5] if m % 2 == 0 else np.ones(m)) / m
    half = len(weights) // 2
    trend = np.full(len(x), np.nan)
    trend[half: len(x) - half] = np.convolve(x, weights, mode="valid")
    ratio = x / trend
    figure = np.array([np.nanmean(ratio[i::m]) for i in range(m)])
    figure /= figure.mean()
    return np.resize(figure, len(x))


def naive2(x, horizon: int = HORIZON, m: int = PERIOD) -> np.ndarray:
    """The organisers' Naive2: the last seasonally adjusted value, re-seasonalised by the last
    ``m`` indices when :func:`seasonality_test` says seasonal, else the last value."""
    x = np.asarray(x, dtype=np.float64)
    if not seasonality_test(x, m):
        return np.full(horizon, x[-1])
    season = seasonal_indices(x, m)
    return (x[-1] / season[-1]) * np.resize(season[-m:], horizon)


def seasonal_naive(x, horizon: int = HORIZON, m: int = PERIOD) -> np.ndarray:
    """The last ``m`` values, repeated over the horizon."""
    return np.resize(np.asarray(x, dtype=np.float64)[-m:], horizon)


# ---------------------------------------------------------------------------------- scores
def m4_scores(train: list[np.ndarray], truth: np.ndarray, forecast: np.ndarray,
              m: int = PERIOD) -> dict:
    """sMAPE (percent) and MASE (lag ``m``) of ``forecast`` ``(n_series, horizon)``, each the
    mean over every step of every series, the MASE of each series scaled by its own training
    values (which have different lengths)."""
    forecast = np.asarray(forecast, dtype=np.float64)
    if forecast.shape != truth.shape:
        raise ValueError(f"forecasts of shape {forecast.shape}, the test values {truth.shape}.")
    mase = np.mean([metrics.mase(y, f, x, m=m) for x, y, f in zip(train, truth, forecast)])
    return {"smape": metrics.smape(truth, forecast), "mase": float(mase)}


def with_owa(scores: dict, reference: dict) -> dict:
    """``scores`` with ``owa`` against ``reference`` (Naive2's scores on the same series)."""
    return {**scores, "owa": metrics.owa(scores["smape"], scores["mase"], reference["smape"],
                                         reference["mase"])}


# ---------------------------------------------------------------------------------- models
def _arima_one(x: np.ndarray) -> np.ndarray:
    from autoforecast import ARIMAForecaster

    model = ARIMAForecaster(horizon=HORIZON, seasonal_period=PERIOD, n_jobs=1)
    return np.asarray(model.fit(x.reshape(-1, 1)).predict())[:, 0]


def arima_forecasts(train: list[np.ndarray], n_jobs: int) -> np.ndarray:
    """``ARIMAForecaster`` fitted on each series alone, the series in parallel (joblib)."""
    from joblib import Parallel, delayed

    return np.stack(Parallel(n_jobs=n_jobs)(delayed(_arima_one)(x) for x in train))


def make(model: str, seed: int, max_time: float | None = None):
    """The estimator of a global model, issue 23's recipe: defaults except 48 steps ahead, no
    test part, no baselines, validation on the last 48 steps of each series; the lookback
    ``LOOKBACK`` and the period 24 (integer times have none). ``max_time`` for trials."""
    from autoforecast import (AutoCellForecaster, GRUForecaster, LinearForecaster,
                              LSTMForecaster)

    if model == "nlinear":
        return LinearForecaster(lookback=LOOKBACK, horizon=HORIZON, normalization="last")
    recurrent = dict(lookback=LOOKBACK, horizon=HORIZON, segment_length=PERIOD,
                     validation_size=HORIZON, test_size=0, max_time=max_time,
                     random_state=seed)
    if model == "autocell":
        return AutoCellForecaster(baselines=(), **recurrent)
    return {"gru": GRUForecaster, "lstm": LSTMForecaster}[model](**recurrent)


def long_frame(ids: list[str], train: list[np.ndarray]) -> pd.DataFrame:
    """The training series in long format; ``ds`` counts the steps of each series (M4 has no
    dates)."""
    return pd.DataFrame({"unique_id": np.repeat(ids, [len(x) for x in train]),
                         "ds": np.concatenate([np.arange(len(x)) for x in train]),
                         "y": np.concatenate(train)})


def wide_forecasts(table: pd.DataFrame, ids: list[str], horizon: int = HORIZON) -> np.ndarray:
    """``predict()``'s long frame as ``(n_series, horizon)`` in the order of ``ids``. Each
    series' times continue its own (700... for one of 700 values, 960... for 960), so the rows
    are taken by position within each series, after a check that every series has its
    ``horizon`` consecutive steps."""
    table = table.sort_values(["unique_id", "ds"])
    counts = table.groupby("unique_id").size().reindex(ids)
    if counts.isna().any() or (counts != horizon).any():
        missing = [i for i, n in counts.items() if n != horizon]
        raise ValueError(f"{len(missing)} series without {horizon} forecasts, e.g. {missing[:5]}")
    if (table.groupby("unique_id").ds.diff().dropna() != 1).any():
        raise ValueError("the forecasts' times are not consecutive steps.")
    values = table.set_index("unique_id").y
    return np.stack([values.loc[i].to_numpy(dtype=np.float64) for i in ids])


def global_forecasts(model: str, seed: int, ids: list[str], train: list[np.ndarray],
                     threads: int = 1, max_time: float | None = None) -> np.ndarray:
    """Fit ``model`` on every series at once and forecast 48 steps of each (n_series, 48)."""
    import torch

    torch.set_num_threads(threads)
    estimator = make(model, seed, max_time).fit(long_frame(ids, train))
    return wide_forecasts(estimator.predict(), ids)  # predict: long, unique_id, ds, y


def forecasts(model: str, seed: int, ids, train, n_jobs: int, threads: int = 1,
              max_time: float | None = None) -> np.ndarray:
    if model == "naive2":
        return np.stack([naive2(x) for x in train])
    if model == "snaive":
        return np.stack([seasonal_naive(x) for x in train])
    if model == "arima":
        return arima_forecasts(train, n_jobs)
    return global_forecasts(model, seed, ids, train, threads, max_time)


# ------------------------------------------------------------------------------------- run
def label_of(model: str, limit: int | None = None, max_time: float | None = None) -> str:
    """The row's label: the model, ``_first<N>`` for a subset, ``@max<S>`` for a global fit
    capped at S seconds (both trials, not table rows)."""
    capped = max_time is not None and model in GLOBAL
    return (model + (f"_first{limit}" if limit is not None else "")
            + (f"@max{max_time:g}" if capped else ""))


def run(models: list[str], seeds: list[int], limit: int | None, n_jobs: int,
        path: Path = RESULTS_FILE, threads: int = 1, max_time: float | None = None) -> None:
    ids, train, truth = load_m4()
    if limit is not None:
        ids, train, truth = ids[:limit], train[:limit], truth[:limit]
    reference = m4_scores(train, truth, forecasts("naive2", 0, ids, train, n_jobs))
    log = ResultLog(path, ("task", "model", "seed"))
    model_of = {label_of(model, limit, max_time): model for model in models}
    deterministic = {label for label, model in model_of.items() if model in DETERMINISTIC}
    for seed, label in log.pending("hourly", list(model_of), seeds, deterministic):
        model = model_of[label]
        seed = 0 if model in DETERMINISTIC else seed
        started = time.perf_counter()
        forecast = forecasts(model, seed, ids, train, n_jobs, threads, max_time)
        fit_s = time.perf_counter() - started
        scores = with_owa(m4_scores(train, truth, forecast), reference)
        row = {"task": "hourly", "model": label, "seed": seed,
               **{k: round(v, 6) for k, v in scores.items()},
               "fit_s": round(fit_s, 1), "n_series": len(ids),
               "s_per_series": round(fit_s / len(ids), 3),
               "n_jobs": n_jobs if model == "arima" else "",
               "threads": threads if model in GLOBAL else ""}
        log.append(row)
        published = PUBLISHED.get(model) if limit is None else None
        print(row, f"published {published}" if published else "", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    choices = ["naive2", "snaive", "arima", *GLOBAL]
    parser.add_argument("--models", required=True,
                        help=f"comma-separated, of {', '.join(choices)}")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--limit", type=int, default=None,
                        help="the first N series only (rows labelled <model>_first<N>)")
    parser.add_argument("--n-jobs", type=int, default=2, help="joblib workers for arima")
    parser.add_argument("--threads", type=int, default=1, help="torch threads, global models")
    parser.add_argument("--max-time", type=float, default=None,
                        help="seconds a global fit may take (rows labelled <model>@max<S>)")
    args = parser.parse_args()
    chosen = args.models.split(",")
    unknown = sorted(set(chosen) - set(choices))
    if unknown:
        parser.error(f"unknown model(s) {unknown}; choose from {choices}")
    run(chosen, [int(s) for s in args.seeds.split(",")], args.limit, args.n_jobs,
        threads=args.threads, max_time=args.max_time)
