"""Sentence splitting by the SCHEMA.md rule, keeping character offsets.

A sentence ends at 。！？ or a line break; ；and ，do not end it. Closing quotes and
brackets directly after a terminator stay with the sentence. Leading and trailing
whitespace is left out of a sentence's span; the text itself is never changed.
"""
from __future__ import annotations

from dataclasses import dataclass

TERMINATORS = frozenset("。！？")
LINE_BREAKS = frozenset("\n\r\u2028\u2029")
CLOSERS = frozenset("”’」』）)】》\"'")


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
