"""Extraction speed of an engine on the gold reports, in characters per second.

    python benchmarks/extract_speed.py [--engine rules] [--repeat 5] [--reports DIR]

The reports are data/annotations/reports.jsonl (in the repository), or the .txt files of DIR.

Reports the median over repeats of the whole pipeline (sentences, spans, relations,
facts) per report and in total. Numbers are measured, never asserted in tests.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

from corpus import report_texts

from fazhi_ie.engines import load_engine
from fazhi_ie.pipeline import extract


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", default="rules")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reports", type=Path, default=None, help="a directory of .txt reports instead")
    args = parser.parse_args()
    engine = load_engine(args.engine)
    if args.reports is not None:
        files = sorted(args.reports.glob("*.txt"))
        if not files:
            raise SystemExit(f"no .txt reports in {args.reports}")
        texts = {f.stem: f.read_text(encoding="utf-8") for f in files}
    else:
        texts = report_texts()
    extract(next(iter(texts.values())), engine=engine)  # warm-up: gazetteer, regexes
    total_chars = sum(len(t) for t in texts.values())
    totals = []
    print(f"engine={args.engine} python={platform.python_version()} machine={platform.machine()} repeat={args.repeat}")
    per_doc = {}
    for _ in range(args.repeat):
        start_all = time.perf_counter()
        for name, text in texts.items():
            start = time.perf_counter()
            doc = extract(text, engine=engine, doc_id=name)
            per_doc.setdefault(name, []).append((time.perf_counter() - start, len(doc.facts)))
        totals.append(time.perf_counter() - start_all)
    for name, runs in per_doc.items():
        seconds = statistics.median(r[0] for r in runs)
        print(f"{name:<28}{len(texts[name]):>8} chars {seconds * 1000:>8.1f} ms {len(texts[name]) / seconds:>12,.0f} chars/s"
              f" {runs[0][1]:>5} facts")
    seconds = statistics.median(totals)
    print(f"{'total':<28}{total_chars:>8} chars {seconds * 1000:>8.1f} ms {total_chars / seconds:>12,.0f} chars/s")


if __name__ == "__main__":
    main()
