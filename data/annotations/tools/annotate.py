"""Workflow for the gold corpus: prepare sentence views, check and build compact annotations.

    python data/annotations/tools/annotate.py prepare            # sources.jsonl + views/
    python data/annotations/tools/annotate.py check FILE.ann     # errors and warnings
    python data/annotations/tools/annotate.py build DIR OUT.jsonl [--ids a,b]
    python data/annotations/tools/annotate.py gold               # adjudicated/ -> reports.jsonl, gov-work-reports.jsonl

A compact file is named <document id>.ann (format: fazhi_ie/io/compact.py). For a
document whose page repeats a block (chengzhong-liuzhou-2023), only the first copy is
annotated; `build` copies its annotations onto the repeat after checking the two copies
are identical character for character.
"""
from __future__ import annotations

import argparse
import json
from dataclasses import replace
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from fazhi_ie.document import Document, Relation, Span  # noqa: E402
from fazhi_ie.io.compact import parse_compact, render_sentence_view  # noqa: E402
from fazhi_ie.schema import validate_record  # noqa: E402
from fazhi_ie.sentences import split_sentences  # noqa: E402

ANNOTATIONS = ROOT / "data" / "annotations"
SOURCES = ANNOTATIONS / "sources.jsonl"
VIEWS = ANNOTATIONS / "views"
SHARED = ROOT.parent / "shared" / "corpus"

REPORTS = [
    ("chengguan-lanzhou-2023", "兰州市城关区", "兰州市城关区", 2023, "news feature with photo captions"),
    ("jinta-2023", "金塔县", "金塔县", 2023, "formal annual report"),
    ("chengzhong-liuzhou-2023", "柳州市城中区", "柳州市城中区", 2023, "formal annual report; body repeated in the page"),
    ("gansu-highlights-2023", "甘肃省", "甘肃省司法厅", 2023, "provincial top-ten highlights article"),
    ("jinpu-2023", "大连金普新区", "大连金普新区司法局", 2023, "a justice bureau's annual report, numbered sections"),
]
REPEAT_DOC = "chengzhong-liuzhou-2023"


SILVER_SOURCES = ANNOTATIONS / "silver" / "sources.jsonl"
LOCAL_SOURCES = ANNOTATIONS / "local" / "sources.jsonl"


def load_sources() -> dict[str, dict]:
    """Gold sources, plus the silver-tier and local-tier sources when they exist (ids never collide:
    silver-…, w1-…)."""
    docs = {d["id"]: d for d in map(json.loads, SOURCES.read_text(encoding="utf-8").splitlines())}
    for extra in (SILVER_SOURCES, LOCAL_SOURCES):
        if extra.exists():
            docs.update({d["id"]: d for d in map(json.loads, extra.read_text(encoding="utf-8").splitlines())})
    return docs


def repeat_block(text: str) -> tuple[int, int, int] | None:
    """(src_start, src_end, dst_start) of the repeated body in chengzhong-liuzhou-2023."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    first = 1  # the title line is not repeated
    for second in range(2, len(lines)):
        if lines[second] == lines[first] and lines[first:second] == lines[second:second + second - first]:
            return offsets[first], offsets[second] - 1, offsets[second]
    return None


def annotate_until(doc: dict) -> int | None:
    if doc["id"] == REPEAT_DOC:
        block = repeat_block(doc["text"])
        assert block, "expected a repeated block"
        return block[2]
    return None


def cmd_prepare(_: argparse.Namespace) -> None:
    sys.path.insert(0, str(HERE / "archive"))
    from select_passages import select

    docs = []
    for name, region, body, year, kind in REPORTS:
        text = (SHARED / "reports" / f"{name}.txt").read_text(encoding="utf-8")
        docs.append({"id": name, "text": text, "meta": {
            "source": f"corpus/reports/{name}.txt", "region": region, "body": body, "year": year, "kind": kind}})
    docs.extend(select(SHARED / "gov-work-reports.jsonl"))
    with SOURCES.open("w", encoding="utf-8") as fh:
        for doc in docs:
            fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
    VIEWS.mkdir(exist_ok=True)
    for doc in docs:
        sentences = split_sentences(doc["text"])
        (VIEWS / f"{doc['id']}.txt").write_text(
            render_sentence_view(sentences, end=annotate_until(doc)), encoding="utf-8")
        print(f"{doc['id']}: {len(doc['text'])} chars, {len(sentences)} sentences")


_QUANTITY = re.compile(r"[0-9０-９][0-9０-９.,]*\s*(?:[万亿千]?[%％个件人次名家项场条所元份篇天户起批期种套位座处支台辆户期本册]|[万亿])"
                       r"|[一二两三四五六七八九十百千万]+[个件名项场次条所家批份篇]")


def parse_file(path: Path, sources: dict[str, dict]):
    doc_id = path.stem
    if doc_id not in sources:
        raise SystemExit(f"{path}: no source document {doc_id!r}; valid: {', '.join(sources)}")
    doc = sources[doc_id]
    sentences = split_sentences(doc["text"])
    limit = annotate_until(doc)
    in_view = [i for i, s in enumerate(sentences) if limit is None or s.start < limit]
    result = parse_compact(path.read_text(encoding="utf-8"), sentences, name=str(path))
    return doc, sentences, in_view, result


def cmd_check(args: argparse.Namespace) -> int:
    sources = load_sources()
    status = 0
    for name in args.files:
        doc, sentences, in_view, result = parse_file(Path(name), sources)
        warnings = []
        missing = [i + 1 for i in in_view if i not in result.sentences_seen]
        if missing:
            warnings.append(f"{len(missing)} sentences have no @S line: " + ", ".join(f"S{n}" for n in missing[:30]))
        heads: dict[str, int] = {}
        for rel in result.relations:
            if rel.label == "HAS_VALUE":
                heads[rel.tail] = heads.get(rel.tail, 0) + 1
        by_id = {e.id: e for e in result.entities}
        for ent in result.entities:
            if ent.label == "VALUE" and heads.get(ent.id, 0) != 1:
                warnings.append(f"VALUE {ent.text!r} at {ent.start} has {heads.get(ent.id, 0)} HAS_VALUE heads (needs exactly 1)")
        spans = sorted(result.entities, key=lambda e: e.start)
        for a, b in zip(spans, spans[1:]):
            if b.start < a.end:
                result.errors.append(f"{name}: entities overlap: {a.label} {a.text!r} and {b.label} {b.text!r} at {b.start}")
        value_sentences = {_sentence_of(sentences, e.start) for e in result.entities if e.label == "VALUE"}
        for i in in_view:
            if i in result.sentences_seen and i not in value_sentences and _QUANTITY.search(sentences[i].text):
                warnings.append(f"S{i + 1} looks like it has a quantity but no VALUE: {sentences[i].text[:50]!r}")
        for err in result.errors:
            print("ERROR", err)
        for warning in warnings:
            print("WARN ", warning)
        counts: dict[str, int] = {}
        for ent in result.entities:
            counts[ent.label] = counts.get(ent.label, 0) + 1
        for rel in result.relations:
            counts[rel.label] = counts.get(rel.label, 0) + 1
        print(f"{name}: {len(result.errors)} errors, {len(warnings)} warnings; "
              f"{len(result.sentences_seen)}/{len(in_view)} sentences; " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        del by_id
        if result.errors:
            status = 1
    return status


def _sentence_of(sentences, offset):
    for i, s in enumerate(sentences):
        if s.start <= offset < s.end:
            return i
    return None


def build_document(path: Path, sources: dict[str, dict], *, project_repeat: bool = True) -> Document:
    """Turn one compact file into a Document (with norms and, by default, the repeated block filled)."""
    from fazhi_ie.normalize import normalize_span

    doc, sentences, _, result = parse_file(path, sources)
    if result.errors:
        raise SystemExit(f"{path}: {len(result.errors)} errors; run check first:\n" + "\n".join(result.errors[:10]))
    entities = list(result.entities)
    relations = list(result.relations)
    limit = annotate_until(doc)
    if limit is not None and project_repeat:
        src_start, src_end, dst_start = repeat_block(doc["text"])
        text = doc["text"]
        assert text[src_start:src_end] == text[dst_start:dst_start + src_end - src_start]
        shift = dst_start - src_start
        id_map = {}
        for ent in list(entities):
            if src_start <= ent.start and ent.end <= src_end:
                new_id = f"T{len(entities) + 1}"
                id_map[ent.id] = new_id
                entities.append(Span(new_id, ent.label, ent.start + shift, ent.end + shift, ent.text, norm=ent.norm))
        for rel in list(relations):
            if rel.head in id_map and rel.tail in id_map:
                relations.append(Relation(f"R{len(relations) + 1}", rel.label, id_map[rel.head], id_map[rel.tail]))
    # Number entities and relations in text order, fill norms.
    entities.sort(key=lambda e: e.start)
    renumber = {e.id: f"T{i}" for i, e in enumerate(entities, start=1)}
    context_of = {}
    final_entities = []
    for e in entities:
        norm = e.norm
        if e.label == "VALUE" and norm is None:
            norm = normalize_span(doc["text"], e.start, e.end)
        final_entities.append(Span(renumber[e.id], e.label, e.start, e.end, e.text, norm=norm))
    del context_of
    final_relations = [Relation(f"R{i}", r.label, renumber[r.head], renumber[r.tail])
                       for i, r in enumerate(sorted(relations, key=lambda r: (entities_start(entities, r.head), r.label)), start=1)]
    built = Document(doc["id"], doc["text"], dict(doc["meta"]), tuple(final_entities), tuple(final_relations))
    problems = validate_record(built.to_dict())
    if problems:
        raise SystemExit(f"{path}: built document breaks the schema:\n" + "\n".join(map(str, problems[:20])))
    return built


def entities_start(entities, entity_id):
    for e in entities:
        if e.id == entity_id:
            return e.start
    return -1


def cmd_build(args: argparse.Namespace) -> None:
    from fazhi_ie.io.jsonl import write_jsonl

    sources = load_sources()
    files = sorted(Path(args.dir).glob("*.ann"))
    if args.ids:
        wanted = args.ids.split(",")
        files = [f for f in files if f.stem in wanted]
    order = list(sources)
    files.sort(key=lambda f: order.index(f.stem))
    docs = [build_document(f, sources) for f in files]
    n = write_jsonl(docs, args.out)
    print(f"wrote {n} documents to {args.out}")


META_KEYS = ("source", "title", "kind", "region", "body", "year", "char_start", "char_end", "tier", "review")
# The report pages carry no title line except chengzhong's; these describe them (corpus/README.md).
REPORT_TITLES = {
    "chengguan-lanzhou-2023": "兰州市城关区2023年法治建设工作（新闻稿）",
    "jinta-2023": "金塔县2023年法治政府建设工作报告",
    "chengzhong-liuzhou-2023": "柳州市城中区2023年法治政府建设年度报告",
    "gansu-highlights-2023": "甘肃省司法行政工作2023年十大亮点",
}


def _meta_default(doc: Document, key: str):
    return {"char_start": 0, "char_end": len(doc.text), "title": REPORT_TITLES.get(doc.id),
            "kind": "national government work report, contiguous passage"}.get(key)


def review_changes(first: Document, final: Document) -> dict:
    """Entities and relations `final` added and removed against `first` (same text)."""
    def keys(doc: Document):
        by_id = doc.entities_by_id()
        return ({(e.label, e.start, e.end) for e in doc.entities},
                {(r.label, by_id[r.head].start, by_id[r.head].end, by_id[r.tail].start, by_id[r.tail].end)
                 for r in doc.relations})
    (e1, r1), (e2, r2) = keys(first), keys(final)
    return {"entities_added": len(e2 - e1), "entities_removed": len(e1 - e2),
            "relations_added": len(r2 - r1), "relations_removed": len(r1 - r2)}


def gold_review(doc: Document, sources: dict[str, dict]) -> dict:
    """The gold's review record: adjudicated, its log, and what adjudication changed against annotator A."""
    first = build_document(ANNOTATIONS / "double" / "A" / f"{doc.id}.ann", sources)
    return {"status": "adjudicated", "log": f"adjudicated/{doc.id}.log.md", **review_changes(first, doc)}


def _gold_ids() -> set[str]:
    return {d["id"] for d in map(json.loads, SOURCES.read_text(encoding="utf-8").splitlines())}


def cmd_gold(_: argparse.Namespace) -> None:
    """Build the final gold files from adjudicated/ (reports and work-report passages apart)."""
    from fazhi_ie.io.jsonl import write_jsonl

    sources = {i: d for i, d in load_sources().items() if i in _gold_ids()}
    adjudicated = ANNOTATIONS / "adjudicated"
    missing = [i for i in sources if not (adjudicated / f"{i}.ann").exists()]
    if missing:
        raise SystemExit(f"not adjudicated yet: {', '.join(missing)}")
    docs = [build_document(adjudicated / f"{i}.ann", sources) for i in sources]
    # One meta shape for every document, so datasets can load all files together.
    docs = [replace(d, meta={**{key: d.meta.get(key, _meta_default(d, key)) for key in META_KEYS},
                             "tier": "gold", "review": gold_review(d, sources)}) for d in docs]
    reports = [d for d in docs if not d.id.startswith("gwr-")]
    passages = [d for d in docs if d.id.startswith("gwr-")]
    write_jsonl(reports, ANNOTATIONS / "reports.jsonl")
    write_jsonl(passages, ANNOTATIONS / "gov-work-reports.jsonl")
    print(f"wrote {len(reports)} reports and {len(passages)} work-report passages")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare").set_defaults(func=cmd_prepare)
    check = sub.add_parser("check")
    check.add_argument("files", nargs="+")
    check.set_defaults(func=cmd_check)
    build = sub.add_parser("build")
    build.add_argument("dir")
    build.add_argument("out")
    build.add_argument("--ids", default="")
    build.set_defaults(func=cmd_build)
    sub.add_parser("gold").set_defaults(func=cmd_gold)
    args = parser.parse_args()
    return args.func(args) or 0


if __name__ == "__main__":
    raise SystemExit(main())
