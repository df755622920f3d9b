"""Fragment spans: the share of entity spans whose edge cuts a word, by an independent segmenter.

Reads interchange JSONL (gold or predictions, docs/SCHEMA.md); prints per label the spans, the spans
with an edge strictly inside a word of jieba's segmentation of the whole text, their share, and
examples; and the one-character METRIC/ORG/PROGRAM spans. jieba (MIT) is used for measurement only:
the package never imports this module, and the decoding fix (fazhi_ie/neural/cohesion.py) does not
use jieba, so the measure is not circular. jieba is not perfect: the share on gold spans is the floor.

    python -m training.fragments PRED.jsonl [MORE.jsonl ...] [--ids a,b] [--examples 8] [--json OUT]
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

#: labels whose one-character spans are counted (a one-character METRIC/ORG/PROGRAM is a fragment or junk)
ONE_CHAR_LABELS = ("METRIC", "ORG", "PROGRAM")


def word_edges(text: str, hmm: bool = False) -> list[tuple[int, int]]:
    """[start, end) of each word of jieba's segmentation of `text` (offsets into `text`).

    HMM off (the default): jieba's dictionary words only, unknown runs as single characters, so a
    word is one jieba knows; with the HMM, guessed words also count (more cuts, on gold too)."""
    import jieba

    jieba.setLogLevel(60)
    return [(s, e) for _, s, e in jieba.tokenize(text, HMM=hmm)]


def inside_mask(text: str, words: Iterable[tuple[int, int]]) -> list[bool]:
    """inside[i] is True when offset i lies strictly inside a word (a span edge there cuts it)."""
    inside = [False] * (len(text) + 1)
    for s, e in words:
        for i in range(s + 1, e):
            inside[i] = True
    return inside


def cuts_word(start: int, end: int, inside: Sequence[bool]) -> bool:
    """Whether the span [start, end) starts or ends strictly inside a word."""
    return inside[start] or inside[end]


@dataclass
class LabelCounts:
    spans: int = 0
    cutting: int = 0
    one_char: int = 0
    examples: list[str] = field(default_factory=list)
    one_char_examples: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.cutting / self.spans if self.spans else 0.0


def _context(text: str, start: int, end: int, reach: int = 6) -> str:
    """The span in brackets with a few characters either side: 平均办[复率]达到 (newlines shown as ⏎)."""
    left = text[max(0, start - reach):start]
    right = text[end:end + reach]
    return f"{left}[{text[start:end]}]{right}".replace("\n", "⏎")


def fragment_counts(docs: Iterable[dict], *, hmm: bool = False, max_examples: int = 8) -> dict[str, LabelCounts]:
    """Per label (and "ALL"): spans, spans cutting a jieba word, one-character spans, examples.

    `docs` are interchange records (dicts with text and entities)."""
    table: dict[str, LabelCounts] = {}
    total = LabelCounts()
    for doc in docs:
        text = doc["text"]
        inside = inside_mask(text, word_edges(text, hmm))
        for ent in doc.get("entities", []):
            s, e, label = ent["start"], ent["end"], ent["label"]
            row = table.setdefault(label, LabelCounts())
            for counts in (row, total):
                counts.spans += 1
                if cuts_word(s, e, inside):
                    counts.cutting += 1
                    if len(counts.examples) < max_examples:
                        counts.examples.append(f"{doc['id']}:{s} {_context(text, s, e)}")
                if e - s == 1 and label in ONE_CHAR_LABELS:
                    counts.one_char += 1
                    if len(counts.one_char_examples) < max_examples:
                        counts.one_char_examples.append(f"{doc['id']}:{s} {_context(text, s, e)}")
    table = dict(sorted(table.items()))
    table["ALL"] = total
    return table


def format_counts(table: dict[str, LabelCounts], title: str = "") -> str:
    lines = [title] if title else []
    lines.append(f"{'label':8} {'spans':>6} {'cut':>5} {'share':>7} {'1-char':>6}")
    for label, c in table.items():
        one = str(c.one_char) if label in ONE_CHAR_LABELS or label == "ALL" else "-"
        lines.append(f"{label:8} {c.spans:6d} {c.cutting:5d} {c.share:7.1%} {one:>6}")
    for label, c in table.items():
        if label == "ALL":
            continue
        for ex in c.examples:
            lines.append(f"  cut   {label:8} {ex}")
        for ex in c.one_char_examples:
            lines.append(f"  1-char {label:7} {ex}")
    return "\n".join(lines)


def read_records(paths: Sequence[str | Path], ids: set[str] | None = None) -> list[dict]:
    """Interchange records of `paths` (only those whose id is in `ids`, when given)."""
    out = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                if ids is None or record["id"] in ids:
                    out.append(record)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", help="interchange JSONL (predictions or gold)")
    parser.add_argument("--ids", help="comma-separated document ids to keep (default: all)")
    parser.add_argument("--hmm", action="store_true", help="let jieba guess unknown words with its HMM")
    parser.add_argument("--examples", type=int, default=8, help="examples shown per label (default 8)")
    parser.add_argument("--json", help="also write the counts as JSON here")
    args = parser.parse_args(argv)
    ids = set(args.ids.split(",")) if args.ids else None
    records = read_records(args.files, ids)
    if not records:
        print("no documents read" + (f" with ids {args.ids}" if ids else ""), file=sys.stderr)
        return 1
    table = fragment_counts(records, hmm=args.hmm, max_examples=args.examples)
    print(format_counts(table, f"{len(records)} document(s): {', '.join(args.files)}"))
    if args.json:
        Path(args.json).write_text(json.dumps({k: {"spans": c.spans, "cutting": c.cutting, "share": round(c.share, 4),
                                                   "one_char": c.one_char, "examples": c.examples,
                                                   "one_char_examples": c.one_char_examples}
                                               for k, c in table.items()}, ensure_ascii=False, indent=1),
                                   encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
