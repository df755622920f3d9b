"""The silver consistency pass (issue 7): edits on silver/reviewed/*.ann that the audit asked for.

    python data/annotations/tools/silverpass.py roundtrip   # check: rewriting a reviewed file changes nothing
    python data/annotations/tools/silverpass.py apply AUDIT.json   # tag the occurrences listed in TAG below

`AUDIT.json` is `fazhi-ie audit … --json` over gold + silver.jsonl. For each key in TAG, every
untagged silver occurrence the audit lists (in the sentences named, or all) gets the entity,
unless it overlaps one already there (longer keys are applied first). Files are rewritten with
`consistency.write_compact`, so norms stay as reviewed. Each entry names the GUIDELINES.md rule
it applies; what is not tagged is a stated exception in `audit-exceptions.tsv`.
Re-running `apply` adds nothing where the occurrence is tagged already.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import annotate  # noqa: E402  (sets sys.path for fazhi_ie)
import consistency  # noqa: E402

from fazhi_ie.document import Document, Span  # noqa: E402

REVIEWED = annotate.ANNOTATIONS / "silver" / "reviewed"

# key -> (label, sentences "YEAR:S" to tag, or None for every untagged silver occurrence).
TAG: dict[str, tuple[str, set[str] | None]] = {
    # section 1: deictic jurisdiction words are always REGION; 7.3 全国 before 各族人民/人民 is REGION
    "我国": ("REGION", None),
    "全国": ("REGION", {"1985:S30", "1981:S18", "1980:S74"}),
    "中西部地区": ("REGION", None),
    # section 1 TIME: any temporal expression that dates the facts of its clause
    "今年": ("TIME", None),
    "五年来": ("TIME", None),
    "过去的五年中": ("TIME", None),
    "“六五”期间": ("TIME", None),
    "这几年": ("TIME", None),
    "连续两年": ("TIME", None),
    "多年": ("TIME", {"2016:S230", "1985:S68", "1981:S107"}),  # section 5: 多年积累下来的 is TIME
    # section 1 DOC: a titled document, also when referred back to (这个纲要)
    "全国农业发展纲要": ("DOC", None),
    "纲要": ("DOC", None),
    "五年计划": ("DOC", {"1955:S123", "1955:S135", "1955:S157"}),  # the first five-year plan itself
    # section 1 ORG: a body acting (中央财政超收较多)
    "中央财政": ("ORG", {"2007:S186"}),
    # 7.2 a named program or policy that is carried out or is the topic is PROGRAM
    "大跃进": ("PROGRAM", None),
    "社会主义改造": ("PROGRAM", None),
    "经济体制改革": ("PROGRAM", None),
    "社会保障体系": ("PROGRAM", None),
    "价格改革": ("PROGRAM", None),
    "大众创业、万众创新": ("PROGRAM", None),
    "良种补贴": ("PROGRAM", None),
    "财税体制改革": ("PROGRAM", None),
    "审计监督": ("PROGRAM", None),
    "工资改革": ("PROGRAM", None),
    "结构性改革": ("PROGRAM", None),
    "侨务政策": ("PROGRAM", None),
    "保险业改革": ("PROGRAM", None),
    "简政放权": ("PROGRAM", None),
    "创新驱动发展": ("PROGRAM", None),
    "扶贫开发": ("PROGRAM", None),
    "税制改革": ("PROGRAM", None),
    "结构性去杠杆": ("PROGRAM", None),
    # 7.1 a line of work followed by an attribute noun (力度, 效应) is the PROGRAM
    "减税降费": ("PROGRAM", None),
    "结构性减税": ("PROGRAM", None),
    "节能减排": ("PROGRAM", {"2013:S185", "2012:S144"}),
    # step 2. 7.2 a named program, policy, reform or system that is carried out, attained or the
    # topic of its clause is PROGRAM (a trailing 建设 stays out, section 5)
    "三级所有制": ("PROGRAM", None),
    "水污染防治": ("PROGRAM", None),
    "社会保障制度": ("PROGRAM", None),
    "农村土地整治": ("PROGRAM", None),
    "劳动力转移培训": ("PROGRAM", None),
    "城乡免费义务教育": ("PROGRAM", None),
    "基层医疗卫生服务体系": ("PROGRAM", None),
    "基本公共服务均等化": ("PROGRAM", None),
    "对外承包工程": ("PROGRAM", None),
    "对外援助": ("PROGRAM", None),
    "扶贫攻坚": ("PROGRAM", None),
    "经济监督": ("PROGRAM", None),
    "公共财政制度": ("PROGRAM", None),
    "县乡财政管理体制改革": ("PROGRAM", None),
    "城市改革": ("PROGRAM", None),
    "城市的改革": ("PROGRAM", None),
    "人民公社制度": ("PROGRAM", None),
    "人民公社化": ("PROGRAM", None),
    "五大运动": ("PROGRAM", None),
    "奖励制度": ("PROGRAM", None),
    "全球治理体系改革": ("PROGRAM", None),
    "“三大战略”": ("PROGRAM", None),
    "独立自主的和平外交政策": ("PROGRAM", None),
    "公共文化服务": ("PROGRAM", None),
    "国有企业下岗职工基本生活保障向失业保险并轨": ("PROGRAM", None),
    # 7.1 a program followed by an attribute noun (水平) is the PROGRAM
    "城市低保": ("PROGRAM", None),
    # section 1/5: the country as place or actor is REGION (中国 meaning the country; 新中国, 旧中国)
    "中华人民共和国": ("REGION", None),
    "新中国": ("REGION", None),
    "旧中国": ("REGION", None),
    "内地": ("REGION", None),
    # section 1 ORG: a specific body (加入世贸组织; 中国－东盟 as the two parties)
    "世贸组织": ("ORG", None),
    "东盟": ("ORG", None),
    # section 1 TIME
    "这一年": ("TIME", None),
    "这个期间": ("TIME", None),
    "长期以来": ("TIME", None),
}


def load(doc_id: str, sources: dict[str, dict]) -> Document:
    """One reviewed silver file as a Document (norms filled, nothing projected)."""
    return annotate.build_document(REVIEWED / f"{doc_id}.ann", sources, project_repeat=False)


def save(doc: Document) -> None:
    (REVIEWED / f"{doc.id}.ann").write_text(consistency.write_compact(doc), encoding="utf-8")


def cmd_roundtrip() -> int:
    """Check that rewriting every reviewed file gives back the same spans, relations and norms."""
    from fazhi_ie.io.compact import parse_compact
    from fazhi_ie.sentences import split_sentences

    sources = annotate.load_sources()
    bad = 0
    for path in sorted(REVIEWED.glob("*.ann")):
        doc = load(path.stem, sources)
        res = parse_compact(consistency.write_compact(doc), split_sentences(doc.text))
        a = sorted((e.label, e.start, e.end) for e in doc.entities)
        b = sorted((e.label, e.start, e.end) for e in res.entities)
        if a != b or len(res.relations) != len(doc.relations) or res.errors:
            bad += 1
            print(f"{path.name}: roundtrip differs")
    print(f"roundtrip: {bad} file(s) differ")
    return 1 if bad else 0


def cmd_apply(audit_json: str) -> int:
    sources = annotate.load_sources()
    findings = json.loads(Path(audit_json).read_text(encoding="utf-8"))["findings"]
    wanted: dict[str, list[tuple[int, int, str]]] = {}
    for f in sorted(findings, key=lambda f: -len(f["key"])):
        if f["kind"] != "untagged" or f["key"] not in TAG:
            continue
        label, where = TAG[f["key"]]
        for o in f["occurrences"]:
            if not o["doc"].startswith("silver-") or o["annotation"] != "untagged":
                continue
            if where is not None and f"{o['doc'].rsplit('-', 1)[1]}:S{o['sentence']}" not in where:
                continue
            wanted.setdefault(o["doc"], []).append((o["start"], o["end"], label))
    added = 0
    for doc_id, spans in sorted(wanted.items()):
        doc = load(doc_id, sources)
        entities = list(doc.entities)
        n = len(entities)
        for start, end, label in spans:  # longer keys first
            if any(e.start < end and start < e.end for e in entities):
                continue
            n += 1
            entities.append(Span(f"N{n}", label, start, end, doc.text[start:end]))
            print(f"{doc_id} [{start},{end}) {doc.text[start:end]} -> {label}")
        if len(entities) != len(doc.entities):
            added += len(entities) - len(doc.entities)
            save(Document(doc.id, doc.text, doc.meta, tuple(entities), doc.relations))
    print(f"added {added} entities")
    return 0


def main() -> int:
    if len(sys.argv) >= 2 and sys.argv[1] == "roundtrip":
        return cmd_roundtrip()
    if len(sys.argv) == 3 and sys.argv[1] == "apply":
        return cmd_apply(sys.argv[2])
    print("usage: silverpass.py roundtrip | apply AUDIT.json", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
