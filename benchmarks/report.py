"""Collect the benchmark results into docs/benchmarks.md and its two companion pages.

    python benchmarks/report.py

Reads benchmarks/results/network_*.csv (bench_network.py: issue 22's tables),
recipe_*.csv (bench_network.py --validation-only: the recipe trials, judged on validation),
intervals_*.csv (bench_intervals.py), and for the archive page results/archive/network_*.csv
(0.2's rows and 0.3's development rows, labels of their time) and autocell_*.csv
(bench_autocell.py, measured in 0.1's network). The figures in the tables are means and sample
standard deviations (ddof 1) over the seeds that finished, with the number of seeds shown.
docs/benchmarks.md opens with issue 22's table, one row per task with the issue's target beside
it, then the search-against-sampling target, the recipe trials and the detailed tables; the
prediction intervals (docs/benchmarks_intervals.md) and the rows no longer current
(docs/benchmarks_archive.md) have pages of their own. The hand-written prose pasted between the
tables is in benchmarks/fragments/*.md. Writes those three Markdown pages only (no image).
Nothing here runs a model.

Staleness (the ``code`` column): :func:`common.row_state`, by the row's behaviour hash (the
pinned fixtures of its model), or by its commit for rows written before that hash existed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from bench_intervals import section as interval_section  # noqa: E402
from bench_m4 import M4_PUBLISHED  # noqa: E402
from bench_network import RECIPES  # noqa: E402
from common import RESULTS, ROOT, markdown_table, row_states  # noqa: E402

FRAGMENTS = Path(__file__).parent / "fragments"
ARCHIVED = RESULTS / "archive"
PAGE, INTERVALS, ARCHIVE, M4 = (ROOT / "docs" / f"benchmarks{suffix}.md"
                                 for suffix in ("", "_intervals", "_archive", "_m4"))

NETWORK_METRIC = {"etth1": "mse", "exchange": "rse", "appliances": "rse", "beijing": "rse"}
# one run each, no training: their rows are in full in the opening table, not the detailed ones
DETERMINISTIC = ("naive", "linear336", "linear720", "nlinear336", "nlinear720")
LINEAR = ("nlinear336", "nlinear720", "linear336", "linear720")
# no rows yet: every column a table reads
EMPTY = pd.DataFrame(columns=["task", "model", "seed", "mse", "rse", "cpu_s", "parameters",
                              "best_epoch", "commit", "code"])

# ------------------------------------------------------------------ issue 22 (the main page)
SEARCHED = "autocell"
COMPARED = ("autocell", "random", "gru")  # counted at the commit of the last autocell row
ISSUE22_ORDER = ["autocell", "random", "gru", "lstm"]
ISSUE22_COLUMNS = {"autocell": ("autocell",), "random": ("random",), "gru": ("gru",),
                   "lstm": ("lstm",), "best linear": LINEAR, "last value": ("naive",)}
# task -> (the issue's target, the models whose best mean autocell's is held against (None:
# every other row of the task's table), whether a tie meets it), in the order of the page
TARGETS = {
    "etth1_96": ("autocell's seed mean below the mean of the `gru` rows at the same commit "
                 "(0.2's GRU: 0.366), aiming at SegRNN's 0.351", ("gru",), False),
    "etth1_336": ("autocell below NLinear (0.428), aiming at 0.419 (the reference GRU)",
                  ("nlinear336",), False),
    "exchange3": ("autocell no worse than the last value", ("naive",), True),
    "exchange24": ("autocell no worse than the last value", ("naive",), True),
    "appliances": ("autocell the best row of the table", None, False),
    "beijing": ("autocell the best row of the table", None, False),
}
SAMPLING_TASK, SAMPLING_COUNT = "etth1_96", 4  # the search against sampling: on 4 of 6 tasks

# ------------------------------------------------------------------- M4 Hourly (issue 23)
M4_ROWS = RESULTS / "m4_hourly.csv"
M4_ORDER = ["autocell", "gru", "lstm", "arima", "nlinear", "snaive", "naive2"]
_M4_OWA = {entry: owa for entry, _, _, owa in M4_PUBLISHED}
M4_WINNER, M4_BEST_HOURLY, M4_SNAIVE = (_M4_OWA[e] for e in ("winner (Smyl's ES-RNN)",
                                                             "best hourly entry (Doornik)",
                                                             "seasonal naive"))
M4_FIT_LIMIT_S = 20 * 60  # one autocell fit of the 414 series, on 2 cores


# --------------------------------------------------------- 0.2 and 0.3's rows (the archive)
NETWORK_ORDER = ["two_input_grow", "two_input_grow_nocov", "darts", "random", "random_kmax",
                 "gru", "gru_nocov",
                 "lstm", "gru_gate", "nlinear336", "nlinear720", "linear336", "linear720", "naive"]
SUPERSEDED = "@lr=0.002"  # the first runs at Adam 2e-3, before the scripts' 6e-3
_LINEAR_TARGET = "the searched cell's mean below the best linear row by more than its std"
_NO_TARGET = "none (tier 3, one seed); the normalised linear map is the floor"
_SHIPPED = "none; the last value and the linear maps are the rows to beat"
# task -> (published anchor, 0.2's target), in the order of the pages. Anchors: SegRNN (Lin et
# al. 2023: a one-layer GRU in this kind of network, lookback 720), ETTh1 MSE; exchange-rate
# RSE under LSTNet's protocol, the best published model (TPA-LSTM) and the GRU as later papers
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
# The archive's opening table: a model family -> the rows' models it takes (the best mean
# where several: the linear maps of two lookbacks, normalised or not)
FAMILIES = {"searched cell": ("two_input_grow",), "random cells": ("random",), "GRU": ("gru",),
            "LSTM": ("lstm",), "DARTS cell": ("darts",), "best linear": LINEAR,
            "last value": ("naive",)}

# --------------------------------------------------------------------- 0.1 network (archive)
METRIC = {"exchange3": ("rse", "lower"), "exchange24": ("rse", "lower"),
          "etth1_96": ("mse", "lower"), "etth1_336": ("mse", "lower"),
          "appliances": ("rmse", "lower")}
ORDER = ["two_input_grow", "darts_fixed", "random", "lstm", "arima", "linear", "naive"]

LEGEND = (
    "**`code`: is a row stale?** A row is stale when the behaviour it measured changed, not "
    "when any file changed. Each row records `behaviour`, the hash of the pinned fixtures "
    "that cover its model, as they were when it ran (`benchmarks/common.py`, "
    "`BEHAVIOUR_FIXTURES`): the model's own entries of `tests/pinned/network.json` and "
    "`carry.json` for the recurrent forecasters (searched cells, random cells, GRU and LSTM "
    "each apart, so that re-pinning one stales its rows only), of `values.json` for the naive "
    "and linear ones, `issue15_arima.json` for ARIMA; `tests/test_pinned.py` recomputes them "
    "to 1e-5 relative. `current`: those fixtures are unchanged since the run; `stale`: they "
    "changed, so the behaviour changed: rerun the row. Rows written before the hash existed "
    "have none and are judged by the old commit rule: `older` when anything under "
    "`autoforecast/` changed since their `commit` (their behaviour may be the same), `current` "
    "at the same commit, `unknown` without a commit. The fixtures pin small cases with their "
    "settings written out, not every setting a benchmark uses: neither the normalised linear "
    "maps (`nlinear`) nor the interval calibration is pinned, nor the estimators' defaults "
    "(a row that ran on the defaults of its day, such as a label without `@` settings, "
    "stays `current` when a default changes).")


# --------------------------------------------------------------------------------- the rows
def _states(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` with ``code``, the state of each row (:func:`common.row_state`)."""
    return rows.assign(code=row_states(rows) if len(rows) else [])


def _task_key(task: str) -> tuple:
    order = list(NETWORK_TASKS)
    return (order.index(task) if task in order else len(order), task)


def frames(folder: Path, prefix: str) -> dict[str, pd.DataFrame]:
    """task -> its rows in ``folder/<prefix>_<task>.csv`` (with ``code``), in the pages' order."""
    found = {}
    for path in folder.glob(f"{prefix}_*.csv"):
        rows = pd.read_csv(path)
        if len(rows):
            found[rows.task.iloc[0]] = _states(rows)
    return {task: found[task] for task in sorted(found, key=_task_key)}


def at_last_commit(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``rows`` split in two: those counted (the ``COMPARED`` models' rows at the commit of the
    last ``autocell`` row, every other model's rows) and the ``COMPARED`` rows at other
    commits. Nothing is set apart while no ``autocell`` row exists."""
    searched = rows.loc[rows.model == SEARCHED, "commit"]
    if searched.empty:
        return rows, rows.iloc[:0]
    other = rows.model.isin(COMPARED) & (rows.commit.astype(str) != str(searched.iloc[-1]))
    return rows[~other], rows[other]


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


def _ordered(models, order) -> list[str]:
    models = set(models)
    return [m for m in order if m in models] + sorted(m for m in models if m not in order)


def _summary(rows: pd.DataFrame, models, metric: str):
    """``(mean, sample std, seeds, model)`` of the model in ``models`` with the lowest mean in
    ``rows``; None where none ran."""
    best = None
    for model in models:
        values = pd.to_numeric(rows.loc[rows.model == model, metric], errors="coerce").dropna()
        if len(values) and (best is None or values.mean() < best[0]):
            best = (values.mean(), values.std(ddof=1), len(values), model)
    return best


def _plain(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of the models as the tables configure them (no ``@`` variant)."""
    return rows[~rows.model.astype(str).str.contains("@")]


# ------------------------------------------------------------------------- issue 22's tables
def _cell(summary, named: bool = False, moved: int = 0, missing: str = "not run yet") -> str:
    """``mean ± std (seeds)``, the model's name where ``named``, and a warning where ``moved``
    rows of it, at other commits, were not counted; ``missing`` where none ran."""
    if summary is None:
        text = missing
    else:
        mean, std, n, model = summary
        text = _fmt(mean) + (f" ± {std:.2g}" if n > 1 else "") + f" ({n})"
        text += f" {model}" if named else ""
    return text + (f" ⚠ {moved} at other commits, not counted" if moved else "")


def met(rows: pd.DataFrame, task: str, metric: str) -> str:
    """Whether autocell's mean meets the task's target in ``rows``, with the margin."""
    _, against, ties = TARGETS[task]
    if against is None:  # the best row of the table: every other model's
        against = sorted(set(rows.model) - {SEARCHED})
    mine, theirs = _summary(rows, (SEARCHED,), metric), _summary(rows, against, metric)
    if mine is None or theirs is None:
        return "not run yet"
    margin = mine[0] / theirs[0] - 1
    ok = margin < 0 or (ties and margin == 0)
    return f"{'yes' if ok else 'no'}, {100 * margin:+.2f} % vs {theirs[3]}"


def issue22_table(split: dict) -> list[str]:
    """The opening table: one row per task of ``TARGETS``, from ``split`` (task -> the rows
    counted and those set apart, :func:`at_last_commit`)."""
    records = []
    for task, (target, _, _) in TARGETS.items():
        counted, apart = (_plain(part) for part in split[task])
        metric = _metric(task)
        moved = apart.model.value_counts()
        records.append({
            "task": f"{task} ({metric})",
            **{column: _cell(_summary(counted, models, metric), len(models) > 1,
                             int(sum(moved.get(m, 0) for m in models)))
               for column, models in ISSUE22_COLUMNS.items()},
            "commit": _commits(counted.loc[counted.model == SEARCHED, "commit"]),
            "code": _joined(counted.code) or "-", "published anchor": NETWORK_TASKS[task][0],
            "target": target, "met?": met(counted, task, metric)})
    return [markdown_table(records, list(records[0])), ""]


def sampling(split: dict) -> list[str]:
    """The search against sampling, per task: autocell's mean below random's by more than the
    larger sample std of the two (ddof 1; 0 for one seed) or 0.5 % of autocell's mean."""
    records, passed = [], []
    for task in TARGETS:
        counted, metric = _plain(split[task][0]), _metric(task)
        mine, theirs = (_summary(counted, (model,), metric) for model in (SEARCHED, "random"))
        record = {"task": task, "autocell": _cell(mine), "random": _cell(theirs)}
        if mine is None or theirs is None:
            records.append({**record, "met?": "not run yet"})
            continue
        needed = max(np.nan_to_num([mine[1], theirs[1]]).max(), 0.005 * mine[0])
        ok = theirs[0] - mine[0] > needed
        passed += [task] if ok else []
        records.append({**record, "random − autocell": _fmt(theirs[0] - mine[0]),
                        "needed": _fmt(needed), "met?": "yes" if ok else "no"})
    columns = ["task", "autocell", "random", "random − autocell", "needed", "met?"]
    if all(record["met?"] == "not run yet" for record in records):
        return [markdown_table(records, columns), ""]
    verdict = len(passed) >= SAMPLING_COUNT and SAMPLING_TASK in passed
    return [markdown_table(records, columns), "",
            f"Met on {len(passed)} of {len(TARGETS)} tasks ({', '.join(passed) or 'none'}); the "
            f"target, at least {SAMPLING_COUNT} with {SAMPLING_TASK} among them: "
            f"**{'met' if verdict else 'not met'}**.", ""]


def recipe_sections(trials: dict[str, pd.DataFrame]) -> list[str]:
    """The recipe trials: per model family, the chosen epoch's validation loss per task and
    recipe (mean over seeds), and each recipe's mean ratio to recipe A over the tasks."""
    if not trials:
        return ["Not run yet.", ""]
    rows = pd.concat(trials.values(), ignore_index=True)
    parts = rows.model.astype(str).str.split("@")
    rows = rows.assign(
        recipe=parts.map(lambda p: next((s[len("recipe="):] for s in p
                                         if s.startswith("recipe=")), "default")),
        family=parts.map(lambda p: "@".join(s for s in p if not s.startswith("recipe="))),
        val_loss=pd.to_numeric(rows.val_loss, errors="coerce"))
    lines = []
    for family in _ordered(rows.family, ISSUE22_ORDER):
        group = rows[rows.family == family]
        means = group.pivot_table(index="task", columns="recipe", values="val_loss")
        seeds = group.pivot_table(index="task", columns="recipe", values="val_loss",
                                  aggfunc="count")
        means = means.reindex(sorted(means.index, key=_task_key))
        records = [{"task": task, **{r: f"{_fmt(means.at[task, r])} ({int(seeds.at[task, r])})"
                                     if pd.notna(means.at[task, r]) else "-"
                                     for r in means.columns}} for task in means.index]
        if "A" in means:
            ratios = means.div(means["A"], axis=0)
            records.append({"task": "mean ratio to A", **{
                r: f"{ratios[r].mean():.4f} ({ratios[r].count()} tasks)" if ratios[r].count()
                else "-" for r in means.columns}})
        lines += [f"### {family}", "", markdown_table(records, ["task", *means.columns]), "",
                  f"Commits: {_commits(group.commit)}; code: {_joined(group.code)}.", ""]
    return lines


# --------------------------------------------------------------- the detailed network tables
def _task_stats(rows: pd.DataFrame, metric: str, order) -> pd.DataFrame:
    """Per model of ``rows``: seeds, mean and sample std of ``metric``, CPU seconds, parameters
    and their gap to the GRU's count, best epochs, commits and states."""
    stats = rows.groupby("model").agg(
        seeds=("seed", "nunique"), **{metric: (metric, "mean"), f"{metric}_std": (metric, "std")},
        cpu_s=("cpu_s", "mean"), parameters=("parameters", "first"),
        best_epochs=("best_epoch", lambda v: " ".join(str(int(x)) for x in v.dropna())),
        commit=("commit", _commits), code=("code", _joined))
    gru = stats.parameters.get("gru", np.nan)
    stats.insert(5, "vs gru", [f"{100 * (p / gru - 1):+.1f} %" if pd.notna(p / gru) else ""
                               for p in stats.parameters])
    return stats.reindex(_ordered(stats.index, order))


def _wins(rows, metric: str, model: str, against: str) -> str:
    """Seeds on which ``model`` has the lower error than ``against`` (the same seed)."""
    mine = rows[rows.model == model].set_index("seed")[metric]
    theirs = rows[rows.model == against].set_index("seed")[metric]
    paired = [(v, theirs[s]) for s, v in mine.items() if s in theirs.index]
    return f"{sum(a < b for a, b in paired)}/{len(paired)}" if paired else "-"


def network_sections(tasks: dict[str, pd.DataFrame], searched: str, order,
                     superseded: bool = False) -> list[str]:
    """The detailed tables of ``bench_network.py``, one per task: the trained models' rows but
    the superseded ``@lr=0.002`` runs (``superseded=True``: those alone, for the archive), and
    the seeds on which ``searched`` beats the GRU and the random cells."""
    lines = []
    for task, rows in tasks.items():
        rows = rows[(rows.model.str.endswith(SUPERSEDED) == superseded)
                    & ~rows.model.isin(DETERMINISTIC)]
        if rows.empty:
            continue
        metric = _metric(task)
        stats = _task_stats(rows, metric, order)
        records = [{"model": m, **{k: _fmt(v) for k, v in row.items()}}
                   for m, row in stats.iterrows()]
        lines += [f"### {task}", "", markdown_table(records, ["model", *stats.columns]), ""]
        versus = [m for m in ("gru", "random") if m in stats.index]
        if searched in stats.index and versus:
            lines += [f"Seeds on which `{searched}` has the lower error: " + ", ".join(
                f"vs {m} {_wins(rows, metric, searched, m)}" for m in versus), ""]
    return lines or ["Not run yet.", ""]


def archive_overview(tasks: dict[str, pd.DataFrame]) -> list[str]:
    """0.2's opening table: one row per task, one column per model family (its mean as the
    task's table configured it, no ``@`` variant, with the number of seeds), the searched
    cell's commits and the rows' states, the published anchor and 0.2's target."""
    records = []
    for task, rows in tasks.items():
        metric, (anchor, target) = _metric(task), NETWORK_TASKS.get(task, ("-", "-"))
        plain = _plain(rows)
        records.append({"task": f"{task} ({metric})",
                        **{family: _cell(_summary(plain, models, metric), missing="-")
                           for family, models in FAMILIES.items()},
                        "commit": _commits(plain.loc[plain.model == "two_input_grow", "commit"]),
                        "code": _joined(plain.code), "published anchor": anchor,
                        "target": target})
    if not records:
        return ["Not run yet.", ""]
    return [markdown_table(records, list(records[0])), ""]


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
            f"vs {m} {_wins(rows, METRIC[task][0], 'two_input_grow', m)}" for m in ORDER[1:]
            if m in table.index), ""]
    return lines


# ---------------------------------------------------------------------------- M4 Hourly
def m4_trial(model: str) -> bool:
    """A trial row (``<model>_first<N>``: the first N series; ``<model>@...``: a variant)."""
    return "_first" in model or "@" in model


def m4_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per model of the table (trials left out): the means over seeds of sMAPE, MASE,
    OWA and fit_s, the slowest fit (``slowest_s``), the seeds, the commits and the code state
    of its rows."""
    rows = rows[~rows.model.astype(str).map(m4_trial)]
    out = {}
    for model in _ordered(rows.model, M4_ORDER):
        group = rows[rows.model == model]
        out[model] = {name: pd.to_numeric(group[name], errors="coerce").mean()
                      for name in ("smape", "mase", "owa", "fit_s")}
        out[model] |= {"slowest_s": pd.to_numeric(group.fit_s, errors="coerce").max(),
                       "seeds": len(group), "commit": _commits(group.commit),
                       "code": _joined(group.code) if "code" in group else ""}
    return pd.DataFrame.from_dict(out, orient="index")


def _below(summary: pd.DataFrame, bound, what: str) -> tuple[str, str]:
    """(autocell's OWA, met?) against ``bound`` (None: not run yet)."""
    if "autocell" not in summary.index:
        return "not run yet", "not run yet"
    owa = summary.loc["autocell", "owa"]
    if bound is None:
        return f"{owa:.3f}", f"not run yet ({what})"
    return f"{owa:.3f}", f"{'yes' if owa < bound else 'no'}, {owa - bound:+.3f} vs {what}"


def m4_targets(summary: pd.DataFrame) -> list[dict]:
    """Issue 23's targets, each with autocell's figure and met?/missed, from ``summary``."""
    def ours(model):
        return summary.loc[model, "owa"] if model in summary.index else None

    snaive = ours("snaive")
    rows = [(f"OWA below the winner's {M4_WINNER:.3f}", M4_WINNER, f"{M4_WINNER:.3f}"),
            (f"OWA below the best hourly entry's {M4_BEST_HOURLY:.3f} (the aim)", M4_BEST_HOURLY,
             f"{M4_BEST_HOURLY:.3f}"),
            ("OWA below the seasonal naive", snaive if snaive is not None else M4_SNAIVE,
             f"snaive {(snaive if snaive is not None else M4_SNAIVE):.3f}"),
            ("OWA below our ARIMA", ours("arima"),
             "arima" + (f" {ours('arima'):.3f}" if ours("arima") is not None else ""))]
    table = [dict(zip(("target", "autocell", "met?"), (name, *_below(summary, bound, what))))
             for name, bound, what in rows]
    fit = "not run yet"
    seconds = "not run yet"
    if "autocell" in summary.index:
        slowest = summary.loc["autocell", "slowest_s"]  # every seed's fit within it
        seconds = f"{slowest:.0f} s (the slowest seed)"
        fit = (f"{'yes' if slowest <= M4_FIT_LIMIT_S else 'no'}, "
               f"{slowest / 60:.1f} of {M4_FIT_LIMIT_S // 60} min")
    table.append({"target": "one fit of the 414 series within 20 minutes on 2 cores (fit_s)",
                  "autocell": seconds, "met?": fit})
    return table


def m4_section(rows: pd.DataFrame) -> list[str]:
    """The M4 Hourly tables: ours (means over seeds), the published rows, the targets and a
    note of the trial rows."""
    summary = m4_summary(rows)
    ours = [{"model": model, "sMAPE": _fmt3(r.smape), "MASE": _fmt3(r.mase),
             "OWA": _fmt3(r.owa), "fit_s": _fmt(r.fit_s), "seeds": int(r.seeds),
             "commit": r.commit, "code": r.code} for model, r in summary.iterrows()]
    published = [{"published entry": name, "sMAPE": f"{a:.3f}", "MASE": f"{b:.3f}",
                  "OWA": f"{c:.3f}"} for name, a, b, c in M4_PUBLISHED]
    lines = ["## M4 Hourly: the rows (`benchmarks/results/m4_hourly.csv`)", "",
             "Means over seeds (how many in `seeds`); `fit_s`: seconds of one fit of all 414 "
             "series (the mean over seeds); `commit`: the code the rows ran at, `code` as "
             "explained on [benchmarks.md](benchmarks.md). OWA is against our Naive2 row. "
             "Lower is better in every column.", "",
             markdown_table(ours, ["model", "sMAPE", "MASE", "OWA", "fit_s", "seeds", "commit",
                                   "code"]) if ours else "No rows yet.", "",
             "The published rows (the organisers' evaluation file on the hourly subset), "
             "best OWA first:", "",
             markdown_table(published, ["published entry", "sMAPE", "MASE", "OWA"]), "",
             "Issue 23's targets, computed from the rows (`met?` gives autocell's margin):", "",
             markdown_table(m4_targets(summary), ["target", "autocell", "met?"]), ""]
    trials = rows[rows.model.astype(str).map(m4_trial)]
    if len(trials):
        lines += ["Trial rows, not in the table (`_first<N>`: the first N series, OWA against "
                  "Naive2 on those; `@`: a variant): " + "; ".join(
                      f"`{r.model}` OWA {r.owa:.3f}"
                      + (f" on {int(r.n_series)} series" if hasattr(r, "n_series") and
                         not pd.isna(r.n_series) else "") + f", {_fmt(r.fit_s)} s"
                      for r in trials.itertuples()) + ".", ""]
    return lines


def _fmt3(value) -> str:
    return "" if pd.isna(value) else f"{value:.3f}"


def m4_page() -> str:
    rows = _states(pd.read_csv(M4_ROWS)) if M4_ROWS.exists() else pd.DataFrame(
        columns=["model", "seed", "smape", "mase", "owa", "fit_s", "commit", "code"])
    lines = ["# Benchmarks: M4 Hourly", "",
             "Part of [benchmarks.md](benchmarks.md); regenerated by `python "
             "benchmarks/report.py` from `benchmarks/results/m4_hourly.csv` (`bench_m4.py`).",
             "", *m4_section(rows), _fragment("m4.md")]
    return "\n".join(lines).rstrip("\n") + "\n"


# ------------------------------------------------------------------------------- the pages
def hashed(tasks: dict[str, pd.DataFrame]) -> str:
    """How many of the network rows record a behaviour hash (the others: the commit rule)."""
    rows = pd.concat(tasks.values()) if tasks else pd.DataFrame()
    with_hash = int(rows["behaviour"].notna().sum()) if "behaviour" in rows else 0
    return (f"Of the {len(rows)} rows of `bench_network.py` here, {with_hash} record a "
            "behaviour hash.")


def _recipes() -> str:
    """The recipes tried, as ``bench_network.py`` states them."""
    return "; ".join(f"{name}: " + ", ".join(f"{k} {v}" for k, v in recipe.items())
                     for name, recipe in RECIPES.items())


def page(tasks: dict[str, pd.DataFrame], trials: dict[str, pd.DataFrame]) -> str:
    split = {task: at_last_commit(tasks.get(task, EMPTY)) for task in TARGETS}
    lines = ["# Benchmarks", "",
             "Every figure here comes from a script in `benchmarks/`; the raw rows are in "
             "`benchmarks/results/`. Regenerate this page with `python benchmarks/report.py`. "
             "Prediction intervals have [a page of their own](benchmarks_intervals.md); 0.2's "
             "network tables, 0.3's development rows, the first runs at Adam 2e-3 and 0.1's "
             "tables are in the [archive](benchmarks_archive.md).", "",
             "## Issue 22: the searched cell against random cells, the GRU and the LSTM "
             "(`bench_network.py`)", "",
             *issue22_table(split),
             "The metric is the task's error (lower is better): the mean over seeds ± the "
             "sample standard deviation (ddof 1), the number of seeds in brackets; `best "
             "linear` is the best of the task's least-squares maps (named). `autocell`, "
             "`random` and `gru` count only their rows at the commit of the last `autocell` "
             "row (column `commit`); a ⚠ says how many rows at other commits were left out. "
             "Anchors are published figures under the same protocol: ETTh1 MSE of SegRNN (Lin "
             "et al. 2023, a one-layer GRU in this kind of network, lookback 720); "
             "exchange-rate RSE of TPA-LSTM, the best published model, and of a GRU, as later "
             "papers reprint LSTNet's protocol tables. The targets are issue 22's; `met?` is "
             "computed from the rows, with autocell's margin over the row it is held against.",
             "",
             "**The search against sampling** (issue 22: autocell's mean below random's by more "
             "than the larger sample std over seeds, or 0.5 % of autocell's mean where that is "
             "larger, on at least 4 of the 6 tasks, ETTh1 H = 96 among them):", "",
             *sampling(split), _fragment("search.md"),
             "## Recipe trials (`bench_network.py --validation-only`)", "",
             "The one recipe of issue 22 is chosen on the validation parts alone: each trial "
             "(`<model>@recipe=<name>`, rows in `benchmarks/results/recipe_<task>.csv`) fits "
             "on the training part and scores nothing on the test part. The figure is the "
             "chosen epoch's validation loss (normalised scale, lower is better; mean over "
             "seeds, how many in brackets); the last row, each recipe's validation loss over "
             "recipe A's, averaged over the tasks where both ran. Recipes (`RECIPES`): "
             f"{_recipes()}.", "",
             *recipe_sections(trials),
             "## Per task (`bench_network.py`)", "",
             "`autocell`: `AutoCellForecaster` with its defaults (search settings, training "
             "recipe, and hidden 48, which puts the default search's 3-node cell within 1 % of "
             "the GRU's parameter count: column `vs gru`) but lookback 720 on ETTh1 (168 on "
             "exchange-rate, \"auto\" on the shipped data), segments of 24, one torch thread; "
             "`random`: the same with random cells of the space, the same candidates and "
             "budget; `gru` (hidden 64) and `lstm` (hidden 56): the estimators' defaults, the "
             "same recipe. The rows counted as in the table above; mean over seeds (sample std "
             "beside it), the fit's CPU seconds, the parameter count and the epochs chosen "
             "(`best_epoch` -1: the untrained network was kept). The last value and the linear "
             "maps (one run each) are in the opening table only. `@setting`: the same model "
             "with that setting changed.", "",
             *network_sections({task: counted for task, (counted, _) in split.items()},
                               SEARCHED, ISSUE22_ORDER),
             "0.2's tables, with what they said (`benchmarks/fragments/network_0.2.md`), and "
             "0.3's development rows (the carry path, candidates, normalisation): "
             "[benchmarks_archive.md](benchmarks_archive.md).", "",
             LEGEND + " " + hashed(tasks), "",
             "## Prediction intervals (`bench_intervals.py`, issue 16)", "",
             "Coverage and width of the 80 / 90 / 95 % intervals on the test parts of ETTh1 "
             "(H = 96) and exchange-rate (h = 24): [benchmarks_intervals.md]"
             "(benchmarks_intervals.md).", "",
             "M4 Hourly (414 series, issue 23), beside the published rows and with the issue's "
             "targets: [benchmarks_m4.md](benchmarks_m4.md).", "", _fragment("other.md")]
    return "\n".join(lines).rstrip("\n") + "\n"


def intervals_page() -> str:
    lines = ["# Benchmarks: prediction intervals", "",
             "Part of [benchmarks.md](benchmarks.md), where the `code` column is explained; "
             "regenerated by `python benchmarks/report.py`.", "",
             *interval_section(), _fragment("intervals.md")]
    return "\n".join(lines).rstrip("\n") + "\n"


def archive_page(tasks: dict[str, pd.DataFrame]) -> str:
    lines = ["# Benchmarks: archive", "",
             "Rows that [benchmarks.md](benchmarks.md) no longer shows, kept as measured; the "
             "`code` column as explained there. Regenerated by `python benchmarks/report.py`.",
             "",
             "## 0.2's network tables and 0.3's development rows (`bench_network.py`)", "",
             "The rows in `benchmarks/results/archive/network_<task>.csv`, written before issue "
             "22's tables. Their labels are those of their time: `gru`, `lstm` and `random` "
             "there are the fixed recipe of 0.2 (hidden 64 / 56, at most 10 epochs with "
             "patience 3, batch 256, Adam 6e-3; `random`: random two-input cells at "
             "`two_input_grow`'s budget), what `bench_network.py` now calls `gru_fixed`, "
             "`lstm_fixed` and `random_fixed`; today's `gru`, `lstm` and `random` are the "
             "estimators' defaults (the main page). `random_kmax`: issue 22's first control "
             "rows (the estimators' defaults at b61dbd0), whose cells had `max_nodes` = 4 nodes "
             "where the search's reach 3, so 17 % more parameters; today's `random` draws the "
             "search's size.", "",
             *archive_overview(tasks),
             "The metric is the task's error (lower is better), the mean over seeds (± the "
             "sample std, how many in brackets), each family's best model where it has several; "
             "the anchors as on the main page, the targets 0.2's. The last value and the "
             "linear maps (one run each) are shown here only; the detailed tables below are "
             "the trained models'.", "",
             "### Budgets", "",
             "Those stated in `benchmarks/bench_network.py` (lookback 720 on ETTh1, segments "
             "of 24, GRU hidden 64 and the cells at its parameter count, at most 10 epochs with "
             "patience 3, Adam 6e-3, one torch thread). Mean over seeds (std beside it), the "
             "fit's CPU seconds, the parameter count and the epochs chosen (`best_epoch` -1: "
             "the untrained network, i.e. about the last value or the highway, was kept). "
             "`nlinear720`, in the table above, is also the highway alone (a network's highway "
             "starts at that map). `@setting`: the same model with that setting changed.", "",
             *network_sections(tasks, "two_input_grow", NETWORK_ORDER),
             _fragment("network_0.2.md"),
             "## The first runs in the forecasting network, at Adam 2e-3 (`bench_network.py`)",
             "", "The same models and budgets as in 0.2's tables above, at the learning rate "
             "the scripts used first (`@lr=0.002`); 6e-3 replaced it.", "",
             *network_sections(tasks, "two_input_grow", NETWORK_ORDER, superseded=True),
             *archive_sections(), _fragment("archive.md")]
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> None:
    tasks = frames(RESULTS, "network")
    for path, text in ((PAGE, page(tasks, frames(RESULTS, "recipe"))),
                       (INTERVALS, intervals_page()), (M4, m4_page()),
                       (ARCHIVE, archive_page(frames(ARCHIVED, "network")))):
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
