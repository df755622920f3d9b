"""Which engine supplies each label of the shipped model: the network owns every label unless the rules win it
on text the rules were not written from (issue 14, item 2).

The rule engine's patterns and gazetteer were written from the four older reports, so a choice that involves
the rules is judged on other text: here, the local-report tier's held-out writer (w5, never trained on) by
default. For every entity and relation label the shipped model is decoded twice on that text, with the label
from the network and from the rules (everything else from the network); a label goes to the rules only where
they score higher there. The choice is then scored once on a report neither the rules nor the model ever saw
(jinpu-2023).

    python training/choose_sources.py --model fazhi_ie/models/default \\
        --choose-on data/annotations/local.jsonl --writer w5 --report jinpu-2023 --out training/results/sources

Writes OUT/results.json and OUT/results.md; `--apply` writes the chosen sources into the model's config.json.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fazhi_ie.analysis.evaluation import evaluate  # noqa: E402
from fazhi_ie.document import Document  # noqa: E402
from fazhi_ie.io.jsonl import read_jsonl  # noqa: E402
from fazhi_ie.neural import ModelEngine  # noqa: E402
from fazhi_ie.pipeline import Pipeline  # noqa: E402
from fazhi_ie.schema import ENTITY_LABELS  # noqa: E402

RULE_RELATIONS = ("AGENT", "WHEN", "IN_PROGRAM")  # HAS_VALUE is always the network's


def scores(model: Path, docs: list[Document], span_sources: dict, relation_sources: dict) -> dict:
    """Entity and relation F1 per label, micro, HAS_VALUE and lenient fact F1 of one decoding."""
    precedence = "rules" if span_sources else "model"
    nlp = Pipeline(ModelEngine.from_pretrained(model, span_sources=span_sources, relation_sources=relation_sources,
                                               span_precedence=precedence))
    report = evaluate(docs, [nlp.annotate(Document(d.id, d.text, d.meta)) for d in docs], bootstrap=0)
    return {"entities": {k: round(v.f1, 4) for k, v in report.entities.items()},
            "relations": {k: round(v.f1, 4) for k, v in report.relations.items()},
            "entity_f1": round(report.entity_micro.f1, 4), "relation_f1": round(report.relation_micro.f1, 4),
            "has_value_f1": round(report.relations["HAS_VALUE"].f1, 4), "fact_f1": round(report.facts.f1, 4),
            "lenient_fact_f1": round(report.lenient_facts.f1, 4)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=ROOT / "fazhi_ie" / "models" / "default")
    ap.add_argument("--choose-on", type=Path, default=ROOT / "data" / "annotations" / "local.jsonl")
    ap.add_argument("--writer", default="w5", help="the held-out writer whose documents the choice is made on")
    ap.add_argument("--report", default="jinpu-2023", help="the gold report the choice is scored on once")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--apply", action="store_true", help="write the chosen sources into the model's config.json")
    args = ap.parse_args()
    choose = [d for d in read_jsonl(args.choose_on) if d.meta.get("writer") == args.writer]
    if not choose:
        raise SystemExit(f"no document of writer {args.writer} in {args.choose_on}")
    report = [d for d in read_jsonl(ROOT / "data" / "annotations" / "reports.jsonl") if d.id == args.report]
    trained = set(json.loads((args.model / "config.json").read_text(encoding="utf-8"))["training"].get("train_docs", []))
    if {d.id for d in choose + report} & trained:
        raise SystemExit("the model trained on a document it would be scored on; pick held-out text")
    network = scores(args.model, choose, {}, {})
    chosen_spans, chosen_relations, per_label = {}, {}, {}
    for label in ENTITY_LABELS:
        if label == "VALUE":
            continue
        with_rules = scores(args.model, choose, {label: "rules"}, {})
        per_label[label] = {"network": network["entities"][label], "rules": with_rules["entities"][label]}
        if with_rules["entities"][label] > network["entities"][label]:
            chosen_spans[label] = "rules"
    for label in RULE_RELATIONS:
        with_rules = scores(args.model, choose, {}, {label: "rules"})
        per_label[label] = {"network": network["relations"][label], "rules": with_rules["relations"][label]}
        if with_rules["relations"][label] > network["relations"][label]:
            chosen_relations[label] = "rules"
    results = {
        "chosen_on": {"file": str(args.choose_on.relative_to(ROOT)), "writer": args.writer,
                      "documents": [d.id for d in choose], "characters": sum(len(d.text) for d in choose)},
        "per_label_on_choice_text": per_label, "span_sources": chosen_spans, "relation_sources": chosen_relations,
        "choice_text": {"network alone": network,
                        "chosen": scores(args.model, choose, chosen_spans, chosen_relations)},
        "held_out_report": {"id": args.report,
                            "network alone": scores(args.model, report, {}, {}),
                            "chosen": scores(args.model, report, chosen_spans, chosen_relations),
                            "rules": None},
    }
    from fazhi_ie.pipeline import load

    rules = load(engine="rules")
    rr = evaluate(report, [rules.annotate(Document(d.id, d.text, d.meta)) for d in report], bootstrap=0)
    results["held_out_report"]["rules"] = {"entity_f1": round(rr.entity_micro.f1, 4),
                                           "relation_f1": round(rr.relation_micro.f1, 4),
                                           "has_value_f1": round(rr.relations["HAS_VALUE"].f1, 4),
                                           "lenient_fact_f1": round(rr.lenient_facts.f1, 4)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    lines = [f"# Label sources chosen on writer {args.writer}'s local-tier documents ({len(choose)} documents), "
             f"scored on {args.report}", "", "| label | network F1 | rules F1 | source |", "|---|---:|---:|---|"]
    for label, f1 in per_label.items():
        source = "rules" if chosen_spans.get(label) == "rules" or chosen_relations.get(label) == "rules" else "network"
        lines.append(f"| {label} | {f1['network']:.3f} | {f1['rules']:.3f} | {source} |")
    lines += ["", "| decoding | text | entity F1 | relation F1 | HAS_VALUE F1 | lenient fact F1 |", "|---|---|---:|---:|---:|---:|"]
    for text, block in (("choice text", results["choice_text"]), (args.report, results["held_out_report"])):
        for name, sc in block.items():
            if isinstance(sc, dict) and "entity_f1" in sc:
                lines.append(f"| {name} | {text} | {sc['entity_f1']:.3f} | {sc['relation_f1']:.3f} | "
                             f"{sc['has_value_f1']:.3f} | {sc['lenient_fact_f1']:.3f} |")
    (args.out / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    if args.apply:
        path = args.model / "config.json"
        config = json.loads(path.read_text(encoding="utf-8"))
        config["span_sources"], config["relation_sources"] = chosen_spans, chosen_relations
        config["span_precedence"] = "rules" if chosen_spans else "model"
        path.write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"applied to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
