"""Text → encoder pieces with character offsets into the original text, and windows over them.

Reads: a text (never modified). Writes: `TokenizedText`, one row per piece with its vocabulary id
and its [start, end) character span. The text is first cut into words by character class
(CJK, digit run, Latin run, each punctuation mark alone; whitespace dropped), so that a piece
never crosses punctuation or a script change; in mode "char" every CJK character is its own
word, in mode "subword" a CJK run is one word and the encoder's own vocabulary segments it.
Training may add boundaries (gold entity edges) so that gold spans always align with pieces.
"""
from __future__ import annotations

import json
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


def split_words(text: str, mode: str, boundaries: Iterable[int] = (),
                is_separator=None) -> list[tuple[int, int]]:
    """[start, end) of each word of `text`; `boundaries` are extra offsets a word may not cross;
    `is_separator(ch)` marks further characters that end a word and are dropped."""
    cuts = set(boundaries)
    sep = is_separator or (lambda ch: False)
    words: list[tuple[int, int]] = []
    n = len(text)
    i = 0
    while i < n:
        cls = _char_class(text[i])
        if cls == "space" or sep(text[i]):
            i += 1
            continue
        j = i + 1
        if cls == "punct" or (cls == "cjk" and mode == "char"):
            pass
        else:
            while j < n and j not in cuts:
                nxt = _char_class(text[j])
                if nxt == cls and not sep(text[j]):
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


class PieceTokenizer:
    """The model directory's `tokenizers.Tokenizer`, fed pre-split words.

    When the saved normaliser is a chain of single-character replacements (as the converted e5
    tokenizer's 4,837-entry table is), it is applied here as one character map with an offset
    map, which is exact and about 30 times faster than the chain; otherwise the tokenizer's own
    normaliser runs. The saved tokenizer.json is never changed.
    """

    def __init__(self, tokenizer, source_json: str):
        self.tokenizer = tokenizer
        self.source_json = source_json
        self.char_map = _char_map(json.loads(source_json).get("normalizer"))
        if self.char_map is not None:
            tokenizer.normalizer = None
        tokenizer.pre_tokenizer = None  # words are pre-split here; no "▁" word prefix
        tokenizer.post_processor = None
        tokenizer.no_truncation()
        tokenizer.no_padding()

    def get_vocab_size(self) -> int:
        return self.tokenizer.get_vocab_size()

    def get_vocab(self) -> dict[str, int]:
        return self.tokenizer.get_vocab()

    def to_str(self) -> str:
        return self.source_json

    def is_separator(self, ch: str) -> bool:
        """A character the normaliser deletes or turns into a space separates words."""
        if self.char_map is None or ch not in self.char_map:
            return False
        out = self.char_map[ch]
        return out == "" or out.isspace()

    def encode_words(self, text: str, words: list[tuple[int, int]]):
        """(ids, starts, ends) of the pieces of `words`, offsets into `text`."""
        if self.char_map is None:
            enc = self.tokenizer.encode([text[s:e] for s, e in words], is_pretokenized=True, add_special_tokens=False)
            word_start = np.fromiter((words[w][0] for w in enc.word_ids), dtype=np.int64, count=len(enc.ids))
            offsets = np.asarray(enc.offsets, dtype=np.int64).reshape(-1, 2)
            return np.asarray(enc.ids, dtype=np.int64), word_start + offsets[:, 0], word_start + offsets[:, 1]
        cmap = self.char_map
        normal: list[str] = []
        origins: list[list[int] | None] = []
        for s, e in words:
            chunk = text[s:e]
            if not any(ch in cmap for ch in chunk):
                normal.append(chunk)
                origins.append(None)
                continue
            parts, origin = [], []
            for i, ch in enumerate(chunk, start=s):
                out = cmap.get(ch, ch)
                parts.append(out)
                origin.extend([i] * len(out))
            normal.append("".join(parts))
            origins.append(origin)
        keep = [i for i, w in enumerate(normal) if w]
        enc = self.tokenizer.encode([normal[i] for i in keep], is_pretokenized=True, add_special_tokens=False)
        ids = np.asarray(enc.ids, dtype=np.int64)
        starts = np.empty(len(ids), dtype=np.int64)
        ends = np.empty(len(ids), dtype=np.int64)
        for k, (w, (a, b)) in enumerate(zip(enc.word_ids, enc.offsets)):
            word = keep[w]
            origin = origins[word]
            if origin is None:
                starts[k] = words[word][0] + a
                ends[k] = words[word][0] + b
            else:
                starts[k] = origin[a]
                ends[k] = origin[b - 1] + 1
        return ids, starts, ends


def _char_map(normalizer: dict | None) -> dict[str, str] | None:
    """The replacement table of a Sequence of single-character `Replace` normalisers, else None."""
    if not normalizer or normalizer.get("type") != "Sequence":
        return None
    table: dict[str, str] = {}
    for step in normalizer.get("normalizers", []):
        pattern = step.get("pattern", {})
        if step.get("type") != "Replace":
            return None
        if "Regex" in pattern and pattern["Regex"] == " {2,}":
            continue  # runs of spaces: spaces separate words here anyway
        key = pattern.get("String")
        if key is None or len(key) != 1:
            return None
        table[key] = step.get("content", "")
    if any(ch in table for out in table.values() for ch in out):
        return None  # a chained replacement: not a plain character map
    return table


def load_tokenizer(directory: Path) -> PieceTokenizer:
    """The tokenizer of a model (or base encoder) directory, set up for pre-split words."""
    from tokenizers import Tokenizer

    source = (directory / TOKENIZER_FILE).read_text(encoding="utf-8")
    return PieceTokenizer(Tokenizer.from_str(source), source)


def tokenize(tokenizer: PieceTokenizer, text: str, mode: str, boundaries: Iterable[int] = ()) -> TokenizedText:
    """Pieces of `text` with offsets into `text`; characters the normaliser deletes get no piece."""
    words = split_words(text, mode, boundaries, tokenizer.is_separator)
    if not words:
        empty = np.zeros(0, dtype=np.int64)
        return TokenizedText(empty, empty.copy(), empty.copy())
    ids, starts, ends = tokenizer.encode_words(text, words)
    keep = ends > starts
    # A normaliser that expands one character into several pieces (e.g. ㎡ → m2) gives pieces with
    # the same offsets: keep the first piece of such a run so that offsets stay strictly increasing.
    dup = np.zeros(len(starts), dtype=bool)
    dup[1:] = (starts[1:] == starts[:-1]) & (ends[1:] == ends[:-1])
    keep &= ~dup
    return TokenizedText(ids[keep], starts[keep], ends[keep])


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
