"""Speed of the derived cells and of the supernet's search step against torch.nn.LSTM.

    python benchmarks/bench_search_speed.py [--threads 1] [--steps 20] [--batch 64] [--sizes small,large] [--compile]

For each size (``small``: about 50k parameters with window 48, ``large``: about 500k with
window 168; batch 64 and 8 input series unless ``--batch`` says otherwise), a derived
DARTS cell (8 nodes) and a derived two-input cell (4 nodes) are sized to the LSTM's parameter
count; each is run twice, through the whole-sequence kernels of ``cells/fused.py`` (what
training uses) and through the step-by-step reference path under autograd ("step path"). One
training step (forward, backward, Adam) on the same batch is timed (median over ``--steps``
rounds in which every model takes one step in turn, so that load changes of a shared machine
fall on all alike), and achieved FLOP/s is reported as a fraction of this machine's float32
matmul peak measured in the same run. FLOPs: counted by torch's FlopCounterMode for our cells
(matmuls, forward and backward, in-place ``addmm_`` included); for the LSTM (whose fused CPU
kernel the counter does not see) 3 x the forward matmul FLOPs, 2 B T (n_in + d) 4d. The
supernet row is one first-order search step (an architecture step on a validation batch plus a
weight step) of a 4-node two-input supernet.
``--compile`` adds, at the small size, each derived cell's step path compiled whole (forward
and backward) by ``torch.compile``, with the seconds its compilation took.
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

N_IN = 8
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


def addmm_inplace_flop(self_shape, a_shape, b_shape, *args, out_shape=None, **kwargs) -> int:
    """FlopCounterMode counts ``addmm`` but not the in-place ``addmm_`` the fused backward uses."""
    return 2 * a_shape[0] * a_shape[1] * b_shape[1]


def counted_flops(step) -> float:
    with FlopCounterMode(display=False, custom_mapping={torch.ops.aten.addmm_: addmm_inplace_flop}) as counter:
        step()
    return counter.get_total_flops()


def compiled_row(name, genotype, d, x, y):
    """The step path under ``torch.compile`` (the whole model, forward and backward), compiled
    by its first training step; its FLOPs are the step path's."""
    model = CellModel(RecurrentEncoder(build_cell(genotype, N_IN, d)), LastStateHead(d))
    model.encoder.fused = False
    flops = counted_flops(train_step(model, x, y))
    step = train_step(torch.compile(model, dynamic=False), x, y)
    started = time.perf_counter()
    step()
    seconds = time.perf_counter() - started
    return (f"{name}, step path under torch.compile ({seconds:.0f} s to compile)", model, step, flops)


def run_size(target: int, window: int, batch: int, steps: int, peak: float, compile_: bool = False) -> None:
    x, y = torch.randn(batch, window, N_IN), torch.randn(batch, 1)
    d_lstm = fit_hidden(LSTMEncoder, target)
    d_darts = fit_hidden(lambda d: build_cell(DARTS_V2, N_IN, d), target)
    d_two = fit_hidden(lambda d: build_cell(TWO_INPUT, N_IN, d), target)
    print(f"\n~{target:,} parameters, window {window}, batch {batch}, hidden LSTM {d_lstm}, "
          f"DARTS {d_darts}, two-input {d_two}\n")
    print("| model | parameters | step (ms) | time / LSTM | fraction of matmul peak |")
    print("|---|---|---|---|---|")
    lstm = CellModel(LSTMEncoder(d_lstm), LastStateHead(d_lstm))
    rows = [("LSTM", lstm, train_step(lstm, x, y), 3 * 2 * batch * window * (N_IN + d_lstm) * 4 * d_lstm)]
    for name, genotype, d in (("DARTS derived (8 nodes)", DARTS_V2, d_darts),
                              ("two-input derived (4 nodes)", TWO_INPUT, d_two)):
        for fused in (True, False):  # the whole-sequence kernels, then the step-by-step reference
            model = CellModel(RecurrentEncoder(build_cell(genotype, N_IN, d)), LastStateHead(d))
            model.encoder.fused = fused
            rows.append((name if fused else f"{name}, step path", model, train_step(model, x, y),
                         counted_flops(train_step(model, x, y))))
        if compile_:
            rows.append(compiled_row(name, genotype, d, x, y))
    net = SuperNet(N_IN, d_two, "two_input", init_nodes=4, max_nodes=4)
    model = CellModel(net, LastStateHead(d_two))
    rows.append(("two-input supernet search step (4 nodes)", model, search_step(model, net, x, y),
                 counted_flops(search_step(model, net, x, y))))
    times = time_interleaved([row[2] for row in rows], steps)
    for (name, model, _, flops), seconds in zip(rows, times):
        print(f"| {name} | {n_params(model.encoder):,} | {seconds * 1e3:.1f} | {seconds / times[0]:.2f} | "
              f"{flops / seconds / peak:.3f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--sizes", default="small,large",
                        help="small: ~50k parameters, window 48; large: ~500k parameters, window 168")
    parser.add_argument("--compile", action="store_true",
                        help="also time the derived cells under torch.compile at the small size "
                             "(minutes of compilation each; needs a C++ compiler)")
    args = parser.parse_args()
    sizes = {"small": (50_000, 48), "large": (500_000, 168)}
    names = args.sizes.split(",")
    if not set(names) <= set(sizes):
        parser.error(f"--sizes takes a comma-separated list of {sorted(sizes)}, got {args.sizes!r}")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    peak = matmul_peak()
    print(f"torch {torch.__version__}, {args.threads} thread(s), float32 matmul peak "
          f"{peak / 1e9:.1f} GFLOP/s (1024x1024x1024, best of 2 s)")
    for name in names:
        target, window = sizes[name]
        run_size(target, window, args.batch, args.steps, peak, args.compile and name == "small")


if __name__ == "__main__":
    main()
