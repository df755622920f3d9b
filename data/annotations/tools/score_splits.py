"""Score an engine on the gold corpus per split (train/dev/test) and overall.

    python data/annotations/tools/score_splits.py [--engine rules] [--json OUT]

Prints one summary row per split: entity, relation and fact micro F1 with 95% bootstrap
intervals over documents. The rule engine was written before the gold existed and later
tuned only against annotator A's version of the train split, so its dev and test rows are
held-out figures.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from fazhi_ie.document import Document
from fazhi_ie.engines import load_engine
from fazhi_ie.analysis.evaluation import evaluate
from fazhi_ie.io.jsonl import read_jsonl
from fazhi_ie.pipeline import annotate

ANNOTATIONS = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", default="rules")
    parser.add_argument("--json")
    args = parser.parse_args()
    gold = read_jsonl(ANNOTATIONS / "reports.jsonl") + read_jsonl(ANNOTATIONS / "gov-work-reports.jsonl")
    splits = json.loads((ANNOTATIONS / "splits.json").read_text(encoding="utf-8"))
    engine = load_engine(args.engine)
    pred = {d.id: annotate(Document(d.id, d.text, d.meta), engine=engine) for d in gold}
    rows = {}
    print(f"{'split':<8}{'docs':>5}{'entity F1':>11}{'95% CI':>16}{'relation F1':>13}{'95% CI':>16}{'fact F1':>9}{'95% CI':>16}")
    for name in ("train", "dev", "test", "all"):
        ids = [d.id for d in gold] if name == "all" else splits[name]
        g = [d for d in gold if d.id in ids]
        report = evaluate(g, [pred[d.id] for d in g], bootstrap=1000, seed=0)
        ci = report.confidence
        rows[name] = report.to_dict()
        print(f"{name:<8}{len(g):>5}{report.entity_micro.f1:>11.3f}{_ci(ci['entity_micro_f1']):>16}"
              f"{report.relation_micro.f1:>13.3f}{_ci(ci['relation_micro_f1']):>16}"
              f"{report.facts.f1:>9.3f}{_ci(ci['fact_f1']):>16}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


def _ci(pair) -> str:
    return f"[{pair[0]:.3f}, {pair[1]:.3f}]"


if __name__ == "__main__":
    main()
