"""Growth is an exact network morphism (docs/method.md, section 3), and the two modes of pruning."""

import copy

import pytest
import torch

from autoforecast.cells.ops import ACTIVATIONS, BINARY_OPS, DARTS_OPS, SIDE_INPUTS
from autoforecast.search import SuperNet

# (backbone, search_activations, carry): the carry path's gate reads x_t and h_{t-1} only
# (docs/method.md, section 8), so growth stays exact with it
CONFIGS = [("darts", False, False), ("two_input", False, False), ("two_input", True, False),
           ("two_input", False, True), ("two_input", True, True)]
MAX_NODES = 4


def _net(backbone, search_activations, carry=False, init_nodes=1, max_nodes=MAX_NODES):
    torch.manual_seed(0)
    net = SuperNet(3, 5, backbone, init_nodes, max_nodes, search_activations=search_activations,
                   dropout_x=0.25, dropout_h=0.25, carry=carry).double()
    with torch.no_grad():  # move away from the initial state: non-trivial gates and weights
        for p in net.weight_parameters():
            p.add_(0.3 * torch.randn_like(p))
    return net


def _norm_stats(net):
    return [copy.deepcopy(n.norm.state_dict()) for n in net.cell.nodes]


def _train_forward(net, x, seed=7):
    net.train()
    torch.manual_seed(seed)  # same dropout masks before and after the growth
    return net(x)


@pytest.mark.parametrize("backbone,search_activations,carry", CONFIGS)
def test_grow_preserves_outputs_in_eval_and_training_mode(backbone, search_activations, carry):
    net = _net(backbone, search_activations, carry)
    if carry:  # the gate is really on: its weights reach the outputs
        assert torch.autograd.grad(net(torch.randn(2, 3, 3, dtype=torch.float64))[0].sum(),
                                   net.cell.wzh)[0].abs().sum() > 0
    x = torch.randn(6, 8, 3, dtype=torch.float64)
    while net.n_nodes < MAX_NODES:
        train_before = _train_forward(net, x)
        net.eval()
        eval_before = net(x)
        stats = _norm_stats(net)
        net.grow()
        assert all(_same_state(a, b) for a, b in zip(stats, _norm_stats(net)))
        eval_after = net(x)
        train_after = _train_forward(net, x)
        for before, after in ((eval_before, eval_after), (train_before, train_after)):
            for b, a in zip(before, after):  # outputs and final state
                assert (a - b).abs().max().item() < 1e-6
        assert not torch.equal(eval_before[0], train_before[0])  # dropout was really active
    with pytest.raises(ValueError, match="max_nodes"):
        net.grow()


def _same_state(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("backbone,search_activations,carry", CONFIGS)
def test_new_parameters_receive_gradients(backbone, search_activations, carry):
    net = _net(backbone, search_activations, carry, init_nodes=2)
    x = torch.randn(6, 8, 3, dtype=torch.float64)
    new_weights, new_arch = net.grow()
    assert {id(p) for p in new_arch} <= {id(p) for p in net.arch_parameters()}
    assert {id(p) for p in new_weights} <= {id(p) for p in net.weight_parameters()}
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    _train_forward(net, x)[0].pow(2).mean().backward()
    assert net.cell.lambdas[-1].grad.abs().item() > 0  # the new node's gate, right away
    opt.step()
    opt.zero_grad()
    _train_forward(net, x)[0].pow(2).mean().backward()
    for p in new_weights + new_arch:
        assert p.grad is not None and p.grad.abs().sum().item() > 0


def test_arch_and_weight_parameters_partition_all_parameters():
    net = SuperNet(2, 4, "two_input", 2, 3, search_activations=True)
    arch, weights = net.arch_parameters(), net.weight_parameters()
    assert len(arch) == 2 * 4 and arch and weights
    assert {id(p) for p in arch} | {id(p) for p in weights} == {id(p) for p in net.parameters()}
    assert not {id(p) for p in arch} & {id(p) for p in weights}


@pytest.mark.parametrize("backbone,search_activations,carry", CONFIGS)
@pytest.mark.parametrize("n_active", [1, 2])
def test_grow_and_prune_keeps_only_newest_nodes_continuous(backbone, search_activations, carry,
                                                           n_active):
    net = SuperNet(3, 4, backbone, 1, 6, search_activations=search_activations, carry=carry)
    x = torch.randn(3, 4, 3)
    while net.n_nodes < 6:
        genotype_before = net.genotype()
        net.grow()
        net.discretise(n_active)
        nodes = list(net.cell.nodes)
        for i, node in enumerate(nodes[:-n_active]):
            assert node.choice is not None and not list(node.arch.parameters())
            assert node.choice == genotype_before.nodes[i]  # fixed to its argmax at that time
        assert all(node.choice is None for node in nodes[-n_active:])
        n_arch = sum(p.numel() for p in net.arch_parameters())
        assert 0 < n_arch <= net.arch_parameter_bound(n_active)
        net.train()
        net(x)[0].sum().backward()  # discretised nodes still run
    assert net.genotype().nodes[: 6 - n_active] == tuple(n.choice for n in nodes[:-n_active])


@pytest.mark.parametrize("args,match", [
    ((0, 4, "darts", 1, 2), "input_size"),
    ((2, 4, "lstm", 1, 2), "backbone"),
    ((2, 4, "darts", 3, 2), "max_nodes"),
])
def test_supernet_rejects_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        SuperNet(*args)


def test_arch_parameter_bound_per_backbone():
    """docs/method.md, sec. 3: DARTS node i has alpha (i, ops) with i <= max_nodes, whether activations
    are searched or not; a two-input node has beta and delta, and act_a, act_b if searched."""
    def bound(backbone, search_activations, n_active):
        net = SuperNet(2, 3, backbone, 1, MAX_NODES, search_activations=search_activations)
        return net.arch_parameter_bound(n_active)

    per_node = len(BINARY_OPS) + len(SIDE_INPUTS)
    assert bound("darts", False, 2) == bound("darts", True, 2) == 2 * MAX_NODES * len(DARTS_OPS)
    assert bound("two_input", False, 2) == 2 * per_node
    assert bound("two_input", True, 1) == per_node + 2 * len(ACTIVATIONS)
