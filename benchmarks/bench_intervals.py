"""Prediction intervals (issue 16): empirical coverage and mean width on the test parts.

    python benchmarks/bench_intervals.py --task etth1_96 --models naive,linear336,arima,gru,two_input_grow
    python benchmarks/bench_intervals.py --task exchange24 --models naive,linear336,arima,arima_conformal,gru,two_input_grow --seeds 0,1
    python benchmarks/bench_intervals.py --report     # the Markdown section of docs/benchmarks_intervals.md

Tasks: ``etth1_96`` (ETTh1 standardised with the training statistics, H = 96, fit on the
training and validation rows 0-11520, every test window 11520-14400 and step scored) and
``exchange24`` (LSTNet exchange-rate, h = 24, 60/20/20, fit on training and validation, every
window whose 24 targets lie in the test part, every step scored, original units).

Models and budgets are those of ``bench_network.py`` (its ``make``: ``gru``, ``two_input_grow``
(the searched cell), ``linear336``, ``naive``, ...; one torch thread, as there) and ARIMA as
``bench_autocell.py`` runs it (lookback 336, ``seasonal_period=1`` on exchange-rate): ``arima``
with its model-based bands (Gaussian, from the filter's h-step variances), ``arima_conformal`` with
``interval_method="conformal"``. The intervals' calibration residuals come from each model's own
source (docs/api.md, "Prediction intervals"): the recurrent models' validation part, the linear
map's last 20 % of the training part, the naive forecast's most recent windows of the fit data.
The adaptive variant (``aci_`` columns): the same fit's intervals made adaptive along the test
part (adaptive conformal inference, Gibbs and Candes 2021, step 0.005 fixed in advance;
``backtest(..., adaptive=True)``), for every model with calibration residuals (not ARIMA's
model-based bands).

One row per finished (task, model, seed) run in ``benchmarks/results/intervals_<task>.csv``
(a rerun resumes): pooled ``coverage_<level>``, ``width_<level>`` and the interval (Winkler)
``score_<level>`` for 80, 90 and 95 %, the per-series coverage and width as JSON
(``per_series``), ``cal_mae`` (mean absolute calibration residual) beside ``test_mae`` (their
ratio says how far the calibration period's errors differ from the test period's), CPU
seconds and the commit.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from common import (RESULTS, ResultLog, data_dir, etth1_standardised,  # noqa: E402
                    markdown_table, row_states)

LEVELS = (0.8, 0.9, 0.95)
TASKS = {"etth1_96": ("etth1", 96), "exchange24": ("exchange", 24)}
DETERMINISTIC = {"naive", "linear336", "linear720", "nlinear336", "nlinear720", "arima",
                 "arima_conformal"}
ORDER = ["two_input_grow", "gru", "linear336", "naive", "arima", "arima_conformal"]


def load_task(family: str):
    """The series (a DataFrame) and its protocol split (train_end, val_end, test_end)."""
    if family == "etth1":
        return etth1_standardised()
    from autoforecast.datasets import load_exchange_rate, lstnet_split

    data = load_exchange_rate(data_dir())
    return data, lstnet_split(len(data))


def make(model: str, family: str, seed: int):
    """``bench_network.make``'s models, and ARIMA as ``bench_autocell.py`` runs it."""
    if model.startswith("arima"):
        from autoforecast import ARIMAForecaster

        return ARIMAForecaster(lookback=336, n_jobs=1, interval_method=(
            "conformal" if model == "arima_conformal" else "model"),
            **({"seasonal_period": 1} if family == "exchange" else {}))
    from bench_network import make as network_make

    return network_make(model, family, seed)


def interval_scores(truth: np.ndarray, bounds: np.ndarray, names) -> dict:
    """Pooled and per-series coverage, width and interval score; ``truth`` (n, n_series),
    ``bounds`` (n, n_series, n_levels, 2)."""
    from autoforecast import metrics

    row, per_series = {}, {str(name): {} for name in names}
    for i, level in enumerate(LEVELS):
        lower, upper, tag = bounds[..., i, 0], bounds[..., i, 1], f"{round(100 * level)}"
        row[f"coverage_{tag}"] = metrics.empirical_coverage(truth, lower, upper)
        row[f"width_{tag}"] = metrics.mean_width(lower, upper)
        row[f"score_{tag}"] = metrics.interval_score(truth, lower, upper, level)
        for j, name in enumerate(names):
            per_series[str(name)][tag] = [
                round(metrics.empirical_coverage(truth[:, j], lower[:, j], upper[:, j]), 4),
                round(metrics.mean_width(lower[:, j], upper[:, j]), 4)]
    return {**row, "per_series": json.dumps(per_series)}


def measure(estimator, data: pd.DataFrame, split, horizon: int) -> dict:
    """Fit on the training and validation rows, then score the intervals of every test window
    and step (all of ``LEVELS``): plain, and adaptive (``aci_`` columns) for a model with
    calibration residuals."""
    estimator.set_params(horizon=horizon, validation_size=split.val_end - split.train_end,
                         test_size=0)
    started = time.perf_counter()
    estimator.fit(data.iloc[: split.val_end])
    fit_s = time.perf_counter() - started
    names = list(estimator.target_names_)
    residuals = getattr(estimator, "residuals_", None)
    residuals = np.zeros(0) if residuals is None else residuals
    row = {}
    for adaptive in (False, True) if residuals.size else (False,):
        table = estimator.backtest(data.iloc[: split.test_end], start=split.val_end,
                                   coverage=list(LEVELS), adaptive=adaptive)
        truth, forecast, bounds = _wide(table, names)
        scores = interval_scores(truth, bounds, names)
        row |= {f"aci_{k}": v for k, v in scores.items()} if adaptive else scores
    return {**row, "fit_s": round(fit_s, 1), "points": int(truth.size),
            "calibration_windows": len(residuals),
            "cal_mae": float(np.abs(residuals).mean()) if residuals.size else "",
            "test_mae": float(np.abs(truth - forecast).mean())}


def _wide(table: pd.DataFrame, names) -> tuple:
    """A backtest table as truth and forecast (n, n_series) and bounds (n, n_series, n_levels,
    2)."""
    wide = table.pivot_table(index=["origin", "step"], columns="target", sort=False)
    bounds = np.stack([np.stack([wide[f"{side}_{round(100 * level)}"][names].to_numpy()
                                 for side in ("lo", "hi")], axis=-1) for level in LEVELS],
                      axis=-2)
    return wide["truth"][names].to_numpy(), wide["forecast"][names].to_numpy(), bounds


def run(task: str, models: list[str], seeds: list[int], results: Path = RESULTS) -> None:
    import torch

    torch.set_num_threads(1)  # bench_network.py's budgets: one torch thread
    family, horizon = TASKS[task]
    data, split = load_task(family)
    log = ResultLog(results / f"intervals_{task}.csv", ("task", "model", "seed"))
    for seed, model in log.pending(task, models, seeds, DETERMINISTIC):
        started = time.process_time()
        scores = measure(make(model, family, seed), data, split, horizon)
        row = {"task": task, "model": model, "seed": seed, **scores,
               "cpu_s": round(time.process_time() - started, 1)}
        log.append(row)
        print({k: v for k, v in row.items() if k != "per_series"}, flush=True)


def section(results: Path = RESULTS) -> list[str]:
    """The Markdown section of docs/benchmarks_intervals.md: pooled and per-series tables."""
    lines = ["## Prediction intervals (`bench_intervals.py`, issue 16)", "",
             "Empirical coverage and mean width of the 80 / 90 / 95 % intervals on the test "
             "part, every window and step pooled (means over seeds); `aci_`: the same fit's "
             "90 % interval made adaptive along the test part (adaptive conformal inference, "
             "step 0.005); `cal/test` is the mean "
             "absolute calibration residual over the mean absolute test error (above 1: the "
             "calibration period was harder than the test period, so expect over-coverage).",
             ""]
    for task in TASKS:
        path = results / f"intervals_{task}.csv"
        if not path.exists():
            lines += [f"### {task}", "", "Not run yet.", ""]
            continue
        rows = pd.read_csv(path)
        rows["cal/test"] = pd.to_numeric(rows["cal_mae"], errors="coerce") / rows["test_mae"]
        rows["code"] = row_states(rows)  # by behaviour hash, else commit (common.row_state)
        columns = [f"{kind}_{round(100 * q)}" for q in LEVELS for kind in ("coverage", "width")]
        columns += [f"aci_{kind}_90" for kind in ("coverage", "width") if f"aci_{kind}_90" in rows]
        stats = rows.groupby("model")[columns + ["cal/test", "cpu_s"]].mean()
        stats["seeds"] = rows.groupby("model")["seed"].nunique()
        stats["code"] = rows.groupby("model")["code"].agg(lambda s: "/".join(sorted(set(s))))
        stats = stats.reindex([m for m in ORDER if m in stats.index]
                              + [m for m in stats.index if m not in ORDER])
        records = [{"model": m, **row.to_dict()} for m, row in stats.iterrows()]
        lines += [f"### {task}", "", markdown_table(records, ["model", *stats.columns]), "",
                  "Per series, coverage of the 90 % interval (first seed):", "",
                  _per_series_table(rows), ""]
    return lines


def _per_series_table(rows: pd.DataFrame) -> str:
    first = rows.sort_values("seed").drop_duplicates("model").set_index("model")
    records, series = [], None
    for model, row in first.reindex([m for m in ORDER if m in first.index]).iterrows():
        per = json.loads(row["per_series"])
        series = series or list(per)
        records.append({"model": model, **{s: float(per[s]["90"][0]) for s in series}})
    return markdown_table(records, ["model", *(series or [])])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=sorted(TASKS))
    parser.add_argument("--models", default=",".join(ORDER))
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--report", action="store_true", help="print the Markdown section")
    args = parser.parse_args()
    if args.report:
        print("\n".join(section()))
    elif args.task is None:
        parser.error("give --task (or --report)")
    else:
        run(args.task, args.models.split(","), [int(s) for s in args.seeds.split(",")])
