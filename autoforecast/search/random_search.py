"""Random search over the same space: the control of docs/method.md, sections 4 and 8.

Count and budget: the differentiable search yields ``n_searches * n_candidates`` candidate
cells, each retrained ``selection_epochs`` epochs, and keeps the best on validation. The
control samples as many cells (K_max nodes each, drawn uniformly from the same space), retrains
each for the same ``selection_epochs`` epochs (at least one) and keeps the best on validation
with the same selector. So both choose among the same number of cells with the same
retraining; the control does not get the supernet's own ``n_searches * epochs`` epochs (it
has no supernet), so it spends less compute than the search, never more.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import numpy as np

from autoforecast.search.backbones import get_backbone
from autoforecast.search.events import Candidate, DoneEvent, SearchResult
from autoforecast.search.genotype import Genotype
from autoforecast.search.data import SearchData
from autoforecast.search.runtime import resolve_seeds
from autoforecast.search.selection import retrain_val_loss, select
from autoforecast.training import Clock


def sample_genotype(backbone: str, n_nodes: int, rng: np.random.Generator,
                    search_activations: bool = False, carry: bool = False) -> Genotype:
    """A genotype drawn uniformly from the search space of ``backbone`` with ``n_nodes`` nodes;
    with ``carry`` when that space has the carry path (not a draw: the same draws either way)."""
    return Genotype(backbone, get_backbone(backbone).sample(n_nodes, rng, search_activations), carry)


def random_search(config, data: SearchData, random_state: int | None = 0, device="cpu",
                  n_samples: int | None = None):
    """Generator of CandidateEvent / SelectedEvent, then DoneEvent(result=SearchResult).

    ``data``: as in :func:`autoforecast.search.search`; ``n_samples``: the cells drawn (None:
    ``n_searches * n_candidates``, the search's candidates)."""
    data = SearchData.of(data)
    clock = Clock(config.max_time)
    per_sample = max(config.selection_epochs, 1)
    if n_samples is None:  # as many cells as the search yields candidates
        n_samples = config.n_searches * config.n_candidates
    base = resolve_seeds(random_state, 1)[0]
    rng = np.random.default_rng(base)
    candidates = [Candidate(sample_genotype(config.backbone, config.max_nodes, rng,
                                            config.search_activations, config.carry), base + i,
                            float("nan"))
                  for i in range(n_samples)]
    retrain_config = replace(config, selection_epochs=per_sample)
    # Here, in order (n_jobs=1): the samples share `data`, whose batch stream may advance.
    retrain = partial(retrain_val_loss, config=retrain_config, data=data, device=device)
    best = yield from select(candidates, retrain, clock)
    history = [{"sample": i, "seed": c.seed, "genotype": c.genotype.to_dict(),
                "val_loss": c.selection_val_loss} for i, c in enumerate(candidates)]
    yield DoneEvent(SearchResult(best, history, candidates, clock.capped))
