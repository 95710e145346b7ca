"""The forecasting network (docs/method.md, sec. 7; cells/segments.py) and the forecasters that train it:
the properties the design promises, on fitted models; shapes; growth and the fused kernels
inside the network; the settings resolved from the data."""

import numpy as np
import pandas as pd
import pytest
import torch

from autoforecast import AutoCellForecaster, GRUForecaster, LSTMForecaster
from autoforecast.cells.segments import SegmentConfig, SegmentNet, TorchRNN
from autoforecast.search import Genotype, SuperNet, TwoInputNode, build_encoder
from autoforecast.settings import SearchSettings
from conftest import make_series

TORCH = dict(epochs=3, batch_size=16, lr=1e-2, device="cpu", random_state=0,
             validation_size=0.2)
CELL = Genotype("two_input", (TwoInputNode("hadamard", "x"), TwoInputNode("gate", "skip")))




def gru(**kw):
    return GRUForecaster(**{"lookback": 20, "horizon": 7, "hidden_size": 8,
                            "segment_length": 6, **TORCH, **kw})


@pytest.fixture(scope="module")
def series():
    return make_series(300, 3)


# ----------------------------------------------------------------------------- properties
@pytest.mark.parametrize("normalization", ["last", "revin", "none"])
def test_without_covariates_a_series_forecast_ignores_the_other_series(series, normalization):
    est = gru(normalization=normalization).fit(series)
    changed = series.copy()
    changed[["s1", "s2"]] = np.random.default_rng(1).normal(size=(len(series), 2)) * 5
    np.testing.assert_allclose(est.predict(changed)["s0"], est.predict(series)["s0"], atol=1e-6)
    assert not np.allclose(est.predict(changed)["s1"], est.predict(series)["s1"])


@pytest.mark.parametrize("normalization", ["last", "revin"])
def test_a_constant_added_to_one_window_shifts_that_forecast_alone(series, normalization):
    est = gru(normalization=normalization).fit(series)
    assert est.best_epoch_ >= 0  # a trained network, not only the normalisation's forecast
    shifted = series.copy()
    shifted["s1"] += 3.5
    before, after = est.predict(series), est.predict(shifted)
    np.testing.assert_allclose(after["s1"], before["s1"] + 3.5, atol=1e-4)
    np.testing.assert_allclose(after[["s0", "s2"]], before[["s0", "s2"]], atol=1e-6)


def test_covariates_are_read_unless_switched_off(series):
    with_covs = gru(target=["s0"]).fit(series)
    assert with_covs.covariate_idx_ == [1, 2]
    changed = series.copy()
    changed["s2"] *= -3
    assert not np.allclose(with_covs.predict(changed), with_covs.predict(series))
    without = gru(target=["s0"], covariates="none").fit(series)
    assert without.covariate_idx_ == []
    np.testing.assert_allclose(without.predict(changed), without.predict(series), atol=1e-6)
    others = gru(target=["s0", "s1"], covariates="all").fit(series)
    assert others.module_.config.n_covariates == 2  # s2, and the other target


# ---------------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("lookback, horizon, segment", [
    (24, 12, 6), (20, 7, 6), (4, 5, 6), (1, 1, 6), (30, 30, 30)])
def test_shapes_for_any_lookback_and_horizon(lookback, horizon, segment):
    config = SegmentConfig(lookback, horizon, segment, targets=(0, 2), covariates=(1,),
                           hidden_size=6)
    for encoder in (TorchRNN("gru", 6, 6), TorchRNN("lstm", 6, 6, num_layers=2),
                    build_encoder(CELL, 6, 6), SuperNet(6, 6, "darts", 2, 3)):
        net = SegmentNet(encoder, config)
        assert net(torch.randn(5, lookback, 3)).shape == (5, horizon, 2)


def test_fitted_settings_are_resolved_from_the_data():
    hourly = make_series(400, 2)
    est = gru(lookback="auto", segment_length="auto", horizon=3).fit(hourly)
    assert est.segment_length_ == 24  # hourly: SegRNN's day of steps
    assert est.lookback_ == 144  # half the training rows after the horizon, whole segments
    tiny = gru(lookback=4, segment_length="auto", horizon=2).fit(hourly.to_numpy())
    assert tiny.segment_length_ == 4  # arrays: the fallback, clamped to the lookback
    long = gru(lookback="auto", segment_length=2, horizon=3).fit(hourly)
    assert long.lookback_ == 60  # 30 segments


# ---------------------------------------------------------------- the cell inside the net
def _perturbed(net):
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return net


def test_growth_is_exact_with_the_supernet_in_the_network():
    torch.manual_seed(0)
    config = SegmentConfig(20, 7, 6, targets=(0, 1), covariates=(2,), hidden_size=5,
                           linear_skip=True)
    for backbone in ("two_input", "darts"):
        supernet = SuperNet(5, 5, backbone, 1, 3)
        net = _perturbed(SegmentNet(supernet, config)).double().train()
        x = torch.randn(8, 20, 3, dtype=torch.float64)
        net(x)  # running statistics of both call sites
        net.eval()
        before = net(x)
        supernet.grow()
        supernet.double()
        torch.testing.assert_close(net(x), before, rtol=0, atol=1e-6)


def test_the_decoding_step_keeps_its_own_normalisation_statistics():
    supernet = SuperNet(4, 4, "two_input", 2, 2)
    net = SegmentNet(supernet, SegmentConfig(12, 6, 4, targets=(0,), covariates=(),
                                             hidden_size=4)).train()
    net(torch.randn(16, 12, 1) * 3)
    stats = [m.running_mean for m in supernet.modules() if hasattr(m, "running_mean")]
    assert stats and all(not torch.equal(s[0], s[1]) for s in stats)


def test_fused_kernels_and_step_path_agree_in_the_network():
    torch.manual_seed(0)
    config = SegmentConfig(18, 5, 4, targets=(0, 1), covariates=(2,), hidden_size=6)
    net = _perturbed(SegmentNet(build_encoder(CELL, 6, 6), config)).double().eval()
    x = torch.randn(4, 18, 3, dtype=torch.float64)
    fused = net(x)
    net.encoder.fused = False
    torch.testing.assert_close(net(x), fused, rtol=0, atol=1e-10)


# ------------------------------------------------------------------------------ estimators
def test_every_recurrent_forecaster_trains_the_network(series):
    tiny = dict(lookback=12, horizon=4, hidden_size=6, segment_length=4, **TORCH)
    search = dict(search=SearchSettings(max_nodes=2, grow_every=1, epochs=2, n_searches=1),
                  baselines=())
    for est in (LSTMForecaster(num_layers=2, **tiny), GRUForecaster(**tiny),
                AutoCellForecaster(**tiny, **search)):
        est.fit(series)
        assert isinstance(est.module_, SegmentNet)
        assert est.predict().shape == (4, 3)
        assert np.isfinite(est.predict().to_numpy()).all()


def test_bad_network_settings_are_named(series):
    for kw, match in [({"normalization": "batch"}, "`normalization` must be one of"),
                      ({"covariates": "some"}, "`covariates` must be one of"),
                      ({"segment_length": 0}, "`segment_length` must be an int >= 1"),
                      ({"lookback": "long"}, "`lookback` must be an int >= 1")]:
        with pytest.raises(ValueError, match=match):
            gru(**kw).fit(series)


def test_a_new_index_frequency_gives_its_own_segment():
    daily = pd.DataFrame({"y": np.sin(np.arange(200) / 5)},
                         index=pd.date_range("2020-01-01", periods=200, freq="D"))
    est = gru(lookback="auto", segment_length="auto", horizon=7).fit(daily)
    assert est.segment_length_ == 7 and est.lookback_ % 7 == 0


def test_the_search_can_run_on_a_subsample_of_windows(series):
    est = AutoCellForecaster(lookback=12, horizon=3, hidden_size=6, segment_length=4,
                             search=SearchSettings(epochs=2, max_nodes=2, grow_every=1,
                                                   n_searches=1, subsample=20),
                             baselines=(), **{**TORCH, "epochs": 1})
    est.fit(series)
    first_epoch = est.search_history_[0]
    assert first_epoch["event"] == "epoch" and first_epoch["steps"] == 2  # 20 windows, batch 16
    with pytest.raises(ValueError, match="`search.subsample` must be an int >= 2"):
        est.set_params(search__subsample=1).fit(series)
