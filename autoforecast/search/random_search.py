"""Random search over the same space: the control of docs/method.md, sections 4 and 8.

The control replaces the searches by draws and shares the rest with them
(:func:`autoforecast.search.run_searches` with ``strategy="random"``): for each search seed it
draws as many distinct cells as a search yields candidates, ``n_candidates``, each a candidate
of that seed, uniformly from the same space and of the size the search's own cells reach
(:func:`~autoforecast.search.growth.scheduled_nodes`: 3 nodes at the forecaster's defaults,
not ``max_nodes`` = 4, which gave 0.3's first control cells 17 % more parameters); all ``n_searches *
n_candidates`` go through the search's selection (:func:`autoforecast.search.selection.select`):
the same retraining of ``selection_epochs`` epochs on the seed's data (none when the search
retrains none), the same ``n_jobs`` and the same rule for pass-through cells. The control does
not spend the supernet's ``n_searches * epochs`` epochs (it has no supernet), so it spends less
compute than the search, never more.
"""

from __future__ import annotations

import math

import numpy as np

from autoforecast.search.backbones import get_backbone
from autoforecast.search.events import Candidate
from autoforecast.search.genotype import Genotype
from autoforecast.search.growth import scheduled_nodes

# draws per wanted cell before a seed settles for fewer distinct cells (a small space)
DRAWS_PER_CELL = 100


def sample_genotype(backbone: str, n_nodes: int, rng: np.random.Generator,
                    search_activations: bool = False, carry: bool = False) -> Genotype:
    """A genotype drawn uniformly from the search space of ``backbone`` with ``n_nodes`` nodes;
    with ``carry`` when that space has the carry path (not a draw: the same draws either way)."""
    return Genotype(backbone, get_backbone(backbone).sample(n_nodes, rng, search_activations), carry)


def sample_candidates(config, seed: int) -> list[Candidate]:
    """The control's candidates of ``seed``: ``config.n_candidates`` distinct genotypes of
    :func:`scheduled_nodes` nodes drawn on ``np.random.default_rng(seed)``, in the order drawn (fewer when ``DRAWS_PER_CELL *
    n_candidates`` draws find fewer: a small space), each with ``seed`` and no search loss
    (nan), as a search's candidates hold its seed and its loss."""
    rng, cells, n_nodes = np.random.default_rng(seed), {}, scheduled_nodes(config)
    for _ in range(DRAWS_PER_CELL * config.n_candidates):
        if len(cells) == config.n_candidates:
            break
        cells.setdefault(sample_genotype(config.backbone, n_nodes, rng,
                                         config.search_activations, config.carry))
    return [Candidate(genotype, seed, math.nan) for genotype in cells]
