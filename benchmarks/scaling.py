"""Does extraction cost grow linearly with the input, with and without sentence punctuation?

    python benchmarks/scaling.py [--sizes 10k,100k,1M,10M] [--engine rules] [--json OUT]

For each size (UTF-8 bytes of input) the four bundled corpus reports (or the sample report)
are repeated to that size, once as they are and once with every sentence terminator and
line break removed (one giant sentence: the case that used to be quadratic). Each run is a
fresh process that extracts the text as one document and writes its JSONL record to a
temporary file; it reports wall time, characters per second, peak resident memory above the
process's baseline (after the engine and the text are loaded) and output bytes per input
character. Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000, "10M": 10_000_000}
TERMINATORS = re.compile(r"[。！？\n\r\u2028\u2029]")


def source_text() -> str:
    """The gold reports of the repository, one after another."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from corpus import report_texts

    return "\n".join(report_texts().values())


def make_text(size_bytes: int, punctuated: bool) -> str:
    base = source_text() if punctuated else TERMINATORS.sub("", source_text())
    per_char = len(base.encode("utf-8")) / len(base)
    chars = int(size_bytes / per_char)
    return (base * (chars // len(base) + 1))[:chars]


def rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def one(size_bytes: int, punctuated: bool, engine_name: str) -> dict:
    """Measure one run in this process (called in a fresh child process)."""
    from fazhi_ie.engines import load_engine
    from fazhi_ie.io.jsonl import dumps_record
    from fazhi_ie.pipeline import extract

    engine = load_engine(engine_name)
    extract("全区受理案件93件。", engine=engine)  # warm up: gazetteer and regexes built
    text = make_text(size_bytes, punctuated)
    base_rss = rss_kb()
    started = time.perf_counter()
    doc = extract(text, engine=engine, doc_id="scaling")
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".jsonl", delete=True) as fh:
        fh.write(dumps_record(doc.to_dict()))
        fh.flush()
        out_bytes = Path(fh.name).stat().st_size
    seconds = time.perf_counter() - started
    return {"input_bytes": len(text.encode("utf-8")), "chars": len(text), "punctuated": punctuated,
            "seconds": round(seconds, 3), "chars_per_s": round(len(text) / seconds),
            "peak_mb": round((rss_kb() - base_rss) / 1024, 1), "facts": len(doc.facts),
            "out_bytes_per_char": round(out_bytes / max(1, len(text)), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k,1M,10M", help=f"comma-separated, of {', '.join(SIZES)}")
    parser.add_argument("--engine", default="rules")
    parser.add_argument("--json", help="also write the rows as JSON here")
    parser.add_argument("--one", nargs=2, metavar=("BYTES", "PUNCTUATED"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one(int(args.one[0]), args.one[1] == "1", args.engine)))
        return 0
    names = args.sizes.split(",")
    unknown = [n for n in names if n not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {', '.join(unknown)}; valid: {', '.join(SIZES)}")
    rows = []
    for name in names:
        for punctuated in (True, False):
            out = subprocess.run([sys.executable, __file__, "--engine", args.engine, "--one", str(SIZES[name]),
                                  "1" if punctuated else "0"], capture_output=True, text=True, check=True)
            row = json.loads(out.stdout)
            row["size"] = name
            rows.append(row)
            print(f"  {name} {'punctuated' if punctuated else 'no punctuation'}: {row}", file=sys.stderr)
    print("| input | sentence punctuation | characters | time (s) | chars/s | peak memory (MB) | facts | "
          "output bytes per input char |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['size']}B | {'yes' if r['punctuated'] else 'none'} | {r['chars']:,} | {r['seconds']:.2f} | "
              f"{r['chars_per_s']:,} | {r['peak_mb']} | {r['facts']:,} | {r['out_bytes_per_char']} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
