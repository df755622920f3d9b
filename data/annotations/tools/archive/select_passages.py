"""Choose the government-work-report passages of the gold corpus (deterministic).

Each passage is a contiguous run of whole lines of one report: half start at the top of
the report (the review of the past year, dense in figures), half at the paragraph that
first mentions 依法行政/法治政府/法制 (the rule-of-law part). Prints JSON lines with the
passage text and its character range in the source report.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

PLAN = [  # (year, start at: "top" or a keyword)
    (2025, "top"), (2023, "法治政府"), (2021, "top"), (2018, "top"), (2014, "依法行政"),
    (2010, "依法行政"), (2005, "top"), (1998, "法制"), (1988, "top"), (1979, "法制"),
]
TARGET_CHARS = 4300


def select(corpus: Path) -> list[dict]:
    reports = {}
    for line in corpus.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row.get("year"):
            reports[int(row["year"])] = row
    passages = []
    for year, anchor in PLAN:
        row = reports[year]
        text = row["text"]
        if anchor == "top":
            start = 0
        else:
            hit = text.index(anchor)
            start = text.rfind("\n", 0, hit) + 1
        end = start + TARGET_CHARS
        line_end = text.find("\n", end)
        end = len(text) if line_end < 0 else line_end
        passages.append({
            "id": f"gwr-{year}",
            "text": text[start:end],
            "meta": {"source": "gov-work-reports.jsonl", "title": row["title"], "year": year,
                     "url": row.get("url"), "char_start": start, "char_end": end,
                     "region": "全国", "body": "国务院"},
        })
    return passages


if __name__ == "__main__":
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus/gov-work-reports.jsonl")
    for passage in select(corpus):
        print(json.dumps(passage, ensure_ascii=False))
