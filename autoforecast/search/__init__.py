"""Growable differentiable search of recurrent cells (docs/method.md).

    from autoforecast.search import SearchConfig, SearchData, search
    data = SearchData(train_batches, val_batches, loss_fn, model_factory, input_size)
    for event in search(SearchConfig(...), data):
        ...
    result = run_searches(SearchConfig(n_searches=4, ...), task, random_state=0)  # several seeds

The backbones of the search space are :class:`Backbone` objects in ``BACKBONES``
(``search/backbones.py``); ``build_cell`` / ``build_encoder`` build a genotype's derived cell.
"""

from autoforecast.search.backbones import BACKBONES, Backbone, build_cell, build_encoder, get_backbone
from autoforecast.search.config import SearchConfig
from autoforecast.search.data import SearchData
from autoforecast.search.events import (Candidate, CandidateEvent, DoneEvent, EpochEvent, GrowEvent,
                                        PruneEvent, SearchDoneEvent, SearchResult, SelectedEvent)
from autoforecast.search.genotype import Genotype, genotype_of
from autoforecast.search.loop import search
from autoforecast.search.node_types import DartsNode, TwoInputNode
from autoforecast.search.parallel import run_searches
from autoforecast.search.random_search import sample_candidates, sample_genotype
from autoforecast.search.supernet import SuperNet

__all__ = ["BACKBONES", "Backbone", "Candidate", "CandidateEvent", "DartsNode", "DoneEvent",
           "EpochEvent", "Genotype", "GrowEvent", "PruneEvent", "SearchConfig", "SearchData",
           "SearchDoneEvent", "SearchResult", "SelectedEvent", "SuperNet", "TwoInputNode",
           "build_cell", "build_encoder", "genotype_of", "get_backbone", "run_searches",
           "sample_candidates", "sample_genotype", "search"]
