"""Known-future covariates (issue 23): the decoder reads their horizon values, predict takes
them as future= (wide or long), and every missing, short or misaligned input is one error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from autoforecast import AutoCellForecaster, GRUForecaster, LSTMForecaster, load, save
from autoforecast.data import Windows

from forecasters import TINY_SEARCH, TINY_TORCH

H = 3


def make_promo(n=80, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    promo = (rng.random(n + H) < 0.3).astype(float)
    y = np.sin(np.arange(n + H) / 3) + 2 * promo + 0.05 * rng.normal(size=n + H)
    index = pd.date_range("2021-01-01", periods=n + H, freq="h")
    return pd.DataFrame({"y": y, "promo": promo}, index=index)


def gru(**kw):
    return GRUForecaster(**{**dict(lookback=6, horizon=H, hidden_size=4, segment_length=2,
                                   target="y", future_covariates=["promo"]), **TINY_TORCH, **kw})


@pytest.fixture(scope="module")
def fitted():
    df = make_promo()
    return gru().fit(df.iloc[:-H]), df


def test_windows_carry_the_rows_ahead():
    series = np.arange(20.0)[:, None]
    x, y = next(Windows(series, [5, 9], 4, 2, ahead=2).batches(8))
    assert x[:, :, 0].tolist() == [[1, 2, 3, 4, 5, 6], [5, 6, 7, 8, 9, 10]]
    assert y[:, :, 0].tolist() == [[5, 6], [9, 10]]


def test_the_decoder_reads_the_future_values(fitted):
    est, df = fitted
    future = df.iloc[-H:][["promo"]]
    with torch_weights(est):
        one = est.predict(future=future)
        other = est.predict(future=future.assign(promo=1 - future.promo))
    assert list(one.index) == list(df.index[-H:]) and list(one.columns) == ["y"]
    assert not np.allclose(one.to_numpy(), other.to_numpy())
    bands = est.predict_interval(future=future, coverage=0.8)
    assert bands.shape == (H, 2)
    assert np.isfinite(est.score(df))  # origins inside the data: no future= needed


def test_future_values_line_up_with_the_rows_they_stand_for(fitted):
    """predict(future=the next H rows) is the forecast from the origin before those rows in
    a frame that holds them (predict_at), wide and long (the last backtest origin)."""
    est, df = fitted
    with torch_weights(est):
        np.testing.assert_allclose(est.predict(future=df.iloc[-H:][["promo"]]).to_numpy(),
                                   est.predict_at(df, [len(df) - H])[0], rtol=1e-5, atol=1e-6)
    long = pd.concat([df.reset_index(names="ds").assign(unique_id=k, y=df.y.to_numpy() + 5 * i)
                      for i, k in enumerate("ab")], ignore_index=True)
    last = long.groupby("unique_id").cumcount(ascending=False) < H
    est = gru(target=None).fit(long[~last])
    with torch_weights(est):
        forecast = est.predict(future=long[last][["unique_id", "ds", "promo"]])
        table = est.backtest(long)
    final = table[table.origin == table.groupby("unique_id").origin.transform("max")]
    np.testing.assert_allclose(forecast.y.to_numpy(), final.forecast.to_numpy(), rtol=1e-5,
                               atol=1e-6)
    assert (forecast.ds.to_numpy() == final.time.to_numpy()).all()


class torch_weights:
    """Give the fitted network's known-future map some weight (it starts at zero), so that the
    forecast visibly depends on those values; restored afterwards."""

    def __init__(self, est):
        self.layer = est.module_.future

    def __enter__(self):
        import torch

        self.saved = self.layer.weight.detach().clone()
        with torch.no_grad():
            self.layer.weight.add_(0.5)

    def __exit__(self, *exc):
        import torch

        with torch.no_grad():
            self.layer.weight.copy_(self.saved)


def test_default_none_leaves_the_network_unchanged():
    df = make_promo()
    plain = gru(future_covariates=None).fit(df)
    assert plain.module_.future is None and plain.future_idx_ == []
    assert not any(k.startswith("future") for k in plain.module_.state_dict())
    with pytest.raises(ValueError, match="reads none"):
        plain.predict(future=df.iloc[-H:])


@pytest.mark.parametrize("future, message", [
    (None, "predict needs their values over the horizon"),
    ("short", "too short"),
    ("shifted", "misaligned"),
    ("column", "has no column"),
    ("nan", "missing or infinite"),
])
def test_bad_future_values_are_one_error(fitted, future, message):
    est, df = fitted
    good = df.iloc[-H:][["promo"]]
    future = {None: None, "short": good.iloc[:-1], "shifted": good.shift(1, freq="h"),
              "column": good.rename(columns={"promo": "price"}),
              "nan": good.assign(promo=[1.0, np.nan, 0.0])}[future]
    with pytest.raises(ValueError, match=message):
        est.predict(future=future)


def test_fit_refuses_bad_future_covariates():
    df = make_promo()
    with pytest.raises(ValueError, match=r"names \['price'\], but the data has no such column"):
        gru(future_covariates=["price"]).fit(df)
    with pytest.raises(ValueError, match="names the target 'y'"):
        gru(future_covariates=["y"]).fit(df)
    with pytest.raises(ValueError, match="list of column names"):
        gru(future_covariates="promo").fit(df)


def test_a_backtest_origin_needs_its_future_rows_in_the_data(fitted):
    est, df = fitted
    assert est.backtest(df).shape[0] > 0
    with pytest.raises(ValueError, match="predict\\(future=...\\)"):
        est.predict_at(df, [len(df)])


def test_long_frames_take_a_long_future():
    df = make_promo()
    long = pd.concat([df.reset_index(names="ds").assign(unique_id=k, y=df.y.to_numpy() + 5 * i)
                      for i, k in enumerate("ab")], ignore_index=True)
    last = long.groupby("unique_id").cumcount(ascending=False) < H
    est = gru(target=None).fit(long[~last])
    future = long[last][["unique_id", "ds", "promo"]]
    forecast = est.predict(future=future)
    assert forecast.shape == (2 * H, 3)
    assert est.predict_interval(future=future).shape == (2 * H, 5)
    with pytest.raises(ValueError, match="no rows of the series unique_id='b'"):
        est.predict(future=future[future.unique_id == "a"])
    with pytest.raises(ValueError, match=r"\(series unique_id='a'\) is too short"):
        est.predict(future=future.groupby("unique_id").head(H - 1))
    with pytest.raises(ValueError, match="columns 'unique_id' and 'ds'"):
        est.predict(future=df.iloc[-H:])


def test_lstm_and_autocell_read_them_and_save(tmp_path):
    df = make_promo()
    lstm = gru().set_params(future_covariates=["promo"])
    lstm = LSTMForecaster(**lstm.get_params()).fit(df.iloc[:-H])
    cell = AutoCellForecaster(lookback=6, horizon=H, target="y", segment_length=2,
                              future_covariates=["promo"], **TINY_SEARCH).fit(df.iloc[:-H])
    future = df.iloc[-H:][["promo"]]
    for est in (lstm, cell):
        expected = est.predict(future=future)
        for name in ("m.joblib", "m.afm"):
            save(est, tmp_path / name)
            assert np.allclose(load(tmp_path / name).predict(future=future), expected)


def test_the_parameter_counts_stay_within_25():
    for cls in (AutoCellForecaster, GRUForecaster, LSTMForecaster):
        assert "future_covariates" in cls().get_params()
        assert len(cls().get_params(deep=False)) <= 25
