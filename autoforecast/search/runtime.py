"""Local random state and wall-clock budget of a search (no global seeding, no side effects)."""

from __future__ import annotations

import contextlib
import secrets
import time

import torch

from autoforecast.training import seed_everything_local


class LocalRng:
    """A torch random stream of its own: ``with rng():`` runs code on it, inside fork_rng, so
    that a search interleaved with the caller's code (between yielded events) stays
    reproducible and leaves the caller's random state alone."""

    def __init__(self, seed: int):
        with seed_everything_local(seed):
            self.cpu = torch.get_rng_state()
            self.cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []

    @contextlib.contextmanager
    def __call__(self):
        devices = list(range(len(self.cuda)))
        with torch.random.fork_rng(devices=devices):
            torch.set_rng_state(self.cpu)
            if self.cuda:
                torch.cuda.set_rng_state_all(self.cuda)
            yield
            self.cpu = torch.get_rng_state()
            self.cuda = torch.cuda.get_rng_state_all() if self.cuda else []


@contextlib.contextmanager
def local_threads(n: int | None):
    """Run with ``n`` intra-op threads (None: leave torch's setting), restored afterwards. Tiny
    recurrent steps are dominated by dispatch, and on a busy machine one thread is often fastest."""
    previous = torch.get_num_threads()
    if n is not None:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n is not None:
            torch.set_num_threads(previous)


class Clock:
    """The optional wall-clock cap (seconds) of a whole search call."""

    def __init__(self, max_time: float | None):
        self.start, self.max_time, self.capped = time.perf_counter(), max_time, False

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def remaining(self) -> float | None:
        return None if self.max_time is None else max(self.max_time - self.elapsed(), 0.0)

    def expired(self) -> bool:
        if self.max_time is not None and self.elapsed() >= self.max_time:
            self.capped = True
        return self.capped


def resolve_seeds(random_state: int | None, n: int) -> list[int]:
    """Search i uses seed ``random_state + i`` (a fresh random base when random_state is None)."""
    if random_state is None:
        random_state = secrets.randbelow(2**31)
    if isinstance(random_state, bool) or not isinstance(random_state, int) or random_state < 0:
        raise ValueError(f"`random_state` must be None or an int >= 0, got {random_state!r}.")
    return [random_state + i for i in range(n)]


def to_device(batch, device):
    x, y = batch
    return x.to(device), y.to(device)


def cycle(batches):
    """Endless iteration over epochs of ``batches()`` (for validation batches of the arch step)."""
    while True:
        empty = True
        for batch in batches():
            empty = False
            yield batch
        if empty:
            raise ValueError("`val_batches()` returned no batches; the architecture step needs some.")
