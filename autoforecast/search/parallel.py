"""Independent search runs (one per seed) and the retraining of their candidates through joblib.

Each run is a complete single-seed search; the runs share nothing, so they can go to any joblib
backend: processes on this machine (``n_jobs``), or a cluster under
``joblib.parallel_config(backend="ray")`` (or ``"dask"``) with no other change. A run's result
depends only on its seed, so ``n_jobs=1`` and ``n_jobs=4`` give the same cell.

``task(seed)`` returns the search's data for that seed, ``(train_batches, val_batches,
head_factory, loss_fn)`` or a :class:`~autoforecast.search.data.SearchData` (with
``model_factory`` and ``input_size`` for models other than ``CellModel``); it must be
picklable (a top-level class instance, not a lambda) when ``n_jobs != 1``.
"""

from __future__ import annotations

import math
from dataclasses import replace

from joblib import Parallel, delayed

from autoforecast.search.data import SearchData
from autoforecast.search.events import Candidate, CandidateEvent, SearchResult, SelectedEvent
from autoforecast.search.loop import _record, search
from autoforecast.search.runtime import Clock, resolve_seeds
from autoforecast.search.selection import _selection_key, retrain_val_loss


def run_searches(config, task, random_state, device="cpu", n_jobs=None, on_event=None):
    """Run ``config.n_searches`` single-seed searches, then select one cell by retraining.

    ``on_event(event)`` receives every search event (with ``n_jobs != 1``: when its run ends).
    Returns a :class:`SearchResult`.
    """
    clock = Clock(config.max_time)
    # Every run on the same number of torch threads (1 unless set), whatever n_jobs is: the
    # thread count changes the order of floating-point sums, so it must not depend on n_jobs.
    config = replace(config, num_threads=config.num_threads or 1)
    single = replace(config, n_searches=1, selection_epochs=0)
    seeds = resolve_seeds(random_state, config.n_searches)
    if n_jobs in (None, 1):  # one after the other, each within what is left of max_time
        runs = (_search_run(replace(single, max_time=_time_left(clock)), task, seed, index,
                            device, on_event)
                for index, seed in enumerate(seeds) if index == 0 or not clock.expired())
    else:
        runs = Parallel(n_jobs=n_jobs)(  # a list: Ray's backend returns no generators
            delayed(_search_run)(single, task, seed, index, device, None)
            for index, seed in enumerate(seeds))
    history, candidates, capped = [], [], False
    for events, candidate, run_capped in runs:
        if n_jobs not in (None, 1) and on_event is not None:
            for event in events:
                on_event(event)
        history += [_history_entry(e, candidate.seed) for e in events
                    if e.kind in ("epoch", "grow", "prune")]
        candidates.append(candidate)
        capped = capped or run_capped
    best = _select(candidates, config, task, device, n_jobs, clock, on_event)
    return SearchResult(best, history, candidates, capped or clock.capped)


def _time_left(clock: Clock):
    left = clock.remaining()
    return None if left is None else max(left, 1e-3)


def _search_run(config, task, seed, index, device, on_event):
    """One single-seed search: (its events, its candidate, whether max_time cut it short)."""
    events, result = [], None
    data = SearchData.of(task(seed))
    for event in search(config, *data[:4], random_state=seed, device=device,
                        model_factory=data.model_factory, input_size=data.input_size):
        if hasattr(event, "search_index"):
            event.search_index = index
        if event.kind == "done":
            result = event.result
            continue
        if event.kind in ("candidate", "selected"):  # a single run selects trivially
            continue
        events.append(event)
        if on_event is not None:
            on_event(event)
    done = next(e for e in reversed(events) if e.kind == "search_done")
    return events, Candidate(result.genotype, seed, done.val_loss), result.time_capped


def _history_entry(event, seed: int) -> dict:
    """One row of ``search_history_``: an epoch's figures, or a growth or pruning event."""
    if event.kind == "epoch":
        return {"event": "epoch", **_record(event, seed), "search": event.search_index}
    entry = {"event": event.kind, "search": event.search_index, "seed": seed,
             "epoch": event.epoch}
    if event.kind == "grow":
        entry["n_nodes"] = event.n_nodes
    else:
        entry |= {"fixed_nodes": list(event.fixed_nodes), "genotype": event.genotype.to_dict()}
    return entry


def _select(candidates, config, task, device, n_jobs, clock, on_event):
    """Retrain each distinct candidate briefly (in parallel); the best validation loss wins."""
    if len(candidates) > 1 and config.selection_epochs > 0 and not clock.expired():
        distinct = list({c.genotype: c for c in candidates}.values())
        losses = Parallel(n_jobs=n_jobs)(
            delayed(_retrain)(c.genotype, c.seed, config, task, device, clock.remaining())
            for c in distinct)
        loss_of = {c.genotype: loss for c, loss in zip(distinct, losses)}
        for index, cand in enumerate(candidates):
            cand.selection_val_loss = loss_of[cand.genotype]
            if on_event is not None:
                on_event(CandidateEvent(index, cand.genotype, cand.selection_val_loss))
    best = min(candidates, key=_selection_key)
    if on_event is not None:
        on_event(SelectedEvent(best.genotype, best.selection_val_loss))
    return best.genotype


def _retrain(genotype, seed, config, task, device, max_time) -> float:
    data = SearchData.of(task(seed))
    input_size = data.resolve_input_size()
    loss = retrain_val_loss(genotype, seed, input_size, config, data, device, max_time)
    return loss if math.isfinite(loss) else math.inf
