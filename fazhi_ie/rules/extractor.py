"""The rule-based engine: patterns and a gazetteer for spans, proximity for relations.

Reads: the document text. Writes: entities (all seven labels) and HAS_VALUE, AGENT and
WHEN relations. It is the baseline the trained model must beat and a weak-label source.
A VALUE for which no head can be found is not output (the schema wants every VALUE to
have one); such values are listed in the prediction's `dropped` diagnostics instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..document import Relation, Span
from ..normalize import normalize_span
from ..prediction import Prediction
from ..sentences import Sentence, linking_windows
from . import patterns as P
from ..gazetteer import Gazetteer, default_gazetteer

SCORE = {"gazetteer": 0.9, "pattern": 0.8, "org": 0.6, "metric": 0.5, "has_value": 0.6, "agent": 0.4, "when": 0.5,
         "in_program": 0.3}
IN_PROGRAM_REACH = 12  # characters between a PROGRAM and a following METRIC for IN_PROGRAM
CLASSIFIERS = set("个名家所位项件条批份篇场支座处台辆部户")
REGION_LEVEL_CHARS = set("省市县区州旗乡镇村")


@dataclass
class _Candidate:
    start: int
    end: int
    label: str
    score: float
    priority: int


class RuleEngine:
    """Patterns + gazetteer + proximity. Deterministic and dependency-light."""

    name = "rules"

    def __init__(self, gazetteer: Gazetteer | None = None):
        self.gazetteer = gazetteer or default_gazetteer()

    def predict(self, text: str, sentences: Sequence[Sentence] | None = None) -> Prediction:
        """Spans and relations of `text`; `sentences` are its sentences when already split (the pipeline's)."""
        entities: list[Span] = []
        relations: list[Relation] = []
        dropped: list[dict] = []
        for sent in linking_windows(text, sentences=sentences):  # sentences, long ones cut into bounded windows
            spans = self._sentence_spans(text, sent)
            sent_entities, sent_relations, sent_dropped = self._link(text, sent, spans)
            entities.extend(sent_entities)
            relations.extend(sent_relations)
            dropped.extend(sent_dropped)
        ordered = sorted(entities, key=lambda s: s.start)
        new_id = {id(span): f"T{i}" for i, span in enumerate(ordered, start=1)}
        final_entities = [Span(new_id[id(sp)], sp.label, sp.start, sp.end, sp.text, sp.score, sp.norm) for sp in ordered]
        final_relations = [Relation(f"R{i}", rel.label, new_id[id(rel.head)], new_id[id(rel.tail)], rel.score)
                           for i, rel in enumerate(relations, start=1)]
        return Prediction(final_entities, final_relations, dropped)

    # --- spans ---------------------------------------------------------------------------
    def _sentence_spans(self, text: str, sent: Sentence) -> list[_Candidate]:
        s = sent.text
        base = sent.start
        cands: list[_Candidate] = []
        for m in P.DOC_RE.finditer(s):
            cands.append(_Candidate(base + m.start(), base + m.end(), "DOC", SCORE["pattern"], 0))
        for m in P.DOC_VERB_TITLE_RE.finditer(s):
            cands.append(_Candidate(base + m.start(), base + m.end(), "DOC", SCORE["metric"], 5))
        for start, end, label in self.gazetteer.find(s):
            if label == "PROGRAM" and s[start:end] in P.STANDING_LINES and end < len(s) and _is_cjk(s[end]) \
                    and not s.startswith(("工作", "体制", "制度", "和", "与", "等"), end):
                continue  # 社区矫正对象, 法律援助案件: the line of work only modifies a noun
            cands.append(_Candidate(base + start, base + end, label, SCORE["gazetteer"], 1))
        for m in P.QUOTED_PROGRAM_RE.finditer(s):
            start = m.start() + _trim_left_modifier(m.group())
            if not m.group("head") and not s[:start].endswith(P.PROGRAM_VERBS):
                continue  # a bare quotation is a slogan unless a program verb introduces it
            cands.append(_Candidate(base + start, base + m.end(), "PROGRAM", SCORE["pattern"], 2))
        for m in P.PLAIN_PROGRAM_RE.finditer(s):
            start = _after_program_verb(s, m.start(), m.end())
            if start is not None and m.end() - start >= 4:
                cands.append(_Candidate(base + start, base + m.end(), "PROGRAM", SCORE["metric"], 5))
        for m in P.TIME_RE.finditer(s):
            cands.append(_Candidate(base + m.start(), base + m.end(), "TIME", SCORE["pattern"], 2))
        for m in P.VALUE_RE.finditer(s):
            if _is_value(s, m):
                cands.append(_Candidate(base + m.start(), base + m.end(), "VALUE", SCORE["pattern"], 3))
        for m in P.ORG_SUFFIX_RE.finditer(s):
            start = _org_start(s, m.start(), self.gazetteer)
            if start is not None and m.end() - start >= 3:
                cands.append(_Candidate(base + start, base + m.end(), "ORG", SCORE["org"], 4))
        # Longest first; on ties the lower priority number wins. Accept non-overlapping.
        cands.sort(key=lambda c: (-(c.end - c.start), c.priority, c.start))
        taken: list[_Candidate] = []
        for cand in cands:
            if all(cand.end <= t.start or cand.start >= t.end for t in taken):
                taken.append(cand)
        return sorted(taken, key=lambda c: c.start)

    # --- metrics and relations -------------------------------------------------------------
    def _link(self, text: str, sent: Sentence, cands: list[_Candidate]):
        spans = [Span("", c.label, c.start, c.end, text[c.start:c.end], c.score) for c in cands]
        # A standing line of work inside a counted phrase belongs to the METRIC (办理法律援助案件),
        # so metric scans may run over PROGRAM spans, which are then given up.
        occupied = [(sp.start, sp.end) for sp in spans if sp.label != "PROGRAM"]
        metrics: list[Span] = []
        relations: list[Relation] = []
        dropped: list[dict] = []
        keep: list[Span] = []
        for sp in spans:
            if sp.label != "VALUE":
                keep.append(sp)
                continue
            norm = normalize_span(text, sp.start, sp.end, floor=sent.start)
            value = Span("", "VALUE", sp.start, sp.end, sp.text, sp.score, norm)
            head = self._metric_after(text, sent, value, occupied) or self._metric_before(text, sent, value, occupied)
            if head is not None:
                metrics.append(head)
                occupied.append((head.start, head.end))
            else:
                head = _nearest_head(spans, value)
                if head is not None:
                    # a PROGRAM already taken into a METRIC (人民调解120件130人) heads as that METRIC
                    head = next((m for m in metrics if m.start < head.end and head.start < m.end), head)
                    occupied.append((head.start, head.end))
            if head is None:
                dropped.append({"text": value.text, "start": value.start, "end": value.end,
                                "reason": "no METRIC, PROGRAM, DOC or ORG found for this VALUE"})
                continue
            keep.append(value)
            relations.append(Relation("", "HAS_VALUE", head, value, SCORE["has_value"]))  # type: ignore[arg-type]
        linked = {id(r.head) for r in relations}  # type: ignore[arg-type]
        keep = [sp for sp in keep
                if id(sp) in linked or not any(m.start < sp.end and sp.start < m.end for m in metrics)]
        keep.extend(metrics)
        keep, relations = _without_overlaps(keep, relations, dropped)
        for head in {id(r.head): r.head for r in relations}.values():  # type: ignore[attr-defined]
            if head.label not in ("METRIC", "PROGRAM"):
                continue
            agent = _nearest_before(keep, head, ("ORG", "REGION"), text)
            if agent is not None:
                relations.append(Relation("", "AGENT", head, agent, SCORE["agent"]))  # type: ignore[arg-type]
            when = _nearest_before(keep, head, ("TIME",), text)
            if when is not None:
                relations.append(Relation("", "WHEN", head, when, SCORE["when"]))  # type: ignore[arg-type]
            program = _nearest_before(keep, head, ("PROGRAM",), text)
            if head.label == "METRIC" and program is not None and head.start - program.end <= IN_PROGRAM_REACH:
                relations.append(Relation("", "IN_PROGRAM", head, program, SCORE["in_program"]))  # type: ignore[arg-type]
        return keep, relations, dropped

    def _metric_after(self, text: str, sent: Sentence, value: Span, occupied) -> Span | None:
        """Value before its noun (24名法治副校长): the noun that follows is the METRIC."""
        if not value.norm or not value.norm.unit or value.norm.unit[-1] not in CLASSIFIERS:
            return None
        end = value.end
        limit = min(sent.end, value.end + 12)
        while (end < limit and text[end] not in P.STOP_CHARS and not _inside(end, occupied) and _is_cjk(text[end])
               and not text.startswith(P.METRIC_AFTER_STOPS, end)):
            end += 1
        if end - value.end < 2:
            return None
        return Span("", "METRIC", value.end, end, text[value.end:end], SCORE["metric"])

    def _metric_before(self, text: str, sent: Sentence, value: Span, occupied) -> Span | None:
        """The phrase before the value, without linking verbs, scope words and light verbs."""
        prefix = text[sent.start:value.start]
        link = P.LINK_BEFORE_VALUE.search(prefix)
        end = sent.start + (link.start() if link else len(prefix))
        start = end
        while start > max(sent.start, end - 18) and not _inside(start - 1, occupied) and (
                text[start - 1] not in P.STOP_CHARS or text.startswith(P.STOP_CHAR_WORDS, start - 1)):
            start -= 1
        phrase = text[start:end]
        changed = True
        while changed:
            changed = False
            for word in P.METRIC_STOP_WORDS:
                if phrase.startswith(word) and len(phrase) > len(word):
                    phrase, start, changed = phrase[len(word):], start + len(word), True
        if len(phrase) < 2 or not all(_is_cjk(ch) for ch in phrase):
            return None
        return Span("", "METRIC", start, end, phrase, SCORE["metric"])


def _without_overlaps(spans: list[Span], relations: list[Relation], dropped: list[dict]):
    """Spans sorted, with any span that overlaps an earlier-kept one removed (linked heads
    and values first), and the relations and VALUEs that lose their head moved to `dropped`."""
    heads = {id(r.head) for r in relations}  # type: ignore[arg-type]
    order = sorted(spans, key=lambda sp: (sp.label != "VALUE", id(sp) not in heads, sp.start, -sp.end))
    kept: list[Span] = []
    for sp in order:
        if all(sp.end <= k.start or sp.start >= k.end for k in kept):
            kept.append(sp)
    if len(kept) == len(spans):
        return sorted(spans, key=lambda sp: sp.start), relations
    alive = {id(sp) for sp in kept}
    relations = [r for r in relations if id(r.head) in alive and id(r.tail) in alive]  # type: ignore[arg-type]
    has_head = {id(r.tail) for r in relations if r.label == "HAS_VALUE"}  # type: ignore[arg-type]
    final = []
    for sp in kept:
        if sp.label == "VALUE" and id(sp) not in has_head:
            dropped.append({"text": sp.text, "start": sp.start, "end": sp.end,
                            "reason": "its head overlapped another span"})
            continue
        final.append(sp)
    alive = {id(sp) for sp in final}
    relations = [r for r in relations if id(r.head) in alive and id(r.tail) in alive]  # type: ignore[arg-type]
    return sorted(final, key=lambda sp: sp.start), relations


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _inside(pos: int, occupied) -> bool:
    return any(a <= pos < b for a, b in occupied)


def _is_value(s: str, m) -> bool:
    """Reject years, dates, ordinals and list markers that look like quantities."""
    if m.group("scaled"):
        return not s[max(0, m.start() - 1):m.start()] in ("第", "·")
    unit = m.group("unit")
    number = m.group("arabic") or m.group("chinese") or ""
    if m.group("chinese") and (not any(ch in "一二两三四五六七八九十" for ch in number) or number.startswith("零")):
        return False  # 百家, 亿万, 零部件
    if unit == "周" and s[m.end():m.end() + 1] == "年":
        return False
    before = s[max(0, m.start() - 3):m.start()]
    after = s[m.end():m.end() + 1]
    if before.endswith("第") or P.NOT_VALUE_BEFORE.search(before):
        return False
    if unit in ("年", "月", "日") and (after in "度初底末以来" and after or len(number.replace(" ", "")) >= 4 or unit != "年"):
        return False
    if m.group("chinese") and number == "一" and unit in ("个", "项", "批", "种", "体", "类", "件", "条", "次", "年", "份", "届"):
        return False
    if after == "是" or (m.group("chinese") and after in "是要则"):
        return False
    if s[m.end():m.end() + 1] in ("·", "+") or s[max(0, m.start() - 1):m.start()] in ("·", "+"):
        return False
    return True


def _trim_left_modifier(match: str) -> int:
    """Keep a modifier before the opening quote only when it names a domain (行政执法“三项制度”)."""
    quote = match.find("“")
    head = match[:quote]
    for modifier in P.PROGRAM_MODIFIERS:
        if head.endswith(modifier):
            return quote - len(modifier)
    return quote


def _after_program_verb(s: str, start: int, end: int) -> int | None:
    """Start a plain PROGRAM after the last program verb inside [start, end) (深化综合执法体制改革)."""
    best = None
    for verb in P.PROGRAM_VERBS:
        pos = s.rfind(verb, start, end)
        if pos >= 0 and (best is None or pos + len(verb) > best):
            best = pos + len(verb)
    if best is not None:
        return best
    return start if start == 0 or s[start - 1] in P.STOP_CHARS else None


def _org_start(s: str, suffix_start: int, gazetteer: Gazetteer) -> int | None:
    """Where an ORG ending in a body suffix starts: at a known region/body or a level word."""
    left = suffix_start
    while left > 0 and suffix_start - left < 10 and s[left - 1] not in P.STOP_CHARS:
        left -= 1
    window = s[left:suffix_start]
    for start, _end, label in gazetteer.find(window):
        if label in ("REGION", "ORG"):
            return left + start
    for i, ch in enumerate(window):
        if ch in REGION_LEVEL_CHARS and i + 1 < len(window):
            return left + i
    if len(window) <= 4 and window and not any(v in window for v in P.LIGHT_VERBS):
        return left
    return None


def _nearest_head(spans: list[Span], value: Span) -> Span | None:
    """A PROGRAM/DOC/ORG right before the value or right after it across 的 (为期5天的法治督察)."""
    best = None
    for sp in spans:
        if sp.label in ("PROGRAM", "DOC", "ORG"):
            if sp.end <= value.start and value.start - sp.end <= 4:
                best = sp
            elif sp.start >= value.end and sp.start - value.end <= 1 and best is None:
                return sp
    return best


def _nearest_before(spans: list[Span], head: Span, labels: tuple[str, ...], text: str) -> Span | None:
    """The closest span with one of `labels` before `head` in the sentence, not an object."""
    best = None
    for sp in spans:
        if sp.label in labels and sp.end <= head.start:
            if labels != ("TIME",) and text[max(0, sp.start - 1):sp.start] in P.OBJECT_MARKERS:
                continue
            best = sp
    return best
