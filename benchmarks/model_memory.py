"""Model engine on one large document: peak memory and time, and whether copies give the same facts.

    python benchmarks/model_memory.py [--sizes 30000,300000] [--threads 2] [--copies 10]
                                      [--root DIR] [--label NAME] [--json OUT]

Each size runs in a fresh process: the shipped model is loaded, a text of that many characters is
built by repeating fazhi_ie/data/sample_report.txt (copies joined by a line break, cut to the size)
and extracted as one document through the whole pipeline (spans, relations, facts). Reported: wall
time, the process's peak resident memory (ru_maxrss) and the part of it above the baseline taken
after the engine was loaded and the text built, and the facts and entities found. `--copies N`
also extracts N whole copies as one document and compares its facts with N times those of one
copy (the model's output for a passage should not depend on where it sits). `--root` measures
another checkout of the package (e.g. the code before a change), `--label` names the run.

Measured on the 2-core development machine (shared with other jobs, load 6-9, so times are loose; memory is
not), torch with 2 threads, the shipped model (`--copies 0`; rows in training/results/model_memory.jsonl):

| code | characters | time (s) | peak RSS (MB) | above baseline (MB) | facts |
|---|---:|---:|---:|---:|---:|
| before (whole document in one pass) | 30,000 | 22.2 | 524 | 183 | 550 |
| before (whole document in one pass) | 300,000 | 216.7 | 1,391 | 1,049 | 5,596 |
| after (chunks of 8,000 characters) | 30,000 | 28.6 | 509 | 167 | 545 |
| after (chunks of 8,000 characters) | 300,000 | 237.8 | 574 | 233 | 5,584 |

Memory above the baseline no longer grows with the document beyond its output (233 MB for 300,000
characters, 1,049 MB before).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
root, size, threads, copies = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, root)
import torch
torch.set_num_threads(threads)
from pathlib import Path
from fazhi_ie.engines import load_engine
from fazhi_ie.pipeline import extract

def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

engine = load_engine("model")
extract("全区受理行政复议案件93件。", engine=engine)  # warm up
sample = (Path(root) / "fazhi_ie" / "data" / "sample_report.txt").read_text(encoding="utf-8")
if copies:
    one = extract(sample, engine=engine)
    many = extract("\n".join([sample] * copies), engine=engine)
    print(json.dumps({"copies": copies, "facts_one_copy": len(one.facts), "facts_copies": len(many.facts),
                      "entities_one_copy": len(one.entities), "entities_copies": len(many.entities),
                      "same_per_copy": len(many.facts) == copies * len(one.facts)
                      and len(many.entities) == copies * len(one.entities)}))
    sys.exit(0)
text = ("\n".join([sample] * (size // len(sample) + 2)))[:size]
base = rss_mb()
started, cpu = time.perf_counter(), time.process_time()
doc = extract(text, engine=engine, doc_id="memory")
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
peak = rss_mb()
print(json.dumps({"chars": len(text), "seconds": round(seconds, 2), "cpu_s": round(cpu, 2),
                  "chars_per_s": round(len(text) / seconds),
                  "peak_rss_mb": round(peak), "above_baseline_mb": round(peak - base), "facts": len(doc.facts),
                  "entities": len(doc.entities)}))
"""


def run_child(root: str, size: int, threads: int, copies: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, root, str(size), str(threads), str(copies)],
                         capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="30000,300000", help="comma-separated character counts")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--copies", type=int, default=10, help="also compare N whole copies with one (0: skip)")
    ap.add_argument("--root", default=str(ROOT), help="checkout whose fazhi_ie is measured")
    ap.add_argument("--label", default="current")
    ap.add_argument("--json", help="append the rows (JSON lines) to this file")
    args = ap.parse_args(argv)
    rows = []
    for size in (int(s) for s in args.sizes.split(",") if s):
        rows.append({"label": args.label, "threads": args.threads, **run_child(args.root, size, args.threads, 0)})
        print(json.dumps(rows[-1]), flush=True)
    if args.copies:
        rows.append({"label": args.label, "threads": args.threads,
                     **run_child(args.root, 0, args.threads, args.copies)})
        print(json.dumps(rows[-1]), flush=True)
    if args.json:
        with open(args.json, "a", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
