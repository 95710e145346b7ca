"""Growth efficiency: a growing search (1 -> K nodes) against a fixed K-node supernet searched
from the start, on the same data with the same budget (epochs), several seeds.

    python benchmarks/bench_growth.py [--seeds 3] [--epochs 12] [--max-nodes 4]

Reported per backbone and seed: the wall time each run needs to reach the fixed supernet's
best validation loss (the fixed run's own time to its best epoch; "not reached" when the
growing run never gets there), the total search time, and the validation MSE of the derived
cell after a short retraining from scratch (the same for both). Data: the planted task of the
tests (next value = product of two different lagged inputs, window 8, 2 inputs), which also
gives the comparison of the two backbones on this task (a measurement, not an assertion).
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import torch
from torch import nn

from autoforecast.search import SearchConfig, SearchData, search
from autoforecast.search.selection import retrain_val_loss

LOSS = nn.functional.mse_loss


def planted(n: int, seed: int, window: int = 8):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, window, 2, generator=g) * 2 - 1  # (batch, time, input)
    y = (x[:, -1, 0] * x[:, -3, 1]).unsqueeze(-1)
    return x, y / y.std()


def batches(x, y, size=64):
    return lambda: [(x[i:i + size], y[i:i + size]) for i in range(0, len(x), size)]


class LastStateModel(nn.Module):
    """The searched cell, then a linear map of its last state to the one output."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder, self.head = encoder, nn.Linear(encoder.cell.hidden_size, 1)

    def forward(self, x):
        return self.head(self.encoder(x)[1])


def timed_search(config, data, seed):
    """Run one search; returns ([(seconds, val_loss) per epoch], genotype)."""
    curve, start = [], time.perf_counter()
    for event in search(config, data, random_state=seed):
        if event.kind == "epoch":
            curve.append((time.perf_counter() - start, event.val_loss))
    return curve, event.result.genotype


def time_to_reach(curve, target):
    return next((t for t, v in curve if v <= target), None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--max-nodes", type=int, default=4)
    parser.add_argument("--retrain-epochs", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = SearchData(batches(*planted(2048, 1)), batches(*planted(512, 2)), LOSS, LastStateModel, 2)
    k = args.max_nodes
    print(f"planted product task, window 8, hidden 16, {args.epochs} epochs, K = {k}, "
          f"retraining {args.retrain_epochs} epochs, 1 thread\n")
    print("| backbone | seed | run | time to fixed's best (s) | search time (s) | genotype | "
          "retrained val MSE |")
    print("|---|---|---|---|---|---|---|")
    summary = {}
    for backbone in ("two_input", "darts"):
        base = SearchConfig(backbone=backbone, hidden_size=16, max_nodes=k, epochs=args.epochs,
                            lr=3e-3, arch_lr=1e-2, stop_patience=None, num_threads=1,
                            selection_epochs=args.retrain_epochs)
        runs = {"fixed": replace(base, init_nodes=k, growth="none"),
                "growing": replace(base, init_nodes=1, grow_every=max(args.epochs // k, 1))}
        for seed in range(args.seeds):
            curves = {name: timed_search(cfg, data, seed) for name, cfg in runs.items()}
            target = min(v for _, v in curves["fixed"][0])
            for name, (curve, genotype) in curves.items():
                reach = time_to_reach(curve, target)
                err = retrain_val_loss(genotype, seed, runs[name], data, "cpu")
                summary.setdefault((backbone, name), []).append((reach, curve[-1][0], err))
                print(f"| {backbone} | {seed} | {name} | "
                      f"{'not reached' if reach is None else f'{reach:.1f}'} | {curve[-1][0]:.1f} | "
                      f"`{genotype}` | {err:.4f} |", flush=True)
    print("\n| backbone | run | reached fixed's best | median time to it (s) | "
          "median search time (s) | median retrained val MSE |")
    print("|---|---|---|---|---|---|")
    for (backbone, name), rows in summary.items():
        reached = [r for r, _, _ in rows if r is not None]
        med = f"{statistics.median(reached):.1f}" if reached else "-"
        print(f"| {backbone} | {name} | {len(reached)}/{len(rows)} | {med} | "
              f"{statistics.median(t for _, t, _ in rows):.1f} | "
              f"{statistics.median(e for _, _, e in rows):.4f} |")


if __name__ == "__main__":
    main()
