"""Choose the silver-tier passages from the national government work reports (deterministic).

One contiguous run of whole lines (about TARGET_CHARS characters) per report year, from years
not used by the gold passages, at the window densest in figures (numbers with units, percentages),
so that annotators see whole paragraphs rich in metrics, values, programs and bodies. The
TOP_YEARS densest years are kept (spread over more than 20 years). Prints JSON lines.

    python data/annotations/tools/select_silver.py > data/annotations/silver/sources.jsonl
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

GOLD_YEARS = {2025, 2023, 2021, 2018, 2014, 2010, 2005, 1998, 1988, 1979}
TARGET_CHARS = 9700
TOP_YEARS = 26
FIGURE_RE = re.compile(r"[0-9０-９][0-9０-９.．,，]*\s*(%|％|万|亿|个|件|人|元|吨|公里|项|家|所|倍)?"
                       r"|[一二三四五六七八九十百千]+(万|亿|个|项|件|倍)")


def best_window(text: str) -> tuple[int, int, float]:
    """(start, end, figures per 1,000 chars) of the densest run of whole lines near TARGET_CHARS."""
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    best = (0, min(len(text), TARGET_CHARS), -1.0)
    for start in starts:
        if start >= len(text):
            continue
        end = start + TARGET_CHARS
        if end > len(text):
            break
        line_end = text.find("\n", end)
        end = len(text) if line_end < 0 else line_end
        window = text[start:end]
        density = 1000 * len(FIGURE_RE.findall(window)) / max(1, len(window))
        if density > best[2]:
            best = (start, end, density)
    return best


def select(corpus: Path) -> list[dict]:
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    candidates = []
    for row in rows:
        if not row.get("year") or int(row["year"]) in GOLD_YEARS or len(row["text"]) < TARGET_CHARS:
            continue
        year = int(row["year"])
        start, end, density = best_window(row["text"])
        candidates.append((density, year, row, start, end))
    chosen = sorted(candidates, key=lambda c: (-c[0], c[1]))[:TOP_YEARS]
    out = []
    for density, year, row, start, end in sorted(chosen, key=lambda c: -c[1]):
        out.append({
            "id": f"silver-gwr-{year}",
            "text": row["text"][start:end],
            "meta": {"source": "gov-work-reports.jsonl", "title": row["title"], "year": year,
                     "url": row.get("url"), "char_start": start, "char_end": end, "region": "全国",
                     "body": "国务院", "tier": "silver", "figures_per_1000_chars": round(density, 2)},
        })
    return out


if __name__ == "__main__":
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus/gov-work-reports.jsonl")
    for passage in select(corpus):
        print(json.dumps(passage, ensure_ascii=False))
