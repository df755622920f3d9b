"""How much dynamic int8 quantisation changes the model's output, on text no model trained on.

    python benchmarks/quantization.py [--model DIR] [--years 2001 1999] [--chars 20000]

Runs the fp32 model and its int8 copy (torch dynamic quantisation of the linear layers) over
passages of national work reports from years used by neither the gold nor the silver tier, and
scores the int8 output against the fp32 output with the project evaluator (entity and relation
F1 = agreement), plus the speed of each. Reported, never asserted.
"""
from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import torch

from fazhi_ie.document import Document
from fazhi_ie.engines import load_engine
from fazhi_ie.analysis.evaluation import evaluate
from fazhi_ie.neural.engine import quantize_dynamic_int8
from fazhi_ie.pipeline import annotate

from corpus import passage_records


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None)
    ap.add_argument("--years", nargs="*", default=["2003", "1993"], help="silver passages of these years")
    ap.add_argument("--chars", type=int, default=20000, help="characters per year, from the top of the report")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = passage_records()
    docs = [Document(f"{r['id']}-head", r["text"][:args.chars], {"year": int(r["meta"]["year"])})
            for r in rows if str(r["meta"].get("year")) in args.years]
    fp32 = load_engine("model", args.model)
    int8 = copy.copy(fp32)
    quantize_dynamic_int8(int8)
    out = {}
    results = {}
    for name, engine in (("fp32", fp32), ("int8", int8)):
        start = time.perf_counter()
        results[name] = [annotate(d, engine=engine) for d in docs]
        out[f"{name}_chars_per_s"] = round(sum(len(d.text) for d in docs) / (time.perf_counter() - start))
    report = evaluate(results["fp32"], results["int8"], bootstrap=0)
    out.update({"documents": [d.id for d in docs], "chars": sum(len(d.text) for d in docs),
                "entity_agreement_f1": round(report.entity_micro.f1, 4),
                "relation_agreement_f1": round(report.relation_micro.f1, 4),
                "fact_agreement_f1": round(report.facts.f1, 4), "threads": args.threads})
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
