"""Protocols of the published benchmarks, and a results log that resumes after a cut-off.

- LSTNet exchange-rate: window 168, 60/20/20 chronological split, step ``h`` scored, RSE and
  CORR on the original scale over the test part (``../shared/data/README.md``).
- ETTh1 long horizon: train rows 0-8640, validation 8640-11520, test 11520-14400 (inputs may
  reach back), channels standardised with the training part's statistics, MSE and MAE over
  all test windows on the standardised data.

The data are read from ``$AUTOFORECAST_DATA`` or ``../shared/data`` beside the repository.

Every results row records the code it was measured with (``commit``: the git commit, with
``+changes`` when the package had uncommitted changes; ``version``: the package's) and the
behaviour it measured (``behaviour``: the short hash of the pinned fixtures, files or entries
of them, that cover its model, :func:`fixtures_for`). :func:`row_state` tells a report whether that behaviour changed
since (the fixtures' contents differ now: the row is ``stale``); rows written before the
``behaviour`` column existed are judged by their commit (:func:`code_state`).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from autoforecast import __version__, metrics
from autoforecast.datasets import ett_split, load_etth1, load_exchange_rate, lstnet_split

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def data_dir() -> Path:
    return Path(os.environ.get("AUTOFORECAST_DATA", ROOT.parent / "shared" / "data"))


MEASURED_CODE = "autoforecast"  # rows without a behaviour hash: changes here make them older
PINNED = ROOT / "tests" / "pinned"  # the fixtures tests/test_pinned.py recomputes

# The pinned fixtures whose values cover each model family's behaviour, by the start of the model
# name (before any "@setting" variant; first match wins). A fixture is a file of tests/pinned
# ("issue15_arima.json": all of it) or one entry of a JSON file ("network.json:gru";
# "carry.json:forecasters/autocell": keys joined by "/"), so that re-pinning one model stales
# its own rows only. network.json pins the recurrent forecasters in the forecasting network
# (searched two-input and DARTS cells, random cells, GRU, LSTM) as 0.2 ran them, carry.json
# the default fits with the carry path (0.3), values.json the naive and linear forecasters (and
# the searches on the planted task and the tiny language model), issue15_arima.json ARIMA; none
# for M4's own benchmark forecasts (naive2, snaive). A model matching none of them depends on
# every fixture file (a change of any pinned behaviour makes its rows stale).
BEHAVIOUR_FIXTURES = (
    # M4's Naive2 and seasonal naive (bench_m4.py) are computed by the benchmark, not by the
    # library's estimators: no pinned behaviour covers them (before "naive", which they start with)
    (("naive2", "snaive"), ()),
    # the random control (before "autocell"-like names: "random_fixed" is one of its labels)
    (("random",), ("network.json:autocell_random", "carry.json:forecasters/autocell_random",
                   "carry.json:forecasters/autocell_random_grown")),
    # the searched two-input cells: the network, and the carry path (on by default since 0.3,
    # its default fits pinned in carry.json)
    (("two_input", "autocell"), ("network.json:autocell", "network.json:autocell_refit",
                                  "carry.json:forecasters/autocell",
                                  "carry.json:forecasters/autocell_refit")),
    (("darts",), ("network.json:autocell_darts",)),
    (("gru",), ("network.json:gru",)),
    (("lstm",), ("network.json:lstm",)),
    (("naive", "seasonal_naive", "linear", "nlinear"), (
        "values.json:forecasters/naive", "values.json:forecasters/seasonal_naive",
        "values.json:forecasters/linear", "values.json:forecasters/linear_auto")),
    (("arima",), ("issue15_arima.json",)),
)
# the language model's rows (bench_lm.py: named by run, not by model)
LANGUAGE_MODEL_FIXTURES = ("values.json:language_model", "carry.json:language_model")


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@lru_cache(maxsize=1)
def current_commit() -> str:
    """The commit the package is at, ``+changes`` when it has uncommitted changes."""
    commit = _git("rev-parse", "--short=10", "HEAD") or "unknown"
    dirty = _git("status", "--porcelain", "--", MEASURED_CODE)
    return commit + ("+changes" if dirty else "")


@lru_cache(maxsize=None)
def code_state(commit: str) -> str:
    """``"current"`` when the package is as it was at ``commit``, ``"older"`` when it changed
    since, ``"unknown"`` for rows without a commit (written before commits were recorded)."""
    if not commit or commit == "nan" or commit.startswith("unknown"):
        return "unknown"
    if commit.endswith("+changes"):
        return "older" if commit != current_commit() else "current"
    same = _git("diff", "--quiet", commit, "--", MEASURED_CODE) is not None
    return "current" if same else "older"


def fixtures_for(model) -> tuple[str, ...]:
    """The pinned fixtures (files of ``tests/pinned`` or entries of them) whose values cover
    ``model``'s behaviour (``BEHAVIOUR_FIXTURES``); every fixture file for a model none of
    them covers."""
    name = "" if model is None else str(model).split("@")[0]
    for prefixes, fixtures in BEHAVIOUR_FIXTURES:
        if name and name.startswith(prefixes):
            return fixtures
    return tuple(sorted(path.name for path in PINNED.glob("*.json")))


def behaviour_hash(fixtures) -> str:
    """The short hash of the fixtures ``fixtures`` (``BEHAVIOUR_FIXTURES``' names: a file of
    ``tests/pinned``, or ``file:key/key`` one entry of a JSON file) as they are now; a missing
    file or entry hashes as missing."""
    digest = hashlib.sha256()
    for name in sorted(fixtures):
        digest.update(name.encode() + b"\0" + _fixture_bytes(name) + b"\0")
    return digest.hexdigest()[:10]


def _fixture_bytes(name: str) -> bytes:
    """A whole file's bytes (line ends as LF); an entry's JSON, keys sorted."""
    file, _, entry = name.partition(":")
    path = PINNED / file
    if not path.exists():
        return b"<missing>"
    content = path.read_bytes().replace(b"\r\n", b"\n")
    if not entry:
        return content
    value = json.loads(content)
    for key in entry.split("/"):
        if not isinstance(value, dict) or key not in value:
            return b"<missing>"
        value = value[key]
    return json.dumps(value, sort_keys=True).encode()


def _text(value) -> str:
    """A CSV cell as text: "" for a missing one (None, or NaN as pandas reads it)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


def row_state(row, fixtures=None) -> str:
    """Whether a results row measured the behaviour the package has now.

    With a ``behaviour`` hash: ``"current"`` when it equals the hash of the row's fixtures now
    (``fixtures``, or :func:`fixtures_for` of its ``model``: every fixture for a row without
    one), ``"stale"`` when they changed since. Without one (rows written before the column
    existed): the commit rule, :func:`code_state` (``"current"``, ``"older"`` or
    ``"unknown"``)."""
    behaviour = _text(row.get("behaviour"))
    if behaviour:
        fixtures = fixtures if fixtures is not None else fixtures_for(row.get("model"))
        return "current" if behaviour == behaviour_hash(fixtures) else "stale"
    return code_state(_text(row.get("commit")))


def row_states(frame, fixtures=None):
    """:func:`row_state` of every row of a DataFrame, as a list in its order."""
    return [row_state(row, fixtures) for row in frame.to_dict("records")]


class ResultLog:
    """A CSV file with one row per finished run; ``done(key)`` tells which runs can be skipped.

    Each appended row gets ``commit`` and ``version`` (the code it was measured with) and
    ``behaviour`` (:func:`behaviour_hash` of ``fixtures``, or of :func:`fixtures_for` its
    ``model`` when ``fixtures`` is None, at run time); a file written before those columns
    existed is rewritten once with them (empty for old rows)."""

    def __init__(self, path: Path, key_fields: tuple[str, ...], fixtures=None):
        self.path, self.key_fields, self.fixtures = Path(path), key_fields, fixtures
        self.rows, self.fields = self._read()

    def _read(self) -> tuple[list[dict], list[str] | None]:
        """The file's rows and columns (none when it is missing or empty). Read again before
        a header or a rewrite is written: runs started side by side share one file."""
        if not self.path.exists() or not self.path.stat().st_size:
            return [], None
        with open(self.path, newline="") as handle:
            reader = csv.DictReader(handle)
            return list(reader), reader.fieldnames

    def key(self, row: dict) -> tuple:
        return tuple(str(row[field]) for field in self.key_fields)

    def done(self, **key) -> bool:
        return self.key(key) in {self.key(row) for row in self.rows}

    def pending(self, task: str, models: list[str], seeds: list[int], deterministic=()):
        """The ``(seed, model)`` runs of ``task`` still to do, in order: a model in
        ``deterministic`` runs once, whatever the seed; rows already written are skipped."""
        for seed in seeds:
            for model in models:
                if model in deterministic and any(r["model"] == model for r in self.rows):
                    continue
                if not self.done(task=task, model=model, seed=seed):
                    yield seed, model

    def append(self, row: dict) -> None:
        fixtures = self.fixtures if self.fixtures is not None else fixtures_for(row.get("model"))
        row = {**row, "commit": current_commit(), "version": __version__,
               "behaviour": behaviour_hash(fixtures)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.fields is None:  # another run may have created the file meanwhile
            self.rows, self.fields = self._read()
        if self.fields is not None and not set(row) <= set(self.fields):
            self._rewrite(self.fields + [k for k in row if k not in self.fields])
        with open(self.path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.fields or list(row), restval="")
            if self.fields is None:
                writer.writeheader()
                self.fields = list(row)
            writer.writerow(row)
            handle.flush()
            os.fsync(handle.fileno())
        self.rows.append({k: str(v) for k, v in row.items()})

    def _rewrite(self, fields: list[str]) -> None:
        """The file again with the columns ``fields`` (new ones empty), atomically."""
        from autoforecast.files import atomic_path

        self.rows = [{f: row.get(f, "") for f in fields} for row in self._read()[0]]
        self.fields = fields
        with atomic_path(self.path, suffix=".csv") as tmp, open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(self.rows)


def exchange_rate_run(estimator, h: int, score: bool = True) -> dict:
    """Fit on train+validation, score step ``h`` on the LSTNet test part. Returns metrics and time
    (only the time with ``score=False``: a trial judged on validation alone)."""
    data = load_exchange_rate(data_dir())
    split = lstnet_split(len(data))
    estimator.set_params(horizon=h, validation_size=split.val_end - split.train_end, test_size=0)
    started = time.perf_counter()
    estimator.fit(data.iloc[: split.val_end])
    fit_s = time.perf_counter() - started
    if not score:
        return {"fit_s": round(fit_s, 1)}
    table = estimator.backtest(data, start=split.val_end - h + 1)
    last = table[table.step == h]
    truth = last.pivot(index="time", columns="target", values="truth")
    forecast = last.pivot(index="time", columns="target", values="forecast")
    assert len(truth) == len(data) - split.val_end, "the test targets must be the whole test part"
    return {"rse": metrics.rse(truth, forecast), "corr": metrics.corr(truth, forecast),
            "fit_s": round(fit_s, 1)}


def etth1_standardised():
    data = load_etth1(data_dir())
    split = ett_split()
    train = data.iloc[: split.train_end]
    return (data - train.mean()) / train.std(ddof=0), split


def etth1_run(estimator, H: int, score: bool = True) -> dict:
    """Fit on train+validation of ETTh1 (standardised), score all test windows (MSE, MAE; not
    with ``score=False``)."""
    data, split = etth1_standardised()
    estimator.set_params(horizon=H, validation_size=split.val_end - split.train_end, test_size=0)
    started = time.perf_counter()
    estimator.fit(data.iloc[: split.val_end])
    fit_s = time.perf_counter() - started
    if not score:
        return {"fit_s": round(fit_s, 1)}
    table = estimator.backtest(data.iloc[: split.test_end], start=split.val_end)
    n_windows = split.test_end - split.val_end - H + 1
    assert len(table) == n_windows * H * data.shape[1]
    truth, forecast = table["truth"].to_numpy(), table["forecast"].to_numpy()
    return {"mse": metrics.mse(truth, forecast), "mae": metrics.mae(truth, forecast),
            "windows": n_windows, "fit_s": round(fit_s, 1)}


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column, "")
            cells.append(f"{value:.4f}" if isinstance(value, float) else str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def mean_over_seeds(rows, keys, value):
    groups = {}
    for row in rows:
        groups.setdefault(tuple(row[k] for k in keys), []).append(float(row[value]))
    return {k: (float(np.mean(v)), float(np.std(v)), len(v)) for k, v in groups.items()}


def appliances_hourly():
    """UCI Appliances (shipped), 10-minute rows averaged to hours: 3290 x 28."""
    from autoforecast.datasets import load_appliances

    return load_appliances().resample("h").mean()


def holdout_run(estimator, frame, horizon: int, target, fractions=(0.6, 0.2, 0.2),
                score: bool = True) -> dict:
    """Chronological 60/20/20 split; fit on train+validation, score every test window and step
    (all targets pooled) with MAE, RMSE, RSE and CORR on the original scale. Only observed truth
    is scored: where the frame has a gap (filled by the estimator's ``missing`` rule), the
    filled value is no truth; ``scored`` and ``unscored`` count the points."""
    n = len(frame)
    train_end = int(n * fractions[0])
    val_end = train_end + int(n * fractions[1])
    estimator.set_params(horizon=horizon, target=target, validation_size=val_end - train_end,
                         test_size=0)
    started = time.perf_counter()
    estimator.fit(frame.iloc[:val_end])
    fit_s = time.perf_counter() - started
    if not score:  # a trial judged on validation alone
        return {"fit_s": round(fit_s, 1)}
    table = estimator.backtest(frame, start=val_end)
    observed = np.ones(len(table), dtype=bool)
    for name in table["target"].unique():
        rows = (table["target"] == name).to_numpy()
        observed[rows] = frame[name].reindex(table.loc[rows, "time"]).notna().to_numpy()
    truth = table["truth"].to_numpy()[observed].reshape(-1, 1)
    forecast = table["forecast"].to_numpy()[observed].reshape(-1, 1)
    return {"mae": metrics.mae(truth, forecast), "rmse": metrics.rmse(truth, forecast),
            "rse": metrics.rse(truth, forecast), "corr": metrics.corr(truth, forecast),
            "fit_s": round(fit_s, 1), "scored": int(observed.sum()),
            "unscored": int((~observed).sum())}
