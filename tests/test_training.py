"""The shared training loop: divergence is caught and recovered or reported, never hidden;
truncated BPTT as a batch stream; the learning-rate decay on plateaus; the time cap between
batches; the thread helper."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from autoforecast.training import (TBPTTStream, TrainingDivergedError, torch_threads,
                                   train_module)


class Flaky(nn.Module):
    """A linear model whose output is NaN on the listed calls (counted from 0)."""

    def __init__(self, nan_calls):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.calls, self.nan_calls = 0, set(nan_calls)

    def forward(self, x):
        out = self.linear(x)
        self.calls += 1
        return out * float("nan") if self.calls - 1 in self.nan_calls else out


def batches():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 2, generator=g)
    y = x @ torch.tensor([[1.5], [-2.0]])
    return lambda: [(x[:16], y[:16]), (x[16:], y[16:])]


def test_a_nan_loss_rolls_back_and_halves_the_learning_rate():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = Flaky(nan_calls={2})  # epoch 0: calls 0, 1 (train), 2 (validation) -> NaN
    result = train_module(model, batches(), batches(), nn.MSELoss(), epochs=5, lr=0.1,
                          patience=None)
    assert [r["lr"] for r in result.history] == [0.05] * 5
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_training_that_cannot_recover_says_so():
    model = Flaky(nan_calls=range(10_000))
    with pytest.raises(TrainingDivergedError, match="restarts with a halved learning rate"):
        train_module(model, batches(), None, nn.MSELoss(), epochs=3, lr=0.1)


def test_early_stopping_restores_the_best_epoch():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = Flaky(nan_calls=())
    result = train_module(model, batches(), batches(), nn.MSELoss(), epochs=30, lr=0.05,
                          patience=3)
    best = min(r["val_loss"] for r in result.history)
    assert result.best_val_loss == best
    x, y = batches()()[0]
    with torch.no_grad():
        loss = nn.functional.mse_loss(model(torch.cat([x, batches()()[1][0]])),
                                      torch.cat([y, batches()()[1][1]]))
    assert float(loss) == pytest.approx(best, rel=1e-5)


def test_keep_initial_keeps_untrained_weights_that_no_epoch_beats():
    x = torch.randn(32, 2, generator=torch.Generator().manual_seed(1))
    train = lambda: [(x, x @ torch.tensor([[1.5], [-2.0]]))]  # noqa: E731
    val = lambda: [(x, x @ torch.tensor([[1.0], [-1.0]]))]  # noqa: E731
    model = Flaky(nan_calls=())
    with torch.no_grad():  # start at the validation optimum: training can only move away
        model.linear.weight.copy_(torch.tensor([[1.0, -1.0]]))
        model.linear.bias.zero_()
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    kept = train_module(model, train, val, nn.MSELoss(), epochs=3, lr=0.1, patience=None,
                        keep_initial=True)
    assert kept.best_epoch == -1 and kept.best_val_loss < 1e-10
    assert all(r["val_loss"] > 1e-3 for r in kept.history)  # the epochs did move away
    for name, value in model.state_dict().items():
        assert torch.equal(value, initial[name])
    trained = train_module(model, train, val, nn.MSELoss(), epochs=3, lr=0.1, patience=None)
    assert trained.best_epoch >= 0  # without keep_initial an epoch is always chosen


def test_a_plateau_halves_the_learning_rate_when_asked():
    x = torch.randn(32, 2, generator=torch.Generator().manual_seed(1))
    train = lambda: [(x, x @ torch.tensor([[1.5], [-2.0]]))]  # noqa: E731
    val = lambda: [(x, x @ torch.tensor([[1.0], [-1.0]]))]  # noqa: E731 (training moves away)
    model = Flaky(nan_calls=())
    with torch.no_grad():
        model.linear.weight.copy_(torch.tensor([[1.0, -1.0]]))
        model.linear.bias.zero_()
    result = train_module(model, train, val, nn.MSELoss(), epochs=4, lr=0.1, patience=None,
                          plateau_lr_factor=0.5)
    assert result.best_epoch == 0  # each later epoch is worse: the rate halves after it
    assert [r["lr"] for r in result.history] == [0.1, 0.1, 0.05, 0.025]
    constant = train_module(Flaky(nan_calls=()), train, val, nn.MSELoss(), epochs=3, lr=0.1,
                            patience=None)
    assert [r["lr"] for r in constant.history] == [0.1] * 3


def test_max_time_is_checked_between_batches_and_one_batch_always_runs():
    model = Flaky(nan_calls=())
    result = train_module(model, batches(), batches(), nn.MSELoss(), epochs=5, max_time=1e-9)
    assert result.time_capped and len(result.history) == 1
    assert result.history[0]["samples"] == 16  # the second batch was cut
    assert result.trained == 16 and result.train_seconds > 0
    full = train_module(model, batches(), batches(), nn.MSELoss(), epochs=2, max_time=60.0)
    assert not full.time_capped and [r["samples"] for r in full.history] == [32, 32]


def test_the_epoch_a_run_stops_after_says_why_and_the_history_keeps_no_reason():
    def reasons(**keywords):
        seen = []
        with torch.random.fork_rng():
            torch.manual_seed(0)
            model = Flaky(nan_calls=())
        result = train_module(model, batches(), batches(), nn.MSELoss(), lr=0.05,
                              on_epoch=seen.append, **keywords)
        assert all("reason" not in record for record in result.history)
        return [record.get("reason") for record in seen]

    assert reasons(epochs=3, patience=None) == [None] * 3  # ran all its epochs
    assert reasons(epochs=5, max_time=1e-9) == ["`max_time` reached"]
    assert reasons(epochs=5, max_items=40) == [None, "`max_items` reached"]
    stopped = reasons(epochs=200, patience=2)
    assert len(stopped) < 200 and stopped[:-1] == [None] * (len(stopped) - 1)
    assert stopped[-1] == "early stopping (patience 2: no better validation loss)"


def test_max_items_stops_at_the_first_batch_boundary_at_or_past_it():
    model = Flaky(nan_calls=())
    result = train_module(model, batches(), batches(), nn.MSELoss(), epochs=5, max_items=40)
    assert [r["samples"] for r in result.history] == [32, 16]  # the cut epoch is recorded
    assert result.trained == 48 and not result.time_capped
    exact = train_module(model, batches(), batches(), nn.MSELoss(), epochs=5, max_items=64)
    assert [r["samples"] for r in exact.history] == [32, 32]


class Recorder(nn.Module):
    """``run(x, state) -> (x + state, new state)``: records the state each segment starts from."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))
        self.starts = []

    def run(self, x, state=None):
        self.starts.append(None if state is None else (float(state.sum()), state.requires_grad))
        out = x.float().unsqueeze(-1) * self.scale  # (n_streams, t, 1)
        carried = out[:, -1, 0] if state is None else out[:, -1, 0] + state
        return out, carried


def test_tbptt_stream_carries_the_state_with_the_graph_cut_and_resets_each_epoch():
    streams = torch.arange(14).view(2, 7)  # two streams of 7 steps: segments of 3, 3
    model = Recorder()
    result = train_module(model, TBPTTStream(streams, 3), None,
                          lambda out, y: ((out[..., 0] - y.float()) ** 2).mean(),
                          epochs=2, lr=1e-3, patience=None)
    starts = model.starts
    assert len(starts) == 4 and starts[0] is None and starts[2] is None  # a zero state each epoch
    assert starts[1] is not None and starts[1][1] is False  # carried, graph cut
    assert result.trained == 2 * 12 and result.history[0]["tokens"] == 12


def test_torch_threads_sets_and_restores_and_none_leaves_alone():
    before = torch.get_num_threads()
    with torch_threads(None):
        assert torch.get_num_threads() == before
    with torch_threads(before + 1):
        assert torch.get_num_threads() == before + 1
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="int >= 1, got 0"):
        with torch_threads(0):
            pass
