"""Texts the benchmarks run on, all from the repository (a fresh clone has them)."""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "data" / "annotations" / "reports.jsonl"
PASSAGES = ROOT / "data" / "annotations" / "silver" / "sources.jsonl"


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def report_texts() -> dict[str, str]:
    """{id: text} of the gold local reports (data/annotations/reports.jsonl), every character."""
    return {r["id"]: r["text"] for r in _records(REPORTS)}


def passage_records() -> list[dict]:
    """The silver tier's national work-report passages (id, text, meta with year)."""
    return _records(PASSAGES)
