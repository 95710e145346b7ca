"""One training loop for every torch model in the project.

Early stopping on a validation loss, gradient clipping, recovery from divergence, an optional
wall-clock cap, and progress reported as events through a callback (it prints nothing).
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import nn

Batches = Callable[[], Iterable[tuple[torch.Tensor, torch.Tensor]]]


class TrainingDivergedError(ArithmeticError):
    """The loss became NaN or infinite and lowering the learning rate did not recover it."""


@dataclass
class TrainResult:
    history: list[dict] = field(default_factory=list)  # one dict per epoch
    best_epoch: int = -1
    best_val_loss: float = math.inf
    time_capped: bool = False  # True when max_time cut the training short


def seed_everything_local(seed: int):
    """Context manager: torch's CPU (and CUDA) RNG seeded inside, the caller's state restored after."""
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []

    @contextlib.contextmanager
    def ctx():
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(int(seed))
            yield

    return ctx()


def evaluate_loss(module: nn.Module, batches: Batches, loss_fn, device) -> float:
    """Mean loss over all batches, weighted by batch size, in evaluation mode without gradients."""
    module.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for x, y in batches():
            out = module(x.to(device))
            total += float(loss_fn(out, y.to(device))) * len(x)
            count += len(x)
    return total / max(count, 1)


def train_module(
    module: nn.Module,
    train_batches: Batches,
    val_batches: Batches | None,
    loss_fn,
    *,
    epochs: int,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    patience: int | None = 10,
    clip: float | None = 1.0,
    device: str | torch.device = "cpu",
    max_time: float | None = None,
    on_epoch: Callable[[dict], None] | None = None,
    max_recoveries: int = 3,
    keep_initial: bool = False,
) -> TrainResult:
    """Train ``module`` with Adam; keep and restore the weights of the best validation epoch.

    ``train_batches`` and ``val_batches`` are callables returning a fresh iterable of
    ``(x, y)`` tensor batches (one epoch). Without ``val_batches`` the training loss selects.
    A non-finite loss rolls the weights back to the last good epoch and halves the learning
    rate, at most ``max_recoveries`` times; then :class:`TrainingDivergedError` is raised.
    With ``keep_initial`` (and validation batches) the initial weights compete too, as epoch
    -1: when no epoch beats them on validation, they are what is kept (``best_epoch == -1``).
    """
    module.to(device)
    opt = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=weight_decay)
    result = TrainResult()
    if keep_initial and val_batches is not None:
        result.best_val_loss = evaluate_loss(module, val_batches, loss_fn, device)
    best_state = copy.deepcopy(module.state_dict())
    good_state, recoveries, stale = best_state, 0, 0
    start = time.perf_counter()
    epoch = 0
    while epoch < epochs:
        train_loss = _train_epoch(module, train_batches, loss_fn, opt, clip, device)
        val_loss = evaluate_loss(module, val_batches, loss_fn, device) if val_batches else train_loss
        if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
            recoveries += 1
            if recoveries > max_recoveries:
                raise TrainingDivergedError(
                    f"training diverged: the loss became {train_loss!r} at epoch {epoch} and "
                    f"{max_recoveries} restarts with a halved learning rate did not recover; "
                    "lower `lr`, scale the data, or check the input for extreme values."
                )
            module.load_state_dict(good_state)
            for group in opt.param_groups:
                group["lr"] *= 0.5
            opt.state.clear()
            continue
        good_state = copy.deepcopy(module.state_dict())
        record = {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
                  "lr": opt.param_groups[0]["lr"]}
        result.history.append(record)
        if on_epoch is not None:
            on_epoch(record)
        if val_loss < result.best_val_loss:
            result.best_val_loss, result.best_epoch, stale = val_loss, epoch, 0
            best_state = good_state
        else:
            stale += 1
        epoch += 1
        if patience is not None and stale >= patience:
            break
        if max_time is not None and time.perf_counter() - start > max_time and epoch < epochs:
            result.time_capped = True
            break
    module.load_state_dict(best_state)
    module.eval()
    return result


def _train_epoch(module, batches: Batches, loss_fn, opt, clip, device) -> float:
    module.train()
    total, count = 0.0, 0
    for x, y in batches():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(module(x.to(device)), y.to(device))
        if not torch.isfinite(loss):
            return float("nan")
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(module.parameters(), clip)
        opt.step()
        total += loss.item() * len(x)
        count += len(x)
    return total / max(count, 1)
