"""The search loop: events, budgets, growth and pruning modes, seeds, selection (the random
control: tests/test_candidates.py)."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from joblib import parallel_config

from autoforecast.search import (Candidate, DartsNode, Genotype, SearchConfig, SearchData,
                                 SuperNet, run_searches, search)
from autoforecast.search.architect import Architect
from autoforecast.search.growth import PlateauTrigger
from autoforecast.search.selection import select
from pinned_cases import Batches, LastStateModel

LOSS = nn.functional.mse_loss


def planted(product: bool, n: int, seed: int):
    """Next value = product (or sum) of two different lagged inputs, normalised."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 4, 2, generator=g) * 2 - 1  # (batch, time, input)
    a, b = x[:, -1, 0], x[:, -2, 1]
    y = (a * b if product else a + b).unsqueeze(-1)
    return x, y / y.std()


def task(product=True, n=256, train=None, val=None):
    """The search's data: the planted task's batches (or ``train``/``val``), a last-state model."""
    train = train or Batches(*planted(product, n, 1))
    val = val or Batches(*planted(product, 128, 2))
    return SearchData(train, val, LOSS, LastStateModel, 2)


def tiny(**kw):
    base = dict(hidden_size=4, init_nodes=1, max_nodes=3, epochs=4, grow_every=1, warmup_epochs=1,
                growth_warmup_steps=1, num_threads=1)
    return SearchConfig(**(base | kw))


def run(config, data=None, **kw):
    events = list(search(config, data or task(), **kw))
    assert events[-1].kind == "done" and all(e.kind != "done" for e in events[:-1])
    return events, events[-1].result


class Task:
    """``task(seed)`` of ``run_searches``: the planted product task (the same for every seed)."""

    def __call__(self, seed):
        return task()


def run_several(config, random_state=0, **kw):
    events = []
    result = run_searches(config, Task(), random_state, on_event=events.append, **kw)
    return events, result


def epochs(history):
    return [row for row in history if row["event"] == "epoch"]


@pytest.mark.parametrize("carry", [False, True])
def test_planted_product_is_found_and_sum_is_not(carry):
    """docs/method.md, section 2; with the carry path on too (section 8): its update gate is a
    product of the same kind, but the entry node stays additive, so a product in the chain
    remains the search's decision."""
    config = SearchConfig(hidden_size=8, init_nodes=1, max_nodes=2, epochs=12, grow_every=6,
                          lr=3e-3, arch_lr=1e-2, stop_patience=None, num_threads=1, carry=carry)
    picks = {}
    for product in (True, False):
        data = task(train=Batches(*planted(product, 1024, 123)),
                    val=Batches(*planted(product, 256, 7)))
        picks[product] = sum(
            any(n.op in ("hadamard", "gate") for n in run(config, data, random_state=s)[1].genotype.nodes)
            for s in range(5))
    assert picks[True] >= 3 and picks[False] < picks[True], picks


def test_same_seed_same_result_and_callers_rng_untouched():
    config = tiny(dropout_h=0.2, mode="grow_and_prune")
    state = torch.get_rng_state()
    first = run(config, random_state=3)[1]
    assert torch.equal(state, torch.get_rng_state())
    second = []
    for event in search(config, task(), random_state=3):
        torch.rand(5)  # the caller uses the global generator between events
        second.append(event)
    assert second[-1].result.history == first.history
    assert second[-1].result.genotype == first.genotype
    assert run(config, random_state=4)[1].history != first.history


def test_schedule_growth_and_events():
    events, result = run(tiny(epochs=5, max_nodes=3, grow_every=2, stop_patience=None))
    kinds = [e.kind for e in events]
    assert kinds.count("epoch") == 5 and kinds.count("grow") == 2 and "prune" not in kinds
    assert [e.n_nodes for e in events if e.kind == "epoch"] == [1, 1, 2, 2, 3]
    assert kinds[-2:] == ["search_done", "done"]  # one seed: nothing to select
    assert [h["arch_active"] for h in epochs(result.history)] == [False, True, True, True, True]
    assert [h["event"] for h in result.history] == ["epoch", "epoch", "grow", "epoch", "epoch",
                                                    "grow", "epoch"]
    assert len(result.genotype.nodes) == 3 and len(result.candidates) == 1
    assert result.candidates[0].genotype == result.genotype and result.candidates[0].seed == 0
    assert math.isnan(result.candidates[0].selection_val_loss)  # one search: no retraining


def test_grow_and_prune_fixes_older_nodes_during_the_loop():
    events, result = run(tiny(mode="grow_and_prune", n_active=1, max_nodes=4, epochs=4,
                              stop_patience=None))
    prunes = [e for e in events if e.kind == "prune"]
    assert [e.fixed_nodes for e in prunes] == [[1], [2], [3]]
    for prune in prunes:  # a fixed node keeps its choice to the end
        i = prune.fixed_nodes[0]
        assert result.genotype.nodes[i - 1] == prune.genotype.nodes[i - 1]


def test_architect_drops_pruned_nodes_and_stays_within_bound():
    net = SuperNet(2, 4, "darts", 1, 5)
    model = LastStateModel(net)
    architect = Architect(model, net, LOSS)
    x, y = torch.randn(8, 3, 2), torch.randn(8, 1)
    while net.n_nodes < 5:
        architect.add_params(net.grow()[1])
        net.discretise(2)
        architect.drop_missing()
        optimised = [p for g in architect.optimizer.param_groups for p in g["params"]]
        assert {id(p) for p in optimised} == {id(p) for p in net.arch_parameters()}
        assert sum(p.numel() for p in optimised) <= net.arch_parameter_bound(2)
        architect.step((x, y), (x, y), 1e-3)


def test_second_order_with_zero_step_equals_first_order():
    torch.manual_seed(0)
    net = SuperNet(2, 4, "two_input", 2, 2).double()
    model = LastStateModel(net).double().eval()
    batch_t = (torch.randn(8, 3, 2, dtype=torch.float64), torch.randn(8, 1, dtype=torch.float64))
    batch_v = (torch.randn(8, 3, 2, dtype=torch.float64), torch.randn(8, 1, dtype=torch.float64))
    architect = Architect(model, net, LOSS, second_order=True)
    arch = net.arch_parameters()
    first = torch.autograd.grad(LOSS(model(batch_v[0]), batch_v[1]), arch)
    weights_before = [p.detach().clone() for p in net.weight_parameters()]
    zero, _ = architect._unrolled_grads(arch, batch_t, batch_v, 0.0)
    unrolled, _ = architect._unrolled_grads(arch, batch_t, batch_v, 0.5)
    for a, b, c in zip(first, zero, unrolled):
        torch.testing.assert_close(a, b)
        assert torch.isfinite(c).all()
    assert any(not torch.allclose(a, c) for a, c in zip(first, unrolled))
    assert all(torch.equal(a, b) for a, b in zip(weights_before, net.weight_parameters()))
    run(tiny(second_order=True, epochs=2))  # and it runs inside the loop


def test_budgets_in_steps_and_time_and_early_stop():
    _, result = run(tiny(max_steps=5, epochs=10))
    assert epochs(result.history)[-1]["steps"] == 5 and not result.time_capped
    _, result = run_several(tiny(max_time=1e-3, epochs=50, n_searches=3))
    assert result.time_capped and len(epochs(result.history)) < 50
    events, _ = run(tiny(growth="none", max_nodes=1, epochs=20, arch_lr=1e-9, stop_patience=2))
    done = [e for e in events if e.kind == "search_done"][0]
    assert done.reason == "architecture stable" and sum(e.kind == "epoch" for e in events) == 3


def test_several_searches_are_selected_by_short_retraining():
    events, result = run_several(tiny(n_searches=2, selection_epochs=1), random_state=5)
    assert [c.seed for c in result.candidates] == [5, 6]
    losses = [c.selection_val_loss for c in result.candidates]
    assert all(math.isfinite(v) for v in losses)
    assert result.genotype == result.candidates[int(np.argmin(losses))].genotype
    assert [e.kind for e in events[-3:]] == ["candidate", "candidate", "selected"]
    assert sorted({row["search"] for row in result.history}) == [0, 1]


def test_search_runs_one_seed_and_names_run_searches_for_more():
    with pytest.raises(ValueError, match=r"n_searches=2.*autoforecast\.search\.parallel\.run_searches"):
        next(search(tiny(n_searches=2), task()))


def test_one_history_builder_for_search_and_run_searches():
    config = tiny(mode="grow_and_prune", epochs=3)
    _, alone = run(config, random_state=3)
    _, several = run_several(config, random_state=3)
    assert several.history == alone.history and several.genotype == alone.genotype
    assert [list(row) for row in alone.history[:3]] == [
        ["event", "search", "seed", "epoch", "train_loss", "val_loss", "n_nodes", "genotype",
         "arch_active", "steps"],
        ["event", "search", "seed", "epoch", "n_nodes"],
        ["event", "search", "seed", "epoch", "fixed_nodes", "genotype"]]


class Budget:
    """A clock that runs out after ``n`` checks (each started retraining checks it once)."""

    def __init__(self, n=None):
        self.n, self.checks, self.capped = n, 0, False

    def expired(self):
        self.checks += 1
        self.capped = self.n is not None and self.checks > self.n
        return self.capped

    def remaining(self):
        return None


def fake_retrain(genotype, seed, max_time=None):
    """A retraining whose loss is read off the genotype and the seed."""
    return len(genotype.nodes[0].op) + seed / 100


def candidates_of(*ops_and_seeds):
    return [Candidate(Genotype("darts", (DartsNode(op, 0),)), seed, math.nan)
            for op, seed in ops_and_seeds]


def test_selector_retrains_each_genotype_once_with_its_first_seed():
    calls = []

    def retrain(genotype, seed, max_time=None):
        calls.append((genotype.nodes[0].op, seed))
        return fake_retrain(genotype, seed)

    cands = candidates_of(("relu", 1), ("tanh", 2), ("relu", 3))
    events = list(select(cands, retrain, Budget()))
    assert calls == [("relu", 1), ("tanh", 2)]  # in order of first appearance
    assert [e.kind for e in events] == ["candidate", "candidate", "candidate", "selected"]
    assert [c.selection_val_loss for c in cands] == [4.01, 4.02, 4.01]
    assert events[-1].genotype == cands[0].genotype  # relu 4.01, tanh 4.02


def test_selector_through_joblib_equals_here_and_stops_when_the_clock_runs_out():
    def three():  # losses 7.01, 4.02, 4.00
        return candidates_of(("sigmoid", 1), ("tanh", 2), ("relu", 0))

    here, pooled, cut = three(), three(), three()
    best_here = list(select(here, fake_retrain, Budget()))[-1].genotype
    with parallel_config(backend="threading"):
        best_pooled = list(select(pooled, fake_retrain, Budget(), n_jobs=2))[-1].genotype
    assert best_pooled == best_here == here[2].genotype
    assert [c.selection_val_loss for c in pooled] == [c.selection_val_loss for c in here]
    events = list(select(cut, fake_retrain, Budget(n=2)))  # two retrainings start, not three
    assert [e.kind for e in events] == ["candidate", "candidate", "selected"]
    assert math.isnan(cut[2].selection_val_loss) and events[-1].genotype == cut[1].genotype
    unretrained = candidates_of(("tanh", 1), ("relu", 2))
    unretrained[1].search_val_loss = -1.0
    assert list(select(unretrained, None, Budget()))[-1].genotype == unretrained[1].genotype


def test_plateau_trigger():
    trigger = PlateauTrigger(patience=2, delta=0.0)
    assert [trigger.update(v) for v in (1.0, 0.9, 0.95, 0.95)] == [False, False, False, True]
    assert [trigger.update(v) for v in (0.8, 0.85, 0.85)] == [False, False, True]  # it helped
    assert [trigger.update(v) for v in (0.9, 0.9)] == [False, False] and not trigger.enabled


@pytest.mark.parametrize("kw,match", [
    (dict(backbone="gru"), "backbone"), (dict(mode="prune"), "mode"),
    (dict(init_nodes=3, max_nodes=2), "max_nodes"), (dict(epochs=0), "epochs"),
    (dict(lr=0.0), "lr"), (dict(dropout_h=1.0), "dropout_h"), (dict(max_time=-1.0), "max_time"),
])
def test_config_validation(kw, match):
    with pytest.raises(ValueError, match=match):
        SearchConfig(**kw)


def test_search_rejects_bad_inputs():
    with pytest.raises(TypeError, match="SearchConfig"):
        next(search({"epochs": 1}, task()))
    with pytest.raises(ValueError, match="input_size"):
        next(search(tiny(), task()._replace(input_size=None)))
    with pytest.raises(ValueError, match="model_factory"):
        next(search(tiny(), task()._replace(model_factory=None)))
