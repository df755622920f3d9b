"""The silver tier: build, agreement and audit of the silver-tier work-report passages.

    python data/annotations/tools/silver.py build        # silver/reviewed/ -> silver.jsonl, silver/first/ -> silver/first.jsonl
    python data/annotations/tools/silver.py agreement    # silver/double/ against reviewed and first pass; first vs reviewed
    python data/annotations/tools/silver.py audit        # fazhi-ie audit on gold + silver, silver findings only (reports)
    python data/annotations/tools/silver.py stats        # statistics table (gold, first pass, reviewed, double)

`build` validates every document (the compact file parses, every sentence of the view has its
@S line, every VALUE has exactly one HAS_VALUE head, the record passes the schema); a document
that fails, or whose review is missing, is left out and listed with the reason. Each record's
meta holds title, year, character range in the source report, tier "silver" and review
information (review log, and entities and relations the review added and removed). The
silver tier is for training only: dev, test and the cross-validation folds stay on the gold
documents (splits.json, "silver").
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import annotate  # noqa: E402  (sets sys.path for fazhi_ie)

from fazhi_ie.document import Document  # noqa: E402
from fazhi_ie.io.jsonl import read_jsonl, write_jsonl  # noqa: E402
from fazhi_ie.schema import validate_record  # noqa: E402

ANNOTATIONS = annotate.ANNOTATIONS
SILVER = ANNOTATIONS / "silver"
FIRST, REVIEWED, DOUBLE = SILVER / "first", SILVER / "reviewed", SILVER / "double"
OUT_REVIEWED = ANNOTATIONS / "silver.jsonl"
OUT_FIRST = SILVER / "first.jsonl"
OUT_DOUBLE = SILVER / "double.jsonl"
GOLD_FILES = (ANNOTATIONS / "reports.jsonl", ANNOTATIONS / "gov-work-reports.jsonl")
META_KEYS = ("source", "title", "kind", "region", "body", "year", "char_start", "char_end", "tier", "review")
KIND = "national government work report, contiguous passage"


def silver_sources() -> dict[str, dict]:
    """The silver passages (silver/sources.jsonl), in file order."""
    lines = annotate.SILVER_SOURCES.read_text(encoding="utf-8").splitlines()
    return {d["id"]: d for d in map(json.loads, lines)}


def check_file(path: Path, sources: dict[str, dict]) -> tuple[Document | None, list[str]]:
    """Build one compact file; return (document, []) or (None, reasons it fails)."""
    if path.stem not in sources:
        return None, [f"no silver source {path.stem!r}"]
    doc, sentences, in_view, result = annotate.parse_file(path, sources)
    problems = list(result.errors[:5])
    if len(result.errors) > 5:
        problems.append(f"… {len(result.errors) - 5} more parse errors")
    missing = [i + 1 for i in in_view if i not in result.sentences_seen]
    if missing:
        problems.append(f"incomplete: {len(missing)} of {len(in_view)} sentences have no @S line (first S{missing[0]})")
    if problems:
        return None, problems
    try:
        built = annotate.build_document(path, sources)
    except SystemExit as exc:  # build_document reports schema problems this way
        return None, [str(exc).splitlines()[0]] + str(exc).splitlines()[1:4]
    return built, []


def review_info(status: str, doc: Document, first: Document | None, log: Path | None) -> dict:
    """The review record: status, log, and what the review changed against the first pass
    (the same keys as the gold's, so that datasets loads both tiers together)."""
    changes = annotate.review_changes(first if first is not None and status == "reviewed" else doc, doc)
    return {"status": status, "log": str(log.relative_to(ANNOTATIONS)) if log and log.exists() else None, **changes}


def silver_meta(src: dict, review: dict) -> dict:
    """A silver record's meta: the source's, the kind, tier "silver" and the review record."""
    meta = {"source": src.get("source"), "title": src.get("title"), "kind": KIND, "region": src.get("region"),
            "body": src.get("body"), "year": src.get("year"), "char_start": src.get("char_start"),
            "char_end": src.get("char_end"), "tier": "silver", "review": review}
    return {k: meta[k] for k in META_KEYS}


def build_pool(folder: Path, status: str, sources: dict[str, dict], firsts: dict[str, Document] | None = None,
               meta_of=silver_meta) -> tuple[list[Document], dict[str, list[str]]]:
    """Every valid document of one folder, in source order, with its tier's meta (`meta_of(source meta,
    review record)`); failures by id."""
    docs, failed = [], {}
    for doc_id in sources:
        path = folder / f"{doc_id}.ann"
        if not path.exists():
            failed[doc_id] = ["missing"]
            continue
        doc, problems = check_file(path, sources)
        if doc is None:
            failed[doc_id] = problems
            continue
        log = path.with_suffix(".log.md")
        review = review_info(status, doc, (firsts or {}).get(doc_id), log)
        record = replace(doc, meta=meta_of(sources[doc_id]["meta"], review))
        problems = validate_record(record.to_dict())
        if problems:
            failed[doc_id] = [str(p) for p in problems[:5]]
            continue
        docs.append(record)
    return docs, failed


def _report(name: str, docs: list[Document], failed: dict[str, list[str]], total: int) -> None:
    chars = sum(len(d.text) for d in docs)
    ents = sum(len(d.entities) for d in docs)
    rels = sum(len(d.relations) for d in docs)
    print(f"{name}: {len(docs)}/{total} documents, {chars:,} characters, {ents} entities, {rels} relations")
    for doc_id, problems in failed.items():
        print(f"  left out {doc_id}: {problems[0]}")
        for extra in problems[1:3]:
            print(f"      {extra}")


def cmd_build(args: argparse.Namespace) -> int:
    sources = silver_sources()
    firsts, failed_first = build_pool(FIRST, "first pass", sources)
    reviewed, failed_reviewed = build_pool(REVIEWED, "reviewed", sources, {d.id: d for d in firsts})
    write_jsonl(firsts, OUT_FIRST)
    write_jsonl(reviewed, OUT_REVIEWED)
    _report(f"first pass -> {OUT_FIRST.relative_to(ANNOTATIONS)}", firsts, failed_first, len(sources))
    _report(f"reviewed -> {OUT_REVIEWED.relative_to(ANNOTATIONS)}", reviewed, failed_reviewed, len(sources))
    doubles = [i for i in sources if (DOUBLE / f"{i}.ann").exists()]
    if doubles:
        built, failed_double = build_pool(DOUBLE, "double", {i: sources[i] for i in doubles})
        write_jsonl(built, OUT_DOUBLE)
        _report(f"double -> {OUT_DOUBLE.relative_to(ANNOTATIONS)}", built, failed_double, len(doubles))
    if not args.no_audit:
        audit_report(reviewed, limit=args.audit_rows)
    return 0


def audit_report(silver: list[Document], *, limit: int = 15, write: bool = True) -> dict[str, int]:
    """The consistency step: audit gold + silver together; report the findings that touch silver."""
    from fazhi_ie.analysis.audit import audit, read_exceptions

    gold = [d for path in GOLD_FILES for d in read_jsonl(path, require_value_heads=False)]
    report = audit(gold + silver, exceptions=read_exceptions(ANNOTATIONS / "audit-exceptions.tsv"))
    silver_ids = {d.id for d in silver}
    touching = [f for f in report.findings if any(o.doc in silver_ids for o in f.occurrences)]
    unexplained = [f for f in touching if f.explained is None]
    counts = {k: sum(1 for f in unexplained if f.kind == k) for k in ("label", "untagged", "boundary", "relation")}
    print(f"consistency (report only): fazhi-ie audit on gold + {len(silver)} silver documents: "
          f"{len(unexplained)} unexplained findings touch silver (" + ", ".join(f"{k} {v}" for k, v in counts.items())
          + f"); {len(touching) - len(unexplained)} more are explained by audit-exceptions.tsv")
    for f in unexplained[:limit]:
        variants = "; ".join(f"{v} ×{n}" for v, n in list(f.variants.items())[:4])
        print(f"  {f.kind:<9}{f.count:>4}  {f.key} | {variants}")
    if write and silver:
        from fazhi_ie.analysis.audit import AuditReport

        table = AuditReport(unexplained, report.documents).format_table(max_occurrences=4)
        (SILVER / "audit.md").write_text(
            "# Consistency findings touching the silver tier (`tools/silver.py audit`; report only)\n\n"
            f"`fazhi-ie audit` on the gold and {len(silver)} silver documents, with `audit-exceptions.tsv`; "
            "only the unexplained findings with at least one silver occurrence, ranked by occurrences.\n\n"
            f"```\n{table}```\n", encoding="utf-8")
        print(f"  full list: {(SILVER / 'audit.md').relative_to(ANNOTATIONS)}")
    return counts


def cmd_audit(args: argparse.Namespace) -> int:
    path = OUT_FIRST if args.first else OUT_REVIEWED
    silver = read_jsonl(path, require_value_heads=False) if path.exists() else []
    audit_report(silver, limit=args.audit_rows)
    return 0


def write_agreement(paths: dict[str, Path], out_dir: Path, title: str, bootstrap: int) -> dict:
    """Score the blind double annotation against the reviewed version and the first pass, and the first pass
    against the review; write agreement.json and agreement.md into `out_dir` (a tier's folder)."""
    from fazhi_ie.analysis.evaluation import evaluate

    pools = {name: ({d.id: d for d in read_jsonl(path)} if path.exists() else {}) for name, path in paths.items()}
    results, lines = {}, []
    pairs = [("double", "reviewed", "blind double annotation scored against the reviewed version"),
             ("double", "first", "blind double annotation scored against the first pass"),
             ("first", "reviewed", "first pass scored against the reviewed version (what the review changed)")]
    for pred_name, gold_name, heading in pairs:
        ids = [i for i in pools[gold_name] if i in pools[pred_name]]
        if not ids:
            lines.append(f"## {heading}\n\nno document has both versions yet\n")
            continue
        report = evaluate([pools[gold_name][i] for i in ids], [pools[pred_name][i] for i in ids],
                          bootstrap=bootstrap, seed=0)
        chars = sum(len(pools[gold_name][i].text) for i in ids)
        results[f"{pred_name}_vs_{gold_name}"] = {"documents": ids, "characters": chars, "report": report.to_dict()}
        lines.append(f"## {heading}\n\n{len(ids)} documents ({', '.join(ids) if len(ids) <= 6 else str(len(ids)) + ' ids'}),"
                     f" {chars:,} characters\n\n```\n{report.format_table(max_errors=0)}\n```\n")
        print(f"{pred_name} vs {gold_name}: {len(ids)} docs, entity F1 {report.entity_micro.f1:.3f}, "
              f"relation F1 {report.relation_micro.f1:.3f}, fact F1 {report.facts.f1:.3f}")
    (out_dir / "agreement.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    (out_dir / "agreement.md").write_text(f"# {title}\n\n" + "\n".join(lines), encoding="utf-8")
    return results


def cmd_agreement(args: argparse.Namespace) -> int:
    write_agreement({"first": OUT_FIRST, "reviewed": OUT_REVIEWED, "double": OUT_DOUBLE}, SILVER,
                    "Silver-tier agreement (`tools/silver.py agreement`)", args.bootstrap)
    return 0


def cmd_stats(_: argparse.Namespace) -> int:
    """A markdown table for the README: gold, silver first pass, reviewed (silver.jsonl), double."""
    from fazhi_ie.analysis.stats import corpus_stats

    gold = [d for path in GOLD_FILES for d in read_jsonl(path)]
    pools = [("gold", gold)]
    for name, path in (("silver first pass", OUT_FIRST), ("silver reviewed", OUT_REVIEWED), ("silver double", OUT_DOUBLE)):
        pools.append((name, read_jsonl(path) if path.exists() else []))
    stats = [(name, corpus_stats(docs), docs) for name, docs in pools]
    print("| measure | " + " | ".join(name for name, _, _ in stats) + " |")
    print("|---|" + "---:|" * len(stats))
    rows = [("documents", lambda st, d: st["documents"]), ("characters", lambda st, d: f"{st['characters']:,}"),
            ("report years", lambda st, d: len({x.meta.get("year") for x in d}))]
    rows += [(f"entities: {label}", (lambda label: lambda st, d: st["entities"].get(label, 0))(label))
             for label in ("ORG", "REGION", "PROGRAM", "DOC", "METRIC", "VALUE", "TIME")]
    rows += [("entities: total", lambda st, d: st["entities_total"])]
    rows += [(f"relations: {label}", (lambda label: lambda st, d: st["relations"].get(label, 0))(label))
             for label in ("HAS_VALUE", "AGENT", "WHEN", "IN_PROGRAM")]
    rows += [("relations: total", lambda st, d: st["relations_total"]),
             ("entities per 1,000 characters", lambda st, d: f"{1000 * st['entities_total'] / max(1, st['characters']):.1f}"),
             ("values unparsed", lambda st, d: st["values_unparsed"])]
    for title, get in rows:
        print(f"| {title} | " + " | ".join(str(get(st, docs)) for _, st, docs in stats) + " |")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build silver.jsonl (reviewed), silver/first.jsonl and silver/double.jsonl")
    build.add_argument("--no-audit", action="store_true", help="skip the report-only consistency step")
    build.add_argument("--audit-rows", type=int, default=15, help="silver findings to print (default 15)")
    build.set_defaults(func=cmd_build)
    agree = sub.add_parser("agreement", help="score double vs reviewed/first and first vs reviewed")
    agree.add_argument("--bootstrap", type=int, default=1000)
    agree.set_defaults(func=cmd_agreement)
    aud = sub.add_parser("audit", help="audit gold + silver.jsonl, print the findings touching silver")
    aud.add_argument("--audit-rows", type=int, default=40)
    aud.add_argument("--first", action="store_true", help="audit the first pass instead of the reviewed tier")
    aud.set_defaults(func=cmd_audit)
    sub.add_parser("stats", help="markdown statistics table: gold and the silver builds").set_defaults(func=cmd_stats)
    args = parser.parse_args()
    return args.func(args) or 0


if __name__ == "__main__":
    raise SystemExit(main())
