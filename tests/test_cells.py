"""Derived cells: the fused implementations against a plain per-node reading of docs/method.md, sec. 1-3."""

import ast
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from autoforecast.cells import (ACTIVATIONS, BINARY_OPS, DARTS_OPS, SIDE_INPUTS, RecurrentEncoder,
                                ops)
from autoforecast.cells.fused import DartsPlan, TwoInputPlan
from autoforecast.cells.fused_ops import ACTIVATION_KERNELS, BINARY_KERNELS, UnsupportedOperationError
from autoforecast.search import DartsNode, Genotype, TwoInputNode, build_cell
from pinned_cases import LastStateModel

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
        y = sum(g * s for g, s in zip(cell.gammas, states[1:]))
        if cell.genotype.carry:  # docs/method.md, section 8
            z = torch.sigmoid(x[:, t] @ cell.wzx + h @ cell.wzh + cell.bz)
            y = h + z * (y - h)
        h = y
        outs.append(h)
    return torch.stack(outs, 1)


TWO_CARRY = Genotype("two_input", TWO.nodes, carry=True)


@pytest.mark.parametrize("genotype,reference", [(DARTS, reference_darts), (TWO, reference_two_input),
                                                (TWO_CARRY, reference_two_input)])
def test_fused_cell_matches_plain_reference(genotype, reference):
    torch.manual_seed(0)
    cell = build_cell(genotype, 3, 6).double()
    with torch.no_grad():  # non-trivial gates and output weights
        for p in list(cell.lambdas) + list(cell.gammas):
            p.uniform_(0.2, 1.5)
        if genotype.carry:
            cell.bz.uniform_(-1, 1)
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
    model = LastStateModel(RecurrentEncoder(cell))
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


def random_genotype(backbone, n_nodes, rng, carry=False):
    acts = sorted(ACTIVATIONS)
    if backbone == "darts":
        return Genotype("darts", tuple(DartsNode(rng.choice(acts), rng.randrange(i)) for i in range(1, n_nodes + 1)))
    return Genotype("two_input", tuple(
        TwoInputNode(rng.choice(sorted(BINARY_OPS)), rng.choice(["x", "h", "skip"]), rng.choice(acts), rng.choice(acts))
        for _ in range(n_nodes)), carry)


def run_and_differentiate(encoder, x, h0, fused):
    """Outputs, last state and every gradient (parameters, input, initial state) of one path."""
    encoder.fused = fused
    encoder.zero_grad()
    x, h0 = x.clone().requires_grad_(), h0.clone().requires_grad_()
    torch.manual_seed(1)  # the same dropout masks on both paths
    outputs, h_last = encoder(x, h0)
    weights = torch.linspace(-1, 1, outputs.numel(), dtype=x.dtype).view_as(outputs)
    ((outputs * weights).sum() + (h_last ** 2).sum()).backward()
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in encoder.parameters()]
    return [outputs, h_last, x.grad, h0.grad, *grads]


@pytest.mark.parametrize("backbone,carry", [("darts", False), ("two_input", False),
                                           ("two_input", True)])
@pytest.mark.parametrize("seed", range(8))
def test_whole_sequence_kernels_match_the_step_path_in_value_and_gradient(backbone, carry, seed):
    """The hand-written backward of cells/fused.py against autograd through the step methods
    (with the carry path: its gate's weights W_zx, W_zh, b_z among the parameters compared)."""
    import random

    rng = random.Random(seed)
    genotype = random_genotype(backbone, rng.randint(1, 6), rng, carry)
    torch.manual_seed(seed)
    encoder = RecurrentEncoder(build_cell(genotype, 3, 5), dropout_x=0.2,
                               dropout_h=0.3 if seed % 3 else 0.0).double()
    if seed % 2:
        encoder.cell.weight_drop = 0.25  # on every matrix that reads h_{t-1}, W_zh included
    with torch.no_grad():  # gates and output weights away from their initial values
        for p in encoder.parameters():
            p.add_(0.3 * torch.randn_like(p))
    if seed % 4 == 0:
        encoder.eval()
    batch, steps = (1, 1) if seed == 5 else (4, 19)  # gradients carried back over many steps
    x, h0 = torch.randn(batch, steps, 3, dtype=torch.float64), torch.randn(batch, 5, dtype=torch.float64)
    for fused, reference in zip(run_and_differentiate(encoder, x, h0, True),
                                run_and_differentiate(encoder, x, h0, False)):
        # rtol with the carry only: it keeps gradients from decaying over the steps (some
        # reach 1e3, where 1e-12 absolute is below float64's rounding)
        torch.testing.assert_close(fused, reference, rtol=1e-13 if carry else 0, atol=1e-12)


@pytest.mark.parametrize("fused", [True, False])
def test_weight_drop_reaches_the_carry_gate(fused):
    """W_zh reads h_{t-1}: it is in the one per-step h matrix, where weight drop applies;
    W_zx is in the input projections, computed before the time loop."""
    cell = build_cell(TWO_CARRY, 3, 4)
    cell.weight_drop, seen, real = 0.5, [], cell.recurrent
    cell.recurrent = lambda w: seen.append(w) or real(w)
    encoder = RecurrentEncoder(cell)
    encoder.fused = fused
    encoder(torch.randn(2, 5, 3))
    n_h = 2  # node 4's side h, and node 1's skip (which reads h_{t-1})
    assert [w.shape for w in seen] == [(4, 4 * (2 + n_h))]
    assert torch.equal(seen[0][:, -4:], cell.wzh)


def test_cells_pickled_before_their_first_forward_run_after_loading():
    """The kernels' plan is derived on first use, so cells pickled without it (as by earlier
    versions) load and run."""
    import pickle

    for genotype in (DARTS, TWO, TWO_CARRY):
        encoder = RecurrentEncoder(build_cell(genotype, 3, 4))
        loaded = pickle.loads(pickle.dumps(encoder))
        assert "plan" not in vars(loaded.cell)
        x = torch.randn(2, 5, 3)
        torch.testing.assert_close(loaded(x)[0], encoder(x)[0])


def every_operation():
    """(id, genotype) pairs that together use every registered operation, built from the
    registries: each DARTS edge op alone on its source, beside the others on one source, and
    twice on one source; each binary op with every activation as act_a and as act_b, over
    every side input."""
    acts, n = DARTS_OPS[1:], len(DARTS_OPS) - 1
    darts = ([DartsNode(a, 0) for a in acts] + [DartsNode(a, n + k) for k, a in enumerate(acts)]
             + [DartsNode(acts[0], 1), DartsNode(acts[-1], 1)] * 2)
    cases = [("darts", Genotype("darts", tuple(darts)))]
    acts = list(ACTIVATIONS)
    for op in BINARY_OPS:
        nodes = [TwoInputNode(op, SIDE_INPUTS[j % len(SIDE_INPUTS)], a, acts[(j + 1) % len(acts)])
                 for j, a in enumerate(acts * 2)]
        cases.append((f"two_input-{op}", Genotype("two_input", tuple(nodes))))
        cases.append((f"two_input-{op}-carry", Genotype("two_input", tuple(nodes), carry=True)))
    return cases


@pytest.mark.parametrize("genotype", [g for _, g in every_operation()],
                         ids=[name for name, _ in every_operation()])
def test_every_registered_operation_runs_the_same_on_the_kernels_and_the_step_path(genotype):
    """A new entry of ops.py is covered here at once: the fused kernels must compute it (values,
    last state, every gradient) as the step path does, or refuse it (next test)."""
    torch.manual_seed(0)
    encoder = RecurrentEncoder(build_cell(genotype, 2, 3), dropout_x=0.2, dropout_h=0.3).double()
    with torch.no_grad():
        for p in encoder.parameters():
            p.add_(0.3 * torch.randn_like(p))
    x, h0 = torch.randn(3, 6, 2, dtype=torch.float64), torch.randn(3, 3, dtype=torch.float64)
    for fused, reference in zip(run_and_differentiate(encoder, x, h0, True),
                                run_and_differentiate(encoder, x, h0, False)):
        torch.testing.assert_close(fused, reference, rtol=0, atol=1e-12)


def test_kernels_refuse_an_operation_missing_from_their_tables(monkeypatch):
    """A registered operation the kernels lack fails when the plan is made (the first forward),
    naming it and what the kernels support; the step path still runs it."""
    monkeypatch.setitem(ops.ACTIVATIONS, "softsign", F.softsign)
    monkeypatch.setitem(ops.BINARY_OPS, "maximum", torch.maximum)
    x = torch.randn(2, 4, 2)
    acts, binary = (re.escape(str(sorted(table))) for table in (ACTIVATION_KERNELS, BINARY_KERNELS))
    for node, match in [(TwoInputNode("add", "x", "softsign"), "no activation 'softsign'.*" + acts),
                        (TwoInputNode("add", "h", "tanh", "softsign"), "no activation 'softsign'"),
                        (TwoInputNode("maximum", "skip"), "no binary op 'maximum'.*" + binary)]:
        encoder = RecurrentEncoder(build_cell(Genotype("two_input", (node,)), 2, 3))
        with pytest.raises(UnsupportedOperationError, match=match):
            encoder(x)
        with pytest.raises(NotImplementedError, match=match):
            TwoInputPlan((node.op,), (node.act_a,), (node.act_b,), (), (0,), ())
        encoder.fused = False
        assert encoder(x)[0].shape == (2, 4, 3)
    with pytest.raises(ValueError, match="no activation 'softsign'.*fused = False"):
        DartsPlan.from_nodes((DartsNode("tanh", 0), DartsNode("softsign", 1)))


def test_kernels_refuse_a_registry_entry_replaced_by_another_function(monkeypatch):
    monkeypatch.setitem(ops.ACTIVATIONS, "relu", F.softsign)
    encoder = RecurrentEncoder(build_cell(Genotype("darts", (DartsNode("relu", 0),)), 2, 3))
    match = r"'relu' as relu, but ops.ACTIVATIONS\['relu'\] is <function softsign"
    with pytest.raises(UnsupportedOperationError, match=match):
        encoder(torch.randn(2, 4, 2))


def test_cells_import_nothing_from_search():
    """search/ builds on cells/ (the backbone registry holds the cells); never the reverse."""
    cells = Path(ops.__file__).parent
    for path in cells.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):  # in functions too
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):  # `from .. import search` too
                names = [f"{node.module or ''}.{a.name}" for a in node.names]
            else:
                continue
            assert not [n for n in names if "search" in n.split(".")], (path, names)

