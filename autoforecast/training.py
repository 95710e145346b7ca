"""One training loop for every torch model in the project, and its helpers.

:func:`train_module` trains forecasters, searched cells and language models alike: Adam (or
NT-ASGD, :mod:`autoforecast.optimizers`), early stopping on a validation loss, gradient
clipping, one recovery from divergence, an optional wall-clock cap checked between batches, an
optional learning-rate decay on plateaus, an optional checkpoint after every epoch to resume
from (:mod:`autoforecast.checkpoints`), and progress reported through a callback (it prints
nothing).

What it trains on is a *batch stream*: a zero-argument callable returning one epoch of
``(x, y)`` batches. A plain iterable of batches runs ``module(x)`` and weighs each batch's mean
loss by its rows (``len(x)``). An epoch may instead bring its own ``forward(module, x)`` and
``weight(x, y)``: :class:`TBPTTStream` does so for truncated back-propagation through time,
carrying the recurrent state from one segment to the next and weighing losses per token.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import numbers
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
from torch import nn

from .checkpoints import load_checkpoint, load_module_state, rng_state, save_checkpoint, set_rng_state
from .data.text import segments
from .optimizers import LoopOptimizer, scale_lr

Batches = Callable[[], Iterable[tuple[torch.Tensor, torch.Tensor]]]


class TrainingDivergedError(ArithmeticError):
    """The loss became NaN or infinite and lowering the learning rate did not recover it."""


@dataclass
class TrainResult:
    history: list[dict] = field(default_factory=list)  # one dict per epoch
    best_epoch: int = -1
    best_val_loss: float = math.inf
    time_capped: bool = False  # True when max_time cut the training short
    trained: int = 0  # items trained on, in the stream's unit (rows of x, or tokens)
    train_seconds: float = 0.0  # time in training steps (validation not included)


# ------------------------------------------------------------------------------ helpers
def seed_everything_local(seed: int):
    """Context manager: torch's CPU (and CUDA) RNG seeded inside, the caller's state restored after."""
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []

    @contextlib.contextmanager
    def ctx():
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(int(seed))
            yield

    return ctx()


@contextlib.contextmanager
def torch_threads(n: int | None):
    """Run with ``n`` torch intra-op threads (None: leave torch's setting as it is); the count
    is restored afterwards. Tiny recurrent steps are dominated by dispatch, and on a busy
    machine one thread is often fastest."""
    if n is not None and (not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1):
        raise ValueError(f"the number of torch threads must be None or an int >= 1, got {n!r}.")
    previous = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(int(n))
    try:
        yield
    finally:
        if n is not None:
            torch.set_num_threads(previous)


class Clock:
    """An optional wall-clock cap (seconds), started when created; ``capped`` once it is hit."""

    def __init__(self, max_time: float | None, elapsed: float = 0.0):
        """``elapsed``: seconds already used (a resumed run's clock goes on from there)."""
        self.start, self.max_time, self.capped = time.perf_counter() - elapsed, max_time, False

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def remaining(self) -> float | None:
        return None if self.max_time is None else max(self.max_time - self.elapsed(), 0.0)

    def expired(self) -> bool:
        if self.max_time is not None and self.elapsed() >= self.max_time:
            self.capped = True
        return self.capped


def detach_state(state):
    """Cut the graph of a recurrent state (a tensor, a tuple of them, or None); values are kept."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


# ------------------------------------------------------------------------ batch streams
class TBPTTStream:
    """Truncated back-propagation through time as a batch stream.

    ``streams`` (n_streams, n_steps) are cut into consecutive segments of ``bptt`` steps,
    ``x`` (n_streams, t) and ``y`` the next steps. Each epoch (a training pass or a validation
    pass) starts from a zero state; the module's state is carried from one segment to the next
    with the graph cut between them. The module needs ``run(x, state) -> (output, state)``.
    Mean losses are weighted by the targets in a segment (``unit``: tokens).
    """

    unit = "tokens"

    def __init__(self, streams: torch.Tensor, bptt: int):
        self.streams, self.bptt = streams, bptt

    def __call__(self) -> "_CarriedState":
        return _CarriedState(segments(self.streams, self.bptt))


class _CarriedState:
    """One epoch of segments, and the recurrent state carried across them."""

    def __init__(self, batches):
        self.batches, self.state = batches, None

    def __iter__(self):
        return iter(self.batches)

    def forward(self, module: nn.Module, x: torch.Tensor) -> torch.Tensor:
        out, state = module.run(x, self.state)  # (n_streams, t, ...), the last state
        self.state = detach_state(state)
        return out

    @staticmethod
    def weight(x: torch.Tensor, y: torch.Tensor) -> int:
        return y.numel()


def _plain_forward(module, x):
    return module(x)


def _rows(x, y) -> int:
    return len(x)


def _open_epoch(batches: Batches):
    """(iterable of batches, forward(module, x), weight(x, y)) of one epoch of a stream."""
    epoch = batches()
    return (epoch, getattr(epoch, "forward", _plain_forward), getattr(epoch, "weight", _rows))


# --------------------------------------------------------------------------- the loop
def evaluate_loss(module: nn.Module, batches: Batches, loss_fn, device) -> float:
    """Mean loss over all batches, weighted by the stream's weight (rows of ``x`` by default),
    in evaluation mode without gradients."""
    module.eval()
    total, count = 0.0, 0
    epoch, forward, weight = _open_epoch(batches)
    with torch.no_grad():
        for x, y in epoch:
            x, y = x.to(device), y.to(device)
            n = weight(x, y)
            total += float(loss_fn(forward(module, x), y)) * n
            count += n
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
    plateau_lr_factor: float | None = None,
    optimizer: str = "adam",
    nonmono: int = 5,
    checkpoint=None,
    max_items: int | None = None,
) -> TrainResult:
    """Train ``module``; keep and restore the weights of the best validation epoch.

    ``train_batches`` and ``val_batches`` are batch streams (see the module's docstring).
    Without ``val_batches`` the training loss selects. ``optimizer``: ``"adam"`` (Adam at
    ``lr``), or ``"nt-asgd"``: SGD at ``lr`` that starts averaging the weights once the
    validation loss has not improved for ``nonmono`` epochs; from then on the averaged weights
    are validated, kept and restored (:mod:`autoforecast.optimizers`), and the early-stopping
    count starts again. A non-finite loss rolls the weights back
    to the last good epoch, halves the learning rate and clears the optimiser's state, at most
    ``max_recoveries`` times; then :class:`TrainingDivergedError` is raised. With
    ``keep_initial`` (and validation batches) the initial weights compete too, as epoch -1:
    when no epoch beats them on validation, they are kept (``best_epoch == -1``).
    ``plateau_lr_factor`` multiplies the learning rate after each epoch that does not improve
    the best validation loss (None: constant). ``max_time`` (seconds) is checked between
    batches: at least one batch runs, a cut epoch is validated and recorded, and
    ``time_capped`` tells. ``max_items`` caps the items trained on (counted in the stream's
    ``unit``) in the same way: the run stops at the first batch boundary at or past it, and a
    cut epoch is validated and recorded. Each epoch's record (passed to ``on_epoch``) holds
    ``epoch``, ``train_loss``, ``val_loss``, ``lr``, the items trained on under the stream's
    ``unit`` (``"samples"`` unless the stream names one) and ``train_seconds`` (under NT-ASGD also
    ``averaged``: whether the averaged weights were validated); the record of the epoch after
    which the run stops early also holds ``reason`` for ``on_epoch`` (early stopping,
    ``max_time``, ``max_items``), which the history does not keep. ``checkpoint``: a file
    path written after every epoch; a call that finds the file resumes from it and computes
    what the uncut run would have (:mod:`autoforecast.checkpoints`).
    """
    module.to(device)
    opt = LoopOptimizer(optimizer, module.parameters(), lr, weight_decay, nonmono)
    unit = getattr(train_batches, "unit", "samples")
    run, clock = _start(module, opt, val_batches, loss_fn, device, keep_initial, checkpoint,
                        max_time)
    while (not run.finished and len(run.result.history) < epochs
           and (max_items is None or run.result.trained < max_items)):
        epoch = len(run.result.history)
        trained = _train_epoch(module, train_batches, loss_fn, opt, clip, device, clock,
                               may_stop_first=epoch > 0 or run.recoveries > 0,
                               max_count=None if max_items is None
                               else max_items - run.result.trained)
        if trained is None:  # the time was up before this epoch's first batch
            break
        train_loss, count, seconds = trained
        with opt.evaluation():  # NT-ASGD's averaged weights, once it averages
            val_loss = evaluate_loss(module, val_batches, loss_fn, device) if val_batches else train_loss
            evaluated = copy.deepcopy(module.state_dict()) if opt.n_averaged else None
        if not (math.isfinite(train_loss) and math.isfinite(val_loss)):
            run.recoveries += 1
            _recover(module, opt, run.good_state, run.recoveries, max_recoveries, train_loss, epoch)
            continue
        run.good_state = copy.deepcopy(module.state_dict())
        record = {"epoch": epoch, "train_loss": train_loss, "val_loss": val_loss,
                  "lr": opt.param_groups[0]["lr"], unit: count, "train_seconds": seconds}
        if optimizer == "nt-asgd":  # were the validated weights the averaged ones?
            record["averaged"] = evaluated is not None
        _end_epoch(run, record, unit, evaluated or run.good_state, opt, patience,
                   plateau_lr_factor)
        run.finished = run.finished or clock.capped
        if checkpoint is not None:
            _save(checkpoint, module, opt, run, clock)
        if on_epoch is not None:
            reason = _stop_reason(run, clock, patience, max_items)
            on_epoch(record if reason is None else {**record, "reason": reason})
    run.result.time_capped = run.result.time_capped or clock.capped
    module.load_state_dict(run.best_state)
    module.eval()
    return run.result


@dataclass
class _Run:
    """The loop's state between epochs: what a checkpoint holds besides weights and optimiser."""

    result: TrainResult
    best_state: dict  # the weights of the best epoch (averaged ones under NT-ASGD)
    good_state: dict  # the weights after the last finite epoch (a rollback's target)
    recoveries: int = 0
    stale: int = 0  # epochs since the best validation loss
    finished: bool = False  # early stopping or the time cap ended the run


def _start(module, opt, val_batches, loss_fn, device, keep_initial, checkpoint, max_time):
    """(the loop's state, its clock): fresh, or as ``checkpoint`` left them."""
    saved = load_checkpoint(checkpoint) if checkpoint is not None else None
    if saved is None:
        result, clock = TrainResult(), Clock(max_time)
        if keep_initial and val_batches is not None:
            result.best_val_loss = evaluate_loss(module, val_batches, loss_fn, device)
        state = copy.deepcopy(module.state_dict())
        return _Run(result, state, state), clock
    load_module_state(module, saved["module"], checkpoint)
    opt.load_state_dict(saved["optimizer"])
    set_rng_state(saved["rng"])
    run = _Run(TrainResult(**saved["result"]), saved["best_state"],
               copy.deepcopy(module.state_dict()), saved["recoveries"], saved["stale"],
               saved["finished"])
    return run, Clock(max_time, elapsed=saved["elapsed"])


def _end_epoch(run: _Run, record: dict, unit: str, state: dict, opt, patience,
               plateau_lr_factor) -> None:
    """Record a finished epoch; keep ``state`` if it is the best; count stale epochs."""
    result = run.result
    result.history.append(record)
    result.trained += record[unit]
    result.train_seconds += record["train_seconds"]
    if record["val_loss"] < result.best_val_loss:
        result.best_val_loss, result.best_epoch, run.stale = record["val_loss"], record["epoch"], 0
        run.best_state = state
    else:
        run.stale += 1
        if plateau_lr_factor is not None:
            scale_lr(opt, plateau_lr_factor)
    if opt.end_epoch(record["val_loss"]):  # NT-ASGD starts averaging: early stopping restarts
        run.stale = 0
    run.finished = patience is not None and run.stale >= patience


def _stop_reason(run: _Run, clock: Clock, patience, max_items) -> str | None:
    """Why the run stops after the epoch just recorded (None: it goes on, or stops because
    it has run all its epochs)."""
    if clock.capped:
        return "`max_time` reached"
    if run.finished:
        return f"early stopping (patience {patience}: no better validation loss)"
    if max_items is not None and run.result.trained >= max_items:
        return "`max_items` reached"
    return None


def _save(path, module, opt, run: _Run, clock: Clock) -> None:
    save_checkpoint(path, {
        "module": module.state_dict(), "best_state": run.best_state,
        "optimizer": opt.state_dict(), "result": dataclasses.asdict(run.result),
        "recoveries": run.recoveries, "stale": run.stale, "finished": run.finished,
        "elapsed": clock.elapsed(), "rng": rng_state()})


def _train_epoch(module, batches: Batches, loss_fn, opt, clip, device, clock: Clock,
                 may_stop_first: bool, max_count: int | None = None):
    """One training pass: (mean loss, items, seconds); a NaN loss when it diverged; None when
    the time was up before its first batch (only when ``may_stop_first``). It stops early
    once ``max_count`` items are trained on."""
    module.train()
    total, count, started = 0.0, 0, time.perf_counter()
    epoch, forward, weight = _open_epoch(batches)
    for x, y in epoch:
        if (count or may_stop_first) and clock.expired():
            if not count:
                return None
            break
        if max_count is not None and count >= max_count:
            break
        x, y = x.to(device), y.to(device)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(forward(module, x), y)
        if not torch.isfinite(loss):
            return math.nan, count, time.perf_counter() - started
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(module.parameters(), clip)
        opt.step()
        n = weight(x, y)
        total += loss.item() * n
        count += n
    return total / max(count, 1), count, time.perf_counter() - started


def _recover(module, opt, good_state, recoveries, max_recoveries, loss, epoch) -> None:
    """Roll back to the last good epoch with half the learning rate and a fresh optimiser
    state; raise when ``max_recoveries`` rollbacks did not help."""
    if recoveries > max_recoveries:
        raise TrainingDivergedError(
            f"training diverged: the loss became {loss!r} at epoch {epoch} and "
            f"{max_recoveries} restarts with a halved learning rate did not recover; "
            "lower `lr`, scale the data, or check the input for extreme values."
        )
    module.load_state_dict(good_state)
    opt.restart(0.5)
