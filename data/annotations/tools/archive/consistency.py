"""Corpus-wide consistency edits on the adjudicated compact files (issue 7, item 2).

    python data/annotations/tools/consistency.py roundtrip      # check: rewriting changes nothing
    python data/annotations/tools/consistency.py apply          # apply ADD below, rewrite the files
    python data/annotations/tools/consistency.py apply-round2   # apply RESIZE and CHANGE below

`apply` was run once, on the adjudicated files of commit f0350a3; the files now carry the edits,
so running it again would add them a second time where a free occurrence is left.

Each compact file is read into a Document (the repeat of chengzhong-liuzhou-2023 left
unprojected, as annotated), edited, and written back with `to_compact`, with a norm
override wherever the adjudicated norm differs from what the normaliser computes, so the
rebuilt gold differs only by the edits. The edits are the decisions of GUIDELINES.md
section 7, each named by the rule it applies.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tools/, for annotate
import annotate  # noqa: E402  (sets sys.path for fazhi_ie)

from fazhi_ie.document import Document, Relation, Span  # noqa: E402
from fazhi_ie.io.compact import to_compact  # noqa: E402
from fazhi_ie.normalize import normalize_span  # noqa: E402
from fazhi_ie.sentences import split_sentences, sentence_index  # noqa: E402

ADJUDICATED = annotate.ANNOTATIONS / "adjudicated"


def gold_sources() -> dict[str, dict]:
    import json
    return {d["id"]: d for d in map(json.loads, annotate.SOURCES.read_text(encoding="utf-8").splitlines())}


def load(doc_id: str, sources: dict[str, dict]) -> Document:
    return annotate.build_document(ADJUDICATED / f"{doc_id}.ann", sources, project_repeat=False)


def _number(x: float) -> str:
    return str(int(x)) if x == int(x) and abs(x) < 1e15 else repr(x)


def write_compact(doc: Document) -> str:
    """The compact text of `doc`, with `= …` overrides for norms the normaliser would not give."""
    sentences = split_sentences(doc.text)
    text = to_compact(doc, sentences)
    overrides = {}
    for e in doc.entities:
        if e.label != "VALUE" or e.norm is None:
            continue
        auto = normalize_span(doc.text, e.start, e.end)
        mine = (e.norm.number, e.norm.unit, e.norm.qualifier, e.norm.change)
        if mine != (auto.number, auto.unit, auto.qualifier, auto.change):
            overrides[e.start] = " = " + " ".join(
                "-" if v is None else (_number(v) if isinstance(v, float) else str(v)) for v in mine)
    if not overrides:
        return text
    # to_compact lists VALUE lines in text order per sentence; attach overrides in the same order.
    order = sorted(e.start for e in doc.entities)
    lines, out, i = text.splitlines(), [], 0
    for line in lines:
        if line.startswith("E "):
            start = order[i]
            i += 1
            if start in overrides:
                line += overrides[start]
        out.append(line)
    return "\n".join(out) + "\n"


def save(doc: Document) -> None:
    (ADJUDICATED / f"{doc.id}.ann").write_text(write_compact(doc), encoding="utf-8")


def _same(a: Document, b: Document) -> bool:
    key = lambda d: (sorted((e.label, e.start, e.end, e.norm) for e in d.entities),  # noqa: E731
                     sorted((r.label, d.entity(r.head).start, d.entity(r.tail).start) for r in d.relations))
    return key(a) == key(b)


# (document, sentence, label, text, k): add an entity at the k-th occurrence of text in the
# sentence that touches no entity yet. Grouped by the GUIDELINES.md section 7 rule they apply.
ADD: list[tuple[str, int, str, str, int]] = [
    # 7.1 a standing line of work followed by an attribute or goal noun is the PROGRAM
    ("chengguan-lanzhou-2023", 33, "PROGRAM", "行政复议", 1),       # 提高行政复议应诉办案质效
    ("chengguan-lanzhou-2023", 78, "PROGRAM", "社区矫正", 1),       # 筑牢社区矫正安全防线
    ("jinta-2023", 84, "PROGRAM", "行政执法监督", 1),                 # 提升行政执法监督质效
    ("jinta-2023", 78, "PROGRAM", "政务公开", 1),                     # 提升政务公开的广度和深度
    ("jinta-2023", 76, "PROGRAM", "政府信息公开", 1),                 # 提升政府信息公开工作效能
    ("chengzhong-liuzhou-2023", 75, "PROGRAM", "执法监督", 1),       # 充分发挥执法监督职责
    ("gansu-highlights-2023", 51, "PROGRAM", "行政复议", 1),         # 发挥行政复议…主渠道作用
    ("gansu-highlights-2023", 51, "PROGRAM", "行政复议", 1),         # 履行行政复议和行政应诉职责
    ("gwr-2025", 90, "PROGRAM", "信访", 1),                           # 推进信访工作法治化
    ("gwr-2021", 36, "PROGRAM", "失业保险", 1),                       # 扩大失业保险保障范围
    ("gwr-2010", 17, "PROGRAM", "对外承包工程和劳务合作", 1),         # 提高…的质量
    ("chengguan-lanzhou-2023", 75, "PROGRAM", "主动创稳", 1),       # 夯实主动创稳的…底板
    # 7.2 a named program or line of work that is carried out (深化, 实施, 推动, 贯彻, 完善) is PROGRAM
    ("gwr-2025", 81, "PROGRAM", "党风廉政建设", 1),                   # 加强党风廉政建设和反腐败斗争
    ("gwr-2025", 81, "PROGRAM", "反腐败斗争", 1),
    ("chengguan-lanzhou-2023", 16, "PROGRAM", "简政放权", 1),
    ("gwr-2023", 76, "PROGRAM", "减税降费", 1),
    ("gwr-2018", 54, "PROGRAM", "积极的财政政策", 1),
    ("gwr-2018", 54, "PROGRAM", "稳健的货币政策", 1),
    ("gwr-2014", 61, "PROGRAM", "积极的财政政策", 1),
    ("gwr-2014", 61, "PROGRAM", "稳健的货币政策", 1),
    ("gwr-2025", 45, "PROGRAM", "创新驱动发展", 1),
    ("gwr-2010", 77, "PROGRAM", "侨务政策", 1),
    ("jinta-2023", 123, "PROGRAM", "法治政府建设推进机制", 1),
    ("jinta-2023", 134, "PROGRAM", "普法", 1),                         # 持续精准普法
    ("jinta-2023", 92, "PROGRAM", "诉调对接", 1),
    ("chengguan-lanzhou-2023", 56, "PROGRAM", "普法", 1),             # 推动普法融入执法、司法
    ("jinta-2023", 35, "PROGRAM", "普法教育", 1),                     # 接受普法教育
    # section 1: deictic jurisdiction words are always REGION
    ("gwr-2023", 51, "REGION", "全国", 1),                             # 全党全军全国各族人民
    # 7.3 bodies: a body inside a members' phrase, the armed forces (section 5)
    ("gwr-2025", 2, "ORG", "全国政协", 1),                             # 请全国政协委员提出意见
    ("gwr-1998", 67, "ORG", "全国人大", 1),                             # 选出自己的全国人大代表
    ("gwr-1998", 39, "ORG", "人民军队", 1),
]


# Round 2 (after the silver first pass was audited against the gold). (document, sentence,
# label, old text, new text): cut an entity down to new text inside it, keeping its relations.
RESIZE: list[tuple[str, int, str, str, str]] = [
    # section 5: change nouns stay out like change verbs; the VALUE carries the change (norm below)
    ("gwr-2023", 72, "METRIC", "居民消费价格涨幅", "居民消费价格"),
    ("gwr-2014", 42, "METRIC", "居民消费价格涨幅", "居民消费价格"),
    ("gwr-2014", 52, "METRIC", "居民消费价格涨幅", "居民消费价格"),
]
# (document, sentence, value text, change): set the change of a VALUE's norm.
CHANGE: list[tuple[str, int, str, str]] = [
    ("gwr-2023", 72, "3%左右", "increase"),
    ("gwr-2014", 42, "3.5%左右", "increase"),
    ("gwr-2014", 52, "3.5%左右", "increase"),
]


def apply_round2(doc: Document, sentences) -> tuple[Document, list[str]]:
    """Apply RESIZE and CHANGE for this document."""
    entities = list(doc.entities)
    log = []
    for doc_id, n, label, old, new in RESIZE:
        if doc_id != doc.id:
            continue
        sent = sentences[n - 1]
        hits = [i for i, e in enumerate(entities) if e.label == label and e.text == old and sent.start <= e.start < sent.end]
        if len(hits) != 1:
            raise SystemExit(f"{doc.id} S{n}: expected one {label} {old!r}, found {len(hits)}")
        e = entities[hits[0]]
        offset = old.index(new)
        entities[hits[0]] = replace(e, start=e.start + offset, end=e.start + offset + len(new), text=new)
        log.append(f"{doc.id} S{n}: {label} {old} -> {new}")
    for doc_id, n, text, change in CHANGE:
        if doc_id != doc.id:
            continue
        sent = sentences[n - 1]
        hits = [i for i, e in enumerate(entities) if e.label == "VALUE" and e.text == text and sent.start <= e.start < sent.end]
        if len(hits) != 1:
            raise SystemExit(f"{doc.id} S{n}: expected one VALUE {text!r}, found {len(hits)}")
        e = entities[hits[0]]
        entities[hits[0]] = replace(e, norm=replace(e.norm, change=change))
        log.append(f"{doc.id} S{n}: VALUE {text} change -> {change}")
    return doc.with_annotations(entities=entities), log


def apply_edits(doc: Document, sentences) -> tuple[Document, list[str]]:
    """Apply ADD for this document, then the IN_PROGRAM rule 7.4; return the new document and a log."""
    entities = list(doc.entities)
    log = []
    for doc_id, n, label, text, k in ADD:
        if doc_id != doc.id:
            continue
        sent = sentences[n - 1]
        free = []
        pos = sent.text.find(text)
        while pos >= 0:
            start = sent.start + pos
            end = start + len(text)
            if not any(e.start < end and start < e.end for e in entities):
                free.append(start)
            pos = sent.text.find(text, pos + 1)
        if len(free) < k:
            raise SystemExit(f"{doc.id} S{n}: no free occurrence {k} of {text!r}")
        start = free[k - 1]
        entities.append(Span(f"N{len(entities) + 1}", label, start, start + len(text), text))
        log.append(f"{doc.id} S{n}: + {label} {text}")
    relations = list(doc.relations)
    by_id = {e.id: e for e in entities}
    linked = {(r.head, r.tail) for r in relations if r.label == "IN_PROGRAM"}
    has_program = {r.head for r in relations if r.label == "IN_PROGRAM"}
    for i, sent in enumerate(sentences):
        inside = [e for e in entities if sent.start <= e.start < sent.end]
        programs = [e for e in inside if e.label == "PROGRAM"]
        for m in (e for e in inside if e.label == "METRIC"):
            if m.id in has_program:
                continue
            named = [p for p in programs if p.text in m.text]
            if not named:
                continue
            p = min(named, key=lambda p: abs(p.start - m.start))
            if (m.id, p.id) not in linked:
                relations.append(Relation(f"N{len(relations) + 1}", "IN_PROGRAM", m.id, p.id))
                log.append(f"{doc.id} S{i + 1}: + IN_PROGRAM {m.text} > {p.text}")
    del by_id
    return doc.with_annotations(entities=sorted(entities, key=lambda e: e.start), relations=relations), log


def cmd_apply(only: set[tuple] | None = None) -> int:
    """Apply the edits (all, or only those in `only`) to the adjudicated files."""
    global ADD
    if only is not None:
        ADD = [a for a in ADD if a in only]
    sources = gold_sources()
    for doc_id in sources:
        doc = load(doc_id, sources)
        new, log = apply_edits(doc, split_sentences(doc.text))
        for line in log:
            print(line)
        if log:
            save(new)
    return 0


def cmd_round2() -> int:
    """Apply RESIZE and CHANGE (one-shot like `apply`: run once, at the commit that added them)."""
    sources = gold_sources()
    for doc_id in sources:
        doc = load(doc_id, sources)
        new, log = apply_round2(doc, split_sentences(doc.text))
        for line in log:
            print(line)
        if log:
            save(new)
    return 0


def cmd_roundtrip() -> int:
    import tempfile
    sources = gold_sources()
    bad = 0
    for doc_id in sources:
        doc = load(doc_id, sources)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{doc_id}.ann"
            path.write_text(write_compact(doc), encoding="utf-8")
            again = annotate.build_document(path, sources, project_repeat=False)
        ok = _same(doc, again)
        bad += not ok
        print(f"{doc_id}: {'same' if ok else 'DIFFERENT'}")
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["roundtrip"]:
        raise SystemExit(cmd_roundtrip())
    if sys.argv[1:] == ["apply"]:
        raise SystemExit(cmd_apply())
    if sys.argv[1:] == ["apply-round2"]:
        raise SystemExit(cmd_round2())
    raise SystemExit(__doc__)
