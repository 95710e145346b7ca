"""The forecaster contract (docs/api.md), run against every forecaster in the project."""

from __future__ import annotations

import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from forecasters import small_forecasters, tiny_forecasters

ORDER_DEPENDENT = {
    "check_methods_subset_invariance": "a forecast depends on the set of rows in its window",
    "check_methods_sample_order_invariance": "a forecast depends on the order of the rows",
}


def test_every_registered_forecaster_is_under_contract():
    """A forecaster added to the registry must be added to tests/forecasters.py too."""
    import autoforecast
    from autoforecast.models import MODELS, model_names

    registered = {MODELS[name].class_name for name in model_names()}
    assert {type(e).__name__ for e in tiny_forecasters()} == registered
    assert {type(e).__name__ for e in small_forecasters()} == registered
    assert all(getattr(autoforecast, name) is MODELS[m].load()
               for m in model_names() for name in [MODELS[m].class_name])


@parametrize_with_checks(tiny_forecasters(), expected_failed_checks=lambda est: ORDER_DEPENDENT)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _ids(estimators):
    return [type(e).__name__ for e in estimators]


FORECASTERS = small_forecasters()


@pytest.mark.parametrize("est", FORECASTERS, ids=_ids(FORECASTERS))
def test_clone_keeps_params(est):
    copy = clone(est)
    assert copy.get_params() == est.get_params()
    assert not hasattr(copy, "scaler_")


@pytest.mark.parametrize("est", FORECASTERS, ids=_ids(FORECASTERS))
def test_predict_shapes_and_indexes(est, series):
    est = clone(est).fit(series)
    h = est.horizon
    forecast = est.predict()
    assert isinstance(forecast, pd.DataFrame)
    assert forecast.shape == (h, series.shape[1])
    assert list(forecast.columns) == list(series.columns)
    expected = pd.date_range(series.index[-1], periods=h + 1, freq="h")[1:]
    pd.testing.assert_index_equal(forecast.index, expected, check_names=False)
    recent = series.iloc[:60]
    forecast_x = est.predict(recent)
    assert forecast_x.index[0] == series.index[60]
    with pytest.warns(UserWarning, match="feature names"):
        array_forecast = est.predict(recent.to_numpy())
    assert isinstance(array_forecast, np.ndarray) and array_forecast.shape == (h, series.shape[1])
    np.testing.assert_allclose(array_forecast, forecast_x.to_numpy())
    assert np.isfinite(forecast.to_numpy()).all()


@pytest.mark.parametrize("est", FORECASTERS, ids=_ids(FORECASTERS))
def test_target_subset_by_name_and_range_index(est, series):
    est = clone(est).set_params(target=["s2"]).fit(series.reset_index(drop=True))
    forecast = est.predict()
    assert list(forecast.columns) == ["s2"]
    assert list(forecast.index) == list(range(len(series), len(series) + est.horizon))


@pytest.mark.parametrize("est", FORECASTERS, ids=_ids(FORECASTERS))
def test_pipeline_cross_validation_and_grid_search(est, series):
    pipe = make_pipeline(StandardScaler().set_output(transform="pandas"), clone(est))
    scores = cross_val_score(pipe, series, cv=TimeSeriesSplit(n_splits=2), error_score="raise")
    assert np.isfinite(scores).all()
    scores = cross_val_score(clone(est), series, cv=TimeSeriesSplit(n_splits=2),
                             error_score="raise")
    assert np.isfinite(scores).all()
    name = type(est).__name__.lower()
    grid = GridSearchCV(pipe, {f"{name}__horizon": [1, 2]}, cv=TimeSeriesSplit(n_splits=2),
                        error_score="raise").fit(series)
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    assert grid.predict(series).shape[0] == grid.best_params_[f"{name}__horizon"]


@pytest.mark.parametrize("est", FORECASTERS, ids=_ids(FORECASTERS))
def test_backtest_long_table(est, series):
    est = clone(est).fit(series.iloc[:80])
    table = est.backtest(series, start=100)
    n_origins = len(series) - 100 - est.horizon + 1
    assert len(table) == n_origins * est.horizon * series.shape[1]
    assert list(table.columns) == ["origin", "step", "time", "target", "truth", "forecast"]
    assert table["time"].min() == series.index[100]
    first = table[(table.step == 1) & (table.target == "s0")]
    np.testing.assert_allclose(first["truth"], series["s0"].iloc[100:100 + n_origins])


@pytest.mark.parametrize("est", FORECASTERS, ids=_ids(FORECASTERS))
def test_predict_at_many_origins_equals_predict_on_each_history(est, series):
    est = clone(est).fit(series.iloc[:80])
    origins = [est.lookback_ + 3, 97, len(series)]
    many = est.predict_at(series, origins)
    assert many.shape == (3, est.horizon, series.shape[1])
    for forecast, t in zip(many, origins):
        # float32 networks: a batch of 3 windows and a batch of 1 may round differently
        np.testing.assert_allclose(forecast, est.predict(series.iloc[:t]).to_numpy(), atol=1e-6)
    with pytest.raises(ValueError, match=r"`origins` must lie in \[lookback_="):
        est.predict_at(series, [len(series) + 1])
    with pytest.raises(ValueError, match="1-D sequence of int row positions"):
        est.predict_at(series, [2.5])


@pytest.mark.parametrize("est", FORECASTERS, ids=_ids(FORECASTERS))
def test_joblib_round_trip_in_fresh_process(est, series, tmp_path):
    est = clone(est).fit(series)
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    np.save(tmp_path / "expected.npy", est.predict().to_numpy())
    code = (
        "import joblib, numpy as np, sys; est = joblib.load(sys.argv[1]); "
        "np.testing.assert_array_equal(est.predict().to_numpy(), np.load(sys.argv[2]))"
    )
    subprocess.run([sys.executable, "-c", code, str(path), str(tmp_path / "expected.npy")],
                   check=True)


@pytest.mark.parametrize("est", FORECASTERS, ids=_ids(FORECASTERS))
def test_fit_reports_progress_to_a_callback_and_keeps_no_temporary_state(est, series):
    events = []
    fitted = clone(est).fit(series, callback=events.append)
    name = type(est).__name__
    assert [(e.stage, e.step, e.message) for e in (events[0], events[-1])] == [
        ("fit", 0, f"fitting {name}"), ("fit", 1, f"{name} fitted")]
    assert not [a for a in ("_callback", "_started", "_reached", "_capped") if hasattr(fitted, a)]


@pytest.mark.parametrize("est", FORECASTERS[:3], ids=_ids(FORECASTERS[:3]))
def test_ctrl_c_in_any_fit_leaves_it_unfitted_and_says_so(est, series):
    seen = []

    def interrupt(event):
        seen.append(event)
        if event.stage == "fit" and event.step == 1:
            raise KeyboardInterrupt

    est = clone(est)
    with pytest.raises(KeyboardInterrupt):
        est.fit(series, callback=interrupt)
    assert seen[-1].stage == "interrupted" and "left unfitted" in seen[-1].message
    assert not [name for name in vars(est) if name.endswith("_")]
