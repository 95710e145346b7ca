"""normalization="auto": the instance normalisation chosen per fit from the training part alone
(autoforecast/normalization_choice.py, docs/method.md section 7)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from autoforecast import (AutoCellForecaster, GRUForecaster, LinearForecaster, LSTMForecaster,
                          SearchSettings, load, save)
from autoforecast.cells.segments import SegmentConfig, SegmentNet, TorchRNN
from autoforecast.data.splits import PanelSplit, resolve_split
from autoforecast.normalization_choice import inner_origins, inner_split, max_samples
from autoforecast.settings import NORMALIZATIONS

SPLITS = dict(normalization="auto", validation_size=0.2, test_size=0.2)
GRU = dict(lookback=12, horizon=4, hidden_size=4, epochs=1, batch_size=32, device="cpu",
           random_state=0, **SPLITS)


def level_shifts(seed: int = 0, n: int = 500) -> np.ndarray:
    """Two series jumping between two levels 10 apart (flat stretches of 10-29 steps, noise
    0.1), both levels 30 higher from row 240 on: a forecast must follow the last level."""
    rng = np.random.default_rng(seed)
    columns = []
    for _ in range(2):
        level = np.repeat(np.arange(n) % 2, rng.integers(10, 30, size=n))[:n] * 10.0
        level[240:] += 30
        columns.append(level + 0.1 * rng.normal(size=n))
    return np.stack(columns, axis=1)


def stationary(seed: int = 0, n: int = 400) -> np.ndarray:
    """White noise around 1000: the best forecast is the mean, which a window's last value or
    its own mean estimate far worse than a map with an intercept."""
    return 1000 + np.random.default_rng(seed).normal(size=(n, 2))


# ------------------------------------------------------------------------------ the rule
def test_level_shifts_choose_last_and_stationary_noise_does_not():
    shifts = LinearForecaster(lookback=12, horizon=4, **SPLITS).fit(level_shifts())
    assert shifts.normalization_ == "last"
    scores = shifts.normalization_scores_
    assert scores["last"] * 5 < min(scores["revin"], scores["none"])  # a clear choice
    noise = LinearForecaster(lookback=4, horizon=2, **SPLITS).fit(stationary())
    assert noise.normalization_ in ("revin", "none")
    assert min(noise.normalization_scores_.values()) * 1.1 < noise.normalization_scores_["last"]


def test_long_data_fit_evenly_spaced_windows_and_choose_the_same(monkeypatch):
    every = LinearForecaster(lookback=12, horizon=4, **SPLITS).fit(level_shifts())
    monkeypatch.setattr("autoforecast.normalization_choice.CHOICE_WORK", 120 * 13 ** 2)
    assert max_samples(12) == 130  # 65 windows of the 2 series
    fewer = LinearForecaster(lookback=12, horizon=4, **SPLITS).fit(level_shifts())
    assert fewer.normalization_ == every.normalization_ == "last"
    assert fewer.normalization_scores_ != every.normalization_scores_


def test_the_inner_validation_is_the_last_fifth_of_the_training_windows_after_a_gap():
    fit, val = inner_split(np.arange(10, 60), horizon=3)
    assert val.tolist() == list(range(50, 60))  # 10 of 50 windows
    assert fit.tolist() == list(range(10, 48))  # targets end (row 47 + 2) before row 50
    with pytest.raises(ValueError, match=r'normalization="auto" needs training windows.*'
                                         r'"last"'):
        LinearForecaster(lookback=4, horizon=3, normalization="auto").fit(stationary(n=9))


def test_on_a_long_frame_each_series_is_split_on_its_own():
    """The inner validation is the last fifth of each series' training windows, not the last
    fifth of all of them (the last series in id order)."""
    lengths = (60, 40, 50)
    split = PanelSplit(tuple(np.r_[0, np.cumsum(lengths)]),
                       tuple(resolve_split(n, 4, 3, 0.2, 0.2) for n in lengths))
    fit, val = inner_origins(split, 4, 3)
    for start, part in zip(np.r_[0, np.cumsum(lengths)], split.splits):
        f, v = inner_split(part.origins("train", 4, 3) + start, 3)
        assert set(f) <= set(fit) and set(v) <= set(val) and len(v)
    assert len(fit) + len(val) < len(split.origins("train", 4, 3))  # gaps in each series
    # on an estimator: shifts in two series, noise in the last one; the first two count too
    rows = [pd.DataFrame({"unique_id": key, "ds": np.arange(500), "y": values})
            for key, values in (("a", level_shifts(0)[:, 0]), ("b", level_shifts(1)[:, 0]),
                                ("z", stationary(0, n=500)[:, 0]))]
    est = LinearForecaster(lookback=12, horizon=4, **SPLITS).fit(pd.concat(rows))
    assert est.normalization_ == "last"


@pytest.mark.parametrize("make", [
    lambda: LinearForecaster(lookback=12, horizon=4, **SPLITS),
    lambda: GRUForecaster(**GRU),
])
def test_the_choice_reads_no_row_of_the_validation_or_test_part(make):
    values = level_shifts()
    est = make().fit(values)
    end = est.split_.train_end
    wild = values.copy()
    wild[end:] = 1e4 * np.random.default_rng(1).normal(size=wild[end:].shape)
    other = make().fit(wild)
    assert (other.normalization_, other.normalization_scores_) == (
        est.normalization_, est.normalization_scores_)
    # the same rows as training rows change the choice: the check above can fail
    leaky = make().set_params(validation_size=0.0, test_size=0.0).fit(wild[: end + 100])
    assert leaky.normalization_scores_ != est.normalization_scores_


# ---------------------------------------------------------------------- estimator surface
@pytest.mark.parametrize("cls", [AutoCellForecaster, GRUForecaster, LSTMForecaster,
                                 LinearForecaster])
def test_auto_is_a_choice_and_the_defaults_stay_0_2s(cls):
    """"auto" did not beat "last" on the validation parts of four data sets (docs/benchmarks.md),
    so the defaults stay 0.2's: "last" for the network, "none" for the linear map."""
    assert "auto" in NORMALIZATIONS
    assert cls().normalization == ("none" if cls is LinearForecaster else "last")


def test_the_choice_is_a_fitted_attribute_and_the_parameter_stays():
    est = GRUForecaster(**GRU).fit(level_shifts())
    assert est.normalization == "auto" and est.normalization_ == "last"
    assert est.module_.config.normalization == "last"
    copy = clone(est)
    assert copy.get_params() == est.get_params() and not hasattr(copy, "normalization_")
    fixed = GRUForecaster(**(GRU | dict(normalization="revin"))).fit(level_shifts())
    assert fixed.normalization_ == "revin" and fixed.normalization_scores_ is None


def test_the_searched_cell_and_its_baselines_use_the_chosen_one():
    events = []
    est = AutoCellForecaster(
        **(GRU | dict(epochs=1)), baselines=("linear",),
        search=SearchSettings(max_nodes=2, grow_every=1, epochs=1, n_searches=1))
    est.fit(level_shifts(), callback=events.append)
    assert est.normalization_ == "last" and est.module_.config.normalization == "last"
    assert est.baselines_["linear"].normalization == "last"
    retrain = next(e for e in events if e.stage == "retrain")
    assert "normalisation last (auto)" in retrain.message
    assert retrain.data["normalization"] == "last"


@pytest.mark.parametrize("cls", [GRUForecaster, LinearForecaster])
def test_a_bad_value_names_the_choices(cls):
    with pytest.raises(ValueError, match=r"`normalization` must be one of \('auto', 'last', "
                                         r"'revin', 'none'\), got 'batch'"):
        cls(lookback=12, horizon=4, normalization="batch").fit(level_shifts())


def test_the_network_takes_a_resolved_normalisation_only():
    config = SegmentConfig(lookback=4, horizon=2, segment=2, targets=(0,), covariates=(),
                           normalization="auto", hidden_size=4)
    with pytest.raises(ValueError, match=r"one of \('last', 'revin', 'none'\), got 'auto'.*"
                                         r"normalization_"):
        SegmentNet(TorchRNN("gru", 4, 4), config)


# --------------------------------------------------------------------------- saved models
@pytest.mark.parametrize("suffix", ["joblib", "afm"])
def test_save_and_load_keep_the_choice_and_the_forecasts(tmp_path, suffix):
    frame = pd.DataFrame(stationary(), index=pd.date_range("2021-01-01", periods=400, freq="h"))
    est = GRUForecaster(**(GRU | dict(lookback=4, horizon=2))).fit(frame)
    assert est.normalization_ == "none"  # not the old default "last": a lost choice would show
    path = save(est, tmp_path / f"gru.{suffix}")
    loaded = load(path)
    assert (loaded.normalization, loaded.normalization_) == ("auto", "none")
    assert loaded.normalization_scores_ == est.normalization_scores_
    assert loaded.module_.config.normalization == "none"
    np.testing.assert_array_equal(loaded.predict().to_numpy(), est.predict().to_numpy())


def _without(est, *names):
    """``est`` as a file saved before these attributes and parameters existed would load."""
    state = pickle.loads(pickle.dumps(est)).__getstate__()
    for name in names:
        del state[name]
    old = type(est).__new__(type(est))
    old.__setstate__(state)
    return old


def test_models_saved_before_the_choice_existed_load_and_forecast_the_same():
    values = stationary()
    gru = GRUForecaster(**(GRU | dict(lookback=4, horizon=2, normalization="revin"))).fit(values)
    old = _without(gru, "normalization_", "normalization_scores_")
    assert not hasattr(old, "normalization_") and old._normalization() == "revin"
    np.testing.assert_array_equal(old.predict(), gru.predict())
    linear = LinearForecaster(lookback=4, horizon=2, normalization="last").fit(values)
    np.testing.assert_array_equal(_without(linear, "normalization_").predict(), linear.predict())
    # 0.1's LinearForecaster had no `normalization`: loading fills in today's default, "none",
    # and the map is applied as 0.1 fitted it, on plain windows
    plain = LinearForecaster(lookback=4, horizon=2, normalization="none").fit(values)
    old = _without(plain, "normalization_", "normalization")
    assert old.normalization == "none" and old._normalization() == "none"
    np.testing.assert_array_equal(old.predict(), plain.predict())
