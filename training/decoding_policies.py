"""Choose the model engine's decoding hybrid (which engine supplies each label) by cross-validation.

The fold models of a `crossval.py` run are re-decoded under every policy of a policies file (a policy
is a pair of `span_sources` / `relation_sources`, see `fazhi_ie.neural.ModelConfig`); nothing is
retrained. Each policy's predictions of the held-out reports are pooled and scored, with the rule
engine in the same table. Because picking the best of several policies on the same four reports
flatters the winner, the table also gives a nested estimate: for each held-out report the policy is
chosen on the other three reports' held-out predictions only, then applied to it.

    python training/decoding_policies.py --runs runs/cv2/a/gold+silver100 runs/cv2/b/gold+silver100 \\
        --policies training/configs/decoding_policies.json --out training/results/decoding

Writes OUT/results.md, OUT/results.json and OUT/nested/predictions.jsonl.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fazhi_ie.document import Document  # noqa: E402
from fazhi_ie.engines import load_engine  # noqa: E402
from fazhi_ie.analysis.evaluation import evaluate  # noqa: E402
from fazhi_ie.io.jsonl import read_jsonl, write_jsonl  # noqa: E402
from fazhi_ie.neural import ModelEngine  # noqa: E402
from fazhi_ie.pipeline import annotate  # noqa: E402

GOLD_FILE = ROOT / "data" / "annotations" / "reports.jsonl"
#: what a policy leaves unset: the network alone, whatever the fold model's own config says
PLAIN = {"span_sources": {}, "relation_sources": {}, "span_precedence": "model"}


def criterion(report) -> float:
    """What a policy is chosen by: the mean of entity, relation and HAS_VALUE fact F1 (micro)."""
    d = report.to_dict()
    return (d["entities"]["micro"]["f1"] + d["relations"]["micro"]["f1"] + d["facts"]["has_value_pairs"]["f1"]) / 3


def row(name: str, report) -> dict:
    d = report.to_dict()
    ci = d.get("bootstrap_95ci", {})
    out = {"policy": name, "entity_f1": d["entities"]["micro"]["f1"], "relation_f1": d["relations"]["micro"]["f1"],
           "fact_f1": d["facts"]["has_value_pairs"]["f1"], "criterion": round(criterion(report), 4),
           "ci": ci}
    out.update({k: v["f1"] for k, v in d["entities"]["per_label"].items()})
    out.update({k: v["f1"] for k, v in d["relations"]["per_label"].items()})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", nargs="+", required=True, help="crossval setting folders holding FOLD/model")
    ap.add_argument("--policies", required=True, help="JSON object: policy name -> {span_sources, relation_sources}")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    policies = json.loads(Path(args.policies).read_text(encoding="utf-8"))
    gold = {d.id: d for d in read_jsonl(GOLD_FILE)}
    fold_models = {}
    for run in args.runs:
        for model_dir in sorted(Path(run).glob("*/model")):
            if (model_dir / "model.safetensors").exists():
                fold_models[model_dir.parent.name] = model_dir
    missing = sorted(set(fold_models) - set(gold))
    if missing or not fold_models:
        raise SystemExit(f"no usable fold models under {args.runs} (or folds not in the gold: {missing})")
    folds = sorted(fold_models)
    if len(folds) < 2:
        raise SystemExit(f"the nested choice needs at least two folds, got {folds}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rules = load_engine("rules")
    preds: dict[str, dict[str, Document]] = {"rules": {}}
    started = time.perf_counter()
    for fold in folds:
        g = gold[fold]
        preds["rules"][fold] = annotate(Document(g.id, g.text, g.meta), engine=rules)
        for name, policy in policies.items():
            engine = ModelEngine.from_pretrained(fold_models[fold], **{**PLAIN, **policy})
            preds.setdefault(name, {})[fold] = annotate(Document(g.id, g.text, g.meta), engine=engine)
        print(f"{fold}: {len(policies)} policies decoded ({time.perf_counter() - started:.0f} s)", flush=True)

    def score(name: str, on: list[str], bootstrap: int = 0):
        return evaluate([gold[f] for f in on], [preds[name][f] for f in on], bootstrap=bootstrap)

    rows = [row(name, score(name, folds, 1000)) for name in ["rules", *policies]]
    nested, chosen = [], {}
    for fold in folds:
        others = [f for f in folds if f != fold]
        best = max(policies, key=lambda name: (criterion(score(name, others)), name))
        chosen[fold] = best
        nested.append(preds[best][fold])
    (out / "nested").mkdir(exist_ok=True)
    write_jsonl(nested, out / "nested" / "predictions.jsonl")
    nested_report = evaluate([gold[f] for f in folds], nested, bootstrap=1000)
    rows.append(row("nested choice", nested_report))
    result = {"folds": folds, "fold_models": {f: str(p) for f, p in fold_models.items()}, "policies": policies,
              "nested_choice": chosen, "rows": rows,
              "command": "training/decoding_policies.py " + " ".join(sys.argv[1:])}
    (out / "results.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    write_markdown(result, out / "results.md")
    print((out / "results.md").read_text(encoding="utf-8"))
    return 0


def write_markdown(result: dict, path: Path) -> None:
    labels = ["ORG", "REGION", "PROGRAM", "DOC", "METRIC", "VALUE", "TIME", "HAS_VALUE", "AGENT", "WHEN", "IN_PROGRAM"]
    lines = [f"Decoding policies of the same fold models, leave-one-report-out over {', '.join(result['folds'])}, "
             f"pooled; command: `{result['command']}`", "",
             "| policy | entity F1 [95% CI] | relation F1 [95% CI] | fact F1 | mean | " + " | ".join(labels) + " |",
             "|---|---:|---:|---:|---:|" + "---:|" * len(labels)]
    for r in result["rows"]:
        ent_ci = r["ci"].get("entity_micro_f1")
        rel_ci = r["ci"].get("relation_micro_f1")
        ent = f"{r['entity_f1']:.3f}" + (f" [{ent_ci[0]:.3f}, {ent_ci[1]:.3f}]" if ent_ci else "")
        rel = f"{r['relation_f1']:.3f}" + (f" [{rel_ci[0]:.3f}, {rel_ci[1]:.3f}]" if rel_ci else "")
        lines.append(f"| {r['policy']} | {ent} | {rel} | {r['fact_f1']:.3f} | {r['criterion']:.3f} | "
                     + " | ".join(f"{r.get(k, 0):.3f}" for k in labels) + " |")
    lines += ["", "Policies (labels not named come from the model):", ""]
    lines += [f"- **{name}**: spans from the rules: {', '.join(p.get('span_sources', {})) or 'none'}; relations from "
              f"the rules: {', '.join(p.get('relation_sources', {})) or 'none'}" for name, p in result["policies"].items()]
    lines += ["", "Nested choice (policy picked on the other three reports, by the mean of entity, relation and "
              "fact F1): " + ", ".join(f"{f} → {p}" for f, p in result["nested_choice"].items()), ""]
    path.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
