"""Several candidates per search, chosen on validation (docs/method.md, section 8)."""

import math

import numpy as np
import pytest
import torch
from joblib import parallel_config

from autoforecast.cells.ops import BINARY_OPS, DARTS_OPS, SIDE_INPUTS
from autoforecast.search import (Candidate, DartsNode, Genotype, SuperNet, TwoInputNode,
                                 run_searches, sample_candidates, sample_genotype)
from autoforecast.search import parallel
from autoforecast.search.growth import scheduled_nodes
from autoforecast.search.selection import select
from test_search_loop import Budget, Task, run, run_several, tiny


def _set(param, names, logits: dict) -> None:
    with torch.no_grad():
        param.zero_()
        for name, value in logits.items():
            param[list(names).index(name)] = value


def two_node_net(**kw) -> SuperNet:
    """Node 1 hesitates between `gate` and `add` (margin 0.047), node 2 between the side
    inputs `skip` and `x` (margin 0.024); their other choices are clear."""
    net = SuperNet(2, 4, "two_input", init_nodes=2, max_nodes=2, **kw)
    first, second = net.cell.nodes
    _set(first.arch["beta"], BINARY_OPS, {"gate": 3.0, "add": 2.9})
    _set(first.arch["delta"], SIDE_INPUTS, {"x": 3.0, "h": 0.5})
    _set(second.arch["beta"], BINARY_OPS, {"hadamard": 3.0, "add": 1.0})
    _set(second.arch["delta"], SIDE_INPUTS, {"skip": 3.0, "x": 2.95})
    return net


def test_candidates_are_the_argmax_then_runner_ups_at_the_least_decided_nodes():
    net = two_node_net(carry=True)
    argmax = (TwoInputNode("gate", "x"), TwoInputNode("hadamard", "skip"))
    assert net.genotype() == Genotype("two_input", argmax, carry=True)
    got = [g.nodes for g in net.candidates(4)]
    assert got == [argmax,
                   (argmax[0], TwoInputNode("hadamard", "x")),  # margin 0.024
                   (TwoInputNode("add", "x"), argmax[1]),  # margin 0.047
                   (argmax[0], TwoInputNode("add", "skip"))]  # margin 0.67 (node 1's side: 0.81)
    assert all(g.carry for g in net.candidates(4)) and net.candidates(1) == [net.genotype()]
    every = net.candidates(100)  # 1 + 2 nodes x (4 other ops + 2 other sides), all distinct
    assert len(every) == len(set(every)) == 13
    assert every[:5] == net.candidates(5)  # the runner-ups before any third option
    assert all(sum(a != b for a, b in zip(g.nodes, argmax)) == 1 for g in every[1:])
    net.discretise(n_active=1)  # node 1 fixed: only node 2 still offers alternatives
    assert len(net.candidates(100)) == 7 and net.candidates(2)[1].nodes[0] == argmax[0]
    with pytest.raises(ValueError, match=r"`n` \(the candidates wanted\) must be an int >= 1, got 0"):
        net.candidates(0)


def test_the_first_candidate_follows_the_derivation_setting():
    net = two_node_net()
    _set(net.cell.nodes[0].arch["beta"], BINARY_OPS, {"left": 2.0, "hadamard": 2.0 - np.log(1.5)})
    assert net.candidates(2)[0].nodes[0].op == "left"
    net.derivation = "prefer_nondegenerate"
    first, second = net.candidates(2)
    assert first == net.genotype() and first.nodes[0].op == "hadamard"
    assert second.nodes[0].op == "left"  # heavier than the derived op: the least decided


def test_darts_candidates_swap_the_op_or_the_input_edge():
    net = SuperNet(2, 4, "darts", init_nodes=2, max_nodes=2)
    with torch.no_grad():
        for node in net.cell.nodes:
            node.arch["alpha"].zero_()
        net.cell.nodes[0].arch["alpha"][0, DARTS_OPS.index("relu")] = 5.0  # decided
        alpha = net.cell.nodes[1].arch["alpha"]  # node 2 reads s0 or s1
        alpha[0, DARTS_OPS.index("tanh")] = 3.0
        alpha[0, DARTS_OPS.index("sigmoid")] = 2.0
        alpha[1, DARTS_OPS.index("identity")] = 2.0  # rows: softmax weights 0.659, 0.649
    genotypes = net.candidates(4)
    assert [g.nodes[1] for g in genotypes[:3]] == [
        DartsNode("tanh", 0), DartsNode("identity", 1), DartsNode("sigmoid", 0)]
    assert genotypes[3].nodes[0] != DartsNode("relu", 0) and genotypes[3].nodes[1] == DartsNode("tanh", 0)


def test_a_search_yields_n_candidates_distinct_cells_argmax_first():
    _, result = run(tiny(n_candidates=3), random_state=2)
    cells = [c.genotype for c in result.candidates]
    assert len(cells) == len(set(cells)) == 3 and cells[0] == result.genotype
    assert {c.seed for c in result.candidates} == {2}


def test_the_kept_cell_has_the_lowest_selection_loss():
    events, result = run_several(tiny(n_searches=2, n_candidates=2, selection_epochs=1),
                                 random_state=5)
    assert [c.seed for c in result.candidates] == [5, 5, 6, 6]
    losses = [c.selection_val_loss for c in result.candidates]
    assert all(math.isfinite(v) for v in losses)
    assert result.genotype == result.candidates[int(np.argmin(losses))].genotype
    assert sum(e.kind == "candidate" for e in events) == 4
    table = result.candidate_table()
    assert list(table.columns) == ["genotype", "seed", "search_val_loss", "selection_val_loss",
                                   "kept"]
    assert table["kept"].sum() == 1 and table.loc[table["kept"], "selection_val_loss"].item() == min(losses)
    assert table["genotype"].tolist() == [str(c.genotype) for c in result.candidates]


PASS_THROUGH = Genotype("two_input", (TwoInputNode("left", "h"), TwoInputNode("right", "x")))
GATED = Genotype("two_input", (TwoInputNode("left", "h"), TwoInputNode("gate", "x")))


def test_degenerate_means_every_node_passes_one_input_through():
    assert PASS_THROUGH.degenerate and not GATED.degenerate
    assert Genotype("darts", (DartsNode("identity", 0), DartsNode("identity", 1))).degenerate
    assert not Genotype("darts", (DartsNode("identity", 0), DartsNode("relu", 1))).degenerate


@pytest.mark.parametrize("losses, kept", [
    ({PASS_THROUGH: 0.5, GATED: 0.4}, GATED),  # the pass-through cell loses on validation
    ({PASS_THROUGH: 0.3, GATED: 0.4}, PASS_THROUGH),  # ... and is kept when it wins
    ({PASS_THROUGH: 0.4, GATED: 0.4}, GATED),  # a tie never keeps it, though it comes first
    ({PASS_THROUGH: math.inf, GATED: math.inf}, GATED),
])
def test_a_pass_through_cell_is_kept_only_when_it_wins_on_validation(losses, kept):
    candidates = [Candidate(PASS_THROUGH, 0, 1.0), Candidate(GATED, 0, 1.0)]
    events = list(select(candidates, lambda g, seed, max_time=None: losses[g], Budget()))
    assert events[-1].genotype == kept
    assert [c.selection_val_loss for c in candidates] == [losses[PASS_THROUGH], losses[GATED]]


def test_without_retraining_a_pass_through_cell_loses_the_tie_of_one_search():
    candidates = [Candidate(PASS_THROUGH, 0, 1.0), Candidate(GATED, 0, 1.0)]
    assert list(select(candidates, None, Budget()))[-1].genotype == GATED
    candidates[0].search_val_loss = 0.9  # a better search: kept on its loss
    assert list(select(candidates, None, Budget()))[-1].genotype == PASS_THROUGH


class SeenTask(Task):
    """The planted task, recording the seeds whose data were asked for (``n_jobs=1`` only)."""

    def __init__(self):
        self.seeds = []

    def __call__(self, seed):
        self.seeds.append(seed)
        return super().__call__(seed)


def spy_retrain(monkeypatch, losses=None):
    """Record every retraining of the selection as (genotype, seed, selection_epochs); the real
    one, or the loss ``losses[genotype]``."""
    calls, real = [], parallel.retrain_val_loss

    def retrain(genotype, seed, config, data, device, max_time=None):
        calls.append((genotype, seed, config.selection_epochs))
        if losses is not None:
            return losses[genotype]
        return real(genotype, seed, config, data, device, max_time)

    monkeypatch.setattr(parallel, "retrain_val_loss", retrain)
    return calls


def control(**kw):
    return tiny(strategy="random", max_nodes=2, **kw)


def test_the_random_control_retrains_the_searchs_count_per_seed_with_its_epochs(monkeypatch):
    calls, data = spy_retrain(monkeypatch), SeenTask()
    events = []
    result = run_searches(control(n_searches=2, n_candidates=3, selection_epochs=2), data, 5,
                          on_event=events.append)
    assert [c.seed for c in result.candidates] == [5, 5, 5, 6, 6, 6]  # n_searches * n_candidates
    cells = [c.genotype for c in result.candidates]
    assert len(set(cells[:3])) == len(set(cells[3:])) == 3  # distinct within a seed, as a search's
    assert all(len(g.nodes) == 2 and not g.carry for g in cells)  # K_max nodes, the same space
    assert result.history == [] and all(math.isnan(c.search_val_loss) for c in result.candidates)
    first_seed = {}
    for cand in result.candidates:
        first_seed.setdefault(cand.genotype, cand.seed)
    # each distinct cell retrained once on its seed's data, for the search's selection_epochs
    assert calls == [(g, seed, 2) for g, seed in first_seed.items()]
    assert sorted(set(data.seeds)) == [5, 6]
    losses = [c.selection_val_loss for c in result.candidates]
    assert all(math.isfinite(v) for v in losses)
    assert [e.kind for e in events] == ["candidate"] * 6 + ["selected"]
    table = result.candidate_table()  # the forecaster's candidates_
    assert table["seed"].tolist() == [5, 5, 5, 6, 6, 6]
    assert table.loc[table["kept"], "selection_val_loss"].item() == min(losses)
    with_carry = sample_candidates(control(n_candidates=3, carry=True), 5)
    assert [c.genotype for c in with_carry] == [  # the same draws, with the carry
        Genotype(g.backbone, g.nodes, carry=True) for g in cells[:3]]
    rng = np.random.default_rng(0)
    drawn = {sample_genotype("darts", 3, rng) for _ in range(50)}
    assert len(drawn) > 10 and all(n.input < i for g in drawn for i, n in enumerate(g.nodes, 1))


@pytest.mark.parametrize("settings, nodes", [
    (dict(), 3),  # the forecaster's defaults: 1 node, grown after epochs 2 and 4 of 6
    (dict(epochs=4, grow_every=1), 4),  # the language model's: 1 -> 4
    (dict(epochs=20), 4),  # the schedule would go on: max_nodes bounds it
    (dict(epochs=1), 1),  # no growth after the last epoch
    (dict(growth="none", init_nodes=2), 2),
    (dict(growth="plateau"), 4),  # unknown before the search: max_nodes bounds it
])
def test_the_random_control_draws_cells_of_the_size_the_search_reaches(settings, nodes):
    config = tiny(**{"strategy": "random", "init_nodes": 1, "max_nodes": 4, "epochs": 6,
                     "grow_every": 2, "growth": "schedule", "n_candidates": 4} | settings)
    assert scheduled_nodes(config) == nodes
    cells = [c.genotype for c in sample_candidates(config, 0)]
    assert len(set(cells)) == 4 and {len(g.nodes) for g in cells} == {nodes}


def test_the_schedule_s_count_is_the_count_a_search_reaches():
    for settings in (dict(epochs=6, grow_every=2), dict(epochs=5, grow_every=2),
                     dict(epochs=3, grow_every=1)):
        config = tiny(init_nodes=1, max_nodes=4, growth="schedule", **settings)
        result = run_searches(config, Task(), 0)
        assert len(result.genotype.nodes) == scheduled_nodes(config), settings


@pytest.mark.parametrize("counts", [dict(n_searches=2, n_candidates=2, selection_epochs=0),
                                    dict(n_searches=1, n_candidates=1, selection_epochs=2)])
def test_the_random_control_retrains_nothing_when_the_search_would_not(monkeypatch, counts):
    calls = spy_retrain(monkeypatch)
    result = run_searches(control(**counts), Task(), 3)
    assert calls == [] and len(result.candidates) == counts["n_searches"] * counts["n_candidates"]
    assert all(math.isnan(c.selection_val_loss) for c in result.candidates)
    kept = next(c.genotype for c in result.candidates if not c.genotype.degenerate)
    assert result.genotype == kept  # no loss to rank by: the first cell that is not pass-through


@pytest.mark.parametrize("losses, kept", [
    ({PASS_THROUGH: 0.3, GATED: 0.4}, PASS_THROUGH), ({PASS_THROUGH: 0.4, GATED: 0.4}, GATED),
    (None, GATED),  # selection_epochs=0: no retraining, a tie
])
def test_the_random_control_keeps_a_pass_through_cell_only_when_it_wins(monkeypatch, losses,
                                                                         kept):
    monkeypatch.setattr(parallel, "sample_candidates", lambda config, seed: [
        Candidate(PASS_THROUGH, seed, math.nan), Candidate(GATED, seed, math.nan)])
    spy_retrain(monkeypatch, losses)
    config = control(selection_epochs=1 if losses else 0)
    assert run_searches(config, Task(), 0).genotype == kept


def test_the_random_control_selects_with_the_callers_n_jobs(monkeypatch):
    config = control(n_searches=2, n_candidates=2, selection_epochs=1, epochs=1)
    alone = run_searches(config, Task(), 1, n_jobs=1)
    asked, real = [], parallel.select

    def spy(candidates, retrain, clock, n_jobs=1):
        asked.append(n_jobs)
        return real(candidates, retrain, clock, n_jobs)

    monkeypatch.setattr(parallel, "select", spy)
    with parallel_config(backend="sequential"):  # joblib's path, in this process: fast
        pooled = run_searches(config, Task(), 1, n_jobs=2)
    assert asked == [2]
    assert pooled.genotype == alone.genotype
    assert ([c.selection_val_loss for c in pooled.candidates]
            == [c.selection_val_loss for c in alone.candidates])
