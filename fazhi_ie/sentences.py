"""Sentence splitting by the docs/SCHEMA.md rule, keeping character offsets.

A sentence ends at 。！？ or a line break; ；and ，do not end it. Closing quotes and
brackets directly after a terminator stay with the sentence. Leading and trailing
whitespace is left out of a sentence's span; the text itself is never changed.

`linking_windows` bounds the cost of text without sentence punctuation: a sentence
longer than MAX_WINDOW characters is cut into windows of at most MAX_WINDOW, at the
last clause break (，；、： or a space) in the second half of the window, else at a
point that splits no number. The rule engine links only within a window, and a fact's
evidence quotes its window(s) instead of the whole sentence, so cost and output stay
linear in the input.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

MAX_WINDOW = 320  # longest linking window (characters); no gold sentence is longer
CLAUSE_BREAKS = frozenset("，,；;、：: \t\u3000")
_NUMBERISH = frozenset("0123456789０１２３４５６７８９.．,%％零〇一二两三四五六七八九十百千万亿")
TERMINATORS = frozenset("。！？")
LINE_BREAKS = frozenset("\n\r\u2028\u2029")
CLOSERS = frozenset("”’」』）)】》\"'")
_LINE_BREAK_RE = re.compile("[" + "".join(sorted(LINE_BREAKS)) + "]")


@dataclass(frozen=True)
class Sentence:
    """A sentence as [start, end) character offsets into the original text."""

    start: int
    end: int
    text: str


def split_sentences(text: str) -> list[Sentence]:
    """Split `text` into sentences; whitespace-only pieces are skipped."""
    sentences: list[Sentence] = []
    start = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in LINE_BREAKS:
            _append(text, start, i, sentences)
            start = i + 1
        elif ch in TERMINATORS:
            j = i + 1
            while j < n and (text[j] in TERMINATORS or text[j] in CLOSERS):
                j += 1
            _append(text, start, j, sentences)
            start = j
            i = j
            continue
        i += 1
    _append(text, start, n, sentences)
    return sentences


def _append(text: str, start: int, end: int, out: list[Sentence]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        out.append(Sentence(start, end, text[start:end]))


def linking_windows(text: str, max_len: int = MAX_WINDOW, *,
                    sentences: Sequence[Sentence] | None = None) -> list[Sentence]:
    """Sentences (`sentences` when already split, so a text is split once), with each one longer
    than `max_len` cut into windows of at most `max_len`."""
    windows: list[Sentence] = []
    for sent in (split_sentences(text) if sentences is None else sentences):
        if sent.end - sent.start <= max_len:
            windows.append(sent)
            continue
        pos = sent.start
        while sent.end - pos > max_len:
            cut = _cut_point(text, pos, pos + max_len)
            _append(text, pos, cut, windows)
            pos = cut
        _append(text, pos, sent.end, windows)
    return windows


def bounded_segments(text: str, limit: int):
    """Yield [start, end) of the segments of `text`, in order: each line (text between line breaks), with
    a line longer than `limit` cut before its last sentence that does not end within the limit (a
    sentence longer than `limit` is cut like a linking window). Whitespace-only lines are skipped.

    Every cut depends only on the line's own text from its start, never on what comes before the
    line, and the text is read once with a look-ahead of `limit` characters (the model engine reads
    a document in such segments, so the same passage is read the same way wherever it sits).
    """
    n = len(text)
    pos = 0
    while pos < n:
        brk = _LINE_BREAK_RE.search(text, pos, min(n, pos + limit + 1))
        if brk is not None:
            end, nxt = brk.start(), brk.end()
        elif pos + limit >= n:
            end = nxt = n
        else:
            sentences = split_sentences(text[pos:pos + limit])
            end = nxt = pos + sentences[-1].start if len(sentences) > 1 else _cut_point(text, pos, pos + limit)
        if not text[pos:end].isspace() and end > pos:
            yield pos, end
        pos = nxt


def _cut_point(text: str, start: int, limit: int) -> int:
    """Where to end a window that starts at `start` and may not pass `limit`."""
    half = start + (limit - start) // 2
    for i in range(limit, half, -1):
        if text[i - 1] in CLAUSE_BREAKS and not _is_thousands_separator(text, i - 1):
            return i
    for i in range(limit, half, -1):
        if text[i - 1] not in _NUMBERISH or text[i] not in _NUMBERISH:
            return i
    return limit


def _is_thousands_separator(text: str, i: int) -> bool:
    """True when the comma at text[i] groups digits (1,234 or １，２３４: normalize.THOUSANDS)."""
    return (text[i] in ",，" and 0 < i and text[i - 1].isdigit() and text[i + 1:i + 4].isdigit()
            and len(text[i + 1:i + 4]) == 3 and not text[i + 4:i + 5].isdigit())


def sentence_index(sentences: list[Sentence], offset: int) -> int | None:
    """Index of the sentence containing character `offset`, or None."""
    lo, hi = 0, len(sentences)
    while lo < hi:
        mid = (lo + hi) // 2
        if sentences[mid].end <= offset:
            lo = mid + 1
        else:
            hi = mid
    if lo < len(sentences) and sentences[lo].start <= offset < sentences[lo].end:
        return lo
    return None
