"""Speed of the derived cells and of the supernet's search step against torch.nn.LSTM.

    python benchmarks/bench_search_speed.py [--threads 1] [--steps 20]

For each size (about 50k parameters with window 48, about 500k with window 168), a derived
DARTS cell (8 nodes) and a derived two-input cell (4 nodes) are sized to the LSTM's parameter
count; one training step (forward, backward, Adam) on the same batch is timed (median), and
achieved FLOP/s is reported as a fraction of this machine's float32 matmul peak measured in
the same run. FLOPs: counted by torch's FlopCounterMode for our cells (matmuls, forward and
backward); for the LSTM (whose fused CPU kernel the counter does not see) 3 x the forward
matmul FLOPs, 2 B T (n_in + d) 4d. The supernet row is one first-order search step (an
architecture step on a validation batch plus a weight step) of a 4-node two-input supernet.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from autoforecast.cells import CellModel, LastStateHead, RecurrentEncoder
from autoforecast.search import DartsNode, Genotype, SuperNet, TwoInputNode, build_cell
from autoforecast.search.architect import Architect

N_IN, BATCH = 8, 64
DARTS_V2 = Genotype("darts", tuple(DartsNode(op, j) for op, j in [
    ("sigmoid", 0), ("relu", 1), ("relu", 1), ("identity", 1), ("tanh", 2), ("sigmoid", 5),
    ("tanh", 3), ("relu", 5)]))  # DARTS' published recurrent cell (second order)
TWO_INPUT = Genotype("two_input", (TwoInputNode("gate", "h"), TwoInputNode("hadamard", "skip"),
                                   TwoInputNode("add", "x"), TwoInputNode("hadamard", "h")))


class LSTMEncoder(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.lstm = nn.LSTM(N_IN, hidden, batch_first=True)

    def forward(self, x):
        out, (h, _) = self.lstm(x)
        return out, h[-1]


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def fit_hidden(make, target: int) -> int:
    """The hidden size whose encoder's parameter count is closest to ``target``."""
    d = 2
    while n_params(make(d + 1)) <= target:
        d += 1
    return min((d, d + 1), key=lambda h: abs(n_params(make(h)) - target))


def matmul_peak(seconds: float = 2.0) -> float:
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    best = 0.0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t = time.perf_counter()
        a @ b
        best = max(best, 2 * 1024**3 / (time.perf_counter() - t))
    return best


def time_steps(step, steps: int) -> float:
    for _ in range(3):
        step()
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


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


def counted_flops(step) -> float:
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


def measure(name, model, step, flops, steps, peak, lstm_time):
    seconds = time_steps(step, steps)
    ratio = seconds / lstm_time if lstm_time else 1.0
    print(f"| {name} | {n_params(model.encoder):,} | {seconds * 1e3:.1f} | {ratio:.2f} | "
          f"{flops / seconds / peak:.3f} |", flush=True)
    return seconds


def run_size(target: int, window: int, steps: int, peak: float) -> None:
    x, y = torch.randn(BATCH, window, N_IN), torch.randn(BATCH, 1)
    d_lstm = fit_hidden(LSTMEncoder, target)
    d_darts = fit_hidden(lambda d: build_cell(DARTS_V2, N_IN, d), target)
    d_two = fit_hidden(lambda d: build_cell(TWO_INPUT, N_IN, d), target)
    print(f"\n~{target:,} parameters, window {window}, batch {BATCH}, hidden LSTM {d_lstm}, "
          f"DARTS {d_darts}, two-input {d_two}\n")
    print("| model | parameters | step (ms) | time / LSTM | fraction of matmul peak |")
    print("|---|---|---|---|---|")
    lstm = CellModel(LSTMEncoder(d_lstm), LastStateHead(d_lstm))
    lstm_flops = 3 * 2 * BATCH * window * (N_IN + d_lstm) * 4 * d_lstm
    base = measure("LSTM", lstm, train_step(lstm, x, y), lstm_flops, steps, peak, None)
    for name, genotype, d in (("DARTS derived (8 nodes)", DARTS_V2, d_darts),
                              ("two-input derived (4 nodes)", TWO_INPUT, d_two)):
        model = CellModel(RecurrentEncoder(build_cell(genotype, N_IN, d)), LastStateHead(d))
        measure(name, model, train_step(model, x, y), counted_flops(train_step(model, x, y)),
                steps, peak, base)
    net = SuperNet(N_IN, d_two, "two_input", init_nodes=4, max_nodes=4)
    model = CellModel(net, LastStateHead(d_two))
    measure("two-input supernet search step (4 nodes)", model, search_step(model, net, x, y),
            counted_flops(search_step(model, net, x, y)), steps, peak, base)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    peak = matmul_peak()
    print(f"torch {torch.__version__}, {args.threads} thread(s), float32 matmul peak "
          f"{peak / 1e9:.1f} GFLOP/s (1024x1024x1024, best of 2 s)")
    for target, window in ((50_000, 48), (500_000, 168)):
        run_size(target, window, args.steps, peak)


if __name__ == "__main__":
    main()
