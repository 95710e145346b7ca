"""``autoforecast lm fit | score | generate`` on a tiny corpus; errors as one line, exit code 1."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from autoforecast.cli import app

runner = CliRunner()
LINES = ["the cat sat on the mat", "a dog ran to the park", "the cat ate a fish"] * 20


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lm")
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    out = folder / "lm.joblib"
    result = invoke("lm", "fit", corpus, "--out", out, "--budget", "tiny", "--epochs", "1",
                    "--search-epochs", "2", "--bptt", "8", "--device", "cpu", "-v")
    assert result.exit_code == 0, result.output
    return out, corpus, result.output


def test_fit_prints_cell_report_and_progress(model_file):
    out, _, output = model_file
    assert out.is_file()
    assert "cell: two_input[" in output and "perplexity" in output
    assert "autocell" in output and "lstm" in output
    assert "[search 1/2]" in output and "[retrain 1/1]" in output  # --verbose log lines


def test_score_and_generate(model_file, tmp_path):
    out, corpus, _ = model_file
    result = invoke("lm", "score", out, corpus)
    assert result.exit_code == 0, result.output
    perplexity = float(result.output.split("perplexity:")[1].split()[0])
    assert 1.0 < perplexity < 30.0
    first = invoke("lm", "generate", out, "--prompt", "the cat", "--words", "5", "--seed", "1")
    again = invoke("lm", "generate", out, "--prompt", "the cat", "--words", "5", "--seed", "1")
    assert first.exit_code == 0 and first.output == again.output
    assert first.output.startswith("the cat ")


def test_safe_model_file(model_file, tmp_path):
    """``lm fit --out x.afm`` writes the safe format; ``lm score`` reads it like a joblib file."""
    _, corpus, _ = model_file
    out = tmp_path / "lm.afm"
    result = invoke("lm", "fit", corpus, "--out", out, "--budget", "tiny", "--epochs", "1",
                    "--search-epochs", "1", "--bptt", "8", "--device", "cpu", "--no-baseline", "-q")
    assert result.exit_code == 0, result.output
    result = invoke("lm", "score", out, corpus)
    assert result.exit_code == 0 and "perplexity:" in result.output, result.output


def test_tokenizer_option(tmp_path):
    """``--tokenizer punctuation`` splits 'thee,' into 'thee' and ','; the default is shown."""
    import autoforecast

    help_text = runner.invoke(app, ["lm", "fit", "--help"], env={"COLUMNS": "240"}).output
    assert "--tokenizer" in help_text and "default: whitespace" in help_text
    assert "autoforecast[ptb]" in help_text  # not eaten as markup
    corpus = tmp_path / "verse.txt"
    corpus.write_text("\n".join(["thee, and thee.", "o'er thee; and thee!"] * 15) + "\n",
                      encoding="utf-8")
    out = tmp_path / "lm.joblib"
    result = invoke("lm", "fit", corpus, "--out", out, "--budget", "tiny", "--epochs", "1",
                    "--search-epochs", "1", "--bptt", "8", "--device", "cpu", "--no-baseline",
                    "--tokenizer", "punctuation", "-q")
    assert result.exit_code == 0, result.output
    model = autoforecast.load(out)
    assert model.tokenizer == "punctuation" and "," in model.vocabulary_.words
    assert "thee," not in model.vocabulary_.words
    result = invoke("lm", "fit", corpus, "--tokenizer", "bpe")
    assert result.exit_code != 0 and "bpe" in result.output


def test_errors_are_one_line(model_file, tmp_path):
    out, corpus, _ = model_file
    result = invoke("lm", "fit", tmp_path / "missing.txt")
    assert result.exit_code == 1 and "does not exist" in result.output
    result = invoke("lm", "fit", corpus, "--dataset", "ptb")
    assert result.exit_code == 1 and "not both" in result.output
    result = invoke("lm", "fit", "--dataset", "wiki")
    assert result.exit_code == 1 and "only text data set is 'ptb'" in result.output
    result = invoke("lm", "score", corpus, corpus)  # a text file is not a model file
    assert result.exit_code == 1 and "error:" in result.output
    result = invoke("lm", "score", out, tmp_path / "none.txt")
    assert result.exit_code == 1 and "none.txt does not exist" in result.output
    assert "Traceback" not in result.output


def test_forecaster_file_is_not_a_language_model(tmp_path):
    import autoforecast
    import numpy as np
    from autoforecast.baselines import NaiveForecaster

    naive = NaiveForecaster(lookback=3).fit(np.arange(40.0).reshape(-1, 1))
    path = autoforecast.save(naive, tmp_path / "n.joblib")
    result = invoke("lm", "generate", path)
    assert result.exit_code == 1 and "not a language model" in result.output


def test_regularisation_optimizer_derivation_and_checkpoint_options(model_file, tmp_path):
    import autoforecast
    from autoforecast.cli.lm import Optimizer
    from autoforecast.optimizers import OPTIMIZERS

    assert tuple(o.value for o in Optimizer) == OPTIMIZERS
    _, corpus, _ = model_file
    out, folder = tmp_path / "lm.joblib", tmp_path / "state"
    args = ("lm", "fit", corpus, "--out", out, "--budget", "tiny", "--epochs", "2",
            "--search-epochs", "1", "--bptt", "8", "--device", "cpu", "--dropout-e", "0.1",
            "--dropout-x", "0.2", "--dropout-h", "0.1", "--dropout-o", "0.3",
            "--wdrop", "0.4", "--optimizer", "nt-asgd",
            "--lr", "0.5", "--patience", "3", "--search-tokens", "300",
            "--derivation", "prefer_nondegenerate", "--checkpoint", folder, "-q")
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    model = autoforecast.load(out)
    assert {k: model.get_params()[k] for k in (
        "dropout_e", "dropout_x", "dropout_h", "dropout_o", "weight_drop", "optimizer", "lr",
        "patience", "search__subsample", "search__derivation", "search__epochs")} == {
        "dropout_e": 0.1, "dropout_x": 0.2, "dropout_h": 0.1, "dropout_o": 0.3,
        "weight_drop": 0.4, "optimizer": "nt-asgd", "lr": 0.5, "patience": 3,
        "search__subsample": 300, "search__derivation": "prefer_nondegenerate",
        "search__epochs": 1}
    assert (folder / "retrain.pt").is_file() and (folder / "baseline_lstm.pt").is_file()
    again = invoke(*args)  # the same command finds the finished state and reports the same
    assert again.exit_code == 0 and again.output == first.output
    result = invoke(*args[:-3], "--lr", "0.1", "--checkpoint", folder)
    assert result.exit_code == 1 and "other settings" in result.output
