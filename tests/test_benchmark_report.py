"""The staleness rule of the benchmark results (``benchmarks/common.py``) and the shape of the
page ``benchmarks/report.py`` writes: a row is stale when the pinned fixtures covering its model
changed since it ran, not when any file changed. Offline, no model is run."""

import csv
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from conftest import load_benchmark

ROOT = Path(__file__).resolve().parents[1]




@pytest.fixture(scope="module")
def common():
    return load_benchmark("common")


@pytest.fixture
def pinned(common, tmp_path, monkeypatch):
    """A fixtures folder of four files, standing in for tests/pinned: network.json with one
    entry a recurrent model, carry.json and values.json with entries under "forecasters"."""
    entries = {"autocell": 1, "autocell_refit": 2, "autocell_random": 3, "autocell_darts": 4,
               "gru": 5, "lstm": 6}
    (tmp_path / "network.json").write_text(json.dumps(entries) + "\n")
    (tmp_path / "carry.json").write_text(json.dumps(
        {"forecasters": {"autocell": 1, "autocell_random": 2}, "language_model": 3}) + "\n")
    (tmp_path / "values.json").write_text(json.dumps(
        {"forecasters": {"naive": 1, "linear": 2, "autocell_random": 3}, "language_model": 4}))
    (tmp_path / "issue15_arima.json").write_text('{"issue15_arima.json": 1}\n')
    monkeypatch.setattr(common, "PINNED", tmp_path)
    return tmp_path


def repin(pinned, file, *keys, value="re-pinned"):
    """Change one entry of a fixture file, as re-pinning one model does."""
    content = json.loads((pinned / file).read_text())
    inner = content
    for key in keys[:-1]:
        inner = inner[key]
    inner[keys[-1]] = value
    (pinned / file).write_text(json.dumps(content) + "\n")


def test_each_model_family_maps_to_the_fixtures_that_pin_it(common, pinned):
    searched = ("network.json:autocell", "network.json:autocell_refit",
                "carry.json:forecasters/autocell", "carry.json:forecasters/autocell_refit")
    for model in ("two_input_grow", "two_input_grow@lr=0.002", "autocell@lr=0.001", "autocell"):
        assert common.fixtures_for(model) == searched, model
    for model in ("random", "random_fixed", "random@seed=1"):
        assert common.fixtures_for(model) == ("network.json:autocell_random",
                                              "carry.json:forecasters/autocell_random",
                                              "carry.json:forecasters/autocell_random_grown"), model
    for model, entry in (("darts", "autocell_darts"), ("darts_fixed", "autocell_darts"),
                         ("gru_nocov", "gru"), ("gru_gate", "gru"), ("lstm", "lstm")):
        assert common.fixtures_for(model) == (f"network.json:{entry}",), model
    for model in ("naive", "linear336", "nlinear720", "linear", "seasonal_naive"):
        assert common.fixtures_for(model)[0] == "values.json:forecasters/naive", model
    for model in ("arima", "arima_conformal"):
        assert common.fixtures_for(model) == ("issue15_arima.json",), model
    assert common.fixtures_for("naive2") == common.fixtures_for("snaive") == ()
    every = ("carry.json", "issue15_arima.json", "network.json", "values.json")
    assert common.fixtures_for("statsforecast") == every  # unknown: every fixture file
    assert common.fixtures_for(None) == every


def test_the_hash_follows_the_contents_of_its_fixtures_only(common, pinned):
    before = common.behaviour_hash(("network.json",))
    assert len(before) == 10 and before == common.behaviour_hash(["network.json"])
    (pinned / "values.json").write_text('{"other": 2}\n')
    assert common.behaviour_hash(("network.json",)) == before
    (pinned / "network.json").write_text('{"network.json": 2}\n')
    changed = common.behaviour_hash(("network.json",))
    assert changed != before
    path = pinned / "network.json"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))  # a checkout with CRLF
    assert common.behaviour_hash(("network.json",)) == changed


def test_an_entry_hash_follows_that_entry_only(common, pinned):
    gru, random = ("network.json:gru",), ("carry.json:forecasters/autocell_random",)
    before = common.behaviour_hash(gru), common.behaviour_hash(random)
    assert before[0] != before[1] and before[0] != common.behaviour_hash(("network.json",))
    repin(pinned, "network.json", "lstm")
    repin(pinned, "carry.json", "forecasters", "autocell")
    assert (common.behaviour_hash(gru), common.behaviour_hash(random)) == before
    (pinned / "network.json").write_text(json.dumps(json.loads(
        (pinned / "network.json").read_text()), indent=4))  # the same values, spaced otherwise
    assert common.behaviour_hash(gru) == before[0]
    repin(pinned, "carry.json", "forecasters", "autocell_random")
    assert common.behaviour_hash(random) != before[1]
    missing = common.behaviour_hash(("network.json:none",))
    assert missing == common.behaviour_hash(("network.json:none",))
    assert missing != common.behaviour_hash(("network.json:gru/deeper",))  # named apart


def test_a_row_is_stale_when_its_own_fixtures_changed_not_others(common, pinned):
    models = ("gru", "two_input_grow@epochs=20", "random", "naive", "arima")
    rows = [{"model": m, "commit": "abc", "behaviour": common.behaviour_hash(
        common.fixtures_for(m))} for m in models]
    assert [common.row_state(r) for r in rows] == ["current"] * 5
    repin(pinned, "network.json", "autocell_random")  # the random control re-pinned
    repin(pinned, "values.json", "forecasters", "autocell_random")
    assert [common.row_state(r) for r in rows] == ["current", "current", "stale", "current",
                                                   "current"]
    repin(pinned, "network.json", "gru")
    assert common.row_states(pd.DataFrame(rows)) == ["stale", "current", "stale", "current",
                                                     "current"]
    lm = {"run": "autocell", "commit": "abc",
          "behaviour": common.behaviour_hash(common.LANGUAGE_MODEL_FIXTURES)}
    assert common.row_state(lm, common.LANGUAGE_MODEL_FIXTURES) == "current"
    assert common.row_state(lm) == "stale"  # by every fixture file, which changed
    repin(pinned, "carry.json", "language_model")
    assert common.row_states(pd.DataFrame([lm]), common.LANGUAGE_MODEL_FIXTURES) == ["stale"]


def test_rows_without_a_hash_fall_back_to_the_commit_rule(common, pinned, monkeypatch):
    assert common.row_state({"model": "gru", "commit": "", "behaviour": ""}) == "unknown"
    assert common.row_state({"model": "gru", "commit": math.nan, "behaviour": math.nan}) == "unknown"
    monkeypatch.setattr(common, "code_state", lambda commit: f"by commit {commit}")
    assert common.row_state({"model": "gru", "commit": "abc"}) == "by commit abc"
    frame = pd.DataFrame({"model": ["gru"], "commit": ["abc"], "behaviour": [math.nan]})
    assert common.row_states(frame) == ["by commit abc"]


def test_the_log_adds_the_behaviour_column_and_leaves_old_rows_empty(common, pinned, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setattr(common, "current_commit", lambda: "abc1234567+changes")
    path = tmp_path / "results" / "network_x.csv"
    path.parent.mkdir()
    path.write_text("task,model,seed,mse,commit,version\nx,gru,0,0.5,0123456789,0.2.0\n")
    log = common.ResultLog(path, ("task", "model", "seed"))
    log.append({"task": "x", "model": "gru", "seed": 1, "mse": 0.4})
    log.append({"task": "x", "model": "naive", "seed": 0, "mse": 1.3})
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        rows, fields = list(reader), reader.fieldnames
    assert fields == ["task", "model", "seed", "mse", "commit", "version", "behaviour"]
    assert rows[0]["commit"] == "0123456789" and rows[0]["behaviour"] == ""  # none invented
    assert rows[1]["commit"] == "abc1234567+changes"
    assert rows[1]["behaviour"] == common.behaviour_hash(("network.json:gru",))
    assert rows[2]["behaviour"] == common.behaviour_hash(common.fixtures_for("naive"))
    other = common.ResultLog(tmp_path / "results" / "lm.csv", ("run",),
                             fixtures=common.LANGUAGE_MODEL_FIXTURES)
    other.append({"run": "autocell"})
    assert other.rows[-1]["behaviour"] == common.behaviour_hash(common.LANGUAGE_MODEL_FIXTURES)


def test_the_generated_page_opens_with_one_table_and_stays_short():
    text = (ROOT / "docs" / "benchmarks.md").read_text()
    lines = text.splitlines()
    assert len(lines) < 300
    first_table = next(i for i, line in enumerate(lines) if line.startswith("|"))
    end = next(i for i in range(first_table, len(lines)) if not lines[i].startswith("|"))
    assert end <= 40  # the whole opening table within the first 40 lines
    header = [cell.strip() for cell in lines[first_table].strip("|").split("|")]
    assert {"task", "autocell", "random", "gru", "lstm", "best linear", "last value", "commit",
            "code", "published anchor", "target", "met?"} <= set(header)
    assert "(benchmarks_archive.md)" in text and "`stale`" in text
    assert (ROOT / "docs" / "benchmarks_archive.md").exists()


@pytest.fixture(scope="module")
def report():
    return load_benchmark("report")


def _rows(*runs):
    """Network rows from ``(model, seed, error, commit)``, the error as MSE and RSE."""
    return pd.DataFrame([{"task": "etth1_96", "model": m, "seed": s, "mse": v, "rse": v,
                          "commit": c, "code": "current"} for m, s, v, c in runs])


def test_autocell_random_and_gru_count_at_the_last_autocell_rows_commit(report):
    rows = _rows(("autocell", 0, 0.36, "old"), ("gru", 0, 0.37, "old"), ("lstm", 0, 0.38, "old"),
                 ("autocell", 0, 0.35, "new"), ("gru", 0, 0.36, "new"))
    counted, apart = report.at_last_commit(rows)
    assert list(counted.model) == ["lstm", "autocell", "gru"]
    assert list(counted.commit) == ["old", "new", "new"]
    assert list(apart.model) == ["autocell", "gru"]
    counted, apart = report.at_last_commit(rows[rows.model != "autocell"])
    assert len(counted) == 3 and apart.empty  # no autocell row: nothing set apart
    split = {task: report.at_last_commit(rows if task == "etth1_96" else report.EMPTY)
             for task in report.TARGETS}
    table = "\n".join(report.issue22_table(split))
    assert "| 0.35 (1) ⚠ 1 at other commits, not counted |" in table
    assert "yes, -2.78 % vs gru" in table and "not run yet" in table


def test_the_targets_and_the_search_against_sampling_are_computed_from_the_rows(report):
    rows = _rows(("autocell", 0, 0.40, "c"), ("autocell", 1, 0.42, "c"), ("random", 0, 0.44, "c"),
                 ("random", 1, 0.45, "c"), ("gru", 0, 0.39, "c"), ("naive", 0, 0.43, "c"))
    assert report.met(rows, "etth1_96", "mse") == "no, +5.13 % vs gru"
    assert report.met(rows, "exchange3", "rse") == "yes, -4.65 % vs naive"
    assert report.met(rows, "appliances", "rse") == "no, +5.13 % vs gru"  # the best other row
    assert report.met(rows[rows.model != "naive"], "exchange3", "rse") == "not run yet"
    # random's mean 0.445 is below autocell's 0.41 by more than the larger std (0.0141)
    text = "\n".join(report.sampling({task: (rows, rows.iloc[:0]) for task in report.TARGETS}))
    assert text.count("| yes |") == 6 and "**met**" in text
    error = [0.40, 0.42, 0.42, 0.425, 0.39, 0.43]  # random 0.4225: within that std
    close = rows.assign(mse=error, rse=error)
    text = "\n".join(report.sampling({task: (close, rows.iloc[:0]) for task in report.TARGETS}))
    assert text.count("| no |") == 6 and "**not met**" in text


def test_the_m4_section_averages_seeds_keeps_trials_apart_and_judges_the_targets(report):
    rows = pd.DataFrame([
        {"model": m, "seed": s, "smape": sm, "mase": ms, "owa": o, "fit_s": f, "commit": c,
         "n_series": n, "code": "current"}
        for m, s, sm, ms, o, f, c, n in [
            ("naive2", 0, 18.38, 2.395, 1.0, 0.2, "aaa", 414),
            ("snaive", 0, 13.91, 1.193, 0.63, 0.0, "aaa", 414),
            ("arima", 0, 12.0, 1.0, 0.55, 900.0, "bbb", 414),
            ("autocell", 0, 10.0, 0.9, 0.43, 1000.0, "ccc", 414),
            ("autocell", 1, 10.4, 0.9, 0.45, 1300.0, "ccc", 414),
            ("autocell_first20", 0, 5.9, 1.1, 1.04, 34.5, "ddd", 20),
            ("gru@max60", 0, 9.0, 1.0, 0.9, 60.0, "ddd", 414)]])
    summary = report.m4_summary(rows)
    assert list(summary.index) == ["autocell", "arima", "snaive", "naive2"]  # no trial row
    assert summary.loc["autocell", "owa"] == pytest.approx(0.44)
    assert summary.loc["autocell", "seeds"] == 2 and summary.loc["autocell", "commit"] == "ccc"
    text = "\n".join(report.m4_section(rows))
    assert "| autocell | 10.200 | 0.900 | 0.440 | 1150 | 2 | ccc | current |" in text
    assert "| winner (Smyl's ES-RNN) | 9.328 | 0.893 | 0.440 |" in text
    assert "| OWA below the winner's 0.440 | 0.440 | no, +0.000 vs 0.440 |" in text
    assert "yes, -0.190 vs snaive 0.630" in text and "yes, -0.110 vs arima 0.550" in text
    assert "no, 21.7 of 20 min" in text  # the slowest seed, 1300 s
    assert "`autocell_first20` OWA 1.040 on 20 series" in text and "`gru@max60`" in text
    table = text[text.index("| model |"):text.index("The published rows")]
    assert "first20" not in table and "@" not in table
    empty = "\n".join(report.m4_section(rows[rows.model.isin(["naive2", "snaive"])]))
    assert empty.count("not run yet") >= 8


def test_the_m4_page_is_linked_from_the_main_page_in_one_line(report):
    """The pages as report.py writes them (not the committed files, which may lag the code)."""
    lines = report.page({}, {}).splitlines()
    assert len([line for line in lines if "(benchmarks_m4.md)" in line]) == 1
    page = report.m4_page()
    assert "| published entry |" in page and "| target | autocell | met? |" in page
