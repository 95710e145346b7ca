"""AutoCellLanguageModel: search a recurrent cell for a word-level language model.

``fit(texts)``:
1. reads the corpus (a path or an iterable of lines) and splits off validation and test lines
   (the last ones, unless ``validation=`` / ``test=`` are given, as for Penn Treebank);
2. builds the vocabulary on the training lines (``max_vocab`` words with ``<unk>`` and
   ``<eos>``; words seen fewer than ``min_count`` times become ``<unk>``);
3. searches a cell with the engine of :mod:`autoforecast.search` (embedding -> supernet ->
   tied decoder, segments of ``bptt`` tokens starting from a zero state);
4. retrains the derived cell from scratch with truncated BPTT (state carried across segments),
   and an LSTM language model with the same parameter count, settings and optimiser, trained
   on at most as many tokens as the cell was (``baseline=True``);
5. reports validation and test perplexity of both in ``report_``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .base import check_positive_int
from .checkpoints import FitCheckpoint
from .cells.base import n_parameters
from .cells.lm import (LanguageModelFactory, LanguageModelNet, LSTMEncoder, lm_loss,
                       lstm_hidden_for, stream_nll)
from .data.text import SegmentBatches, Vocabulary, batchify, read_corpus, tokenizer_of
from . import metrics
from .events import search_reached
from .neural import resolve_device
from .optimizers import check_optimizer
from .search import SearchConfig, build_encoder, genotype_of
from .search.data import SearchData
from .search.events import SearchResult
from .search.parallel import run_searches
from .shell import EstimatorShell
from .settings import SearchSettings
from .training import TBPTTStream, seed_everything_local, train_module

EVAL_STREAMS = 10  # parallel streams when scoring (the usual evaluation batch size on PTB)
# parameters a fit resumed from a checkpoint may change (FitCheckpoint's may_change)
RESUMABLE_CHANGES = ("epochs", "max_time", "verbose")
NT_ASGD_NONMONO = 5  # epochs without validation improvement before NT-ASGD averages (AWD-LSTM)
# The search of a default fit (SearchSettings' fields left at None take these). The carry path
# and 4 candidates, each retrained 1 epoch on the search's tokens: chosen on PTB's validation
# part (issue 22, docs/language_model.md): at the reduced size the cell so found reached a
# validation perplexity of 139.8, against 150.3 for the DARTS backbone and 166.6 for 0.2's
# search (no carry, one cell; an older commit). Transferred to hidden 180 that cell lost to the
# LSTM and to an older DARTS cell (docs/language_model.md, "The full size"): the choice holds
# at this size only.
DEFAULT_SEARCH = SearchSettings(
    backbone="two_input", mode="grow_then_prune", n_active=1, init_nodes=1, max_nodes=4,
    growth="schedule", grow_every=1, epochs=4, n_searches=1, selection_epochs=1,
    second_order=False, activations=False, subsample=60_000, strategy="search",
    derivation="argmax", genotype=None, carry=True, n_candidates=4)


class LanguageModelSearchTask:
    """The search's data for one seed (picklable): segments of the training and validation
    streams, the cross-entropy loss and the language-model factory."""

    def __init__(self, train_streams, val_streams, bptt, vocab_size, embedding_size, dropout_e,
                 dropout_o):
        self.train, self.val, self.bptt = train_streams, val_streams, bptt
        self.factory = LanguageModelFactory(vocab_size, embedding_size, dropout_e, dropout_o)
        self.embedding_size = embedding_size

    def __call__(self, seed: int) -> SearchData:
        return SearchData(SegmentBatches(self.train, self.bptt), SegmentBatches(self.val, self.bptt),
                          lm_loss, self.factory, self.embedding_size)


class AutoCellLanguageModel(EstimatorShell):
    """Word-level language model whose recurrent cell is found by growable differentiable search.

    Vocabulary: ``max_vocab`` (the most frequent training words; the others become ``<unk>``),
    ``tokenizer`` ("whitespace": words are what spaces separate, as in Penn Treebank;
    "punctuation": punctuation marks are words of their own, ``"thee,"`` -> ``"thee" ","``;
    kept in ``vocabulary_``, so that ``perplexity``, ``score`` and ``generate`` split text as
    the fit did). Network: ``embedding_size``, ``hidden_size`` (the decoder is tied to the
    embedding; a projection maps hidden to embedding size when they differ), dropouts
    ``dropout_e`` (words), ``dropout_x`` (cell input), ``dropout_h`` (cell state, not the
    LSTM's), ``dropout_o`` (outputs), each mask drawn once per BPTT segment (locked across its
    time steps), and ``weight_drop``: AWD-LSTM's DropConnect (one mask per segment) on each
    model's recurrent matrices (the LSTM's hidden-to-hidden matrix, the cell's matrices that
    read h_{t-1}). Search: ``search``, a :class:`~autoforecast.SearchSettings` (None: the
    defaults, ``DEFAULT_SEARCH``; ``search__<field>`` parameters the sklearn way): the search
    runs on the first ``subsample`` training (and validation) tokens ("all": every one); its
    ``genotype``: no search, this cell is trained (a genotype found at a smaller size
    transferred to a larger one, as DARTS did); ``n_candidates`` (default 4): cells derived
    from each search, each retrained ``selection_epochs`` epochs, the best on validation kept
    (``search_result_.candidates``; docs/method.md, section 8). Training: ``epochs``,
    ``optimizer`` ("adam", the learning rate halved after each epoch without validation
    improvement; or "nt-asgd": SGD at ``lr`` averaging once validation has not improved for 5
    epochs, AWD-LSTM's rule,
    :mod:`autoforecast.optimizers`), ``lr``, ``weight_decay``, ``clip``, ``patience``,
    ``bptt``, ``batch_size``; ``max_time`` caps the search and, separately, each model's
    training (seconds; so that the LSTM gets the cell's budget, not what the cell left; a cut
    fit warns :class:`~autoforecast.shell.MaxTimeWarning`). ``baseline``: also train an LSTM of
    the same parameter count and budget: the same settings, and at most as many training
    tokens as the cell had (when ``max_time`` or ``patience`` stopped the cell early, the
    faster model would otherwise see more text). Splits: the last ``test_size`` and, before
    them, ``validation_size`` of the lines, unless given to ``fit``. Torch's own thread setting
    is used (``torch.set_num_threads``). ``verbose``: progress events on stderr.

    Fitted: ``search_settings_``, ``vocabulary_``, ``genotype_``, ``module_``,
    ``search_result_``, ``history_``, ``baseline_module_``, ``baseline_history_``,
    ``report_`` (DataFrame, one row per model).
    """

    _search_defaults = DEFAULT_SEARCH

    def __init__(self, max_vocab=10000, tokenizer="whitespace", embedding_size=64,
                 hidden_size=64, search=None, bptt=35, batch_size=20, epochs=6, lr=3e-3,
                 weight_decay=0.0, clip=0.25, patience=2, optimizer="adam", dropout_e=0.0,
                 dropout_x=0.1, dropout_h=0.0, dropout_o=0.1, weight_drop=0.0, baseline=True,
                 validation_size=0.1, test_size=0.1, max_time=None, device="auto",
                 random_state=None, verbose=0):
        self.max_vocab = max_vocab
        self.tokenizer = tokenizer
        self.embedding_size = embedding_size
        self.hidden_size = hidden_size
        self.search = search
        self.bptt = bptt
        self.batch_size = batch_size
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.clip = clip
        self.patience = patience
        self.optimizer = optimizer
        self.dropout_e = dropout_e
        self.dropout_x = dropout_x
        self.dropout_h = dropout_h
        self.dropout_o = dropout_o
        self.weight_drop = weight_drop
        self.baseline = baseline
        self.validation_size = validation_size
        self.test_size = test_size
        self.max_time = max_time
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ---------------------------------------------------------------------- fit
    def fit(self, texts, y=None, *, validation=None, test=None, callback=None, checkpoint=None):
        """Search, retrain and report on the corpus ``texts`` (a path or an iterable of lines);
        ``validation`` / ``test``: separate corpora (default: the last lines of ``texts``);
        ``callback(ProgressEvent)`` receives progress. ``checkpoint``: a folder (made when
        missing) where the search's result and each model's training state are written after
        every epoch; a fit given the same folder and settings resumes where the last one
        stopped and computes what an uncut fit would (``epochs``, ``max_time`` and
        ``verbose`` may change in between). Returns ``self``; a fit that fails or is
        interrupted leaves the estimator unfitted (see :mod:`autoforecast.shell`)."""
        return self._run_fit(callback, self._fit, texts, validation, test, checkpoint)

    def _fit(self, texts, validation=None, test=None, checkpoint=None):
        config = self._check_params()
        store = None if checkpoint is None else FitCheckpoint(checkpoint, self.get_params(),
                                                             RESUMABLE_CHANGES)
        train, val, test = self._split(read_corpus(texts), validation, test)
        self.device_ = resolve_device(self.device)
        self.vocabulary_ = Vocabulary.build(train, self.max_vocab, 1, self.tokenizer)
        streams = {name: batchify(self.vocabulary_.encode(lines), self.batch_size)
                   for name, lines in (("train", train), ("val", val))}
        self.n_train_tokens_ = int(streams["train"].numel())
        self._search(config, streams, store)
        seed = self._seed()
        self.module_, self.history_, cell_row = self._train("retrain", self._cell_net, streams,
                                                            seed, store)
        rows = {"autocell": cell_row}
        self.baseline_module_ = self.baseline_history_ = None
        if self.baseline:
            n_params = n_parameters(self.module_)
            self.baseline_module_, self.baseline_history_, rows["lstm"] = self._train(
                "baseline:lstm", lambda: self._lstm_net(n_params), streams, seed, store,
                max_tokens=cell_row["train_tokens"])
        self.report_ = self._report(rows, val, test)
        self._emit("report", 1, 1, "perplexity:\n" + self.report_.to_string())
        return self

    def _check_params(self) -> SearchConfig:
        for name in ("embedding_size", "hidden_size", "bptt", "batch_size", "epochs"):
            check_positive_int(getattr(self, name), name)
        if self.patience is not None:
            check_positive_int(self.patience, "patience")
        check_optimizer(self.optimizer, NT_ASGD_NONMONO)
        for name in ("dropout_e", "dropout_o", "weight_drop"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"`{name}` must be in [0, 1), got {getattr(self, name)!r}.")
        for name in ("validation_size", "test_size"):
            if not 0.0 <= getattr(self, name) < 0.5:
                raise ValueError(f"`{name}` must be a fraction in [0, 0.5), got {getattr(self, name)!r}.")
        if self.max_time is not None and not self.max_time > 0:
            raise ValueError(f"`max_time` must be None or seconds > 0, got {self.max_time!r}.")
        tokenizer_of(self.tokenizer)  # a known name, or a ValueError naming the choices
        self.search_settings_ = settings = self._search_settings()
        if settings.genotype is not None:
            genotype_of(settings.genotype)
        return SearchConfig.from_settings(  # validates the search settings
            settings, hidden_size=self.hidden_size, lr=self.lr, weight_decay=self.weight_decay,
            clip=self.clip, dropout_x=self.dropout_x, dropout_h=self.dropout_h,
            max_time=self.max_time)

    def _split(self, lines, validation, test):
        """(train, validation, test) lines: given corpora, else the last lines of ``lines``."""
        n = len(lines)
        n_test = 0 if test is not None else int(round(n * self.test_size))
        n_val = 0 if validation is not None else max(int(round(n * self.validation_size)), 1)
        if n - n_test - n_val < 1 or (test is None and self.test_size > 0 and n_test < 1):
            raise ValueError(
                f"the corpus has {n} non-blank line(s): too few to hold out {n_val} validation and "
                f"{n_test} test line(s) and keep training lines; pass a longer corpus, smaller "
                "`validation_size` / `test_size`, or `validation=` and `test=` corpora.")
        train = lines[: n - n_test - n_val]
        val = read_corpus(validation) if validation is not None else lines[len(train): n - n_test]
        test = read_corpus(test) if test is not None else lines[n - n_test:]
        if not val:
            raise ValueError("the validation corpus has no non-blank lines.")
        return train, val, test

    def _search(self, config, streams, store=None) -> None:
        limit = self.search_settings_.subsample  # the first tokens of each part
        train, val = (streams[k] if limit == "all" else
                      batchify(streams[k].reshape(-1)[:limit], self.batch_size) for k in ("train", "val"))
        task = LanguageModelSearchTask(train, val, self.bptt, len(self.vocabulary_),
                                       self.embedding_size, self.dropout_e, self.dropout_o)
        saved = store and store.load_json("search")
        if self.search_settings_.genotype is not None:  # given: transferred from another search
            result = SearchResult(genotype_of(self.search_settings_.genotype))
        elif saved:
            result = SearchResult.from_dict(saved)
        else:
            result = run_searches(config, task, self._seed(), self.device_, None,
                                  self._on_search_event)
            if store:
                store.save_json("search", result.to_dict())
        self.search_result_, self.genotype_ = result, result.genotype
        if result.time_capped:
            self._time_capped("the search")

    def _cell_net(self) -> LanguageModelNet:
        encoder = build_encoder(self.genotype_, self.embedding_size, self.hidden_size,
                                self.dropout_x, self.dropout_h, self.weight_drop)
        return LanguageModelNet(encoder, len(self.vocabulary_), self.embedding_size,
                                self.dropout_e, self.dropout_o)

    def rebuild_module(self, attribute: str) -> LanguageModelNet:
        """An untrained network shaped like the fitted ``module_`` or ``baseline_module_`` (the
        safe model format stores weights only; ``module_`` is rebuilt first)."""
        if attribute == "baseline_module_":
            return self._lstm_net(n_parameters(self.module_))
        return self._cell_net()

    def _lstm_net(self, n_params: int) -> LanguageModelNet:
        hidden = lstm_hidden_for(n_params, len(self.vocabulary_), self.embedding_size)
        return LanguageModelNet(LSTMEncoder(self.embedding_size, hidden, self.dropout_x,
                                            self.weight_drop),
                                len(self.vocabulary_), self.embedding_size, self.dropout_e,
                                self.dropout_o)

    def _train(self, stage, build, streams, seed, store=None, max_tokens=None):
        """Train one network from scratch (built under ``seed``) with truncated BPTT (Adam: the
        learning rate halved after each epoch without validation improvement) on at most
        ``max_tokens`` tokens, resuming from ``store``'s checkpoint of ``stage`` when there is
        one; returns (module, history, report row)."""
        def on_epoch(record):
            done = record["epoch"] + 1
            self._emit(stage, done, self.epochs,
                       f"train ppl {metrics.perplexity(record['train_loss']):.1f}, "
                       f"val ppl {metrics.perplexity(record['val_loss']):.1f}",
                       reached=f"{stage} epoch {done} of {self.epochs}", **record)

        with seed_everything_local(seed):
            module = build()
            result = train_module(
                module, TBPTTStream(streams["train"], self.bptt),
                TBPTTStream(streams["val"], self.bptt), lm_loss, epochs=self.epochs, lr=self.lr,
                weight_decay=self.weight_decay, clip=self.clip, patience=self.patience,
                max_time=self.max_time, device=self.device_, on_epoch=on_epoch,
                plateau_lr_factor=0.5 if self.optimizer == "adam" else None,
                optimizer=self.optimizer, nonmono=NT_ASGD_NONMONO,
                checkpoint=store and store.loop(stage), max_items=max_tokens)
        if result.time_capped:
            self._time_capped(f"training ({stage})", f", after {len(result.history)} of "
                                                       f"{self.epochs} epochs")
        row = {"parameters": n_parameters(module), "hidden_size": module.encoder.hidden_size,
               "epochs": len(result.history), "best_epoch": result.best_epoch + 1,
               "train_tokens": result.trained, "train_seconds": round(result.train_seconds, 2),
               "tokens_per_second": round(result.trained / max(result.train_seconds, 1e-9), 1),
               "time_capped": result.time_capped}
        return module.cpu().eval(), result.history, row

    def _report(self, rows, val, test) -> pd.DataFrame:
        modules = {"autocell": self.module_, "lstm": self.baseline_module_}
        for name, row in rows.items():
            row["val_perplexity"] = _perplexity(modules[name], self.vocabulary_, val, self.bptt)
            row["test_perplexity"] = (_perplexity(modules[name], self.vocabulary_, test, self.bptt)
                                      if test else math.nan)
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "model"
        first = ["val_perplexity", "test_perplexity", "parameters"]
        return frame[first + [c for c in frame.columns if c not in first]]

    # ------------------------------------------------------------------ predict
    def perplexity(self, texts) -> float:
        """exp(mean negative log-likelihood per token, ``<eos>`` included) of the text (a path
        or an iterable of lines); words outside the vocabulary count as ``<unk>``."""
        check_is_fitted(self, "module_")
        return _perplexity(self.module_, self.vocabulary_, read_corpus(texts), self.bptt)

    def score(self, texts, y=None) -> float:
        """Minus the log perplexity (mean log-likelihood per token, nats): higher is better."""
        return -math.log(self.perplexity(texts))

    def generate(self, prompt: str = "", n_words: int = 20, temperature: float = 1.0,
                 random_state=None) -> str:
        """Sample ``n_words`` tokens after ``prompt`` (``<eos>`` becomes a line break) and return
        them, without the prompt; ``temperature=0`` takes the most likely word each time."""
        check_is_fitted(self, "module_")
        check_positive_int(n_words, "n_words")
        if not isinstance(prompt, str):
            raise TypeError(f"`prompt` must be a str, got {type(prompt).__name__}.")
        if not temperature >= 0:
            raise ValueError(f"`temperature` must be >= 0, got {temperature!r}.")
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        gen = torch.Generator().manual_seed(seed)
        ids = [1] + self.vocabulary_.ids(prompt, eos=False)  # <eos>: "a line starts here"
        out, model = [], self.module_.eval()
        with torch.no_grad():
            logits, state = model.run(torch.tensor([ids]))
            for _ in range(n_words):
                last = logits[0, -1]
                if temperature == 0:
                    token = int(last.argmax())
                else:
                    token = int(torch.multinomial(torch.softmax(last / temperature, -1), 1, generator=gen))
                out.append(token)
                logits, state = model.run(torch.tensor([[token]]), state)
        return self.vocabulary_.decode(out)

    # ----------------------------------------------------------------- progress
    # fit wrapper, _emit, _seed, the max-time warning: autoforecast.shell.EstimatorShell
    def _on_search_event(self, event) -> None:
        epochs = self.search_settings_.epochs
        reached = search_reached(event, epochs)
        if event.kind == "epoch":
            self._emit("search", event.epoch + 1, epochs,
                       f"run {event.search_index}: {event.n_nodes} nodes, val ppl "
                       f"{metrics.perplexity(event.val_loss):.1f}, {event.genotype}",
                       reached=reached, train_loss=event.train_loss, val_loss=event.val_loss,
                       n_nodes=event.n_nodes)
        elif event.kind in ("grow", "prune", "search_done", "candidate", "selected"):
            genotype = getattr(event, "genotype", None)
            self._emit("search", getattr(event, "epoch", 0) + 1, None,
                       f"{event.kind}" + (f": {genotype}" if genotype is not None else ""),
                       reached=reached)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags


def _perplexity(module, vocabulary, lines, bptt) -> float:
    ids = vocabulary.encode(lines)
    total, count = stream_nll(module, batchify(ids, EVAL_STREAMS), bptt)
    return metrics.perplexity(total / count)

