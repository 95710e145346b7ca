"""Issue 14's tables from bench_lm.py's rows: ``python benchmarks/lm_report.py [reduced|full]``
(``--plot``: also docs/lm_curves.png, validation perplexity against training tokens).

One line per run (label and seed): the cell and its LSTM's perplexities, both recurrent
parameter counts, the tokens each trained on, and the LSTM's best validation perplexity over
its epochs that ended within the cell's tokens (``lstm val, equal tokens``; an uncut epoch's
tokens are the largest tokens per epoch among the file's rows: one corpus per preset). That
column is the issue's primary comparison for rows measured before the estimator capped the
LSTM at the cell's tokens (commit f6446ce): those gave both models the same time cap, and the
faster LSTM saw more text. ``search s``: "-" for a cell given with ``--genotype`` (or a run
resumed after its search). ``code``: whether the row's behaviour changed since
(``common.row_state``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from common import LANGUAGE_MODEL_FIXTURES, RESULTS, ROOT, markdown_table, row_state  # noqa: E402

COLUMNS = ["label", "seed", "cell val", "cell test", "lstm val", "lstm test",
           "lstm val, equal tokens", "cell tokens (M)", "lstm tokens (M)", "recurrent cell / lstm",
           "epochs cell / lstm", "tokens/s cell / lstm", "search s", "cell", "code"]


def curve(row: pd.Series, epoch_tokens: float) -> tuple[list[float], list[float]]:
    """(training tokens at the end of each epoch, validation perplexity after it); an uncut
    epoch has ``epoch_tokens``, a cut last one ends at the run's total."""
    vals = [float(v) for v in str(row["val_ppl_by_epoch"]).split(";")]
    return [min((i + 1) * epoch_tokens, row["train_tokens"]) for i in range(len(vals))], vals


def equal_token_val(cell: pd.Series, lstm: pd.Series, epoch_tokens: float) -> float:
    """The LSTM's best validation perplexity over its epochs that end within the cell's
    training tokens."""
    ends, vals = curve(lstm, epoch_tokens)
    within = [v for v, end in zip(vals, ends) if end <= cell["train_tokens"]]
    return min(within) if within else float("nan")


def load(preset: str) -> tuple[pd.DataFrame, float]:
    """(the preset's rows, an uncut epoch's training tokens)."""
    rows = pd.read_csv(RESULTS / f"lm_ptb_{preset}.csv")
    trained = rows[rows["run"].isin(["autocell", "lstm"])]
    return rows, float((trained["train_tokens"] / trained["epochs"]).max())


def table(preset: str) -> str:
    rows, epoch_tokens = load(preset)
    lines = []
    for (label, seed), run in rows.groupby(["label", "seed"], sort=False):
        runs = run.set_index("run")
        if not {"autocell", "lstm"} <= set(runs.index):
            continue
        cell, lstm = runs.loc["autocell"], runs.loc["lstm"]
        speed = (f"{runs.loc['throughput_cell', 'tokens_per_second']:,.0f} / "
                 f"{runs.loc['throughput_lstm', 'tokens_per_second']:,.0f}"
                 if "throughput_lstm" in runs.index else "")
        lines.append({
            "label": label, "seed": seed, "cell val": f"{cell['val_perplexity']:.1f}",
            "cell test": f"{cell['test_perplexity']:.1f}",
            "lstm val": f"{lstm['val_perplexity']:.1f}",
            "lstm test": f"{lstm['test_perplexity']:.1f}",
            "lstm val, equal tokens": f"{equal_token_val(cell, lstm, epoch_tokens):.1f}",
            "cell tokens (M)": f"{cell['train_tokens'] / 1e6:.2f}",
            "lstm tokens (M)": f"{lstm['train_tokens'] / 1e6:.2f}",
            "recurrent cell / lstm": f"{cell['recurrent_parameters']:,} / "
                                     f"{lstm['recurrent_parameters']:,}",
            "epochs cell / lstm": f"{cell['epochs']:g} / {lstm['epochs']:g}",
            "tokens/s cell / lstm": speed, "search s": ("-" if pd.isna(cell["search_seconds"])
                                                  else f"{cell['search_seconds']:.0f}"),
            "cell": f"`{cell['genotype']}`", "code": row_state(cell, LANGUAGE_MODEL_FIXTURES)})
    return markdown_table(lines, COLUMNS)


def plot(presets: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(presets), figsize=(7 * len(presets), 5), squeeze=False)
    for ax, preset in zip(axes[0], presets):
        rows, epoch_tokens = load(preset)
        for i, ((label, seed), run) in enumerate(rows.groupby(["label", "seed"], sort=False)):
            for model, name, style in (("autocell", "cell", "-"), ("lstm", "LSTM", "--")):
                row = run[run["run"] == model]
                if len(row):
                    ends, vals = curve(row.iloc[0], epoch_tokens)
                    ax.plot([e / 1e6 for e in ends], vals, style, color=f"C{i % 10}",
                            marker=".", label=f"{label} s{seed} {name}")
        ax.set(title=f"PTB, preset {preset}: cell (solid) and its LSTM (dashed)",
               xlabel="training tokens (millions)", ylabel="validation perplexity")
        ax.set_ylim(top=min(ax.get_ylim()[1], 260))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--plot"]
    presets = [p for p in (args or ["reduced", "full"])
               if (RESULTS / f"lm_ptb_{p}.csv").exists()]
    for preset in presets:
        print(f"### {preset}\n\n{table(preset)}\n")
    if "--plot" in sys.argv:
        plot(presets, ROOT / "docs" / "lm_curves.png")


if __name__ == "__main__":
    main()
