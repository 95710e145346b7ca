"""Selection among candidate genotypes by a short retraining on the validation part.

``select`` is the one selector: ``run_searches`` uses it on the candidates of its seeds (each
search's ``n_candidates`` derived cells, or the random control's as many sampled cells). It is a
generator, like the search itself:

    best = yield from select(candidates, retrain, clock)  # CandidateEvent..., SelectedEvent
    best = drive(select(candidates, retrain, clock, n_jobs=4), on_event)  # from plain code
"""

from __future__ import annotations

import math

from joblib import Parallel, delayed

from autoforecast.search.backbones import build_encoder
from autoforecast.search.data import SearchData
from autoforecast.search.events import CandidateEvent, SelectedEvent
from autoforecast.training import (TrainingDivergedError, seed_everything_local, torch_threads,
                                   train_module)

def retrain_val_loss(genotype, seed, config, data, device, max_time=None) -> float:
    """Train the derived cell from scratch for ``config.selection_epochs`` on ``data`` (a
    :class:`SearchData`); best val loss."""
    data = SearchData.of(data)
    with seed_everything_local(seed), torch_threads(config.num_threads):
        encoder = build_encoder(genotype, data.input_size, config.hidden_size, config.dropout_x,
                                config.dropout_h)
        model = data.model_factory(encoder)
        try:
            result = train_module(model, data.train_batches, data.val_batches, data.loss_fn,
                                  epochs=config.selection_epochs, lr=config.lr,
                                  weight_decay=config.weight_decay, patience=None, clip=config.clip,
                                  device=device, max_time=max_time)
        except TrainingDivergedError:
            return math.inf
    return result.best_val_loss


def select(candidates, retrain, clock, n_jobs=1):
    """Generator: retrain the candidates' genotypes, yield a CandidateEvent per retrained
    candidate and a SelectedEvent; return the best genotype (see ``_selection_key``).

    ``retrain(genotype, seed, max_time=seconds or None) -> validation loss`` trains a cell
    briefly; ``None`` retrains nothing (the searches' own losses rank the candidates). Each
    distinct genotype is retrained once, in the order genotypes first appear, with the seed of
    the first candidate holding it; its loss goes to every candidate
    holding it (``selection_val_loss``, set in place). ``n_jobs=1`` retrains here, one after
    the other (``retrain`` may then share state, such as a batch stream, between calls);
    otherwise through joblib (``retrain`` must be picklable; ``n_jobs=None`` follows
    ``joblib.parallel_config``, which is how Ray or Dask take the work). Once ``clock`` has run
    out no retraining starts: later candidates stay unretrained (nan) and rank after the others.
    A cell of pass-through nodes only loses every tie (``_selection_key``).
    """
    if retrain is not None:
        yield from _retrain_candidates(candidates, retrain, clock, n_jobs)
    best = min(candidates, key=_selection_key)
    yield SelectedEvent(best.genotype, best.selection_val_loss)
    return best.genotype


def _retrain_candidates(candidates, retrain, clock, n_jobs):
    first_seed = {}  # genotype -> the seed of its first candidate, in order of appearance
    for cand in candidates:
        first_seed.setdefault(cand.genotype, cand.seed)
    jobs = list(first_seed.items())
    losses, loss_of = _losses(jobs, retrain, clock, n_jobs), {}
    for index, cand in enumerate(candidates):
        if cand.genotype not in loss_of:  # the next job's genotype: jobs follow this order
            loss = next(losses, None)
            if loss is None:  # the clock ran out before this retraining
                return
            loss_of[cand.genotype] = loss
        cand.selection_val_loss = loss_of[cand.genotype]
        yield CandidateEvent(index, cand.genotype, cand.selection_val_loss)


def _losses(jobs, retrain, clock, n_jobs):
    """An iterator of the losses of a prefix of ``jobs``, ``(genotype, seed)`` pairs: the jobs
    started before ``clock`` ran out, each given the time left (lazily with ``n_jobs=1``)."""
    def due():
        for genotype, seed in jobs:
            if clock.expired():
                return
            yield genotype, seed, clock.remaining()

    if n_jobs == 1:
        return (retrain(genotype, seed, max_time=left) for genotype, seed, left in due())
    return iter(Parallel(n_jobs=n_jobs)(  # a list: Ray's backend returns no generators
        delayed(retrain)(genotype, seed, max_time=left) for genotype, seed, left in due()))


def _selection_key(cand):
    """Retrained candidates first by their validation loss, then the others by the search's;
    at equal loss a cell of pass-through nodes only (``Genotype.degenerate``) comes after the
    others, so it is kept only by winning on validation, never by a tie (docs/method.md,
    section 8); remaining ties go to the earlier candidate (``min`` keeps the first)."""
    retrained = not math.isnan(cand.selection_val_loss)
    loss = cand.selection_val_loss if retrained else cand.search_val_loss
    return (not retrained, loss if math.isfinite(loss) else math.inf, cand.genotype.degenerate)
