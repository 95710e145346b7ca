"""AutoCellForecaster behaviour: search, retrain, report, reproducibility, progress, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from autoforecast.estimators import AutoCellForecaster
from autoforecast.events import ProgressEvent
from autoforecast.shell import MaxTimeWarning
from autoforecast.search import Genotype
from autoforecast.settings import SearchSettings

from conftest import make_series

SMALL = dict(lookback=8, horizon=2, hidden_size=6, epochs=3, batch_size=16, device="cpu",
             random_state=0, baselines=("naive", "linear"),
             search=SearchSettings(max_nodes=2, grow_every=1, epochs=2, n_searches=2,
                                   selection_epochs=1, n_candidates=2))


def small(**changes) -> AutoCellForecaster:
    """The small forecaster with ``changes`` (search settings as ``search__<field>``)."""
    return AutoCellForecaster(**SMALL).set_params(**changes)


@pytest.fixture(scope="module")
def data():
    return make_series(160, 3)


@pytest.fixture(scope="module")
def fitted(data):
    events = []
    est = AutoCellForecaster(**SMALL).fit(data, callback=events.append)
    return est, events


def test_fit_finds_a_cell_and_reports_skill(fitted):
    est, _ = fitted
    assert isinstance(est.genotype_, Genotype) and est.genotype_.backbone == "two_input"
    assert 1 <= len(est.genotype_.nodes) <= 2
    epochs = [r for r in est.search_history_ if r["event"] == "epoch"]
    assert {r["search"] for r in epochs} == {0, 1}
    assert max(r["n_nodes"] for r in epochs) == 2
    grows = [r for r in est.search_history_ if r["event"] == "grow"]
    assert [(r["search"], r["n_nodes"]) for r in grows] == [(0, 2), (1, 2)]
    assert len(est.search_result_.candidates) == 2 * 2  # n_searches * n_candidates
    assert list(est.report_.index) == ["autocell", "naive", "linear"]
    assert np.isfinite(est.report_[["mae", "rmse", "rse", "corr"]].to_numpy()).all()
    assert est.report_.loc["autocell", "skill_rmse"] == 0.0
    naive = est.report_.loc["naive"]
    assert naive["skill_rmse"] == pytest.approx(1 - est.report_.loc["autocell", "rmse"] / naive["rmse"])
    assert est.history_ and est.module_ is not None


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_a_neural_baseline_has_the_cells_parameter_count(fitted, data, name):
    """The report compares at equal size: the baseline's hidden size is the one whose fitted
    network has the parameter count closest to the cell's, whatever the cell's hidden size."""
    from autoforecast.cells.base import n_parameters

    est, _ = fitted
    baseline = est.baseline(name)
    h = baseline.hidden_size
    values = data.to_numpy()[:60]  # the count depends on the columns, not on the rows

    def gap(hidden):
        model = clone(baseline).set_params(hidden_size=hidden, epochs=1, validation_size=0.2)
        return abs(n_parameters(model.fit(values).module_) - n_parameters(est.module_))

    assert gap(h) <= min(gap(h - 1), gap(h + 1))
    assert baseline.epochs == est.epochs and baseline.lr == est.lr  # the same recipe


def test_candidates_are_reported_with_their_validation_losses(fitted):
    """docs/method.md, section 8: every candidate of every search, one row each; the kept one
    has the lowest validation loss after the short retraining."""
    est, _ = fitted
    table = est.candidates_
    assert list(table.columns) == ["genotype", "seed", "search_val_loss", "selection_val_loss",
                                   "kept"]
    assert table["genotype"].tolist() == [str(c.genotype) for c in est.search_result_.candidates]
    assert table["genotype"].nunique() >= 3  # 2 distinct cells a search, 2 searches
    assert table.loc[table["kept"], "genotype"].tolist() == [str(est.genotype_)]
    assert table.loc[table["kept"], "selection_val_loss"].item() == table["selection_val_loss"].min()


def test_progress_events_cover_every_stage(fitted):
    _, events = fitted
    assert all(isinstance(e, ProgressEvent) for e in events)
    stages = [e.stage for e in events]
    assert {"search", "retrain", "report"} <= set(stages)
    assert stages.index("search") < stages.index("retrain") < stages.index("report")
    assert any("grow" in e.message for e in events)


def test_same_seed_same_forecast_and_caller_rng_untouched(data, fitted):
    torch.manual_seed(123)
    np.random.seed(7)
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()
    again = AutoCellForecaster(**SMALL).fit(data)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.random.get_state()[1].tolist() == np_state[1].tolist()
    est, _ = fitted
    assert again.genotype_ == est.genotype_
    pd.testing.assert_frame_equal(again.predict(), est.predict())


def test_parallel_searches_give_the_same_result(data, fitted):
    parallel = small(n_jobs=2).fit(data)
    est, _ = fitted
    assert parallel.genotype_ == est.genotype_
    np.testing.assert_allclose(parallel.predict().to_numpy(), est.predict().to_numpy(), atol=1e-6)


@pytest.mark.parametrize("settings", [
    dict(search__backbone="darts", search__mode="grow_and_prune"),
    dict(search__strategy="random"),
    dict(refit=True, test_size=0, baselines=()),
])
def test_variants_fit_and_predict(data, settings):
    est = small(search__n_searches=1, **settings).fit(data)
    # the search's candidates, or as many sampled cells (strategy="random"), reported alike
    assert len(est.candidates_) == 2 and est.candidates_["kept"].sum() == 1
    assert est.candidates_["selection_val_loss"].notna().all()
    if settings.get("search__strategy") == "random":  # drawn, not searched: no search loss
        assert est.candidates_["search_val_loss"].isna().all() and est.search_history_ == []
    forecast = est.predict()
    assert forecast.shape == (2, 3) and np.isfinite(forecast.to_numpy()).all()
    if settings.get("test_size") == 0:
        assert est.report_ is None


def test_bad_input_fails_before_the_search(data, monkeypatch):
    import autoforecast.estimators as module

    def no_search(*args, **kwargs):
        raise AssertionError("the search must not start on bad input")

    monkeypatch.setattr(module, "run_searches", no_search)
    holes = data.copy()
    holes.iloc[5, 0] = np.nan
    with pytest.raises(ValueError, match="missing value"):
        AutoCellForecaster(**SMALL).fit(holes)
    with pytest.raises(TypeError, match="`search` must be None or a SearchSettings"):
        small(search={"backbone": "gru"}).fit(data)
    with pytest.raises(ValueError, match="`baselines` must be a tuple"):
        small(baselines=("prophet",)).fit(data)
    with pytest.raises(ValueError, match="too few"):
        AutoCellForecaster(**SMALL).fit(data.iloc[:15])


def test_max_time_caps_the_searches_and_warns(data):
    with pytest.warns(MaxTimeWarning):
        est = small(search__n_searches=3, max_time=1e-3, baselines=()).fit(data)
    cands = est.search_result_.candidates  # no new run starts once time is up: one seed's
    assert len(cands) == 2 and len({c.seed for c in cands}) == 1
    assert len([r for r in est.search_history_ if r["event"] == "epoch"]) == 1


def test_numpy_integers_are_accepted(data):
    est = small(hidden_size=np.int64(6), search__max_nodes=np.int64(2), search__n_searches=1,
                baselines=()).fit(data)
    assert est.predict().shape == (2, 3)


def test_cuda_without_cuda_is_a_clear_error(data):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="no CUDA device"):
        small(device="cuda").fit(data)


def test_clone_is_unfitted(fitted):
    est, _ = fitted
    copy = clone(est)
    assert not hasattr(copy, "genotype_")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert copy.get_params()["search__backbone"] == "two_input"


def test_interrupted_fit_leaves_no_half_fitted_model(data):
    seen = []

    def interrupt(event):
        seen.append(event)
        if event.stage == "retrain" and event.step == 1:
            raise KeyboardInterrupt

    est = AutoCellForecaster(**SMALL)
    with pytest.raises(KeyboardInterrupt):
        est.fit(data, callback=interrupt)
    assert seen[-1].stage == "interrupted" and "search finished" in seen[-1].message
    assert "retraining epoch 1 of 3" in seen[-1].message
    assert not [name for name in vars(est) if name.endswith("_")]
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        est.predict()


def test_interrupt_during_the_search_names_the_search_epoch(data):
    """Ctrl-C at the 2nd search epoch: the message says where the fit was, not "before the
    search started"."""
    seen = []

    def interrupt(event):
        seen.append(event)
        if event.stage == "search" and "val_loss" in event.data and event.step == 2:
            raise KeyboardInterrupt

    est = small(search__epochs=6, search__n_searches=1)
    with pytest.raises(KeyboardInterrupt):
        est.fit(data, callback=interrupt)
    assert seen[-1].stage == "interrupted"
    assert "search run 0, epoch 2 of 6" in seen[-1].message
    assert "before the search started" not in seen[-1].message
    assert not [name for name in vars(est) if name.endswith("_")]
    assert not [name for name in ("_callback", "_reached", "_started") if hasattr(est, name)]


def test_progress_names_the_baselines_and_the_fit_brackets_every_event(fitted):
    _, events = fitted
    assert (events[0].stage, events[0].step) == ("fit", 0)
    assert (events[-1].stage, events[-1].step) == ("fit", 1) and events[-1].data["seconds"] > 0
    baselines = next(e for e in events if e.stage == "baselines")
    assert "naive, linear" in baselines.message


def test_concurrent_predictions_match_sequential(fitted, data):
    from concurrent.futures import ThreadPoolExecutor

    est, _ = fitted
    windows = [data.iloc[i:i + 40] for i in range(0, 120, 10)]
    sequential = [est.predict(w) for w in windows]
    with ThreadPoolExecutor(4) as pool:
        concurrent = list(pool.map(est.predict, windows))
    for a, b in zip(sequential, concurrent):
        pd.testing.assert_frame_equal(a, b)


def test_a_diverging_search_is_a_clear_error(data):
    from autoforecast.training import TrainingDivergedError

    est = small(lr=1e30)  # outputs past float32: an inf loss
    with pytest.raises(TrainingDivergedError, match=r"the search \(seed \d+\) diverged"):
        est.fit(data)
    assert not hasattr(est, "genotype_")
