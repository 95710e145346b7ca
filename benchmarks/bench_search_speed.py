"""Speed of the derived cells and of the supernet's search step against torch.nn.GRU and
torch.nn.LSTM of equal parameter count, all inside the forecasting network (docs/method.md, sec. 7).

    python benchmarks/bench_search_speed.py [--threads 1] [--steps 20] [--batch 64] [--sizes etth1,wide] [--compile]

Sizes: ``etth1``: ETTh1's shape, 7 series, lookback 720 in 30 segments of 24, horizon 96 (4
segments), the GRU at hidden 64; ``wide``: the same at hidden 128. A batch of ``--batch``
windows is ``batch x 7`` sequences of 30 segments for the cell, then one decoding step of
``batch x 7 x 4`` sequences. Every model is the same network (normalisation, projection,
embeddings, output map) around its cell, sized to the GRU's total parameter count: a derived
DARTS cell (8 nodes, DARTS' published genotype) and a derived two-input cell (4 nodes; with the
carry path, also 3 nodes: the size the default search reaches), each
run through the whole-sequence kernels of ``cells/fused.py`` (what training uses) and through
the step-by-step reference path under autograd ("step path"). One training step (forward,
backward, Adam) on the same batch is timed: the median over ``--steps`` rounds in which every
model takes one step in turn, so that load changes of a shared machine fall on all alike. The
supernet row is one first-order search step (an architecture step on a validation batch plus a
weight step) of a 4-node two-input supernet in the network. ``--compile`` adds each derived
cell's step path compiled whole by ``torch.compile``, with the seconds its compilation took.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from autoforecast.cells.segments import SegmentConfig, SegmentNet, TorchRNN
from autoforecast.search import DartsNode, Genotype, SuperNet, TwoInputNode, build_encoder
from autoforecast.search.architect import Architect

N_SERIES, LOOKBACK, HORIZON, SEGMENT = 7, 720, 96, 24
DARTS_V2 = Genotype("darts", tuple(DartsNode(op, j) for op, j in [
    ("sigmoid", 0), ("relu", 1), ("relu", 1), ("identity", 1), ("tanh", 2), ("sigmoid", 5),
    ("tanh", 3), ("relu", 5)]))  # DARTS' published recurrent cell (second order)
TWO_INPUT = Genotype("two_input", (TwoInputNode("gate", "h"), TwoInputNode("hadamard", "skip"),
                                   TwoInputNode("add", "x"), TwoInputNode("hadamard", "h")))
CARRY = Genotype("two_input", TWO_INPUT.nodes, carry=True)  # with the carry path (0.3's default)
# the size the default search reaches (3 nodes: search/growth.py scheduled_nodes), with the carry
CARRY3 = Genotype("two_input", TWO_INPUT.nodes[:3], carry=True)


def network(encoder, d: int) -> SegmentNet:
    config = SegmentConfig(LOOKBACK, HORIZON, SEGMENT, targets=tuple(range(N_SERIES)),
                           covariates=(), hidden_size=d)
    return SegmentNet(encoder, config)


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def fit_hidden(make, target: int) -> int:
    """The hidden size whose encoder's parameter count is closest to ``target``."""
    d = 2
    while n_params(make(d + 1)) <= target:
        d += 1
    return min((d, d + 1), key=lambda h: abs(n_params(make(h)) - target))


def time_interleaved(step_fns, steps: int) -> list[float]:
    """Median seconds per step of each function, timed in rotation (one step of each in turn)
    so that a change in the machine's load falls on all of them alike."""
    for step in step_fns:
        for _ in range(2):
            step()
    times = [[] for _ in step_fns]
    for _ in range(steps):
        for step, record in zip(step_fns, times):
            t = time.perf_counter()
            step()
            record.append(time.perf_counter() - t)
    return [statistics.median(record) for record in times]


def train_step(model, x, y):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    return step


def search_step(model, net, x, y):
    arch = {id(p) for p in net.arch_parameters()}
    opt = torch.optim.Adam([p for p in model.parameters() if id(p) not in arch], lr=1e-3)
    architect = Architect(model, net, nn.functional.mse_loss)

    def step():
        architect.step((x, y), (x, y), 1e-3)
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    return step


def compiled_row(name, genotype, d, x, y):
    """The step path under ``torch.compile`` (the whole network, forward and backward),
    compiled by its first training step."""
    model = network(build_encoder(genotype, d, d), d)
    model.encoder.fused = False
    step = train_step(torch.compile(model, dynamic=False), x, y)
    started = time.perf_counter()
    step()
    seconds = time.perf_counter() - started
    return (f"{name}, step path under torch.compile ({seconds:.0f} s to compile)", model, step)


def run_size(d_gru: int, batch: int, steps: int, compile_: bool = False) -> None:
    x, y = torch.randn(batch, LOOKBACK, N_SERIES), torch.randn(batch, HORIZON, N_SERIES)
    target = n_params(network(TorchRNN("gru", d_gru, d_gru), d_gru))
    size = {name: fit_hidden(lambda d: network(make(d), d), target) for name, make in (
        ("lstm", lambda d: TorchRNN("lstm", d, d)),
        ("darts", lambda d: build_encoder(DARTS_V2, d, d)),
        ("two", lambda d: build_encoder(TWO_INPUT, d, d)),
        ("carry", lambda d: build_encoder(CARRY, d, d)),
        ("carry3", lambda d: build_encoder(CARRY3, d, d)))}
    print(f"\n{target:,} parameters (GRU hidden {d_gru}), batch {batch} windows x {N_SERIES} "
          f"series, {LOOKBACK // SEGMENT} segments; hidden LSTM {size['lstm']}, DARTS "
          f"{size['darts']}, two-input {size['two']}, with the carry {size['carry']} (3 nodes: "
          f"{size['carry3']})\n")
    print("| model | parameters | step (ms) | time / GRU | time / LSTM |")
    print("|---|---|---|---|---|")
    rows = []
    for name, kind, d in (("GRU", "gru", d_gru), ("LSTM", "lstm", size["lstm"])):
        model = network(TorchRNN(kind, d, d), d)
        rows.append((name, model, train_step(model, x, y)))
    for name, genotype, d in (("DARTS derived (8 nodes)", DARTS_V2, size["darts"]),
                              ("two-input derived (4 nodes)", TWO_INPUT, size["two"]),
                              ("two-input derived with the carry (4 nodes)", CARRY,
                               size["carry"]),
                              ("two-input derived with the carry (3 nodes: the default "
                               "search's size)", CARRY3, size["carry3"])):
        for fused in (True, False):  # the whole-sequence kernels, then the step-by-step reference
            model = network(build_encoder(genotype, d, d), d)
            model.encoder.fused = fused
            rows.append((name if fused else f"{name}, step path", model, train_step(model, x, y)))
        if compile_:
            rows.append(compiled_row(name, genotype, d, x, y))
    d = size["two"]
    net = SuperNet(d, d, "two_input", init_nodes=4, max_nodes=4)
    model = network(net, d)
    rows.append(("two-input supernet search step (4 nodes)", model, search_step(model, net, x, y)))
    d = size["carry"]
    net = SuperNet(d, d, "two_input", init_nodes=4, max_nodes=4, carry=True)
    model = network(net, d)
    rows.append(("two-input supernet search step with the carry (4 nodes)", model,
                 search_step(model, net, x, y)))
    d = size["carry3"]
    net = SuperNet(d, d, "two_input", init_nodes=3, max_nodes=3, carry=True)
    model = network(net, d)
    rows.append(("two-input supernet search step with the carry (3 nodes)", model,
                 search_step(model, net, x, y)))
    times = time_interleaved([row[2] for row in rows], steps)
    for (name, model, _), seconds in zip(rows, times):
        print(f"| {name} | {n_params(model):,} | {seconds * 1e3:.1f} | {seconds / times[0]:.2f} | "
              f"{seconds / times[1]:.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--sizes", default="etth1,wide",
                        help="etth1: the GRU at hidden 64; wide: at hidden 128")
    parser.add_argument("--compile", action="store_true",
                        help="also time the derived cells' step path under torch.compile "
                             "(minutes of compilation each; needs a C++ compiler)")
    args = parser.parse_args()
    sizes = {"etth1": 64, "wide": 128}
    names = args.sizes.split(",")
    if not set(names) <= set(sizes):
        parser.error(f"--sizes takes a comma-separated list of {sorted(sizes)}, got {args.sizes!r}")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {args.threads} thread(s)")
    for name in names:
        run_size(sizes[name], args.batch, args.steps, args.compile)


if __name__ == "__main__":
    main()
