"""Collect the benchmark results into docs/benchmarks.md and its two companion pages.

    python benchmarks/report.py

Reads benchmarks/results/network_*.csv (bench_network.py), intervals_*.csv (bench_intervals.py)
and autocell_*.csv (bench_autocell.py, measured in 0.1's network: the archive page); the
figures in the tables are means and standard deviations over the seeds that finished, with the
number of seeds shown. docs/benchmarks.md opens with one table of every task's rows, then the
detailed tables; the prediction intervals (docs/benchmarks_intervals.md) and the rows no longer
current (docs/benchmarks_archive.md: the first runs at 2e-3, 0.1's network) have pages of their
own. The hand-written prose pasted between the tables is in benchmarks/fragments/*.md. Writes
those three Markdown pages only (no image). Nothing here runs a model.

Staleness (the ``code`` column): :func:`common.row_state`, by the row's behaviour hash (the
pinned fixtures of its model), or by its commit for rows written before that hash existed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from bench_intervals import section as interval_section  # noqa: E402
from common import RESULTS, ROOT, markdown_table, row_states  # noqa: E402

FRAGMENTS = Path(__file__).parent / "fragments"
PAGE, INTERVALS, ARCHIVE = (ROOT / "docs" / f"benchmarks{suffix}.md"
                             for suffix in ("", "_intervals", "_archive"))

# --------------------------------------------------------------------------- 0.2 network tasks
NETWORK_ORDER = ["two_input_grow", "two_input_grow_nocov", "darts", "random", "gru", "gru_nocov",
                 "lstm", "gru_gate", "nlinear336", "nlinear720", "linear336", "linear720", "naive"]
NETWORK_METRIC = {"etth1": "mse", "exchange": "rse", "appliances": "rse", "beijing": "rse"}
SUPERSEDED = "@lr=0.002"  # the first runs at Adam 2e-3, before the scripts' 6e-3: the archive
# one run each, no training: their rows are in full in the opening table, not the detailed ones
DETERMINISTIC = ("naive", "linear336", "linear720", "nlinear336", "nlinear720")
_LINEAR_TARGET = "the searched cell's mean below the best linear row by more than its std"
_NO_TARGET = "none (tier 3, one seed); the normalised linear map is the floor"
_SHIPPED = "none; the last value and the linear maps are the rows to beat"
# task -> (published anchor, target), in the order of the page. Anchors: SegRNN (Lin et al.
# 2023: a one-layer GRU in this kind of network, lookback 720), ETTh1 MSE; exchange-rate RSE
# under LSTNet's protocol, the best published model (TPA-LSTM) and the GRU as later papers
# reprint them; the shipped data sets have none.
NETWORK_TASKS = {
    "etth1_96": ("SegRNN 0.351", _LINEAR_TARGET),
    "etth1_336": ("SegRNN 0.423", _LINEAR_TARGET),
    "exchange3": ("TPA-LSTM 0.0174, GRU 0.0192",
                  "the searched cell no worse than the last value (0.0171)"),
    "exchange24": ("TPA-LSTM 0.0444, GRU 0.0626",
                   "the searched cell no worse than the last value (0.0434)"),
    "appliances": ("none", _SHIPPED),
    "beijing": ("none", _SHIPPED + " (observed pm2.5 only)"),
    "etth1_192": ("SegRNN 0.392", _NO_TARGET),
    "etth1_720": ("SegRNN 0.466", _NO_TARGET),
}

# --------------------------------------------------------------------- 0.1 network (archive)
METRIC = {"exchange3": ("rse", "lower"), "exchange24": ("rse", "lower"),
          "etth1_96": ("mse", "lower"), "etth1_336": ("mse", "lower"),
          "appliances": ("rmse", "lower")}
ORDER = ["two_input_grow", "darts_fixed", "random", "lstm", "arima", "linear", "naive"]

LEGEND = (
    "**`code`: is a row stale?** A row is stale when the behaviour it measured changed, not "
    "when any file changed. Each row records `behaviour`, the hash of the pinned fixtures "
    "that cover its model, as they were when it ran (`benchmarks/common.py`, "
    "`BEHAVIOUR_FIXTURES`: `tests/pinned/network.json` for the recurrent forecasters, searched "
    "cells, random cells, GRU and LSTM; `values.json` for the naive and linear ones; "
    "`issue15_arima.json` for ARIMA; `tests/test_pinned.py` recomputes them to 1e-5 relative). "
    "`current`: those fixtures are unchanged since the run; `stale`: they changed, so the "
    "behaviour changed: rerun the row. Rows written before the hash existed have none and are "
    "judged by the old commit rule: `older` when anything under `autoforecast/` changed since "
    "their `commit` (their behaviour may be the same), `current` at the same commit, `unknown` "
    "without a commit. The fixtures pin small cases, not every setting a benchmark uses: "
    "neither the normalised linear maps (`nlinear`) nor the interval calibration is pinned.")


def _states(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with ``code``, the state of each row (:func:`common.row_state`)."""
    return rows.assign(code=row_states(rows) if len(rows) else [])


def _joined(values) -> str:
    return "/".join(sorted(set(values)))


def _commits(values) -> str:
    """The short commits of a group of rows, e.g. ``6f6d118 c59abf6+changes``."""
    out = set()
    for value in values:
        text = "" if pd.isna(value) else str(value)
        if text:
            head, _, tail = text.partition("+")
            out.add(head[:7] + ("+" + tail if tail else ""))
    return " ".join(sorted(out)) or "-"


def _metric(task: str) -> str:
    return NETWORK_METRIC[task.rstrip("0123456789").rstrip("_")]


def network_frames() -> dict[str, pd.DataFrame]:
    """task -> its rows of ``bench_network.py`` (with ``code``), tasks in the page's order."""
    frames = {}
    for path in RESULTS.glob("network_*.csv"):
        rows = pd.read_csv(path)
        frames[rows.task.iloc[0]] = _states(rows)
    order = list(NETWORK_TASKS)
    return {task: frames[task] for task in sorted(
        frames, key=lambda t: (order.index(t) if t in order else len(order), t))}


def _ordered(models) -> list[str]:
    models = set(models)
    return ([m for m in NETWORK_ORDER if m in models]
            + sorted(m for m in models if m not in NETWORK_ORDER))


# The opening table's columns: a model family -> the rows' models it takes (the best mean
# where several: the linear maps of two lookbacks, normalised or not)
FAMILIES = {"searched cell": ("two_input_grow",), "random cells": ("random",), "GRU": ("gru",),
            "LSTM": ("lstm",), "DARTS cell": ("darts",),
            "best linear": ("nlinear336", "nlinear720", "linear336", "linear720"),
            "last value": ("naive",)}


def _family_cell(rows: pd.DataFrame, models, metric: str) -> str:
    """``mean (n seeds)`` of the family's best model in ``rows``; ``-`` where none ran."""
    best = None
    for model in models:
        values = pd.to_numeric(rows.loc[rows.model == model, metric], errors="coerce").dropna()
        if len(values) and (best is None or values.mean() < best[0]):
            best = (values.mean(), len(values))
    return "-" if best is None else f"{_fmt(best[0])} ({best[1]})"


def overview(frames: dict[str, pd.DataFrame]) -> list[str]:
    """The opening table: one row per task, one column per model family (its mean as the
    task's table configured it, no ``@`` variant, with the number of seeds), the searched
    cell's commits and the rows' states, the published anchor and the target."""
    records = []
    for task, rows in frames.items():
        metric, (anchor, target) = _metric(task), NETWORK_TASKS.get(task, ("-", "-"))
        plain = rows[~rows.model.str.contains("@")]
        searched = plain[plain.model.isin(FAMILIES["searched cell"])]
        records.append({"task": f"{task} ({metric})",
                        **{family: _family_cell(plain, models, metric)
                           for family, models in FAMILIES.items()},
                        "commit": _commits(searched.get("commit", [])),
                        "code": _joined(plain.code), "published anchor": anchor,
                        "target": target})
    if not records:
        return ["Not run yet.", ""]
    return [markdown_table(records, list(records[0])), ""]


def network_sections(frames: dict[str, pd.DataFrame], superseded: bool = False) -> list[str]:
    """The detailed tables of ``bench_network.py``, one per task: the trained models' rows but
    the superseded ``@lr=0.002`` runs (``superseded=True``: those alone, for the archive)."""
    lines = []
    for task, rows in frames.items():
        rows = rows[(rows.model.str.endswith(SUPERSEDED) == superseded)
                    & ~rows.model.isin(DETERMINISTIC)]
        if rows.empty:
            continue
        metric = _metric(task)
        stats = rows.groupby("model").agg(
            seeds=("seed", "nunique"), **{metric: (metric, "mean"),
                                          f"{metric}_std": (metric, "std")},
            cpu_s=("cpu_s", "mean"), parameters=("parameters", "first"),
            best_epochs=("best_epoch", lambda v: " ".join(str(int(x)) for x in v.dropna())),
            code=("code", _joined))
        stats = stats.reindex(_ordered(stats.index))
        records = [{"model": m, **{k: _fmt(v) for k, v in row.items()}}
                   for m, row in stats.iterrows()]
        lines += [f"### {task}", "", markdown_table(records, ["model", *stats.columns]), ""]
        versus = [m for m in ("gru", "random") if m in stats.index]
        if not superseded and "two_input_grow" in stats.index and versus:
            lines += ["Seeds on which the searched cell has the lower error: " + ", ".join(
                f"vs {m} {_paired_wins(rows, metric, 'two_input_grow', m)}" for m in versus), ""]
    return lines or ["Not run yet.", ""]


def _paired_wins(rows, metric: str, model: str, against: str) -> str:
    mine = rows[rows.model == model].set_index("seed")[metric]
    theirs = rows[rows.model == against].set_index("seed")[metric]
    paired = [(v, theirs[s]) for s, v in mine.items() if s in theirs.index]
    return f"{sum(a < b for a, b in paired)}/{len(paired)}" if paired else "-"


# ------------------------------------------------------------------------- 0.1's tables
def load() -> pd.DataFrame:
    frames = [pd.read_csv(p) for p in sorted(RESULTS.glob("autocell_*.csv"))]
    if not frames:
        return pd.DataFrame()
    # a run repeated by accident (two processes on one task) counts once: the first row
    return pd.concat(frames, ignore_index=True).drop_duplicates(["task", "model", "seed"])


def task_table(rows: pd.DataFrame, task: str) -> pd.DataFrame:
    metric, _ = METRIC[task]
    others = [m for m in ("corr", "mae") if rows[m].notna().any()]
    rows = _states(rows)
    stats = rows.groupby("model").agg(
        seeds=("seed", "nunique"), **{metric: (metric, "mean"), f"{metric}_std": (metric, "std")},
        **{m: (m, "mean") for m in others}, fit_s=("fit_s", "mean"), code=("code", _joined))
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


def archive_sections() -> list[str]:
    """0.1's tables (``bench_autocell.py`` rows, measured in the network 0.2 replaced)."""
    results = load()
    lines = ["## 0.1: the searched cell in the per-time-step network (`bench_autocell.py`)", "",
             "These rows were measured with the network that 0.2 replaced (the cell read the "
             "whole multivariate window one time step at a time, a linear head on its last "
             "state); `bench_autocell.py` now runs the 0.2 network. Budgets are those stated "
             "in `benchmarks/bench_autocell.py` (hidden 32, 3 search epochs, 8 retraining "
             "epochs, one torch thread). Errors are on the test part of each protocol; mean "
             "over seeds (std in the next column), fit time in seconds (search and retraining "
             "for the searched models) on a shared 2-core machine.", ""]
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
    return lines


# ------------------------------------------------------------------------------- the pages
def hashed(frames: dict[str, pd.DataFrame]) -> str:
    """How many of the network rows record a behaviour hash (the others: the commit rule)."""
    rows = pd.concat(frames.values()) if frames else pd.DataFrame()
    with_hash = int(rows["behaviour"].notna().sum()) if "behaviour" in rows else 0
    return (f"Of the {len(rows)} rows of `bench_network.py`, {with_hash} record a behaviour "
            "hash.")


def page(frames: dict[str, pd.DataFrame]) -> str:
    lines = ["# Benchmarks", "",
             "Every figure here comes from a script in `benchmarks/`; the raw rows are in "
             "`benchmarks/results/`. Regenerate this page with `python benchmarks/report.py`. "
             "Prediction intervals have [a page of their own](benchmarks_intervals.md); the "
             "first runs at Adam 2e-3 and the tables of 0.1's network are in the "
             "[archive](benchmarks_archive.md).", "", LEGEND + " " + hashed(frames), "",
             "## Every task: the rows as each table configured them (`bench_network.py`)", "",
             *overview(frames),
             "The metric is the task's error (lower is better), the mean over seeds (how many in brackets; the std in the tables below), each family's best model where it has several. "
             "Anchors are published figures under the same protocol: ETTh1 MSE of SegRNN (Lin "
             "et al. 2023, a one-layer GRU in this kind of network, lookback 720); "
             "exchange-rate RSE of TPA-LSTM, the best published model, and of a GRU, as later "
             "papers reprint LSTNet's protocol tables. The targets are the searched cell's. "
             "The last value and the linear maps (one run each) are shown here only; the "
             "detailed tables below are the trained models'.", "",
             "## Recurrent cells in the forecasting network (`bench_network.py`)", "",
             "Budgets are those stated in `benchmarks/bench_network.py` (lookback 720 on ETTh1, "
             "segments of 24, GRU hidden 64 and the cells at its parameter count, at most 10 "
             "epochs with patience 3, Adam 6e-3, one torch thread). Mean over seeds (std beside "
             "it), the fit's CPU seconds, the parameter count and the epochs chosen "
             "(`best_epoch` -1: the untrained network, i.e. about the last value or the "
             "highway, was kept). `nlinear720`, in the table above, is also the highway alone (a "
             "network's highway starts at that map). `@setting`: the same model with that "
             "setting changed.", "",
             *network_sections(frames), _fragment("network.md"),
             "## Prediction intervals (`bench_intervals.py`, issue 16)", "",
             "Coverage and width of the 80 / 90 / 95 % intervals on the test parts of ETTh1 "
             "(H = 96) and exchange-rate (h = 24): [benchmarks_intervals.md]"
             "(benchmarks_intervals.md).", "", _fragment("other.md")]
    return "\n".join(lines).rstrip("\n") + "\n"


def intervals_page() -> str:
    lines = ["# Benchmarks: prediction intervals", "",
             "Part of [benchmarks.md](benchmarks.md), where the `code` column is explained; "
             "regenerated by `python benchmarks/report.py`.", "",
             *interval_section(), _fragment("intervals.md")]
    return "\n".join(lines).rstrip("\n") + "\n"


def archive_page(frames: dict[str, pd.DataFrame]) -> str:
    lines = ["# Benchmarks: archive", "",
             "Rows that [benchmarks.md](benchmarks.md) no longer shows, kept as measured; the "
             "`code` column as explained there. Regenerated by `python benchmarks/report.py`.",
             "", "## The first runs in the forecasting network, at Adam 2e-3 (`bench_network.py`)",
             "", "The same models and budgets as on the main page, at the learning rate the "
             "scripts used first (`@lr=0.002`); 6e-3 replaced it (see the main page).", "",
             *network_sections(frames, superseded=True), *archive_sections(),
             _fragment("archive.md")]
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> None:
    frames = network_frames()
    for path, text in ((PAGE, page(frames)), (INTERVALS, intervals_page()),
                       (ARCHIVE, archive_page(frames))):
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)} ({text.count(chr(10))} lines)")


def _fmt(value) -> str:
    if isinstance(value, str):
        return value
    if pd.isna(value):
        return ""
    if float(value).is_integer() and abs(value) < 1000:
        return str(int(value))
    return f"{value:.5g}"


def _fragment(name: str) -> str:
    """A hand-written part of a page (what the tables say), kept in ``benchmarks/fragments``."""
    path = FRAGMENTS / name
    return path.read_text().strip("\n") + "\n" if path.exists() else ""


if __name__ == "__main__":
    main()
