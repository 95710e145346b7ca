"""Genotype as plain data, and derivation (docs/method.md, sections 1 and 2)."""

import json
import pickle

import numpy as np
import pytest
import torch

from autoforecast.cells import RecurrentEncoder
from autoforecast.cells.ops import ACTIVATIONS, BINARY_OPS, DARTS_OPS, SIDE_INPUTS
from autoforecast.search import (BACKBONES, Backbone, DartsNode, Genotype, SuperNet, TwoInputNode,
                                 build_cell, build_encoder, get_backbone, sample_genotype)

GENOTYPES = [
    Genotype("darts", (DartsNode("relu", 0), DartsNode("tanh", 0), DartsNode("identity", 2))),
    Genotype("two_input", (TwoInputNode("gate", "h"), TwoInputNode("hadamard", "skip", "relu", "tanh"))),
]


@pytest.mark.parametrize("genotype", GENOTYPES)
def test_json_round_trip_gives_identical_derived_cell(genotype):
    back = Genotype.from_json(json.loads(json.dumps(genotype.to_json())))
    assert back == genotype and hash(back) == hash(genotype)
    assert Genotype.from_dict(genotype.to_dict()) == genotype
    x = torch.randn(2, 5, 3)
    outs = []
    for g in (genotype, back):
        torch.manual_seed(0)
        enc = RecurrentEncoder(build_cell(g, 3, 4))
        outs.append((enc(x)[0], [p.detach().clone() for p in enc.parameters()]))
    torch.testing.assert_close(outs[0][0], outs[1][0], rtol=0, atol=0)
    assert all(torch.equal(a, b) for a, b in zip(outs[0][1], outs[1][1]))


def test_genotype_is_frozen_and_prints_readably():
    g = GENOTYPES[1]
    with pytest.raises(AttributeError):
        g.backbone = "darts"
    assert str(g) == "two_input[s1=gate(tanh(prev), tanh(h)); s2=hadamard(relu(prev), tanh(skip))]"
    assert str(GENOTYPES[0]).startswith("darts[s1=relu(s0)")


@pytest.mark.parametrize("bad,match", [
    ({"backbone": "lstm", "nodes": []}, "backbone"),
    ({"backbone": "darts", "nodes": [{"op": "relu", "input": 1}]}, "read a node in 0..0"),
    ({"backbone": "darts", "nodes": [{"op": "none", "input": 0}]}, "DARTS edge op"),
    ({"backbone": "two_input", "nodes": [{"op": "max", "side": "h"}]}, "binary op"),
    ({"backbone": "two_input", "nodes": [{"op": "add", "side": "y"}]}, "side input"),
])
def test_invalid_genotypes_raise_clear_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        Genotype.from_dict(bad)


def test_darts_derivation_keeps_best_non_none_predecessor_and_op():
    net = SuperNet(2, 4, "darts", init_nodes=3, max_nodes=3)
    alpha = [n.arch["alpha"] for n in net.cell.nodes]
    with torch.no_grad():
        for a in alpha:
            a.zero_()
        alpha[0][0, DARTS_OPS.index("none")] = 9.0  # `none` never wins
        alpha[0][0, DARTS_OPS.index("sigmoid")] = 2.0
        alpha[1][1, DARTS_OPS.index("relu")] = 3.0
        alpha[1][0, DARTS_OPS.index("tanh")] = 2.5
        alpha[2][2, DARTS_OPS.index("none")] = 9.0  # s2's edge is mostly none ...
        alpha[2][2, DARTS_OPS.index("tanh")] = 1.0  # ... so s0's identity is kept
        alpha[2][0, DARTS_OPS.index("identity")] = 2.0
    assert net.genotype().nodes == (DartsNode("sigmoid", 0), DartsNode("relu", 1),
                                    DartsNode("identity", 0))


@pytest.mark.parametrize("search_activations", [False, True])
def test_two_input_derivation_is_per_node_argmax(search_activations):
    net = SuperNet(2, 4, "two_input", init_nodes=2, max_nodes=2, search_activations=search_activations)
    with torch.no_grad():
        for node, (op, side, act) in zip(net.cell.nodes, [("gate", "x", "relu"), ("add", "skip", "sigmoid")]):
            node.arch["beta"][list(BINARY_OPS).index(op)] = 5.0
            node.arch["delta"][SIDE_INPUTS.index(side)] = 5.0
            if search_activations:
                node.arch["act_a"][list(ACTIVATIONS).index("tanh")] = 5.0
                node.arch["act_b"][list(ACTIVATIONS).index(act)] = 5.0
    acts = ("relu", "sigmoid") if search_activations else ("tanh", "tanh")
    assert net.genotype().nodes == (TwoInputNode("gate", "x", "tanh", acts[0]),
                                    TwoInputNode("add", "skip", "tanh", acts[1]))


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_each_backbone_holds_its_node_type_cells_and_sampler(name):
    backbone = get_backbone(name)
    assert isinstance(backbone, Backbone) and backbone.name == name
    genotype = Genotype(name, backbone.sample(3, np.random.default_rng(0), True))
    assert all(type(n) is backbone.node_type for n in genotype.nodes)
    assert type(build_cell(genotype, 2, 3)) is backbone.derived_cell
    assert type(build_encoder(genotype, 2, 3, dropout_h=0.5).cell) is backbone.derived_cell
    net = SuperNet(2, 3, name, init_nodes=2, max_nodes=3)
    assert type(net.cell) is backbone.search_cell
    assert all(type(n) is backbone.node_type for n in net.genotype().nodes)
    ops = DARTS_OPS[1:] if name == "darts" else tuple(BINARY_OPS)
    assert backbone.degenerate and backbone.degenerate <= set(ops)


def test_degenerate_choices_are_those_of_0_1():
    assert {n: b.degenerate for n, b in BACKBONES.items()} == {
        "darts": {"identity"}, "two_input": {"left", "right"}}


@pytest.mark.parametrize("name", ["gru", "", None, ["darts"]])
def test_unknown_backbone_is_a_clear_value_error(name):
    with pytest.raises(ValueError, match=r"unknown backbone .*expected one of \['darts', 'two_input'\]"):
        get_backbone(name)
    with pytest.raises(ValueError, match="unknown backbone"):
        Genotype.from_dict({"backbone": name, "nodes": [{"op": "relu", "input": 0}]})


def test_a_node_of_another_backbone_is_refused():
    with pytest.raises(ValueError, match="node 2 of a 'darts' genotype must be a DartsNode"):
        Genotype("darts", (DartsNode("relu", 0), TwoInputNode("add", "h")))


def test_genotypes_pickle():
    """(Files of 0.1 name the node types under search.genotype: renames.RENAMED_CLASSES
    maps them, and tests/test_pinned.py loads such a file.)"""
    for g in GENOTYPES:
        assert pickle.loads(pickle.dumps(g)) == g


@pytest.mark.parametrize("backbone,search_activations,expected", [
    ("darts", False, ["darts[s1=identity(s0); s2=sigmoid(s1); s3=identity(s1)]",
                      "darts[s1=identity(s0); s2=identity(s0); s3=tanh(s0)]"]),
    ("two_input", False, ["two_input[s1=right(tanh(prev), tanh(h)); s2=left(tanh(prev), tanh(skip)); "
                          "s3=gate(tanh(prev), tanh(skip))]",
                          "two_input[s1=right(tanh(prev), tanh(x)); s2=add(tanh(prev), tanh(x)); "
                          "s3=hadamard(tanh(prev), tanh(skip))]"]),
    ("two_input", True, ["two_input[s1=right(sigmoid(prev), identity(h)); s2=gate(identity(prev), "
                         "tanh(skip)); s3=add(relu(prev), identity(x))]",
                         "two_input[s1=right(relu(prev), identity(x)); s2=add(tanh(prev), "
                         "relu(skip)); s3=right(relu(prev), relu(x))]"]),
])
def test_sampling_draws_the_genotypes_of_0_1(backbone, search_activations, expected):
    """The registry's samplers make the same random draws in the same order as 0.1 did."""
    rng = np.random.default_rng(7)
    assert [str(sample_genotype(backbone, 3, rng, search_activations)) for _ in range(2)] == expected



def _set_beta(node, logits: dict) -> None:
    with torch.no_grad():
        node.arch["beta"].zero_()
        for op, value in logits.items():
            node.arch["beta"][list(BINARY_OPS).index(op)] = value


def test_prefer_nondegenerate_takes_a_close_product_and_keeps_a_clear_pass_through():
    """Weights set by hand: node 1's `left` leads `hadamard` by a factor 1.5 (within the ratio
    0.5: hadamard is taken), node 2's `right` leads `add` by a factor 3 (kept), node 3's argmax
    is not degenerate (kept). The default derivation is the argmax (docs/method.md, sections 1, 2)."""
    from autoforecast.search.nodes import NONDEGENERATE_RATIO

    assert NONDEGENERATE_RATIO == 0.5
    net = SuperNet(2, 4, "two_input", init_nodes=3, max_nodes=3)
    _set_beta(net.cell.nodes[0], {"left": 2.0, "hadamard": 2.0 - np.log(1.5)})
    _set_beta(net.cell.nodes[1], {"right": 3.0, "add": 3.0 - np.log(3.0)})
    _set_beta(net.cell.nodes[2], {"gate": 1.0, "left": 0.9})
    assert [n.op for n in net.genotype().nodes] == ["left", "right", "gate"]
    net.derivation = "prefer_nondegenerate"
    assert [n.op for n in net.genotype().nodes] == ["hadamard", "right", "gate"]
    assert net.discretise(n_active=1) == [1, 2]  # grow_and_prune fixes nodes by the same rule
    assert [n.op for n in net.genotype().nodes] == ["hadamard", "right", "gate"]


def test_prefer_nondegenerate_on_darts_may_move_to_another_edge():
    net = SuperNet(2, 4, "darts", init_nodes=2, max_nodes=2)
    with torch.no_grad():
        for node in net.cell.nodes:
            node.arch["alpha"].zero_()
        alpha = net.cell.nodes[1].arch["alpha"]  # node 2 reads s0 or s1
        alpha[0, DARTS_OPS.index("identity")] = 2.0
        alpha[1, DARTS_OPS.index("relu")] = 1.8  # weight ratio exp(-0.2) = 0.82 >= 0.5
    assert net.genotype().nodes[1] == DartsNode("identity", 0)
    net.derivation = "prefer_nondegenerate"
    assert net.genotype().nodes[1] == DartsNode("relu", 1)


def test_unknown_derivation_is_refused():
    from autoforecast.search import SearchConfig

    with pytest.raises(ValueError, match=r"`derivation` must be one of \('argmax', "
                                         r"'prefer_nondegenerate'\), got 'softmax'"):
        SearchConfig(derivation="softmax")


CARRY = Genotype("two_input", GENOTYPES[1].nodes, carry=True)


def test_carry_round_trips_prints_and_defaults_to_off():
    """docs/method.md, section 8: a genotype saved before the carry path (no "carry" key, or
    pickled without the field) has none."""
    assert CARRY != GENOTYPES[1] and not GENOTYPES[1].carry
    for back in (Genotype.from_json(CARRY.to_json()), Genotype.from_dict(CARRY.to_dict()),
                 pickle.loads(pickle.dumps(CARRY))):
        assert back == CARRY and back.carry is True
    assert CARRY.to_dict()["carry"] is True and "carry" not in GENOTYPES[1].to_dict()
    old = {k: v for k, v in CARRY.to_dict().items() if k != "carry"}
    assert Genotype.from_dict(old) == GENOTYPES[1]
    unpickled = Genotype.__new__(Genotype)  # as a file pickled before the field existed
    unpickled.__dict__.update(backbone="two_input", nodes=GENOTYPES[1].nodes)
    assert unpickled.carry is False and unpickled == GENOTYPES[1]
    assert str(CARRY) == str(GENOTYPES[1])[:-1] + "; carry]"
    cell = build_cell(CARRY, 3, 4)
    assert {n for n, _ in cell.named_parameters()} - {n for n, _ in build_cell(GENOTYPES[1], 3, 4)
                                                      .named_parameters()} == {"wzx", "wzh", "bz"}
    assert not cell.bz.detach().any()  # b_z starts at 0


def test_darts_refuses_a_carry_path():
    from autoforecast.search import SearchConfig

    match = "'darts' backbone has no carry path"
    with pytest.raises(ValueError, match=match):
        Genotype("darts", GENOTYPES[0].nodes, carry=True)
    with pytest.raises(ValueError, match=match):
        Genotype.from_dict({**GENOTYPES[0].to_dict(), "carry": True})
    with pytest.raises(ValueError, match=match):
        SuperNet(2, 3, "darts", carry=True)
    with pytest.raises(ValueError, match=match):
        SearchConfig(backbone="darts", carry=True)
    with pytest.raises(ValueError, match="`carry` must be True or False"):
        Genotype("two_input", GENOTYPES[1].nodes, carry="yes")
    assert not SuperNet(2, 3, "darts").genotype().carry


@pytest.mark.parametrize("carry", [False, True])
def test_supernet_and_sampling_give_cells_of_the_searched_space(carry):
    net = SuperNet(2, 3, "two_input", init_nodes=2, max_nodes=3, carry=carry)
    assert net.genotype().carry is carry
    net.grow()
    net.discretise(1)
    assert net.genotype().carry is carry
    drawn = [sample_genotype("two_input", 3, np.random.default_rng(7), carry=carry)
             for _ in range(2)]
    plain = sample_genotype("two_input", 3, np.random.default_rng(7))
    assert all(g.carry is carry and g.nodes == plain.nodes for g in drawn)  # the same draws
