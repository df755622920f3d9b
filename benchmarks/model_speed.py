"""Model engine: load time, end-to-end extraction speed and peak memory, with 1 and 2 threads.

    python benchmarks/model_speed.py [--model DIR] [--threads 1 2] [--repeat 3] [--quantize]

Each thread setting runs in a fresh process so that load time and peak memory (ru_maxrss) are
its own. Speed is the whole pipeline (sentences, spans, relations, facts) over the four corpus
reports, median of the repeats. Numbers are measured and reported, never asserted in tests.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REPORTS = Path(__file__).resolve().parents[1] / "data" / "annotations" / "reports.jsonl"

CHILD = r"""
import json, resource, statistics, sys, time
from pathlib import Path
t0 = time.perf_counter()
import torch
torch.set_num_threads(int(sys.argv[2]))
from fazhi_ie.engines import load_engine
from fazhi_ie.pipeline import extract
engine = load_engine("model", sys.argv[1] or None)
if sys.argv[5] == "1":
    from fazhi_ie.neural.engine import quantize_dynamic_int8
    quantize_dynamic_int8(engine)
load = time.perf_counter() - t0
source = Path(sys.argv[3])
texts = ([json.loads(l)["text"] for l in source.read_text(encoding="utf-8").splitlines() if l.strip()]
         if source.suffix == ".jsonl" else [p.read_text(encoding="utf-8") for p in sorted(source.glob("*.txt"))])
chars = sum(len(t) for t in texts)
extract(texts[0][:2000], engine=engine)
runs = []
for _ in range(int(sys.argv[4])):
    s = time.perf_counter()
    for t in texts:
        extract(t, engine=engine)
    runs.append(time.perf_counter() - s)
print(json.dumps({"threads": int(sys.argv[2]), "load_s": round(load, 2), "chars": chars,
                  "chars_per_s": round(chars / statistics.median(runs)), "peak_rss_mb":
                  round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="", help="model directory (default: the shipped model)")
    ap.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reports", default=str(REPORTS), help="a .jsonl of documents or a directory of .txt files "
                    "(default: the gold reports in data/annotations/reports.jsonl)")
    ap.add_argument("--quantize", action="store_true", help="dynamic int8 quantisation of the linear layers")
    args = ap.parse_args()
    for threads in args.threads:
        out = subprocess.run([sys.executable, "-c", CHILD, args.model, str(threads), args.reports, str(args.repeat),
                              "1" if args.quantize else "0"], capture_output=True, text=True)
        if out.returncode:
            print(out.stderr, file=sys.stderr)
            return 1
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["quantized"] = args.quantize
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
