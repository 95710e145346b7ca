"""The shared training loop: divergence is caught and recovered or reported, never hidden."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from autoforecast.training import TrainingDivergedError, train_module


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
