"""Collect the benchmark results into docs/benchmarks.md and docs/benchmarks_autocell.png.

    python benchmarks/report.py

Reads benchmarks/results/network_*.csv (bench_network.py), intervals_*.csv (bench_intervals.py),
autocell_*.csv (bench_autocell.py) and baselines.csv (bench_baselines.py); the figures in the
tables are means and standard deviations over the
seeds that finished, with the number of seeds shown. Nothing here runs a model.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from bench_intervals import section as interval_section  # noqa: E402
from common import RESULTS, ROOT, code_state, markdown_table  # noqa: E402

METRIC = {"exchange3": ("rse", "lower"), "exchange24": ("rse", "lower"),
          "etth1_96": ("mse", "lower"), "etth1_336": ("mse", "lower"),
          "appliances": ("rmse", "lower")}
ORDER = ["two_input_grow", "darts_fixed", "random", "lstm", "arima", "linear", "naive"]


def load() -> pd.DataFrame:
    frames = [pd.read_csv(p) for p in sorted(RESULTS.glob("autocell_*.csv"))]
    if not frames:
        return pd.DataFrame()
    # a run repeated by accident (two processes on one task) counts once: the first row
    return pd.concat(frames, ignore_index=True).drop_duplicates(["task", "model", "seed"])


def task_table(rows: pd.DataFrame, task: str) -> pd.DataFrame:
    metric, _ = METRIC[task]
    others = [m for m in ("corr", "mae") if rows[m].notna().any()]
    commits = rows["commit"] if "commit" in rows else pd.Series("", index=rows.index)
    rows = rows.assign(code=commits.fillna("").astype(str).map(code_state))
    stats = rows.groupby("model").agg(
        seeds=("seed", "nunique"), **{metric: (metric, "mean"), f"{metric}_std": (metric, "std")},
        **{m: (m, "mean") for m in others}, fit_s=("fit_s", "mean"),
        code=("code", lambda states: "/".join(sorted(set(states)))))
    return stats.reindex([m for m in ORDER if m in stats.index])


def wins(rows: pd.DataFrame, task: str, model: str, against: str) -> str:
    """Seeds where ``model`` has a lower error than ``against`` (same seed, or its only run)."""
    metric, _ = METRIC[task]
    mine = rows[rows.model == model].set_index("seed")[metric]
    theirs = rows[rows.model == against].set_index("seed")[metric]
    if theirs.empty or mine.empty:
        return "-"
    if against in ("naive", "linear", "arima"):  # deterministic: one run, compared with every seed
        paired = [(v, theirs.iloc[0]) for v in mine]
    else:
        paired = [(v, theirs[s]) for s, v in mine.items() if s in theirs.index]
    return f"{sum(a < b for a, b in paired)}/{len(paired)}"


NETWORK_ORDER = ["two_input_grow", "two_input_grow_nocov", "darts", "random", "gru", "gru_nocov",
                 "lstm", "gru_gate", "nlinear336", "nlinear720", "linear336", "linear720", "naive"]
NETWORK_METRIC = {"etth1": "mse", "exchange": "rse", "appliances": "rse", "beijing": "rse"}
NETWORK_TARGETS = {  # in the order of the page
    "etth1_96": "the searched cell's mean MSE below the best linear row (plain, normalised, or "
                "the highway alone) by more than the spread across seeds, approaching SegRNN's "
                "0.351 (Lin et al. 2023, lookback 720)",
    "etth1_336": "as at H = 96; SegRNN 0.423",
    "exchange3": "no worse than the last value (RSE 0.0171)",
    "exchange24": "no worse than the last value (RSE 0.0434)",
    "appliances": "none stated; the last value and the linear maps are the rows to beat (RSE on "
                  "the original scale; `_nocov`: each target alone, without the other columns)",
    "beijing": "as for appliances (only observed pm2.5 values are scored)",
    "etth1_192": "none stated (tier 3, one seed); the normalised linear map is the floor",
    "etth1_720": "none stated (tier 3, one seed); the normalised linear map is the floor",
}


def network_sections() -> list[str]:
    """The tables of ``bench_network.py`` (issue 13): one per task, with its target."""
    order = [f"network_{task}.csv" for task in NETWORK_TARGETS]
    paths = sorted(RESULTS.glob("network_*.csv"),
                   key=lambda p: (order.index(p.name) if p.name in order else len(order), p.name))
    lines = ["## Recurrent cells in the forecasting network (`bench_network.py`)", "",
             "Budgets are those stated in `benchmarks/bench_network.py` (lookback 720 on ETTh1, "
             "segments of 24, GRU hidden 64 and the cells at its parameter count, at most 10 "
             "epochs with patience 3, Adam 6e-3, one torch thread; `@lr=0.002`: the same at "
             "2e-3). Mean over seeds (std beside it), the "
             "fit's CPU seconds, the parameter count and the epochs chosen (`best_epoch` -1: "
             "the untrained network, i.e. about the last value or the highway, was kept). "
             "`nlinear720` is also the highway alone (a network's highway starts at that map).",
             ""]
    if not paths:
        return lines + ["Not run yet.", ""]
    for path in paths:
        rows = pd.read_csv(path)
        task = rows.task.iloc[0]
        metric = NETWORK_METRIC[task.rstrip("0123456789").rstrip("_")]
        rows = rows.assign(code=rows.get("commit", pd.Series("", index=rows.index))
                           .fillna("").astype(str).map(code_state))
        stats = rows.groupby("model").agg(
            seeds=("seed", "nunique"), **{metric: (metric, "mean"),
                                          f"{metric}_std": (metric, "std")},
            cpu_s=("cpu_s", "mean"), parameters=("parameters", "first"),
            best_epochs=("best_epoch", lambda v: " ".join(str(int(x)) for x in v.dropna())),
            code=("code", lambda states: "/".join(sorted(set(states)))))
        stats = stats.reindex([m for m in NETWORK_ORDER if m in stats.index]
                              + sorted(m for m in stats.index if m not in NETWORK_ORDER))
        records = [{"model": m, **{k: _fmt(v) for k, v in row.items()}}
                   for m, row in stats.iterrows()]
        lines += [f"### {task}", "", f"Target: {NETWORK_TARGETS.get(task, '-')}.", "",
                  markdown_table(records, ["model", *stats.columns]), ""]
        versus = [m for m in ("gru", "random") if m in stats.index]
        if "two_input_grow" in stats.index and versus:
            lines += ["Seeds on which the searched cell has the lower error: " + ", ".join(
                f"vs {m} {_paired_wins(rows, metric, 'two_input_grow', m)}" for m in versus), ""]
    return lines


def _paired_wins(rows, metric: str, model: str, against: str) -> str:
    mine = rows[rows.model == model].set_index("seed")[metric]
    theirs = rows[rows.model == against].set_index("seed")[metric]
    paired = [(v, theirs[s]) for s, v in mine.items() if s in theirs.index]
    return f"{sum(a < b for a, b in paired)}/{len(paired)}" if paired else "-"


def main() -> None:
    results = load()
    lines = ["# Benchmarks", "",
             "Every figure here comes from a script in `benchmarks/`; the raw rows are in "
             "`benchmarks/results/`. Regenerate this page with `python benchmarks/report.py`.",
             "", "The column `code` says whether each row was measured on the package as it is "
             "now (`current`), on code that has changed since (`older`: rerun it), or before "
             "rows recorded their commit (`unknown`). Rows current before commit f6446ce read "
             "`older` because of it alone: it capped the language model's LSTM baseline at the "
             "cell's tokens and gave the training loop a `max_items` option that no forecaster "
             "passes; `tests/test_pinned.py` pins the forecasters' fitted values (to 1e-6 "
             "relative) and passes after it, so those rows were not rerun.", "",
             *network_sections(), _static_sections("benchmarks_network.md"),
             *interval_section(), _static_sections("benchmarks_intervals.md"),
             "## 0.1: the searched cell in the per-time-step network (`bench_autocell.py`)", "",
             "These rows were measured with the network that 0.2 replaced (the cell read the "
             "whole multivariate window one time step at a time, a linear head on its last "
             "state); `bench_autocell.py` now runs the 0.2 network, so they are marked older.",
             "",
             "Budgets are those stated in `benchmarks/bench_autocell.py` (hidden 32, 3 search "
             "epochs, 8 retraining epochs, one torch thread). Errors are on the test part of "
             "each protocol; mean over seeds (std in the next column), fit time in seconds "
             "(search and retraining for the searched models) on a shared 2-core machine.", ""]
    for task in METRIC:
        rows = results[results.task == task] if len(results) else results
        if rows.empty:
            lines += [f"### {task}", "", "Not run yet.", ""]
            continue
        table = task_table(rows, task)
        records = [{"model": m, **{k: _fmt(v) for k, v in row.items()}}
                   for m, row in table.iterrows()]
        lines += [f"### {task}", "", markdown_table(records, ["model", *table.columns]), ""]
        lines += ["Seeds on which the two-input grown cell has the lower error: " + ", ".join(
            f"vs {m} {wins(rows, task, 'two_input_grow', m)}" for m in ORDER[1:]
            if m in table.index), ""]
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(lines) + "\n" + _static_sections())
    print("\n".join(lines))


def _fmt(value) -> str:
    if isinstance(value, str):
        return value
    if pd.isna(value):
        return ""
    if float(value).is_integer() and abs(value) < 1000:
        return str(int(value))
    return f"{value:.5g}"


def _static_sections(name: str = "benchmarks_other.md") -> str:
    """A hand-written part of the page (what the tables say), kept in ``docs/<name>``."""
    path = ROOT / "docs" / name
    return path.read_text() if path.exists() else ""


if __name__ == "__main__":
    main()
