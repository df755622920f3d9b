"""Leave-one-report-out cross-validation of the model engine, with the rule engine in the same table.

For every setting (a fraction of the silver tier, a fraction of the training documents) and every
fold of data/annotations/splits.json, train on the gold documents except the held-out report, plus
the chosen silver documents, keep the LAST epoch (the held-out report is scored each epoch for the
log only, never to select), and predict the held-out report. Predictions of all folds are pooled and
scored with the project evaluator (micro P/R/F1 per label, 95% bootstrap intervals over documents);
scores are calibrated (expected calibration error, reliability plot PNG).

    python training/crossval.py --config training/configs/base.json --out training/results/cv \\
        --silver-fractions 0 0.25 0.5 1 --train-fractions 0.25 0.5

Writes OUT/results.json, OUT/results.md, OUT/reliability.png and per-setting predictions and logs.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fazhi_ie.document import Document  # noqa: E402
from fazhi_ie.analysis.evaluation import evaluate  # noqa: E402
from fazhi_ie.io.jsonl import read_jsonl, write_jsonl  # noqa: E402
from fazhi_ie.pipeline import annotate  # noqa: E402
from fazhi_ie.trainer import TrainConfig, choose_fraction, summarize, train  # noqa: E402

ANN = ROOT / "data" / "annotations"
GOLD_FILES = [ANN / "reports.jsonl", ANN / "gov-work-reports.jsonl"]
SILVER_FILE = ANN / "silver.jsonl"


def scored_items(gold: list[Document], preds: list[Document]) -> dict[str, list[tuple[float, bool]]]:
    """(score, correct) of every predicted entity and relation; correct = exact match in gold."""
    by_id = {d.id: d for d in gold}
    items: dict[str, list[tuple[float, bool]]] = {"entities": [], "relations": []}
    for p in preds:
        g = by_id[p.id]
        gold_spans = {(e.start, e.end, e.label) for e in g.entities}
        items["entities"] += [(e.score, (e.start, e.end, e.label) in gold_spans) for e in p.entities if e.score is not None]
        ge, pe = g.entities_by_id(), p.entities_by_id()
        gold_rels = {((ge[r.head].start, ge[r.head].end), (ge[r.tail].start, ge[r.tail].end), r.label) for r in g.relations}
        items["relations"] += [(r.score, ((pe[r.head].start, pe[r.head].end), (pe[r.tail].start, pe[r.tail].end), r.label)
                                in gold_rels) for r in p.relations if r.score is not None]
    return items


def calibration(gold: list[Document], preds: list[Document], bins: int = 10) -> dict:
    """Expected calibration error of entity and relation scores (correct = exact match in gold)."""
    return calibration_of_items(scored_items(gold, preds), bins)


def calibration_of_items(items: dict[str, list[tuple[float, bool]]], bins: int = 10) -> dict:
    """ECE and the reliability table of (score, correct) pairs, per kind, over equal-width bins."""
    out = {}
    for kind, pairs in items.items():
        table = []
        ece = 0.0
        for b in range(bins):
            lo, hi = b / bins, (b + 1) / bins
            inside = [(s, c) for s, c in pairs if (lo <= s < hi) or (b == bins - 1 and s == 1.0)]
            if not inside:
                continue
            conf = sum(s for s, _ in inside) / len(inside)
            acc = sum(c for _, c in inside) / len(inside)
            ece += len(inside) / len(pairs) * abs(conf - acc)
            table.append({"bin": [lo, hi], "n": len(inside), "confidence": round(conf, 4), "accuracy": round(acc, 4)})
        out[kind] = {"ece": round(ece, 4), "n": len(pairs), "bins": table}
    return out


def reliability_plot(cal: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for ax, kind in zip(axes, ("entities", "relations")):
        rows = cal[kind]["bins"]
        ax.plot([0, 1], [0, 1], "--", color="grey", linewidth=1)
        ax.plot([r["confidence"] for r in rows], [r["accuracy"] for r in rows], "o-")
        for r in rows:
            ax.annotate(str(r["n"]), (r["confidence"], r["accuracy"]), fontsize=7, xytext=(3, -8),
                        textcoords="offset points")
        ax.set_title(f"{kind}: ECE {cal[kind]['ece']:.3f} (n={cal[kind]['n']})")
        ax.set_xlabel("score")
        ax.set_ylabel("fraction correct")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def table_row(name: str, report) -> dict:
    ci = report.confidence
    row = summarize(report)
    row["setting"] = name
    row["entity_p"], row["entity_r"] = round(report.entity_micro.precision, 4), round(report.entity_micro.recall, 4)
    row["ci"] = {k: [round(a, 4), round(b, 4)] for k, (a, b) in ci.items()}
    for label, c in report.relations.items():
        row[f"{label}_f1"] = round(c.f1, 4)
    return row


def run_setting(name: str, base: dict, config_dir: Path, gold: list[Document], silver: list[Document],
                folds: list[str], silver_fraction: float, train_fraction: float, out: Path, seed: int) -> dict:
    setting_dir = out / name
    setting_dir.mkdir(parents=True, exist_ok=True)
    preds, logs = [], {}
    started = time.perf_counter()
    for held in folds:
        fold_dir = setting_dir / held
        fold_dir.mkdir(parents=True, exist_ok=True)
        train_docs = [d for d in gold if d.id != held]
        train_docs = choose_fraction(train_docs, train_fraction, seed)
        chosen_silver = choose_fraction(silver, silver_fraction, seed) if silver_fraction > 0 else []
        train_path = fold_dir / "train.jsonl"
        write_jsonl(train_docs + chosen_silver, train_path)
        dev_path = fold_dir / "heldout.jsonl"
        write_jsonl([d for d in gold if d.id == held], dev_path)
        cfg = dict(base)
        cfg.update({"train_files": [str(train_path)], "dev_files": [str(dev_path)], "keep": "last",
                    "output_dir": str(fold_dir / "model"), "train_fraction": 1.0, "progress": False})
        if not Path(cfg["init_encoder"]).is_absolute():
            cfg["init_encoder"] = str((config_dir / cfg["init_encoder"]).resolve())
        summary = train(TrainConfig.from_dict(cfg), log=lambda m: print(f"[{name} {held}] {m}", flush=True))
        logs[held] = {"history": summary["history"], "seconds": summary["seconds"],
                      "train_docs": summary["train_docs"], "train_chars": sum(len(d.text) for d in train_docs + chosen_silver)}
        from fazhi_ie.neural import ModelEngine

        engine = ModelEngine.from_pretrained(fold_dir / "model")
        held_doc = [d for d in gold if d.id == held][0]
        preds.append(annotate(Document(held_doc.id, held_doc.text, held_doc.meta), engine=engine))
        train_path.unlink()  # reproducible from the seed; keeps the run folder small
    write_jsonl(preds, setting_dir / "predictions.jsonl")
    gold_held = [d for d in gold if d.id in folds]
    report = evaluate(gold_held, preds, bootstrap=1000)
    (setting_dir / "evaluation.json").write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    cal = calibration(gold_held, preds)
    row = table_row(name, report)
    row.update({"silver_fraction": silver_fraction, "train_fraction": train_fraction,
                "seconds": round(time.perf_counter() - started, 1), "calibration": {k: v["ece"] for k, v in cal.items()},
                "folds": logs})
    (setting_dir / "calibration.json").write_text(json.dumps(cal, indent=1), encoding="utf-8")
    reliability_plot(cal, setting_dir / "reliability.png", f"{name}: leave-one-report-out")
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, help="base training config (JSON); files and output are set per fold")
    ap.add_argument("--out", required=True, help="results folder")
    ap.add_argument("--folds", nargs="*", help="held-out report ids (default: splits.json cv_folds)")
    ap.add_argument("--silver-fractions", nargs="*", type=float, default=[1.0])
    ap.add_argument("--train-fractions", nargs="*", type=float, default=[],
                    help="extra settings: this fraction of ALL training documents (gold and silver) per fold")
    ap.add_argument("--epochs", type=int, help="override the config's epochs")
    ap.add_argument("--no-rules", action="store_true", help="leave the rule-engine row out")
    ap.add_argument("--pool", nargs="*", metavar="NAME=DIR[,DIR...]",
                    help="no training: pool the saved predictions.jsonl of setting folders (e.g. folds run as separate "
                         "processes) into one row each, scored together with the rules")
    args = ap.parse_args()
    if args.pool is not None:
        return pool(args)
    config_path = Path(args.config).resolve()
    base = json.loads(config_path.read_text(encoding="utf-8"))
    if args.epochs:
        base["epochs"] = args.epochs
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    splits = json.loads((ANN / "splits.json").read_text(encoding="utf-8"))
    folds = args.folds or [f["held_out"] for f in splits["cv_folds"]]
    gold = [d for f in GOLD_FILES for d in read_jsonl(f)]
    silver = read_jsonl(SILVER_FILE) if SILVER_FILE.exists() else []
    seed = base.get("seed", 13)
    rows = []
    results_path = out / "results.json"
    meta = {"config": base, "folds": folds, "command": " ".join(sys.argv), "gold_docs": len(gold),
            "silver_docs": len(silver), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    if not args.no_rules:
        gold_held = [d for d in gold if d.id in folds]
        rules = [annotate(Document(d.id, d.text, d.meta), engine="rules") for d in gold_held]
        rows.append({**table_row("rules", evaluate(gold_held, rules, bootstrap=1000)), "calibration": None})
    settings = [(f"gold+silver{int(round(100 * s))}", s, 1.0) for s in args.silver_fractions]
    settings += [(f"all-docs{int(round(100 * t))}", 1.0, t) for t in args.train_fractions]
    for name, sf, tf in settings:
        if tf < 1.0:
            # a fraction of all training documents: gold and silver sampled together per fold
            row = run_setting(name, base, config_path.parent, gold, silver, folds, sf * tf, tf, out, seed)
        else:
            row = run_setting(name, base, config_path.parent, gold, silver, folds, sf, 1.0, out, seed)
        rows.append(row)
        results_path.write_text(json.dumps({"meta": meta, "rows": rows}, ensure_ascii=False, indent=1), encoding="utf-8")
        print(json.dumps({k: row[k] for k in ("setting", "entity_f1", "relation_f1", "has_value_f1", "fact_f1")}), flush=True)
    write_markdown(rows, meta, out / "results.md")
    return 0


def pool(args: argparse.Namespace) -> int:
    """Score already-run folds together: one row per NAME=DIR[,DIR...], plus the rules on the same documents."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gold = [d for f in GOLD_FILES for d in read_jsonl(f)]
    rows, preds_by_name = [], {}
    for spec in args.pool:
        name, _, dirs = spec.partition("=")
        preds, logs = [], {}
        for folder in dirs.split(","):
            preds += read_jsonl(Path(folder) / "predictions.jsonl")
            for fold in sorted(p.parent.parent.name for p in Path(folder).glob("*/model/train_log.jsonl")):
                lines = (Path(folder) / fold / "model" / "train_log.jsonl").read_text(encoding="utf-8").splitlines()
                logs[fold] = {"history": [json.loads(x) for x in lines]}
        preds_by_name[name] = (preds, logs)
    held = sorted({d.id for preds, _ in preds_by_name.values() for d in preds})
    gold_held = [d for d in gold if d.id in held]
    meta = {"folds": held, "command": " ".join(sys.argv), "pooled": args.pool}
    if not args.no_rules:
        rules = [annotate(Document(d.id, d.text, d.meta), engine="rules") for d in gold_held]
        rows.append({**table_row("rules", evaluate(gold_held, rules, bootstrap=1000)), "calibration": None})
    for name, (preds, logs) in preds_by_name.items():
        if sorted(d.id for d in preds) != held:
            raise SystemExit(f"{name}: predictions cover {sorted(d.id for d in preds)}, expected {held}")
        report = evaluate(gold_held, preds, bootstrap=1000)
        cal = calibration(gold_held, preds)
        setting_dir = out / name
        setting_dir.mkdir(parents=True, exist_ok=True)
        write_jsonl(preds, setting_dir / "predictions.jsonl")
        (setting_dir / "evaluation.json").write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1),
                                                     encoding="utf-8")
        (setting_dir / "calibration.json").write_text(json.dumps(cal, indent=1), encoding="utf-8")
        reliability_plot(cal, setting_dir / "reliability.png", f"{name}: leave-one-report-out")
        rows.append({**table_row(name, report), "calibration": {k: v["ece"] for k, v in cal.items()}, "folds": logs})
    (out / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, ensure_ascii=False, indent=1),
                                      encoding="utf-8")
    write_markdown(rows, meta, out / "results.md")
    print((out / "results.md").read_text(encoding="utf-8"))
    return 0


def write_markdown(rows: list[dict], meta: dict, path: Path) -> None:
    labels = ["ORG", "REGION", "PROGRAM", "DOC", "METRIC", "VALUE", "TIME"]
    rels = ["HAS_VALUE", "AGENT", "WHEN", "IN_PROGRAM"]
    lines = [f"Leave-one-report-out over {', '.join(meta['folds'])}; command: `{meta['command']}`", "",
             "| setting | entity P | entity R | entity F1 [95% CI] | relation F1 [95% CI] | fact F1 | " +
             " | ".join(labels) + " | " + " | ".join(rels) + " | ECE ent/rel |",
             "|---|" + "---:|" * (5 + len(labels) + len(rels) + 1)]
    for r in rows:
        ci = r.get("ci", {})
        e_ci = ci.get("entity_micro_f1", [0, 0])
        r_ci = ci.get("relation_micro_f1", [0, 0])
        cal = r.get("calibration") or {}
        lines.append(f"| {r['setting']} | {r['entity_p']:.3f} | {r['entity_r']:.3f} | {r['entity_f1']:.3f} "
                     f"[{e_ci[0]:.3f}, {e_ci[1]:.3f}] | {r['relation_f1']:.3f} [{r_ci[0]:.3f}, {r_ci[1]:.3f}] | "
                     f"{r['fact_f1']:.3f} | " + " | ".join(f"{r.get(f'{l}_f1', 0):.3f}" for l in labels) + " | " +
                     " | ".join(f"{r.get(f'{l}_f1', 0):.3f}" for l in rels) + " | " +
                     (f"{cal.get('entities', 0):.3f}/{cal.get('relations', 0):.3f}" if cal else "-") + " |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
