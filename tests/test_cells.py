"""Derived cells: the fused implementations against a plain per-node reading of METHOD.md."""

import pytest
import torch

from autoforecast.cells import ACTIVATIONS, BINARY_OPS, CellModel, LastStateHead, RecurrentEncoder
from autoforecast.search import DartsNode, Genotype, TwoInputNode, build_cell

DARTS = Genotype("darts", (DartsNode("tanh", 0), DartsNode("relu", 1), DartsNode("sigmoid", 1),
                           DartsNode("identity", 0), DartsNode("relu", 3)))
TWO = Genotype("two_input", (TwoInputNode("hadamard", "skip"), TwoInputNode("gate", "x", "relu"),
                             TwoInputNode("add", "skip", "tanh", "sigmoid"),
                             TwoInputNode("left", "h", "identity")))


def reference_darts(cell, x):
    h, outs = x.new_zeros(x.shape[0], cell.hidden_size), []
    w0 = torch.cat([cell.w0x, cell.w0h], 0)
    for t in range(x.shape[1]):
        c, z = (torch.cat([x[:, t], h], 1) @ w0).chunk(2, 1)
        states = [h + torch.sigmoid(c) * (torch.tanh(z) - h)]
        for i, node in enumerate(cell.genotype.nodes):
            src = states[node.input]
            c, z = (src @ cell.weights[i]).chunk(2, 1)
            e = src + torch.sigmoid(c) * (ACTIVATIONS[node.op](z) - src)
            states.append(states[-1] + cell.lambdas[i] * (e - states[-1]))
        h = sum(g * s for g, s in zip(cell.gammas, states[1:]))
        outs.append(h)
    return torch.stack(outs, 1)


def reference_two_input(cell, x):
    h, outs = x.new_zeros(x.shape[0], cell.hidden_size), []
    w0 = torch.cat([cell.w0x, cell.w0h], 0)
    for t in range(x.shape[1]):
        states = [torch.tanh(torch.cat([x[:, t], h], 1) @ w0 + cell.b0)]
        for k, node in enumerate(cell.genotype.nodes):
            side = {"x": x[:, t] @ cell.wx, "h": h, "skip": states[-2] if k else h}[node.side]
            p = ACTIVATIONS[node.act_a](states[-1] @ cell.a[k] + cell.p[k])
            q = ACTIVATIONS[node.act_b](side @ cell.b[k] + cell.q[k])
            m = BINARY_OPS[node.op](p, q)
            states.append(states[-1] + cell.lambdas[k] * (m - states[-1]))
        h = sum(g * s for g, s in zip(cell.gammas, states[1:]))
        outs.append(h)
    return torch.stack(outs, 1)


@pytest.mark.parametrize("genotype,reference", [(DARTS, reference_darts), (TWO, reference_two_input)])
def test_fused_cell_matches_plain_reference(genotype, reference):
    torch.manual_seed(0)
    cell = build_cell(genotype, 3, 6).double()
    with torch.no_grad():  # non-trivial gates and output weights
        for p in list(cell.lambdas) + list(cell.gammas):
            p.uniform_(0.2, 1.5)
    x = torch.randn(5, 9, 3, dtype=torch.float64)
    outputs, h_last = RecurrentEncoder(cell)(x)
    assert outputs.shape == (5, 9, 6) and h_last.shape == (5, 6)
    torch.testing.assert_close(outputs, reference(cell, x), rtol=0, atol=1e-12)
    torch.testing.assert_close(h_last, outputs[:, -1])


@pytest.mark.parametrize("genotype", [DARTS, TWO])
def test_derived_cell_has_no_search_state_and_trains(genotype):
    cell = build_cell(genotype, 2, 4)
    names = [n for n, _ in cell.named_parameters()]
    assert not any("arch" in n for n in names) and not list(cell.buffers())
    assert all(p.item() == 1.0 for p in cell.lambdas)
    model = CellModel(RecurrentEncoder(cell), LastStateHead(4))
    loss = model(torch.randn(3, 5, 2)).pow(2).mean()
    loss.backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_variational_dropout_masks_are_reproducible_and_off_in_eval():
    enc = RecurrentEncoder(build_cell(TWO, 2, 4), dropout_x=0.5, dropout_h=0.5)
    x = torch.randn(3, 6, 2)
    torch.manual_seed(3)
    a = enc(x)[0]
    torch.manual_seed(3)
    b = enc(x)[0]
    torch.manual_seed(4)
    c = enc(x)[0]
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)
    enc.eval()
    torch.testing.assert_close(enc(x)[0], enc(x)[0])


def test_encoder_rejects_bad_dropout():
    with pytest.raises(ValueError, match="dropout_x"):
        RecurrentEncoder(build_cell(TWO, 2, 4), dropout_x=1.0)
