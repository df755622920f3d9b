"""The local-tier consistency pass (issue 13): edits on local/reviewed/*.ann that the audit asked for.

    python data/annotations/tools/localpass.py roundtrip            # check: rewriting a reviewed file changes nothing
    python data/annotations/tools/localpass.py when [--dry]          # rule 8f, WHEN across ；, over the whole tier
    python data/annotations/tools/localpass.py except AUDIT.json [--dry]   # pin stated exceptions into audit-exceptions.tsv

`AUDIT.json` is `fazhi-ie audit reports.jsonl gov-work-reports.jsonl silver.jsonl local.jsonl --json`.
Each reviewed compact file is read into a Document (`annotate.build_document`, nothing projected),
edited, and written back with `consistency.write_compact` (norm overrides kept wherever the reviewed
norm differs from the normaliser), so the rebuilt tier differs only by the edits. Every rule names
the GUIDELINES.md item it applies and prints what it changed; `--dry` prints without writing.
The rules are idempotent: re-running `when` changes nothing once applied; `except` merges places.
The first pass ran roundtrip, when and except in turn, rebuilding local.jsonl
(`tools/local.py build`) and re-auditing between steps; the counts are in local/audit.md.
"""
from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "archive"))
import annotate  # noqa: E402  (sets sys.path for fazhi_ie)
import consistency  # noqa: E402

from fazhi_ie.document import Document, Relation, Span  # noqa: E402
from fazhi_ie.sentences import split_sentences  # noqa: E402

ANNOTATIONS = annotate.ANNOTATIONS
REVIEWED = ANNOTATIONS / "local" / "reviewed"
EXCEPTIONS = ANNOTATIONS / "audit-exceptions.tsv"


def local_ids() -> list[str]:
    lines = (ANNOTATIONS / "local" / "sources.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(l)["id"] for l in lines if l.strip()]


def load(doc_id: str, sources: dict[str, dict]) -> Document:
    """One reviewed local file as a Document (norms filled, nothing projected)."""
    return annotate.build_document(REVIEWED / f"{doc_id}.ann", sources, project_repeat=False)


def save(doc: Document) -> None:
    (REVIEWED / f"{doc.id}.ann").write_text(consistency.write_compact(doc), encoding="utf-8")


def _key(doc: Document):
    by_id = doc.entities_by_id()
    return (sorted((e.label, e.start, e.end, e.norm) for e in doc.entities),
            sorted((r.label, by_id[r.head].start, by_id[r.tail].start) for r in doc.relations))


def cmd_roundtrip() -> int:
    """Rewriting every reviewed file must give back the same spans, relations and norms."""
    import tempfile
    sources = annotate.load_sources()
    bad = 0
    for doc_id in local_ids():
        doc = load(doc_id, sources)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{doc_id}.ann"
            path.write_text(consistency.write_compact(doc), encoding="utf-8")
            again = annotate.build_document(path, sources, project_repeat=False)
        if _key(doc) != _key(again):
            bad += 1
            print(f"{doc_id}: roundtrip differs")
    print(f"roundtrip: {bad} file(s) differ")
    return 1 if bad else 0


# ---------------------------------------------------------------------------------------------
# Rule 8f: WHEN across ；
#
# A clause-level TIME (one that stands before the counts of its ；-clause and dates them by WHEN,
# not a comparison base)
# crosses ； into the following clauses while each of them only goes on reporting counts of the
# same list: every count (a METRIC, or a PROGRAM heading a HAS_VALUE; 8b) of such a clause gets
# the WHEN. It stops at the first ；-clause that
#   - has no count (…；推动…, …；落实…制度),
#   - opens with a predicate that is not a count (a carrying-out verb before its first count:
#     推动, 落实, 推进, 健全, 完善, 深化, 加强, 建立, 探索, 印发, 出台 …),
#   - has a new subject (an ORG or REGION at its opening, or one its counts take as AGENT, that is
#     not a subject of the list before: 全年办理…；办理公证…；全市1400余个人民调解组织调解… stops), or
#   - reports a stock, not a count of the list (在册社区矫正对象, “法律明白人”累计达到…, 总数), or
#   - has a TIME of its own that dates its counts (the next TIME; comparison bases do not count).
# Counts of clauses past the stop lose a WHEN to the carried TIME (the reviewers who carried it
# further read section 2 the other way). WHEN inside the TIME's own clause is section 2, untouched.
# ---------------------------------------------------------------------------------------------

NOT_COUNT_VERBS = ("推动", "落实", "推进", "健全", "完善", "深化", "加强", "探索", "印发", "出台", "压实", "强化",
                   "优化", "坚持", "构建", "打造", "创新", "规范(?!性)", "严格", "督促", "指导", "部署", "实现", "力争",
                   "确保", "着力", "整合", "审定", "谋划", "启动", "牵头", "协调", "解决")
NOT_COUNT = re.compile("|".join(NOT_COUNT_VERBS))
NOT_COUNT_OPENING = re.compile(r"^(?:在[^，]*?)?(?:持续|进一步|全面|认真|积极|不断|大力|深入|主动|依法)?(?:"
                               + "|".join(NOT_COUNT_VERBS) + ")")
# a stock (在册, 实有, 累计达到, 总数) is no count of the year's list
STOCK = re.compile(r"在册|实有|现有|累计达到|累计达|共有|总数达到|总量达到|总数为")
OPENERS = ("其中", "同时", "此外", "另外", "并", "还")
LIST_MARK = re.compile(r"^[一二三四五六七八九十]+是")
BASE_BEFORE = ("较", "比", "与", "同", "由", "相比", "较之", "对比")


def _segments(text: str, start: int) -> list[tuple[int, int]]:
    out, pos = [], start
    for part in text.split("；"):
        out.append((pos, pos + len(part)))
        pos += len(part) + 1
    return out


def _is_base(doc: Document, t: Span) -> bool:
    before = doc.text[max(0, t.start - 2):t.start]
    return any(before.endswith(b) for b in BASE_BEFORE) or "同期" in t.text and not t.text.startswith("今年")


def _subjects(doc: Document, seg_ents, seg_heads, agent, a: int) -> set[str]:
    """The subjects of a ；-clause: its counts' AGENTs and an ORG/REGION at its opening."""
    by_id = doc.entities_by_id()
    out = {by_id[t].text for h in seg_heads for t in agent.get(h.id, ())}
    out |= {e.text for e in seg_ents if e.label in ("ORG", "REGION") and doc.text[a:e.start].strip() in ("",) + OPENERS}
    return out


def rule_8f(doc: Document) -> tuple[Document, list[str]]:
    sents = split_sentences(doc.text)
    by_id = doc.entities_by_id()
    rels = list(doc.relations)
    heads = {r.head for r in rels if r.label == "HAS_VALUE"}
    when: dict[str, set[str]] = {}
    agent: dict[str, set[str]] = {}
    for r in rels:
        if r.label == "WHEN":
            when.setdefault(r.head, set()).add(r.tail)
        if r.label == "AGENT":
            agent.setdefault(r.head, set()).add(r.tail)
    when_tails = {t for ts in when.values() for t in ts}
    add, remove, log = [], set(), []
    for n, s in enumerate(sents, 1):
        if "；" not in s.text:
            continue
        ents = [e for e in doc.entities if s.start <= e.start < s.end]
        segs = _segments(s.text, s.start)
        carried: Span | None = None
        list_subjects: set[str] = set()
        stopped = False
        for si, (a, b) in enumerate(segs):
            seg_ents = [e for e in ents if a <= e.start < b]
            seg_heads = [e for e in seg_ents if e.id in heads and e.label in ("METRIC", "PROGRAM")]
            own_times = [e for e in seg_ents if e.label == "TIME" and e.id in when_tails and not _is_base(doc, e)
                         and any(e.id in when.get(h.id, ()) for h in seg_heads)]
            if si == 0 or own_times:
                # the clause of a (new) clause-level TIME: section 2, left as it is
                clause_times = [t for t in own_times if t.start < seg_heads[0].start]
                if clause_times:
                    carried = clause_times[-1]
                    list_subjects = _subjects(doc, seg_ents, seg_heads, agent, a)
                    stopped = False
                elif si > 0:
                    stopped = True
                continue
            if carried is None:
                continue
            reason = None
            if stopped:
                reason = "after a stop"
            elif not seg_heads:
                reason = "no count"
            else:
                opening = doc.text[a:seg_heads[0].start]
                bare = opening.strip()
                for o in OPENERS:
                    bare = bare[len(o):] if bare.startswith(o) else bare
                clause0 = opening.split("，")[0]
                lead = [e for e in seg_ents if e.label in ("ORG", "REGION") and e.start < seg_heads[0].start
                        and doc.text[a:e.start].strip() in ("",) + OPENERS]
                new_lead = [e for e in lead if e.text not in list_subjects]
                new_agents = {by_id[t].text for h in seg_heads for t in agent.get(h.id, ())
                              if a <= by_id[t].start < b} - list_subjects
                if (LIST_MARK.match(bare) or NOT_COUNT_OPENING.match(bare)
                        or "，" in opening and NOT_COUNT.search(clause0)):
                    reason = "a predicate that is not a count"
                elif STOCK.search(doc.text[a:b]):
                    reason = "a stock, not a count of the list"
                elif new_lead or new_agents:
                    reason = "a new subject"
                elif any(e.label == "TIME" and not _is_base(doc, e) and e.start < seg_heads[0].start for e in seg_ents):
                    reason = "a new TIME"
            if reason:
                stopped = True
                for h in seg_heads:
                    if carried.id in when.get(h.id, ()):
                        remove.add((h.id, carried.id))
                        log.append(f"{doc.id} S{n}: - WHEN {h.text} > {carried.text} (stops at ；: {reason})")
                continue
            list_subjects |= _subjects(doc, seg_ents, seg_heads, agent, a)
            for h in seg_heads:
                if not when.get(h.id):
                    add.append((h.id, carried.id))
                    log.append(f"{doc.id} S{n}: + WHEN {h.text} > {carried.text}")
    if not add and not remove:
        return doc, log
    rels = [r for r in rels if not (r.label == "WHEN" and (r.head, r.tail) in remove)]
    rels += [Relation(f"W{i}", "WHEN", h, t) for i, (h, t) in enumerate(add, 1)]
    return doc.with_annotations(relations=rels), log


def cmd_when(dry: bool) -> int:
    sources = annotate.load_sources()
    total = Counter()
    for doc_id in local_ids():
        doc = load(doc_id, sources)
        new, log = rule_8f(doc)
        for line in log:
            print(line)
            total["+" if ": + " in line else "-"] += 1
        if log and not dry:
            save(new)
    print(f"8f: {total['+']} WHEN added, {total['-']} WHEN removed{' (dry run)' if dry else ''}")
    return 0


# ---------------------------------------------------------------------------------------------
# Stated exceptions (GUIDELINES.md 7.5 and section 8), pinned to the local sentences
# ---------------------------------------------------------------------------------------------

F = ("7.5f a named activity or line of work counted in sessions, rounds or cases is the METRIC (开展法治督察2次, "
     "开展合法性审查583件, 开展行政执法案卷评查2次, 会前学法10次); carried out without a count it is PROGRAM")
BODY = ("section 1: counted bodies are METRIC (建成区公共法律服务中心1个, 有5个县司法局, 3个市政府, 司法所32个); the same "
        "body acting is ORG")
DAY = ("section 5: a named day or week is TIME when listed as a date, PROGRAM when used as a campaign "
       "(组织开展宪法宣传周、“12·4”国家宪法日等集中宣传活动)")
LABEL_EXCEPT: dict[str, str | None] = {
    "合法性审查": F, "法治督察": None, "行政执法案卷评查": F, "学法": F, "会前学法": F, "“法治体检”": F,
    "行政机关负责人出庭应诉": F, "执法案卷评查": F, "安全生产执法检查": F, "行政执法监督": None, "法律援助": F,
    "法治建设专项督察": F, "行政执法案卷集中评查": F, "案卷评查": F, "法治为民办实事项目": F, "执法检查": F,
    "常务会议会前学法": F, "法制审核": F, "“法律八进”活动": None, "易地扶贫搬迁": None, "信用修复": F,
    "备案审查": F, "法治体检": F, "社会稳定风险评估": F, "规范性文件审查": F, "“法治进校园”活动": F,
    "“美好生活·民法典相伴”主题宣传活动": F,
    "市政府": BODY, "县司法局": BODY, "区公共法律服务中心": BODY, "司法所": BODY, "县公共法律服务中心": BODY,
    "涉企法律服务团": BODY,
    "宪法宣传周": DAY, "“12·4”国家宪法日": DAY, "民法典宣传月": DAY, "“安全生产月”": DAY,
}

R8F = ("8f/8a: a clause-level TIME dates the counts after it in its ；-list and stops at a ；-clause with a new subject, a "
       "stock or a predicate that is not a count, and at the next TIME; a comparison base dates nothing (localpass.py "
       "rule_8f decides each place)")


def _classify_time(doc: Document, head: Span, tail: Span) -> str | None:
    """Why `head` has no WHEN to `tail` by 8a/8f/section 2, or None when it should."""
    when = {(r.head, r.tail) for r in doc.relations if r.label == "WHEN"}
    has_when = {r.head for r in doc.relations if r.label == "WHEN"}
    tails = {r.tail for r in doc.relations if r.label == "WHEN"}
    if (head.id, tail.id) in when:
        return "linked"
    if _is_base(doc, tail):
        return "8a comparison base"
    if tail.id not in tails:
        return None  # a time that dates nothing in its sentence: a WHEN may be missing (next pass)
    if head.start < tail.start:
        return "section 2: the time follows the count"
    if head.id in has_when:
        return "section 2: stops at the next TIME"
    if "；" in doc.text[tail.end:head.start]:
        return "8f: stops at ；"
    return None


def cmd_except(audit_json: str, dry: bool) -> int:
    """Pin the stated exceptions of local occurrences into audit-exceptions.tsv (merging places)."""
    sources = annotate.load_sources()
    lines = EXCEPTIONS.read_text(encoding="utf-8").splitlines()
    index = {tuple(l.split("\t")[:2]): i for i, l in enumerate(lines) if l and not l.startswith("#")}
    findings = json.loads(Path(audit_json).read_text(encoding="utf-8"))["findings"]
    docs: dict[str, Document] = {}
    done, left = Counter(), []

    def pin(kind: str, key: str, reason: str | None, places: set[str]) -> bool:
        k = (kind, key)
        if k in index:
            parts = lines[index[k]].split("\t")
            old = set(parts[3].split(",")) if len(parts) == 4 else set()
            lines[index[k]] = "\t".join([kind, key, parts[2], ",".join(sorted(old | places))])
            return True
        if reason is None:
            print(f"no reason for new key {kind} {key}")
            return False
        lines.append("\t".join([kind, key, reason, ",".join(sorted(places))]))
        index[k] = len(lines) - 1
        return True

    for f in findings:
        if f.get("explained") is not None:
            continue
        local = [o for o in f["occurrences"] if o["doc"] in sources and o["doc"].startswith("w")]
        if not local:
            continue
        if f["kind"] == "label" and f["key"] in LABEL_EXCEPT:
            if pin("label", f["key"], LABEL_EXCEPT[f["key"]], {f"{o['doc']}:S{o['sentence']}" for o in f["occurrences"]}):
                done["label"] += 1
            continue
        if f["kind"] == "relation" and f["key"].endswith("(TIME)"):
            why = []
            for o in f["occurrences"]:
                if not o["doc"].startswith("w"):
                    why.append("not local")
                    continue
                doc = docs.get(o["doc"]) or docs.setdefault(o["doc"], load(o["doc"], sources))
                head_text, tail_text = (p.rsplit(" (", 1)[0] for p in f["key"].split(" > "))
                inside = [e for e in doc.entities if o["start"] <= e.start and e.end <= o["end"]]
                heads = [e for e in inside if e.text == head_text and e.label != "TIME"]
                tails = [e for e in inside if e.text == tail_text and e.label == "TIME"]
                if not heads or not tails:
                    why.append(None)
                    continue
                h, t = (heads[-1], tails[0]) if tails[0].start < heads[-1].start else (heads[0], tails[-1])
                why.append(_classify_time(doc, h, t))
            if all(w is not None for w in why):
                if pin("relation", f["key"], R8F, {f"{o['doc']}:S{o['sentence']}" for o in f["occurrences"]}):
                    done["relation"] += 1
                continue
            left.append(f["key"])
    print(f"pinned: {dict(done)}; relation (TIME) findings left with an unexplained place: {len(left)}")
    if not dry:
        EXCEPTIONS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


def main() -> int:
    args = sys.argv[1:]
    dry = "--dry" in args
    args = [a for a in args if a != "--dry"]
    if args == ["roundtrip"]:
        return cmd_roundtrip()
    if args == ["when"]:
        return cmd_when(dry)
    if len(args) == 2 and args[0] == "except":
        return cmd_except(args[1], dry)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
