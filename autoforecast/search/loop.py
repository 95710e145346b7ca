"""The search of one seed as a generator of events: bilevel alternation, growth, pruning and
early stopping (docs/method.md, sections 3-4).

    data = SearchData(train_batches, val_batches, loss_fn, model_factory, input_size)
    for event in search(config, data):
        ...  # EpochEvent, GrowEvent, PruneEvent, SearchDoneEvent
    # the last event is DoneEvent(result=SearchResult(...)): config.n_candidates derived cells
    # in result.candidates (the argmax first); run_searches chooses among them

``data``: the batches, the loss and the model built around the searched cell
(:class:`autoforecast.search.data.SearchData`).

Several seeds and the selection among them (docs/method.md, section 4):
:func:`autoforecast.search.parallel.run_searches`.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from autoforecast.search.architect import Architect
from autoforecast.search.config import SearchConfig
from autoforecast.search.data import SearchData
from autoforecast.search.events import (Candidate, DoneEvent, EpochEvent, GrowEvent, PruneEvent,
                                        SearchDoneEvent, SearchResult, history_rows)
from autoforecast.search.growth import PlateauTrigger, should_grow_on_schedule
from autoforecast.search.runtime import LocalRng, cycle, resolve_seeds, to_device
from autoforecast.search.supernet import SuperNet
from autoforecast.training import Clock, TrainingDivergedError, evaluate_loss, torch_threads


def search(config: SearchConfig, data: SearchData, random_state: int | None = 0, device="cpu"):
    """Run one search on ``data`` (a :class:`SearchData`), seeded with ``random_state``: a
    generator of its events, the last one ``DoneEvent(result)``. For several seeds, see
    :func:`autoforecast.search.parallel.run_searches`.
    """
    check_config(config)
    if config.n_searches != 1:
        raise ValueError(
            f"search() runs one seed, got a config with n_searches={config.n_searches}. For "
            "several seeds call autoforecast.search.parallel.run_searches(config, task, "
            "random_state, device, n_jobs): it runs one search per seed on that seed's own data "
            "(`task(seed)`), so each run depends on its seed only and runs may go in parallel "
            "(`n_jobs`), then selects one cell by a short retraining. To search one seed, pass "
            "dataclasses.replace(config, n_searches=1).")
    data = SearchData.of(data)
    seed = resolve_seeds(random_state, 1)[0]
    result = yield from search_one_seed(config, data, seed, device)
    yield DoneEvent(result)


def check_config(config) -> None:
    """Raise TypeError unless ``config`` is a :class:`SearchConfig`."""
    if not isinstance(config, SearchConfig):
        raise TypeError(f"`config` must be a SearchConfig, got {type(config).__name__}; build "
                        "one with autoforecast.search.SearchConfig(...).")


def search_one_seed(config, data: SearchData, seed: int, device, index: int = 0):
    """Generator of the events of one search (run ``index``, ``seed``) on ``data``; returns its
    :class:`SearchResult` (history by :func:`history_rows`; the argmax genotype; as candidates
    the ``config.n_candidates`` distinct cells of ``SuperNet.candidates``, argmax first, each
    with this search's validation loss), timed by its own clock of ``config.max_time``."""
    clock = Clock(config.max_time)
    run = SupernetSearch(config, index, seed, data, device, clock)
    events = []
    for event in run.events():
        events.append(event)
        yield event
    clock.expired()  # a run ending past max_time counts as cut short (as in 0.1)
    candidates = [Candidate(genotype, seed, run.val_loss) for genotype in run.candidates]
    return SearchResult(run.genotype, history_rows(events, seed), candidates, clock.capped)


class SupernetSearch:
    """One search (one seed): a supernet and its two optimisers, run epoch by epoch."""

    def __init__(self, config, index, seed, data, device, clock):
        self.config, self.index, self.seed, self.device, self.clock = config, index, seed, device, clock
        data = SearchData.of(data)
        self.train_batches, self.val_batches = data.train_batches, data.val_batches
        self.loss_fn = data.loss_fn
        self.rng = LocalRng(seed)
        with self.rng():
            self.net = SuperNet(data.input_size, config.hidden_size, config.backbone,
                                config.init_nodes, config.max_nodes, config.search_activations,
                                config.dropout_x, config.dropout_h, config.derivation, config.carry)
            self.model = data.model_factory(self.net).to(device)
        arch = {id(p) for p in self.net.arch_parameters()}
        self.weights = [p for p in self.model.parameters() if id(p) not in arch]
        self.w_opt = torch.optim.Adam(self.weights, lr=config.lr, weight_decay=config.weight_decay)
        self.architect = Architect(self.model, self.net, self.loss_fn, config.arch_lr,
                                   config.arch_weight_decay, config.second_order)
        self.plateau = PlateauTrigger(config.plateau_patience, config.plateau_delta)
        self.steps, self.warmup_left, self.genotype, self.val_loss = 0, 0, None, math.nan
        self.candidates = []  # SuperNet.candidates at the end of the search

    def events(self):
        stable, previous, reason = 0, None, "budget"
        for epoch in range(self.config.epochs):
            arch_active = epoch >= self.config.warmup_epochs
            with self.rng(), torch_threads(self.config.num_threads):
                train_loss = self._epoch(arch_active)
                self.val_loss = evaluate_loss(self.model, self.val_batches, self.loss_fn, self.device)
            if not math.isfinite(train_loss):  # the weights are broken: nothing to derive
                raise TrainingDivergedError(
                    f"the search (seed {self.seed}) diverged at epoch {epoch}: training loss "
                    f"{train_loss!r}. Lower `lr` or `arch_lr`, or check the input for extreme "
                    "values."
                )
            # A non-finite validation loss (evaluation-mode batch statistics of the supernet
            # can overflow over long windows) only ranks this search last; it is kept as is.
            genotype = self.net.genotype()
            yield EpochEvent(self.index, epoch, train_loss, self.val_loss, self.net.n_nodes,
                             genotype, arch_active, self.steps)
            final_size = not self._can_grow()
            yield from self._maybe_grow(epoch)
            stable = stable + 1 if (genotype == previous and final_size and arch_active) else 0
            previous = genotype
            reason = self._stop_reason(stable, genotype, final_size and arch_active)
            if reason:
                break
        self.candidates = self.net.candidates(self.config.n_candidates)  # the argmax first
        self.genotype = self.candidates[0]
        yield SearchDoneEvent(self.index, self.seed, self.genotype, self.val_loss, reason or "budget")

    def _epoch(self, arch_active: bool) -> float:
        self.model.train()
        val_iter, total, count = cycle(self.val_batches), 0.0, 0
        for batch in self.train_batches():
            x, y = to_device(batch, self.device)
            if arch_active and self.warmup_left == 0:
                self.architect.step((x, y), to_device(next(val_iter), self.device),
                                    self.w_opt.param_groups[0]["lr"])
                self.model.train()
            self.warmup_left = max(self.warmup_left - 1, 0)
            total += self._weight_step(x, y) * len(x)
            count += len(x)
            self.steps += 1
            if self._out_of_steps() or self.clock.expired():
                break
        return total / max(count, 1)

    def _weight_step(self, x, y) -> float:
        loss = self.loss_fn(self.model(x), y)
        grads = torch.autograd.grad(loss, self.weights, allow_unused=True)  # no arch gradients
        for p, g in zip(self.weights, grads):
            p.grad = g
        if self.config.clip is not None:
            nn.utils.clip_grad_norm_(self.weights, self.config.clip)
        self.w_opt.step()
        self.w_opt.zero_grad(set_to_none=True)
        return loss.item()

    def _can_grow(self) -> bool:
        if self.config.growth == "none" or self.net.n_nodes >= self.config.max_nodes:
            return False
        return self.config.growth == "schedule" or self.plateau.enabled

    def _maybe_grow(self, epoch: int):
        trigger = (should_grow_on_schedule(epoch, self.config.grow_every)
                   if self.config.growth == "schedule" else self.plateau.update(self.val_loss))
        if not (trigger and self._can_grow()) or epoch + 1 >= self.config.epochs:
            return
        with self.rng():
            new_weights, new_arch = self.net.grow()
        self.weights += new_weights
        self.w_opt.add_param_group({"params": new_weights})
        self.architect.add_params(new_arch)
        self.warmup_left = self.config.growth_warmup_steps
        yield GrowEvent(self.index, epoch, self.net.n_nodes)
        if self.config.mode == "grow_and_prune":
            fixed = self.net.discretise(self.config.n_active)
            self.architect.drop_missing()
            if fixed:
                yield PruneEvent(self.index, epoch, fixed, self.net.genotype())

    def _out_of_steps(self) -> bool:
        return self.config.max_steps is not None and self.steps >= self.config.max_steps

    def _stop_reason(self, stable: int, genotype, may_stop_early: bool) -> str | None:
        if self.clock.expired():
            return "time"
        if self._out_of_steps():
            return "budget"
        if not may_stop_early:
            return None
        patience = self.config.stop_patience
        if patience is not None and stable >= patience:
            return "architecture stable"
        if self.config.stop_on_degenerate and genotype.degenerate:
            return "degenerate"
        return None

