"""Selection among candidate genotypes by a short retraining on the validation part."""

from __future__ import annotations

import math

from autoforecast.search.backbones import build_encoder
from autoforecast.search.data import SearchData
from autoforecast.search.events import CandidateEvent, SelectedEvent
from autoforecast.search.runtime import local_threads
from autoforecast.training import TrainingDivergedError, seed_everything_local, train_module


def retrain_val_loss(genotype, seed, input_size, config, data, device, max_time=None) -> float:
    """Train the derived cell from scratch for ``config.selection_epochs``; best val loss.

    ``data``: a :class:`SearchData` or the 4-tuple ``(train_batches, val_batches, head_factory,
    loss_fn)``."""
    data = SearchData.of(data)
    with seed_everything_local(seed), local_threads(config.num_threads):
        encoder = build_encoder(genotype, input_size, config.hidden_size, config.dropout_x, config.dropout_h)
        model = data.build_model(encoder, config.hidden_size)
        try:
            result = train_module(model, data.train_batches, data.val_batches, data.loss_fn,
                                  epochs=config.selection_epochs, lr=config.lr,
                                  weight_decay=config.weight_decay, patience=None, clip=config.clip,
                                  device=device, max_time=max_time)
        except TrainingDivergedError:
            return math.inf
    return result.best_val_loss


def select(candidates, input_size, config, data, device, clock, retrain: bool):
    """Generator: retrain (when ``retrain``) each candidate, yield events, return the best."""
    cache = {}
    for index, cand in enumerate(candidates):
        if not retrain or clock.expired():
            continue
        if cand.genotype not in cache:
            cache[cand.genotype] = retrain_val_loss(cand.genotype, cand.seed, input_size, config,
                                                    data, device, clock.remaining())
        cand.selection_val_loss = cache[cand.genotype]
        yield CandidateEvent(index, cand.genotype, cand.selection_val_loss)
    best = min(candidates, key=_selection_key)
    yield SelectedEvent(best.genotype, best.selection_val_loss)
    return best.genotype


def _selection_key(cand):
    """Retrained candidates first by their validation loss, then the others by the search's."""
    retrained = not math.isnan(cand.selection_val_loss)
    loss = cand.selection_val_loss if retrained else cand.search_val_loss
    return (not retrained, loss if math.isfinite(loss) else math.inf)
