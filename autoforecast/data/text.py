"""Text corpora for word-level language models: reading, a vocabulary, token streams.

    lines = read_corpus("ptb.train.txt")            # or any iterable of lines
    vocab = Vocabulary.build(lines, max_size=10000)  # '<unk>' and '<eos>' always included
    ids = vocab.encode(lines)                        # one stream: each line's words, then <eos>
    streams = batchify(ids, 20)                      # (20, n_steps): 20 parallel streams
    for x, y in segments(streams, 35): ...           # (20, <=35) inputs, next tokens as targets

Words are split by a tokenizer from ``TOKENIZERS``: "whitespace" (the default: words are what
spaces separate; Penn Treebank comes tokenised this way) or "punctuation" (punctuation marks
are words of their own, ``"thee,"`` -> ``"thee", ","``). The vocabulary keeps the one it was
built with. Lines that hold only whitespace are skipped (Mikolov's PTB files have none, so its
counts are the standard ones: 929k training tokens with ``<eos>``).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import torch

UNK, EOS = "<unk>", "<eos>"

# A word in angle brackets (<unk>) stays whole; a word keeps its inner apostrophes and hyphens
# (o'er, well-known); every other non-space, non-word character is a word of its own.
_PUNCTUATION_WORDS = re.compile(r"<[^<>\s]+>|\w+(?:['’-]\w+)*|[^\w\s]")


def split_punctuation(line: str) -> list[str]:
    """Words and punctuation marks as separate words: ``"Thee, o'er!"`` -> ``["Thee", ",",
    "o'er", "!"]``."""
    return _PUNCTUATION_WORDS.findall(line)


TOKENIZERS = {"whitespace": str.split, "punctuation": split_punctuation}


def tokenizer_of(name: str):
    """The function ``line -> words`` named ``name`` (a key of ``TOKENIZERS``)."""
    split = TOKENIZERS.get(name) if isinstance(name, str) else None
    if split is None:
        raise ValueError(f"`tokenizer` must be one of {tuple(TOKENIZERS)}, got {name!r}.")
    return split


def tokenize(line: str, tokenizer: str = "whitespace") -> list[str]:
    """The words of ``line`` as the tokenizer named ``tokenizer`` splits them."""
    return tokenizer_of(tokenizer)(line)


def read_corpus(texts) -> list[str]:
    """The non-blank lines of ``texts``: a path (str or Path) to a UTF-8 text file, or an
    iterable of lines (a list of strings, an open file)."""
    if isinstance(texts, (str, os.PathLike)):
        path = Path(texts)
        if not path.is_file():
            hint = (" (a path was expected; to pass text itself, give a list of lines)"
                    if isinstance(texts, str) and ("\n" in texts or " " in texts) else "")
            raise FileNotFoundError(f"corpus file {str(path)!r} does not exist{hint}.")
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    elif isinstance(texts, bytes) or not isinstance(texts, Iterable):
        raise TypeError("the corpus must be a path to a text file or an iterable of lines, got "
                        f"{type(texts).__name__}.")
    else:
        lines = []
        for i, line in enumerate(texts):
            if not isinstance(line, str):
                raise TypeError(f"line {i} of the corpus is a {type(line).__name__}, not a str.")
            lines.extend(line.splitlines())
    return [line for line in lines if line.strip()]


@dataclass
class Vocabulary:
    """Words <-> ids. Id 0 is ``<unk>`` (every word not kept), id 1 is ``<eos>`` (end of line).
    Lines are split into words by ``tokenizer`` (a key of ``TOKENIZERS``)."""

    words: list[str] = field(default_factory=lambda: [UNK, EOS])
    tokenizer: str = "whitespace"

    def __post_init__(self):
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls, lines: Iterable[str], max_size: int | None = 10000, min_count: int = 1,
              tokenizer: str = "whitespace"):
        """Keep the ``max_size`` most frequent words (ties: first seen first; ``<unk>`` and
        ``<eos>`` included in the size) seen at least ``min_count`` times; words as
        ``tokenizer`` splits the lines."""
        if max_size is not None and (not isinstance(max_size, int) or max_size < 3):
            raise ValueError(f"`max_size` must be None or an int >= 3 (<unk>, <eos> and one "
                             f"word), got {max_size!r}.")
        if not isinstance(min_count, int) or min_count < 1:
            raise ValueError(f"`min_count` must be an int >= 1, got {min_count!r}.")
        split = tokenizer_of(tokenizer)
        counts = Counter(w for line in lines for w in split(line))
        for special in (UNK, EOS):
            counts.pop(special, None)
        if not counts:
            raise ValueError("the corpus holds no words: every line is blank.")
        kept = [w for w, c in counts.most_common() if c >= min_count]  # stable for ties
        if max_size is not None:
            kept = kept[: max_size - 2]
        return cls([UNK, EOS, *kept], tokenizer)

    def __len__(self) -> int:
        return len(self.words)

    def __getstate__(self):
        return {"words": self.words, "tokenizer": self.tokenizer}

    def __setstate__(self, state):
        self.words = state["words"]
        self.tokenizer = state.get("tokenizer", "whitespace")  # pickled before it existed
        self.__post_init__()

    def ids(self, line: str, eos: bool = True) -> list[int]:
        """The ids of the words of one line (unknown words: ``<unk>``), then ``<eos>``."""
        out = [self.index.get(w, 0) for w in tokenize(line, self.tokenizer)]
        return out + [1] if eos else out

    def encode(self, lines: Iterable[str]) -> torch.Tensor:
        """One stream of ids over all lines, ``<eos>`` after each: (n_tokens,) int64."""
        ids = [i for line in lines for i in self.ids(line)]
        return torch.tensor(ids, dtype=torch.long)

    def decode(self, ids) -> str:
        """Words separated by spaces, ``<eos>`` as a line break."""
        lines, current = [], []
        for i in ids:
            word = self.words[int(i)]
            if word == EOS:
                lines.append(" ".join(current))
                current = []
            else:
                current.append(word)
        return "\n".join([*lines, " ".join(current)])

    def unknown_rate(self, ids: torch.Tensor) -> float:
        """Share of ``<unk>`` tokens among the non-``<eos>`` tokens of a stream."""
        words = ids[ids != 1]
        return float((words == 0).float().mean()) if len(words) else 0.0


def batchify(ids: torch.Tensor, n_streams: int) -> torch.Tensor:
    """Cut a stream into ``n_streams`` contiguous parallel streams: (n_streams, n_steps).

    The tail that does not fill all streams is dropped (fewer than ``n_streams`` tokens). With
    fewer than ``2 * n_streams`` tokens, fewer streams are used, so that short texts still give
    at least one (input, target) pair per stream."""
    if ids.dim() != 1:
        raise ValueError(f"`ids` must be a 1-D stream of token ids, got shape {tuple(ids.shape)}.")
    if len(ids) < 2:
        raise ValueError(f"a text needs at least 2 tokens (one word and <eos>) to be scored or "
                         f"trained on, got {len(ids)}.")
    n_streams = max(1, min(n_streams, len(ids) // 2))
    n_steps = len(ids) // n_streams
    return ids[: n_steps * n_streams].view(n_streams, n_steps)


def segments(streams: torch.Tensor, bptt: int):
    """Consecutive ``(x, y)`` segments of ``bptt`` steps: x (n_streams, t), y the next tokens."""
    for start in range(0, streams.shape[1] - 1, bptt):
        t = min(bptt, streams.shape[1] - 1 - start)
        yield streams[:, start: start + t], streams[:, start + 1: start + 1 + t]


class SegmentBatches:
    """Zero-argument callable for :func:`autoforecast.search.search`: one epoch of segments
    (each segment starts from a zero state; the search has no state carried across batches)."""

    def __init__(self, streams: torch.Tensor, bptt: int):
        self.streams, self.bptt = streams, bptt

    def __call__(self):
        return list(segments(self.streams, self.bptt))
