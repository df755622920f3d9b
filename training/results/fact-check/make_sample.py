"""Draw a fact-check sample: 30 facts of the default engine on the five reports, extracted with no region or
year given (meta {}), duplicates left out, drawn with random.Random(SEED).sample in report order.

    PYTHONPATH=. python training/results/fact-check/make_sample.py 2028 training/results/fact-check/sample-3.jsonl

random.Random(2027) on the engine of commit ea66dbb reproduces sample-2.jsonl exactly (same procedure).
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import fazhi_ie

ROOT = Path(__file__).resolve().parents[3]


def pool(engine: str | None = None) -> list[dict]:
    nlp = fazhi_ie.load(engine=engine)
    rows = []
    for line in (ROOT / "data" / "annotations" / "reports.jsonl").open(encoding="utf-8"):
        rec = json.loads(line)
        doc = nlp(rec["text"], {}, doc_id=rec["id"])
        rep = doc.meta["report"]
        for f in doc.facts:
            if f.duplicate_of is not None:
                continue
            rows.append({
                "doc_id": doc.id, "report_year_found": rep["year"], "report_year_source": rep["year_source"],
                "report_region_found": rep["region"], "report_region_source": rep["region_source"],
                "sentence": f.evidence.sentence, "metric": f.metric, "metric_object": f.metric_object,
                "value": f.value, "number": f.number, "unit": f.unit, "qualifier": f.qualifier, "change": f.change,
                "previous_value": f.previous_value, "agent": f.agent, "time": f.time, "period": f.period,
                "other_times": [[t.text, t.role, t.period] for t in f.times], "program": f.program,
                "score": f.score, "metric_span": list(f.evidence.metric_span), "value_span": list(f.evidence.value_span),
            })
    return rows


def main(seed: int, out: Path) -> None:
    facts = pool()
    sample = random.Random(seed).sample(facts, 30)
    with out.open("w", encoding="utf-8") as fh:
        for n, row in enumerate(sample, start=1):
            fh.write(json.dumps({"n": n, **row}, ensure_ascii=False) + "\n")
    print(f"{len(facts)} facts in the pool; 30 drawn with random.Random({seed}) -> {out}")


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
