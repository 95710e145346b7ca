"""Local random state of a search (no global seeding, no side effects), its seeds, and the
endless validation stream of the architecture step. The wall-clock cap and the torch threads
of a block are :class:`autoforecast.training.Clock` and :func:`autoforecast.training.torch_threads`.
"""

from __future__ import annotations

import contextlib
import secrets

import torch

from autoforecast.training import seed_everything_local

__all__ = ["LocalRng", "cycle", "resolve_seeds", "to_device"]


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
