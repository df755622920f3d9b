"""Facts: each HAS_VALUE pair enriched with agent, time, program and evidence (docs/SCHEMA.md).

Reads entities, relations, sentences and document meta; writes nothing back. `facts_for`
is the one place facts are made (the pipeline, the tables, the research commands and the
evaluator all call it), so a document gets the same facts whoever asks. Document defaults
(the report's own region or body, and its year) fill agent and time where the sentence
states none; they come from meta, or else from the title and opening lines (`defaults_for`).

Time is data: each fact carries `period` (its time, or the report year, resolved by
`fazhi_ie.periods`: 2023, 2023-H1, 2021/2025, as of 2023-11) and `times`, every other TIME of
its sentence with its role (comparison base, deadline, since-when, as-of). A WHEN tail that is
a comparison base (较2022年同期) is never the fact's time. An agent that is a deictic region word (全区, 我县, 本市) is the report's own region when
the report names it (meta, title or opening); a count of a stock (现有, 累计建成, 已命名) with no time of
its own has period "as of" the report year. A from-to pair of one metric
(由8.82%提高到61.40%, 由上年的8%提高到21%, 从A增至B) is one fact: `value` B, `previous_value` A, `change` the
direction.

A fact's metric is never one or two characters where the text has something longer
(`metric_phrase`; the rule): when the value follows the metric in the same clause, the metric
runs on to the value over the words between them (依法|纠正行政机关违法行为|14件 → 依法纠正行政机关违法行为),
less a final copula (为, 达, 达到, 共, 计); a rate still of one or two characters (办率, 格率)
takes in the characters before it back to a clause break, another entity or a filler word (已,
共, 累计, 其中, 全年, 目前), so 及|格率 → 及格率. A counted noun after its number (29个单位) or a bare
verb before its number (累计办结103.46万件) has nothing longer and stays. A metric that opens a bracket or
quote the next character closes takes it in (行政村(社区 → 行政村(社区)). `evidence.metric_span`
gives the phrase; `metric_id` stays the head entity.

Evidence quotes the fact's sentence; a sentence longer than sentences.MAX_WINDOW is
quoted only as far as the linking window(s) holding the metric and the value, with
`sentence_start`/`sentence_end` giving that excerpt's offsets, so that output stays
linear in the input (text[sentence_start:sentence_end] == sentence always holds).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from .document import Document, Evidence, Fact, Span
from .normalize import span_norm
from .periods import TimeRole, resolve_period, time_role
from .report import ReportInfo, report_info
from .sentences import linking_windows, sentence_index, split_sentences



@dataclass(frozen=True)
class DocumentDefaults:
    """The agent and time a fact falls back to when its sentence states none."""

    agent: str | None
    time: str | None
    year: int | None = None


def document_defaults(text: str, meta: Mapping, known_regions: list[str] | None = None) -> DocumentDefaults:
    """The defaults of a text and its meta without a Document (see `defaults_for`)."""
    return _defaults_of(report_info(text, meta, known_regions or []))


def info_for(doc: Document) -> ReportInfo:
    """What `doc` says about itself (year, region, furniture, repeated blocks; `fazhi_ie.report`)."""
    from .gazetteer import default_named_regions

    return report_info(doc.text, doc.meta, list(default_named_regions()))


def defaults_for(doc: Document, info: ReportInfo | None = None) -> DocumentDefaults:
    """The agent and time `doc`'s facts fall back to: the report's own region and year (meta, else its
    title or opening; never page furniture such as 今天是…)."""
    return _defaults_of(info or info_for(doc))


def _defaults_of(info: ReportInfo) -> DocumentDefaults:
    return DocumentDefaults(agent=info.region, time=str(info.year) if info.year is not None else None, year=info.year)


def facts_for(doc: Document, defaults: DocumentDefaults | None = None, info: ReportInfo | None = None) -> list[Fact]:
    """The facts of `doc`: one per HAS_VALUE relation, in text order of the value.

    `defaults` (default: `defaults_for(doc)`) lets an evaluator assemble gold and predicted
    facts under the same document defaults; `info` is `info_for(doc)` when already known.
    """
    info = info or info_for(doc)
    facts = assemble_facts(doc, defaults if defaults is not None else defaults_for(doc, info))
    return mark_duplicates(facts, info) if info.repeats else facts


def mark_duplicates(facts: list[Fact], info: ReportInfo) -> list[Fact]:
    """Facts whose metric and value lie in a block the page repeats get `duplicate_of`: the value span of
    the same fact in the original block."""
    from dataclasses import replace

    out = []
    for fact in facts:
        value = info.original_of(*fact.evidence.value_span)
        metric = info.original_of(*fact.evidence.metric_span)
        out.append(replace(fact, duplicate_of=value) if value is not None and metric is not None else fact)
    return out


def assemble_facts(doc: Document, defaults: DocumentDefaults) -> list[Fact]:
    """One Fact per HAS_VALUE relation of `doc` under `defaults` (use `facts_for`); from-to pairs merged."""
    by_id = doc.entities_by_id()
    outgoing: dict[tuple[str, str], list[Span]] = {}
    for rel in doc.relations:
        if rel.label in ("AGENT", "WHEN", "IN_PROGRAM"):
            outgoing.setdefault((rel.head, rel.label), []).append(by_id[rel.tail])
    windows = linking_windows(doc.text, sentences=doc.sents)
    times = sorted((e for e in doc.entities if e.label == "TIME"), key=lambda e: e.start)
    occupied = sorted((e.start, e.end) for e in doc.entities)
    facts = []
    pairs = [(by_id[r.head], by_id[r.tail], r.score) for r in doc.relations if r.label == "HAS_VALUE"]
    for head, value, score in sorted(pairs, key=lambda p: p[1].start):
        norm = span_norm(doc.text, value)
        ev_start, ev_end = _evidence_bounds(windows, head, value)
        agent = _nearest(outgoing.get((head.id, "AGENT")), value)
        whens = [t for t in outgoing.get((head.id, "WHEN")) or ()
                 if time_role(doc.text, t.start, t.end) != "comparison_base"]
        when = _nearest(whens, value)
        program = _nearest(outgoing.get((head.id, "IN_PROGRAM")), value)
        time = when.text if when else defaults.time
        period = resolve_period(time, defaults.year) if time else None
        if when is None and period is not None and _STOCK.search(doc.text[ev_start:value.start]):
            period = f"as of {period}"  # 现有…, 累计建成…: a stock at the report's date, not the year's count
        others = tuple(TimeRole(t.text, t.start, t.end, time_role(doc.text, t.start, t.end),
                                resolve_period(t.text, defaults.year))
                       for t in times if ev_start <= t.start and t.end <= ev_end and t is not when)
        m0, m1 = metric_phrase(doc.text, head, value, occupied, windows)
        facts.append(Fact(
            metric=doc.text[m0:m1], value=value.text, number=norm.number, unit=norm.unit, qualifier=norm.qualifier,
            change=norm.change,
            agent=_resolve_agent(agent.text, defaults.agent) if agent else defaults.agent,
            time=time,
            program=program.text if program else None,
            evidence=Evidence(doc.text[ev_start:ev_end], ev_start, ev_end, (m0, m1),
                              (value.start, value.end)),
            score=score, metric_id=head.id, value_id=value.id,
            period=period, times=others,
        ))
    return merge_from_to(doc.text, facts)


SHORT_METRIC = 2  # a metric of this many characters or fewer is extended where the text allows
_PAIRS = (("(", ")"), ("（", "）"), ("“", "”"), ("《", "》"), ("「", "」"))
MAX_METRIC = 24
_CLAUSE_STOPS = set("，,。；;：:！？!?（）()\n\r\t 　")
_GAP_OK = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff“”‘’\"'、《》〈〉0-9０-９]*$")
_TRAILING_COPULA = re.compile(r"(共计|累计|达到|分别|(?<![行作认成称视因以])为|达|是|共|计|有)$")  # not 行为
_FILLERS = ("累计", "共计", "其中", "全年", "目前", "先后", "今年", "分别", "已经", "已", "共", "还", "并", "又", "均", "等")


#: a deictic region word (全县, 我区, 本市, 辖区): the report's own region when the report names it
_DEICTIC = re.compile(r"^(全|我|本)(国|省|区|市|县|州|盟|旗|镇|乡)$|^辖区$")
#: words that make a count a stock at the report's date (现有, 累计建成): its period is "as of" the year
_STOCK = re.compile(r"现有|共有|在册|累计|已建成|已命名|已建立|共建立|共建成|目前已")


def _resolve_agent(text: str, region: str | None) -> str:
    """A deictic region word as the report's own region (全区 → 兰州市城关区) when the report names it;
    全国 stays 全国."""
    if region and text != "全国" and _DEICTIC.match(text):
        return region
    return text


def metric_phrase(text: str, head: Span, value: Span, occupied: list[tuple[int, int]],
                  windows) -> tuple[int, int]:
    """The [start, end) of a fact's metric phrase: the head span, extended by the rule of the module
    docstring when it is a METRIC of at most SHORT_METRIC characters."""
    start, end = head.start, head.end
    if head.label != "METRIC":
        return start, end
    for opening, closing in _PAIRS:  # 行政村(社区 → 行政村(社区): a bracket or quote the span opened is closed
        if text[start:end].count(opening) > text[start:end].count(closing) and text[end:end + 1] == closing:
            end += 1
    if end - start > SHORT_METRIC:
        return start, end
    k = sentence_index(windows, start)
    lo = windows[k].start if k is not None else 0

    def free(a: int, b: int) -> bool:
        return not any(s < b and a < e for s, e in occupied if (s, e) != (head.start, head.end))

    if value.start >= end and value.start - end <= MAX_METRIC and _GAP_OK.match(text[end:value.start]) \
            and free(end, value.start):
        gap_end = value.start
        while gap_end > end and text[gap_end - 1] in "、“”‘’\"'《〈":
            gap_end -= 1
        match = _TRAILING_COPULA.search(text[end:gap_end])
        if match:
            gap_end -= len(match.group(1))
        end = max(end, gap_end)
    if end - start <= SHORT_METRIC and text[start:end].endswith("率"):  # 办率, 格率: the rate's name begins earlier
        new_start = start
        while new_start > lo and text[new_start - 1] not in _CLAUSE_STOPS and free(new_start - 1, new_start) \
                and end - new_start < MAX_METRIC and "\u3400" <= text[new_start - 1] <= "\u9fff" \
                and not any(text[:new_start].endswith(f) for f in _FILLERS):
            new_start -= 1
        start = new_start
    return start, end


#: the words between the two values of a from-to pair (由A提高到B, 从A增至B, A下降至B)
_FROM_BEFORE = re.compile(r"(由|从)(?:[^，。；,;！？\d]{0,12}的)?\s*$")  # 由8.82%, 由上年的8%, 从2021年的85%
_FROM_TO_BETWEEN = re.compile(r"^\s*(?:[，,、]?\s*)?(提高|提升|增加|增长|上升|扩大|增|升|降低|下降|减少|压减|压缩|缩短|缩减|降|减)?"
                              r"(?:了)?\s*(到|至|为)\s*$")


def merge_from_to(text: str, facts: list[Fact]) -> list[Fact]:
    """Merge each from-to pair of one metric into one fact (the later value, with `previous_value`)."""
    from dataclasses import replace

    out: list[Fact] = []
    skip: set[int] = set()
    for i, fact in enumerate(facts):
        if i in skip:
            continue
        nxt = facts[i + 1] if i + 1 < len(facts) else None
        (v0, v1) = fact.evidence.value_span
        if (nxt is not None and nxt.metric_id == fact.metric_id and nxt.metric_id is not None
                and _FROM_BEFORE.search(text[max(0, v0 - 16):v0])
                and _FROM_TO_BETWEEN.match(text[v1:nxt.evidence.value_span[0]])):
            direction = None
            if fact.number is not None and nxt.number is not None and fact.unit == nxt.unit:
                direction = "increase" if nxt.number > fact.number else "decrease" if nxt.number < fact.number else None
            out.append(replace(nxt, previous_value=fact.value, previous_number=fact.number,
                               change=direction or nxt.change))
            skip.add(i + 1)
            continue
        out.append(fact)
    return out


def _evidence_bounds(windows, head: Span, value: Span) -> tuple[int, int]:
    """The evidence excerpt of a fact: from the window (sentence, or bounded part of a long
    sentence) holding the earlier of metric and value to the one holding the later, and never
    less than the two spans themselves."""
    lo, hi = min(head.start, value.start), max(head.end, value.end)
    first = sentence_index(windows, lo)
    last = sentence_index(windows, hi - 1)
    start = min(lo, windows[first].start) if first is not None else lo
    end = max(hi, windows[last].end) if last is not None else hi
    return start, end


def _nearest(tails: list[Span] | None, value: Span) -> Span | None:
    """Of several tails of one head (a metric with values for two years), the one that
    governs this value: the closest before it, else the closest after it."""
    if not tails:
        return None
    before = [t for t in tails if t.end <= value.start]
    if before:
        return max(before, key=lambda t: t.end)
    return min(tails, key=lambda t: t.start)
