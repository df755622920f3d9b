"""Bring the older tiers in line with GUIDELINES.md section 8 (issue 13): gold and silver.

    python data/annotations/tools/guideline_pass.py [--dry]    # apply 8a-8d (8g inside 8a) to adjudicated/ and silver/reviewed/
    python data/annotations/tools/annotate.py gold             # then rebuild reports.jsonl, gov-work-reports.jsonl
    python data/annotations/tools/silver.py build --no-audit   # and silver.jsonl

The gold (`adjudicated/*.ann`, jinpu-2023 included: it was annotated under section 8, so the rules
only find what breaks one) and the silver (`silver/reviewed/*.ann`) compact files are read into
Documents (`annotate.build_document`, the repeat of chengzhong-liuzhou-2023 left unprojected),
edited by the rules below and written back with `consistency.write_compact` (norm overrides kept),
so the rebuilt files differ only by the edits. Every change is printed and logged to
`adjudication/guideline-pass.log` (document, sentence, offsets, text, before → after, rule); places
a rule saw but does not clearly cover are listed as "doubt" and left alone. The rules are
idempotent: a second run changes nothing (and leaves the log of the run that did).
The local tier was annotated under section 8 (its own pass is `localpass.py`).
"""
from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "archive"))
import annotate  # noqa: E402  (sets sys.path for fazhi_ie)
import consistency  # noqa: E402
import localpass  # noqa: E402
import silver  # noqa: E402

from fazhi_ie.document import Document, Relation, Span  # noqa: E402
from fazhi_ie.sentences import sentence_index, split_sentences  # noqa: E402

ANNOTATIONS = annotate.ANNOTATIONS
LOG = ANNOTATIONS / "adjudication" / "guideline-pass.log"


def tiers() -> list[tuple[str, Path]]:
    """(tier, compact file) for every gold and silver document, in source order."""
    gold = [(i, ANNOTATIONS / "adjudicated" / f"{i}.ann") for i in sorted(annotate._gold_ids())]
    return ([("gold", p) for _, p in gold]
            + [("silver", silver.REVIEWED / f"{i}.ann") for i in silver.silver_sources()])


class Log:
    """Changes and doubts of one run, one line each."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.doubts: list[str] = []
        self.count: Counter = Counter()

    def change(self, tier: str, doc: Document, span: Span, before: str, after: str, rule: str) -> None:
        n = _sentence(doc, span.start)
        self.lines.append(f"{doc.id}\tS{n}\t[{span.start},{span.end})\t{span.text}\t{before} → {after}\t{rule}")
        self.count[(rule.split(" ")[0], tier)] += 1

    def doubt(self, doc: Document, span: Span, what: str) -> None:
        self.doubts.append(f"{doc.id}\tS{_sentence(doc, span.start)}\t[{span.start},{span.end})\t{span.text}\t{what}")


def _sentence(doc: Document, offset: int) -> int:
    idx = sentence_index(split_sentences(doc.text), offset)
    return 0 if idx is None else idx + 1


def _desc(doc: Document, rel: Relation) -> str:
    by_id = doc.entities_by_id()
    h, t = by_id[rel.head], by_id[rel.tail]
    return f"{rel.label} {h.label} {h.text} > {t.label} {t.text}"


def _drop_relations(tier: str, doc: Document, drop: list[Relation], log: Log, rule: str) -> Document:
    if not drop:
        return doc
    by_id = doc.entities_by_id()
    for r in drop:
        log.change(tier, doc, by_id[r.head], _desc(doc, r), "removed", rule)
    gone = {id(r) for r in drop}
    return doc.with_annotations(relations=[r for r in doc.relations if id(r) not in gone])


# ---------------------------------------------------------------------------------------------
# 8a (with 8g): comparison bases are TIME, never WHEN
# ---------------------------------------------------------------------------------------------

CMP_AFTER = re.compile(r"^[^，。；,]{0,12}?(相比|相较|比较|同比|对比)")
TO = re.compile(r"[到至]|(?<=[降升增提减])为")


def comparison_base(doc: Document, t: Span) -> str | None:
    """'base' where a TIME only names the base of a comparison (8a, 8g), 'doubt' where it may, else None."""
    before = doc.text[max(0, t.start - 2):t.start]
    after = doc.text[t.end:t.end + 40]
    if before.endswith(("较", "比", "较之", "相比", "对比")):
        return "base"
    if before.endswith(("与", "同")):
        return "base" if CMP_AFTER.match(after) else "doubt"
    if before.endswith("由"):
        # 8g: 由上年的8%提高到21% → base; 由2021年的X提高到2024年的Y → each value names its time, both WHEN
        m = TO.search(re.split(r"[。；]", doc.text[t.end:t.end + 60])[0])
        if m is None:
            return "doubt"
        to = t.end + m.end()
        if any(e.label == "TIME" and to <= e.start <= to + 2 for e in doc.entities):
            return None
        return "base"
    if "同期" in t.text and not t.text.startswith("今年"):
        return "doubt"
    return None


def rule_8a_when(tier: str, doc: Document, log: Log) -> Document:
    by_id = doc.entities_by_id()
    drop = []
    for r in doc.relations:
        if r.label != "WHEN":
            continue
        kind = comparison_base(doc, by_id[r.tail])
        if kind == "base":
            drop.append(r)
        elif kind == "doubt":
            log.doubt(doc, by_id[r.tail], f"8a? {_desc(doc, r)} (a base only by context; left)")
    return _drop_relations(tier, doc, drop, log, "8a comparison base: no WHEN")


BASE_TIME = (r"(?:[0-9０-９]{4}年(?:度)?(?:同期)?|[一二三四五六七八九○〇零]{4}年(?:同期)?|去年(?:同期)?|"
             r"上年(?:同期|度)?|上一年(?:度)?|前一年)")
UNTAGGED_BASE = re.compile(r"(?:较之|较|比|相比)(" + BASE_TIME + r")|(?:与|同)(" + BASE_TIME + r")(?=[^，。；,]{0,12}?(?:相比|同比))")


def rule_8a_tag(tier: str, doc: Document, log: Log) -> Document:
    """A comparison base the annotation left untagged is tagged TIME (8a), with no relation."""
    limit = annotate.annotate_until({"id": doc.id, "text": doc.text})
    new = []
    for m in UNTAGGED_BASE.finditer(doc.text):
        g = 1 if m.group(1) else 2
        start, end = m.start(g), m.end(g)
        if limit is not None and start >= limit:
            continue  # the repeated block of chengzhong-liuzhou-2023 is copied at build time
        if any(e.start < end and start < e.end for e in doc.entities):
            continue
        span = Span(f"G{len(new) + 1}", "TIME", start, end, doc.text[start:end])
        new.append(span)
        log.change(tier, doc, span, "untagged", "TIME", "8a comparison base: TIME")
    return doc.with_annotations(entities=list(doc.entities) + new) if new else doc


# ---------------------------------------------------------------------------------------------
# 8b: WHEN and AGENT only on fact heads
# ---------------------------------------------------------------------------------------------

def rule_8b(tier: str, doc: Document, log: Log) -> Document:
    by_id = doc.entities_by_id()
    heads = {r.head for r in doc.relations if r.label == "HAS_VALUE"}
    drop = [r for r in doc.relations if r.label in ("WHEN", "AGENT")
            and (by_id[r.head].label in ("DOC", "ORG") or by_id[r.head].label == "PROGRAM" and r.head not in heads)]
    return _drop_relations(tier, doc, drop, log, "8b WHEN/AGENT only on fact heads")


# ---------------------------------------------------------------------------------------------
# 8c: posts are not bodies
# ---------------------------------------------------------------------------------------------

POST = re.compile(r"^(?:主要负责人|主要负责同志|负责人|负责同志|党组书记|副?书记|副?主任)")


def rule_8c(tier: str, doc: Document, log: Log) -> Document:
    """An ORG named only as the holder of a post (县委、县政府主要负责人; …委员会主任任振鹤) is no entity."""
    orgs = {e.start: e for e in doc.entities if e.label == "ORG"}
    drop: set[str] = set()
    for e in sorted(orgs.values(), key=lambda s: s.start):
        run, pos = [e], e.end
        while doc.text[pos:pos + 1] in ("、", "和", "及") and pos + 1 in orgs:
            run.append(orgs[pos + 1])
            pos = orgs[pos + 1].end
        if POST.match(doc.text[pos:]):
            drop |= {s.id for s in run}
    if not drop:
        return doc
    by_id = doc.entities_by_id()
    for r in doc.relations:
        if r.head in drop or r.tail in drop:
            log.change(tier, doc, by_id[r.head], _desc(doc, r), "removed (its ORG is a post)", "8c posts are not bodies")
    for i in sorted(drop, key=lambda i: by_id[i].start):
        log.change(tier, doc, by_id[i], "ORG", "untagged", "8c posts are not bodies")
    return doc.with_annotations(entities=[e for e in doc.entities if e.id not in drop],
                                relations=[r for r in doc.relations if r.head not in drop and r.tail not in drop])


# ---------------------------------------------------------------------------------------------
# 8d: deictic bodies are ORG
# ---------------------------------------------------------------------------------------------

DEICTIC_WORD = re.compile(r"(?:我|本)(?:局|委|院|办|厅|中心)(?=[^\u4e00-\u9fff]|[共全累先今积依以在把对为与和及、，还])")


def rule_8d(tier: str, doc: Document, log: Log) -> Document:
    """我局, 本局, 我委… left untagged are ORG; AGENT of the counts of their clause when they open it."""
    new, rels = [], []
    heads = {r.head for r in doc.relations if r.label == "HAS_VALUE"}
    has_agent = {r.head for r in doc.relations if r.label == "AGENT"}
    limit = annotate.annotate_until({"id": doc.id, "text": doc.text})
    for m in DEICTIC_WORD.finditer(doc.text):
        if limit is not None and m.start() >= limit:
            continue
        if any(e.start < m.end() and m.start() < e.end for e in doc.entities):
            continue
        span = Span(f"D{len(new) + 1}", "ORG", m.start(), m.end(), m.group())
        new.append(span)
        log.change(tier, doc, span, "untagged", "ORG", "8d deictic body: ORG")
        # the subject of its clause: counts up to the next ；/。 with no other ORG/REGION before them
        clause_end = min([p for p in (doc.text.find(c, m.end()) for c in "；。\n") if p >= 0] or [len(doc.text)])
        for e in sorted(doc.entities, key=lambda s: s.start):
            if not m.end() <= e.start < clause_end:
                continue
            if e.label in ("ORG", "REGION"):
                break
            if e.label in ("METRIC", "PROGRAM") and e.id in heads and e.id not in has_agent:
                rels.append(Relation(f"D{len(rels) + 1}", "AGENT", e.id, span.id))
                log.change(tier, doc, e, "no AGENT", f"AGENT > {span.text}", "8d deictic body: AGENT")
    if not new:
        return doc
    return doc.with_annotations(entities=list(doc.entities) + new, relations=list(doc.relations) + rels)


RULES = (rule_8a_when, rule_8a_tag, rule_8b, rule_8c, rule_8d)


def run(dry: bool) -> Log:
    sources = annotate.load_sources()
    log = Log()
    for tier, path in tiers():
        doc = annotate.build_document(path, sources, project_repeat=False)
        before = len(log.lines)
        for rule in RULES:
            doc = rule(tier, doc, log)
        if len(log.lines) > before and not dry:
            path.write_text(consistency.write_compact(doc), encoding="utf-8")
    return log


def main() -> int:
    args = sys.argv[1:]
    if args not in ([], ["--dry"]):
        print(__doc__, file=sys.stderr)
        return 2
    dry = args == ["--dry"]
    log = run(dry)
    for line in log.lines:
        print(line)
    for line in log.doubts:
        print("doubt\t" + line)
    summary = ", ".join(f"{rule} {tier} {n}" for (rule, tier), n in sorted(log.count.items())) or "no changes"
    print(f"guideline pass: {len(log.lines)} changes ({summary}); {len(log.doubts)} doubts left"
          + (" (dry run)" if dry else ""))
    if log.lines and not dry:
        LOG.write_text("# tools/guideline_pass.py: GUIDELINES.md section 8 applied to gold and silver\n"
                       "# doc\tsentence\t[start,end)\ttext\tbefore → after\trule\n"
                       + "\n".join(log.lines) + "\n# doubts: seen, not clearly covered, left as annotated\n"
                       + "\n".join("doubt\t" + d for d in log.doubts) + "\n"
                       + f"# {summary}\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
