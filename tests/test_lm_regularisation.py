"""Issue 14's training options: weight drop (LSTM and cell), locked dropout masks, NT-ASGD in
the one training loop, and checkpoints that resume a cut-off run exactly."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from autoforecast.cells.lm import LanguageModelNet, LSTMEncoder, lm_loss
from autoforecast.optimizers import LoopOptimizer
from autoforecast.search import Genotype, TwoInputNode, build_encoder
from autoforecast.search.node_types import DartsNode
from autoforecast.settings import SearchSettings
from autoforecast.training import TBPTTStream, train_module


GENOTYPES = [Genotype("two_input", (TwoInputNode("hadamard", "h"), TwoInputNode("add", "x"))),
             Genotype("darts", (DartsNode("tanh", 0), DartsNode("relu", 1)))]


# ------------------------------------------------------------------------------ weight drop
def test_lstm_weight_drop_masks_weight_hh_once_per_forward_and_not_in_eval():
    torch.manual_seed(0)
    enc = LSTMEncoder(3, 5, weight_drop=0.5)
    x = torch.randn(2, 6, 3)
    out, _ = enc(x)
    out.sum().backward()
    grad = enc.lstm.weight_hh_l0.grad  # one mask for all steps: dropped entries get no gradient
    assert 0.3 < float((grad == 0).float().mean()) < 0.7
    assert enc.lstm.weight_ih_l0.grad.ne(0).all()  # the input matrix is not dropped
    torch.manual_seed(1)
    masked, _ = enc(x)
    torch.manual_seed(1)
    w_hh = nn.functional.dropout(enc.lstm.weight_hh_l0, 0.5, training=True)
    reference = nn.LSTM(3, 5, batch_first=True)
    reference.load_state_dict({**enc.lstm.state_dict(), "weight_hh_l0": w_hh.detach()})
    torch.testing.assert_close(masked, reference(x)[0], rtol=0, atol=0)
    enc.eval()  # no mask: the plain LSTM
    torch.testing.assert_close(enc(x)[0], nn.LSTM.forward(enc.lstm, x)[0], rtol=0, atol=0)
    assert set(enc.state_dict()) == set(LSTMEncoder(3, 5).state_dict())  # files stay the same


@pytest.mark.parametrize("genotype", GENOTYPES, ids=lambda g: g.backbone)
def test_cell_weight_drop_masks_the_matrices_that_read_h_in_both_paths(genotype):
    torch.manual_seed(0)
    enc = build_encoder(genotype, 3, 4, weight_drop=0.5).double()
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    outs = []
    for fused in (True, False):  # the whole-sequence kernel and the step-by-step reference
        enc.fused = fused
        torch.manual_seed(3)
        outs.append(enc(x)[0])
    torch.testing.assert_close(outs[0], outs[1])
    plain = build_encoder(genotype, 3, 4).double()
    plain.load_state_dict(enc.state_dict())
    torch.manual_seed(3)
    assert not torch.allclose(outs[0], plain(x)[0])  # the mask changed the training forward
    enc.eval(), plain.eval()
    # evaluation: no mask, the same function (up to the order of float64 sums)
    torch.testing.assert_close(enc(x)[0], plain(x)[0], rtol=0, atol=1e-12)
    outs[0].sum().backward()
    w0h = enc.cell.w0h.grad
    assert 0.2 < float((w0h == 0).float().mean()) < 0.8 and enc.cell.w0x.grad.ne(0).any()


def test_weight_drop_rates_are_checked():
    with pytest.raises(ValueError, match=r"`weight_drop` must be in \[0, 1\), got 1.0"):
        LSTMEncoder(3, 4, weight_drop=1.0)
    with pytest.raises(ValueError, match=r"`weight_drop` must be in \[0, 1\), got -0.1"):
        build_encoder(GENOTYPES[0], 3, 4, weight_drop=-0.1)


# ------------------------------------------------------------------- locked (variational)
class Capture(nn.Module):
    """An encoder that returns its input and keeps it (hidden size = input size)."""

    def __init__(self, size):
        super().__init__()
        self.hidden_size, self.seen = size, []

    def forward(self, x, state=None):
        self.seen.append(x)
        return x, state


def _zero_pattern_is_locked(t: torch.Tensor) -> bool:
    """Zeros at the same (sequence, unit) in every time step of (batch, time, units)."""
    zeros = t == 0
    return bool((zeros == zeros[:, :1]).all()) and bool(zeros.any())


def test_input_and_output_dropout_masks_are_one_per_sequence_across_time():
    torch.manual_seed(0)
    net = LanguageModelNet(Capture(6), 11, 6, dropout_o=0.5)
    net.projection = nn.Identity()  # see what the decoder receives
    received = []
    net.projection.register_forward_hook(lambda m, i, o: received.append(i[0]))
    net.train()(torch.randint(0, 11, (4, 9)))
    assert _zero_pattern_is_locked(received[0])
    lstm = LSTMEncoder(6, 5, dropout_x=0.5)
    seen = []
    lstm.lstm.register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    lstm.train()(torch.randn(4, 9, 6))
    assert _zero_pattern_is_locked(seen[0])
    enc = build_encoder(GENOTYPES[0], 6, 4, dropout_x=0.5)
    enc.cell.sequence = lambda x, h, mask_h: seen.append(x) or (x[..., :4], x[:, -1, :4])
    enc.train()(torch.randn(4, 9, 6))
    assert _zero_pattern_is_locked(seen[1])


# ------------------------------------------------------------------------------- NT-ASGD
def test_nt_asgd_triggers_by_merity_rule():
    opt = LoopOptimizer("nt-asgd", [nn.Parameter(torch.zeros(1))], lr=0.1, nonmono=2)
    # epoch 3: 2.4 vs min([3]) no; epoch 4: 2.6 > min([3, 2]) -> averaging from now on
    assert [opt.end_epoch(v) for v in (3.0, 2.0, 2.5, 2.4, 2.6, 9.0)] == [False] * 4 + [True, False]
    adam = LoopOptimizer("adam", [nn.Parameter(torch.zeros(1))], lr=0.1)
    assert not any(adam.end_epoch(v) for v in (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0))


def test_nt_asgd_averages_the_weights_after_every_step_since_the_switch():
    p = nn.Parameter(torch.zeros(2))
    opt = LoopOptimizer("nt-asgd", [p], lr=1.0)
    opt.averaging = True
    seen = []
    for g in ([1.0, 0.0], [0.0, 2.0], [-4.0, 1.0]):
        p.grad = torch.tensor(g)
        opt.step()
        seen.append(p.detach().clone())
    with opt.evaluation():
        torch.testing.assert_close(p.detach(), torch.stack(seen).mean(0))
    torch.testing.assert_close(p.detach(), seen[-1])  # the trained weights come back


def _stream(seed, n=4 * 40):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 7, (4, n // 4), generator=g)


def _lm(kind: str) -> LanguageModelNet:
    torch.manual_seed(0)
    if kind == "lstm":
        encoder = LSTMEncoder(5, 6, dropout_x=0.2, weight_drop=0.3)
    else:
        encoder = build_encoder(GENOTYPES[0], 5, 6, dropout_x=0.2, dropout_h=0.1, weight_drop=0.3)
    return LanguageModelNet(encoder, 7, 5, dropout_e=0.1, dropout_o=0.2)


def _fit(model, epochs, **kwargs):
    settings = dict(epochs=epochs, lr=0.5, patience=None, optimizer="nt-asgd", nonmono=1)
    return train_module(model, TBPTTStream(_stream(1), 6), TBPTTStream(_stream(2), 6), lm_loss,
                        **(settings | kwargs))


def test_nt_asgd_in_the_loop_validates_and_keeps_the_averaged_weights():
    model = _lm("lstm")
    result = _fit(model, 8)
    assert [r["lr"] for r in result.history] == [0.5] * 8  # plain SGD, no decay
    averaged = [r["averaged"] for r in result.history]
    assert averaged[0] is False and any(averaged)
    assert averaged == sorted(averaged)  # once averaging, always averaging


# ---------------------------------------------------------------------------- checkpoints
@pytest.mark.parametrize("kind,optimizer", [("lstm", "nt-asgd"), ("cell", "adam"),
                                            ("cell", "nt-asgd")])
def test_a_cut_run_resumed_from_its_checkpoint_computes_the_uncut_run(tmp_path, kind, optimizer):
    extra = dict(optimizer=optimizer, plateau_lr_factor=0.5 if optimizer == "adam" else None)
    uncut_model = _lm(kind)
    uncut = _fit(uncut_model, 4, **extra)
    path = tmp_path / "loop.pt"
    _fit(_lm(kind), 2, checkpoint=path, **extra)  # cut after 2 epochs
    torch.manual_seed(123)  # another random state in between: the checkpoint restores it
    model = _lm(kind)
    resumed = _fit(model, 4, checkpoint=path, **extra)
    strip = [{k: v for k, v in r.items() if k != "train_seconds"} for r in resumed.history]
    assert strip == [{k: v for k, v in r.items() if k != "train_seconds"} for r in uncut.history]
    assert resumed.best_epoch == uncut.best_epoch and resumed.trained == uncut.trained
    for a, b in zip(model.state_dict().values(), uncut_model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_a_run_interrupted_in_an_epoch_callback_resumes_and_a_finished_one_returns(tmp_path):
    path, calls = tmp_path / "loop.pt", []

    def interrupt(record):
        if record["epoch"] == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _fit(_lm("lstm"), 3, checkpoint=path, on_epoch=interrupt)
    resumed = _fit(_lm("lstm"), 3, checkpoint=path, on_epoch=calls.append)
    assert [r["epoch"] for r in calls] == [2]  # epochs 0 and 1 were saved before the callback
    uncut = _fit(_lm("lstm"), 3)
    assert [r["val_loss"] for r in resumed.history] == [r["val_loss"] for r in uncut.history]
    again = _fit(_lm("lstm"), 3, checkpoint=path, on_epoch=calls.append)
    assert len(calls) == 1 and again.history == resumed.history  # nothing left to train


def test_a_checkpoint_of_another_network_or_optimiser_is_refused(tmp_path):
    path = tmp_path / "loop.pt"
    _fit(_lm("lstm"), 1, checkpoint=path)
    with pytest.raises(ValueError, match="holds the weights of another network"):
        _fit(_lm("cell"), 2, checkpoint=path)
    with pytest.raises(ValueError, match="optimizer='nt-asgd', this run asks for 'adam'"):
        _fit(_lm("lstm"), 2, checkpoint=path, optimizer="adam")
    (tmp_path / "junk.pt").write_text("not a checkpoint")
    with pytest.raises(ValueError, match="not a training checkpoint"):
        _fit(_lm("lstm"), 2, checkpoint=tmp_path / "junk.pt")


def test_unknown_optimizer_is_refused():
    with pytest.raises(ValueError, match=r"`optimizer` must be one of \('adam', 'nt-asgd'\), got 'sgd'"):
        _fit(_lm("lstm"), 1, optimizer="sgd")
    with pytest.raises(ValueError, match="`nonmono` must be an int >= 1"):
        _fit(_lm("lstm"), 1, nonmono=0)


# ------------------------------------------------------------------ the estimator's options
LINES = ["the cat sat on the mat", "a dog ran to the park", "the cat ate a fish"] * 12
SETTINGS = dict(embedding_size=8, hidden_size=8, bptt=8, batch_size=4, lr=0.5,
                optimizer="nt-asgd", weight_drop=0.2, dropout_h=0.1, dropout_e=0.1,
                patience=None, random_state=0, device="cpu",
                search=SearchSettings(max_nodes=2, epochs=2, derivation="prefer_nondegenerate"))


def test_language_model_options_reach_the_networks_and_a_cut_fit_resumes(tmp_path):
    from autoforecast.language_model import AutoCellLanguageModel

    uncut = AutoCellLanguageModel(epochs=4, **SETTINGS).fit(LINES)
    assert uncut.module_.encoder.cell.weight_drop == 0.2  # one recipe: both models
    assert uncut.baseline_module_.encoder.weight_drop == 0.2
    assert [r["lr"] for r in uncut.history_] == [0.5] * 4 and "averaged" in uncut.history_[0]
    folder = tmp_path / "fit"
    AutoCellLanguageModel(epochs=2, **SETTINGS).fit(LINES, checkpoint=folder)  # cut after 2
    assert {p.name for p in folder.iterdir()} == {"settings.json", "search.json", "retrain.pt",
                                                  "baseline_lstm.pt"}
    resumed = AutoCellLanguageModel(epochs=4, **SETTINGS).fit(LINES, checkpoint=folder)
    assert resumed.genotype_ == uncut.genotype_
    assert (json.dumps(resumed.search_result_.to_dict())  # JSON: nan equals nan
            == json.dumps(uncut.search_result_.to_dict()))
    columns = ["val_perplexity", "test_perplexity", "parameters", "epochs", "best_epoch"]
    assert resumed.report_[columns].equals(uncut.report_[columns])
    for fitted in ("module_", "baseline_module_"):
        for a, b in zip(getattr(resumed, fitted).state_dict().values(),
                        getattr(uncut, fitted).state_dict().values()):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"other settings \(lr: 0.5 there, 0.1 now\)"):
        AutoCellLanguageModel(epochs=4, **(SETTINGS | {"lr": 0.1})).fit(LINES, checkpoint=folder)


def test_the_lstm_trains_on_at_most_the_cells_tokens(monkeypatch):
    import autoforecast.language_model as lm_module

    caps, real = [], lm_module.train_module

    def spy(*args, **kwargs):  # the estimator's calls of the one training loop
        caps.append(kwargs["max_items"])
        return real(*args, **kwargs)

    monkeypatch.setattr(lm_module, "train_module", spy)
    lm = lm_module.AutoCellLanguageModel(epochs=2, **(SETTINGS | {"optimizer": "adam"})).fit(LINES)
    cell_tokens = lm.report_.loc["autocell", "train_tokens"]
    assert caps == [None, cell_tokens]  # the cell's tokens cap the LSTM's
    assert lm.report_.loc["lstm", "train_tokens"] == cell_tokens


def test_language_model_defaults_keep_todays_training():
    from autoforecast.language_model import AutoCellLanguageModel

    params = AutoCellLanguageModel().get_params()
    assert {k: params[k] for k in ("weight_drop", "optimizer", "search__derivation")} == {
        "weight_drop": 0.0, "optimizer": "adam", "search__derivation": "argmax"}
    with pytest.raises(ValueError, match=r"`weight_drop` must be in \[0, 1\), got 1.5"):
        AutoCellLanguageModel(weight_drop=1.5).fit(LINES)
    with pytest.raises(ValueError, match="`optimizer` must be one of"):
        AutoCellLanguageModel(optimizer="sgd").fit(LINES)


def test_a_given_genotype_is_trained_without_a_search():
    from autoforecast.language_model import AutoCellLanguageModel

    given = GENOTYPES[0]
    settings = dict(embedding_size=8, hidden_size=8, epochs=1, bptt=8, batch_size=4,
                    baseline=False, random_state=0, device="cpu")
    stages = []
    lm = AutoCellLanguageModel(search=SearchSettings(genotype=given.to_dict()), **settings).fit(
        LINES, callback=lambda e: stages.append(e.stage))
    assert lm.genotype_ == given and "search" not in stages and lm.search_result_.history == []
    with pytest.raises(TypeError, match="`genotype` must be None, a Genotype or its dict"):
        AutoCellLanguageModel(search=SearchSettings(genotype="hadamard"), **settings).fit(LINES)
