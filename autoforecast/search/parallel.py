"""Several seeds: independent search runs (one per seed), then the selection of one candidate
by a short retraining (:func:`autoforecast.search.selection.select`), both through joblib; the
random control (``strategy="random"``) draws its candidates per seed and goes through the same
selection.

``run_searches`` is the one entry for several seeds (``search()`` runs one). Each run is a
complete single-seed search on its own data; the runs share nothing, so they can go to any
joblib backend: processes on this machine (``n_jobs``), or a cluster under
``joblib.parallel_config(backend="ray")`` (or ``"dask"``) with no other change. A run's result
depends only on its seed, so ``n_jobs=1`` and ``n_jobs=4`` give the same cell.

``task(seed)`` returns the search's data for that seed, a
:class:`~autoforecast.search.data.SearchData`; it must be picklable (a top-level class
instance, not a lambda) when ``n_jobs != 1``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import partial

from joblib import Parallel, delayed

from autoforecast.search.data import SearchData
from autoforecast.search.events import SearchResult, drive
from autoforecast.search.loop import check_config, search_one_seed
from autoforecast.search.random_search import sample_candidates
from autoforecast.search.runtime import resolve_seeds
from autoforecast.search.selection import retrain_val_loss, select
from autoforecast.training import Clock


def run_searches(config, task, random_state, device="cpu", n_jobs=None, on_event=None):
    """Run ``config.n_searches`` single-seed searches (seeds ``random_state + i``), each
    yielding ``config.n_candidates`` distinct cells (``SuperNet.candidates``), then select one
    cell by retraining every candidate for ``config.selection_epochs`` (when there are several
    and ``selection_epochs > 0``). With ``config.strategy == "random"`` (the control), each seed
    draws as many cells instead (:func:`~autoforecast.search.random_search.sample_candidates`)
    and the same selection follows: the same retraining on ``task(seed)``, ``n_jobs`` and rules.

    ``on_event(event)`` receives every search event (with ``n_jobs`` other than None and 1:
    when its run ends), then the selection's CandidateEvents and SelectedEvent.
    Returns a :class:`SearchResult`: the history of every run (``history_rows``; none for the
    control), every candidate of every run in order (argmax first in each run), with its
    selection loss.
    """
    check_config(config)
    clock = Clock(config.max_time)
    # Every run on the same number of torch threads (1 unless set), whatever n_jobs is: the
    # thread count changes the order of floating-point sums, so it must not depend on n_jobs.
    config = replace(config, num_threads=config.num_threads or 1)
    seeds = resolve_seeds(random_state, config.n_searches)
    if config.strategy == "random":
        history, capped = [], False
        candidates = [cand for seed in seeds for cand in sample_candidates(config, seed)]
    else:
        history, candidates, capped = _searches(config, task, seeds, clock, device, n_jobs,
                                                on_event)
    retrain = None
    if len(candidates) > 1 and config.selection_epochs > 0:
        retrain = partial(_retrain, config=config, task=task, device=device)
    best = drive(select(candidates, retrain, clock, n_jobs), on_event)
    return SearchResult(best, history, candidates, capped or clock.capped)


def _searches(config, task, seeds, clock, device, n_jobs, on_event):
    """One single-seed search per seed: (their history, their candidates, time capped)."""
    single = replace(config, n_searches=1, selection_epochs=0)
    if n_jobs in (None, 1):  # one after the other, each within what is left of max_time
        runs = (_search_run(replace(single, max_time=_time_left(clock)), task, seed, index,
                            device, on_event)
                for index, seed in enumerate(seeds) if index == 0 or not clock.expired())
    else:
        runs = Parallel(n_jobs=n_jobs)(  # a list: Ray's backend returns no generators
            delayed(_search_run)(single, task, seed, index, device, None)
            for index, seed in enumerate(seeds))
    history, candidates, capped = [], [], False
    for events, result in runs:
        if n_jobs not in (None, 1) and on_event is not None:
            for event in events:
                on_event(event)
        history += result.history
        candidates += result.candidates
        capped = capped or result.time_capped
    return history, candidates, capped


def _time_left(clock: Clock):
    left = clock.remaining()
    return None if left is None else max(left, 1e-3)


def _search_run(config, task, seed, index, device, on_event):
    """One single-seed search on ``task(seed)``: (its events, its SearchResult)."""
    events = []

    def record(event):
        events.append(event)
        if on_event is not None:
            on_event(event)

    result = drive(search_one_seed(config, SearchData.of(task(seed)), seed, device, index), record)
    return events, result


def _retrain(genotype, seed, config, task, device, max_time=None) -> float:
    """The short retraining of ``genotype`` on ``task(seed)``; a non-finite loss reads inf."""
    loss = retrain_val_loss(genotype, seed, config, task(seed), device, max_time)
    return loss if math.isfinite(loss) else math.inf
