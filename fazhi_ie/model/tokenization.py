"""Text → encoder pieces with character offsets into the original text, and windows over them.

Reads: a text (never modified). Writes: `TokenizedText`, one row per piece with its vocabulary id
and its [start, end) character span. The text is first cut into words by character class
(CJK, digit run, Latin run, each punctuation mark alone; whitespace dropped), so that a piece
never crosses punctuation or a script change; in mode "char" every CJK character is its own
word, in mode "subword" a CJK run is one word and the encoder's own vocabulary segments it.
Training may add boundaries (gold entity edges) so that gold spans always align with pieces.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

TOKENIZER_FILE = "tokenizer.json"


class AlignmentError(ValueError):
    """A character span whose start or end falls inside a piece, or that covers no piece."""


def _char_class(ch: str) -> str:
    code = ord(ch)
    if ch.isspace() or code in (0x200B, 0x200C, 0x200D, 0xFEFF):
        return "space"
    if (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x3134F
            or 0xF900 <= code <= 0xFAFF or 0x3040 <= code <= 0x30FF):
        return "cjk"
    if ch.isdigit():
        return "digit"
    if ch.isalpha():
        return "alpha"
    return "punct"


_DIGIT_JOINERS = frozenset(".,．")


def split_words(text: str, mode: str, boundaries: Iterable[int] = ()) -> list[tuple[int, int]]:
    """[start, end) of each word of `text`; `boundaries` are extra offsets a word may not cross."""
    cuts = set(boundaries)
    words: list[tuple[int, int]] = []
    n = len(text)
    i = 0
    while i < n:
        cls = _char_class(text[i])
        if cls == "space":
            i += 1
            continue
        j = i + 1
        if cls == "punct" or (cls == "cjk" and mode == "char"):
            pass
        else:
            while j < n and j not in cuts:
                nxt = _char_class(text[j])
                if nxt == cls:
                    j += 1
                elif cls == "digit" and text[j] in _DIGIT_JOINERS and j + 1 < n and text[j + 1].isdigit() \
                        and j + 1 not in cuts:
                    j += 2
                else:
                    break
        words.append((i, j))
        i = j
    return words


@dataclass
class TokenizedText:
    """Pieces of one text: ids and [start, end) character offsets (numpy int arrays)."""

    ids: np.ndarray
    starts: np.ndarray
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def align_span(self, start: int, end: int, what: str = "span") -> tuple[int, int]:
        """Piece range [first, last] exactly covering characters [start, end); raise AlignmentError."""
        first = int(np.searchsorted(self.starts, start))
        last = int(np.searchsorted(self.ends, end)) 
        if first >= len(self) or self.starts[first] != start or last >= len(self) or self.ends[last] != end \
                or last < first:
            near = [(int(s), int(e)) for s, e in zip(self.starts, self.ends) if e > start - 3 and s < end + 3]
            raise AlignmentError(f"{what} [{start}, {end}) does not start and end on piece boundaries "
                                 f"(pieces nearby: {near[:8]})")
        return first, last


def load_tokenizer(directory: Path):
    """The `tokenizers.Tokenizer` of a model directory, set up for pre-split words."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
    tokenizer.pre_tokenizer = None  # words are pre-split here; no "▁" word prefix
    tokenizer.post_processor = None
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def tokenize(tokenizer, text: str, mode: str, boundaries: Iterable[int] = ()) -> TokenizedText:
    """Pieces of `text` with offsets into `text`; characters the normaliser deletes get no piece."""
    words = split_words(text, mode, boundaries)
    if not words:
        empty = np.zeros(0, dtype=np.int64)
        return TokenizedText(empty, empty.copy(), empty.copy())
    enc = tokenizer.encode([text[s:e] for s, e in words], is_pretokenized=True, add_special_tokens=False)
    word_start = np.fromiter((words[w][0] for w in enc.word_ids), dtype=np.int64, count=len(enc.ids))
    offsets = np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2)
    starts = word_start + offsets[:, 0]
    ends = word_start + offsets[:, 1]
    keep = ends > starts
    # A normaliser that expands one character into several pieces (e.g. ㎡ → m2) gives pieces with
    # the same offsets: keep the first piece of such a run so that offsets stay strictly increasing.
    dup = np.zeros(len(starts), dtype=bool)
    dup[1:] = (starts[1:] == starts[:-1]) & (ends[1:] == ends[:-1])
    keep &= ~dup
    ids = np.asarray(enc.ids, dtype=np.int64)[keep]
    return TokenizedText(ids, starts[keep], ends[keep])


def windows(n_tokens: int, size: int, stride: int) -> list[tuple[int, int]]:
    """[start, end) piece ranges of at most `size` covering 0..n_tokens with step `stride`."""
    if n_tokens <= size:
        return [(0, n_tokens)] if n_tokens else []
    out = []
    start = 0
    while True:
        end = min(start + size, n_tokens)
        out.append((start, end))
        if end == n_tokens:
            return out
        start += stride


def owner_window(spans: Sequence[tuple[int, int]], n_tokens: int) -> np.ndarray:
    """For each piece, the window whose centre is nearest (earlier window on ties): deterministic merging."""
    owner = np.zeros(n_tokens, dtype=np.int64)
    best = np.full(n_tokens, np.inf)
    positions = np.arange(n_tokens)
    for w, (s, e) in enumerate(spans):
        centre = (s + e - 1) / 2
        dist = np.abs(positions[s:e] - centre)
        better = dist < best[s:e]
        owner[s:e][better] = w
        best[s:e][better] = dist[better]
    return owner
