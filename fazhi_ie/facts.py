"""Facts: each HAS_VALUE pair enriched with agent, time, program and evidence (docs/SCHEMA.md).

Reads entities, relations, sentences and document meta; writes nothing back. `facts_for`
is the one place facts are made (the pipeline, the tables, the research commands and the
evaluator all call it), so a document gets the same facts whoever asks. Document defaults
(the report's own region or body, and its year) fill agent and time where the sentence
states none; they come from meta, or else from the title and opening lines (`defaults_for`).

Time is data: each fact carries `period` (its time, or the report year, resolved by
`fazhi_ie.periods`: 2023, 2023-H1, 2021/2025, as of 2023-11) and `times`, every other TIME of
its sentence with its role (comparison base, deadline, since-when, as-of). A WHEN tail that is
a comparison base (较2022年同期) is never the fact's time. An agent that is a deictic region word (全区, 我县, 本市; 新区 in a report about a 新区) is the report's own
region when the report names it (meta, title or opening, else the body: `report.author_region`), the
same region that facts with no agent fall back to; a count of a stock (现有, 累计建成, 已命名) with no time of
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

A bare verb (a metric made only of action verbs after a filler, 依法, 不予 or 未: 接收, 不予受理, 办结) names
what it counts where the text lets it: (1) it runs on to its value over a METRIC that heads no value of its
own (接收|社区矫正对象|4229人 → 接收社区矫正对象; 依法|纠正行政机关违法行为|14件), never over a METRIC with a
value or any other entity; (2) after its value it runs on to such a METRIC at most MAX_OBJECT_GAP
characters on, over REGION spans only (79人|参加|全区|行政执法人员资格(续职)培训考试); (3) a value-less METRIC
right before it is its object (行政复议申请|不予受理3件); (4) right before its value with nothing longer, it
shares the object of its sibling clause (`counted_objects`: 收到行政复议申请245件,立案193件,不予受理52件 →
`metric_object` 行政复议申请 for 立案 and 不予受理, its offsets in `evidence.object_span`), the metric itself
staying the verb. None of these crosses 。；！？ or a line break. A WHEN tail loses a stray 在/于 (6月16日在 →
6月16日); a program loses leading function words (了行政执法全过程记录制度) and is dropped where the metric
already names it; `times` lists a time named twice in one sentence once.

Evidence quotes the fact's sentence; a sentence longer than sentences.MAX_WINDOW is
quoted only as far as the linking window(s) holding the metric and the value, with
`sentence_start`/`sentence_end` giving that excerpt's offsets, so that output stays
linear in the input (text[sentence_start:sentence_end] == sentence always holds).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

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
    heads = {r.head for r in doc.relations if r.label == "HAS_VALUE"}
    fragments = [e for e in doc.entities if e.label == "METRIC" and e.id not in heads]  # METRICs with no value
    regions = [(e.start, e.end) for e in doc.entities if e.label == "REGION"]
    facts = []
    pairs = sorted(((by_id[r.head], by_id[r.tail], r.score) for r in doc.relations if r.label == "HAS_VALUE"),
                   key=lambda p: p[1].start)
    phrases = [metric_phrase(doc.text, head, value, occupied, windows, fragments, regions) for head, value, _ in pairs]
    objects = counted_objects(doc.text, [(m0, m1, value.start, value.end, span_norm(doc.text, value).unit,
                                          _evidence_bounds(windows, head, value)[0])
                                         for (m0, m1), (head, value, _) in zip(phrases, pairs)])
    for (head, value, score), (m0, m1), obj in zip(pairs, phrases, objects):
        norm = span_norm(doc.text, value)
        ev_start, ev_end = _evidence_bounds(windows, head, value)
        agent = _nearest(outgoing.get((head.id, "AGENT")), value)
        whens = [t for t in outgoing.get((head.id, "WHEN")) or ()
                 if time_role(doc.text, t.start, t.end) != "comparison_base"]
        when = _nearest(whens, value)
        program = _nearest(outgoing.get((head.id, "IN_PROGRAM")), value)
        time = _clean_time(when.text) if when else defaults.time
        period = resolve_period(time, defaults.year) if time else None
        if when is None and period is not None and _STOCK.search(doc.text[ev_start:value.start]):
            period = f"as of {period}"  # 现有…, 累计建成…: a stock at the report's date, not the year's count
        others = _other_times(doc.text, [t for t in times if ev_start <= t.start and t.end <= ev_end and t is not when],
                              value, defaults.year)
        facts.append(Fact(
            metric=doc.text[m0:m1], value=value.text, number=norm.number, unit=norm.unit, qualifier=norm.qualifier,
            change=norm.change,
            agent=_resolve_agent(agent.text, defaults.agent) if agent else defaults.agent,
            time=time,
            program=_clean_program(doc.text, program, (m0, m1)),
            evidence=Evidence(doc.text[ev_start:ev_end], ev_start, ev_end, (m0, m1),
                              (value.start, value.end), obj),
            score=score, metric_id=head.id, value_id=value.id,
            period=period, times=others, metric_object=doc.text[obj[0]:obj[1]] if obj else None,
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
    """A deictic region word of the report's own level as the report's own region (全区 → 兰州市城关区) when
    the report names it; 全市 in a district's report and 全国 stay as they are."""
    if not region or text == "全国":
        return text
    deictic = _DEICTIC.match(text)
    if deictic and (deictic.group(2) is None or region.endswith(deictic.group(2))):
        return region  # 全区 in a report about 城关区, never 全市 (the city around it)
    if text in ("新区", "全新区") and region.endswith("新区"):
        return region  # 新区 only in a report about a 新区 (大连金普新区)
    return text


def metric_phrase(text: str, head: Span, value: Span, occupied: list[tuple[int, int]], windows,
                  fragments: Sequence[Span] = (), regions: Sequence[tuple[int, int]] = ()) -> tuple[int, int]:
    """The [start, end) of a fact's metric phrase: the head span, extended by the rule of the module
    docstring when it is a METRIC of at most SHORT_METRIC characters or a bare verb (`fragments`: METRIC
    spans that head no value of their own, which a short head may take in; `regions`: REGION spans a
    verb after its value may run over to its object)."""
    start, end = head.start, head.end
    if head.label != "METRIC":
        return start, end
    for opening, closing in _PAIRS:  # 行政村(社区 → 行政村(社区): a bracket or quote the span opened is closed
        if text[start:end].count(opening) > text[start:end].count(closing) and text[end:end + 1] == closing:
            end += 1
    bare = bool(_BARE_VERB.match(text[start:end]))
    if end - start > SHORT_METRIC and not bare:
        return start, end
    k = sentence_index(windows, start)
    lo = windows[k].start if k is not None else 0
    loose = {(f.start, f.end) for f in fragments}

    def free(a: int, b: int, allowed=frozenset()) -> bool:
        return not any(s < b and a < e for s, e in occupied if (s, e) != (head.start, head.end) and (s, e) not in allowed)

    if bare:  # 行政复议申请|不予受理3件: a value-less METRIC right before a bare verb is its object
        left = [f for f in fragments if f.end == start and f.start >= lo
                and not any(c in _CLAUSE_STOPS for c in text[f.start:f.end])]
        if left:
            start = left[0].start
    if value.start >= end and value.start - end <= MAX_METRIC and _GAP_OK.match(text[end:value.start]) \
            and free(end, value.start, loose):  # 接收|社区矫正对象|4229人: the object runs on to the value
        gap_end = value.start
        while gap_end > end and text[gap_end - 1] in "、“”‘’\"'《〈":
            gap_end -= 1
        match = _TRAILING_COPULA.search(text[end:gap_end])
        if match:
            gap_end -= len(match.group(1))
        end = max(end, gap_end)
    elif value.end <= start and bare:  # 2项|列入|全市法治为民实事项目
        after = [f for f in fragments if end <= f.start <= end + MAX_OBJECT_GAP and f.end - end <= MAX_METRIC
                 and _GAP_OK.match(text[end:f.start]) and free(end, f.start, set(regions))]
        if after:
            end = min(after, key=lambda f: f.start).end
    if end - start <= SHORT_METRIC and text[start:end].endswith("率"):  # 办率, 格率: the rate's name begins earlier
        new_start = start
        while new_start > lo and text[new_start - 1] not in _CLAUSE_STOPS and free(new_start - 1, new_start) \
                and end - new_start < MAX_METRIC and "\u3400" <= text[new_start - 1] <= "\u9fff" \
                and not any(text[:new_start].endswith(f) for f in _FILLERS):
            new_start -= 1
        start = new_start
    return start, end


#: action verbs that count an object they do not name when they stand alone (收到行政复议申请245件,立案193件,
#: 不予受理52件): a metric made only of these (after a filler, 依法, 不予, 未…) is a bare verb
_VERBS = ("受理|立案|收到|接收|审结|办结|结案|办理|解除|化解|排查|发现|修改|废止|发放|发布|建立|维持|撤销|驳回|纠正|"
          "转送|告知|结转|调解|查处|处理|答复|接待|补正|确认|终止|新收|收案|审查|备案|清理|整改|完成|出具|执结|"
          "审理|调处|移送|列入|参加|通过|抽取|学习")
_LEADS = "累计|共计|其中|全年|目前|先后|今年|分别|已经|已|共|还|并|又|均|依法|成功|不予|予以|逾期未|未|正在|在"
_BARE_VERB = re.compile(rf"^(?:{_LEADS})*(?:{_VERBS})+$")
_SENTENCE_STOPS = re.compile(r"[。；;！？!?\n]")
#: what may stand between a bare verb and its value (已|化解1132件 has nothing; 共|审结)
_VERB_VALUE_GAP = re.compile(rf"^(?:{_LEADS}|\s)*$")
MAX_OBJECT_GAP = 4  # a verb after its value runs on to a value-less METRIC at most this far (over REGIONs only)


def counted_objects(text: str, items: Sequence[tuple[int, int, int, int, str | None, int]]
                    ) -> list[tuple[int, int] | None]:
    """For facts given as (metric start, metric end, value start, value end, unit, sentence start) in text
    order: the span of the object each bare-verb metric counts, taken from its sibling clause.

    A bare verb right before its value (立案193件, 不予受理52件) shares the object of the nearest earlier
    fact of its sentence with the same unit whose metric precedes its value (收到行政复议申请245件 →
    行政复议申请: what follows the sibling metric's last verb; none when it ends in a verb), passing over
    other bare verbs of the row (they share it) and over facts inside a bracket closed before it (当面申请15).
    Inside a bracket opened after a fact (审结行政复议案件39件(其中2022年结转7件), that fact is the parent
    whatever its unit, and inside a (其中… bracket the parent wins over the items beside it
    (复议案件6起(其中驳回复议申请2件,维持2件 → 复议案件). Never across 。；！？ or a line break; None where
    no sibling names an object.
    """
    out: list[tuple[int, int] | None] = [None] * len(items)
    for i, (m0, m1, v0, _v1, unit, floor) in enumerate(items):
        if not (m1 <= v0 and _BARE_VERB.match(text[m0:m1]) and _VERB_VALUE_GAP.match(text[m1:v0])):
            continue
        opening = _open_bracket(text, floor, m0)
        in_list = opening is not None and text[opening + 1:opening + 3] == "其中"
        for j in range(i - 1, -1, -1):
            s0, s1, w0, w1, sib_unit, _ = items[j]
            if w1 > m0 or s1 > m0:
                continue
            between = text[w1:m0]
            if w0 < floor or _SENTENCE_STOPS.search(between):
                break
            if s0 >= w1 or (in_list and opening is not None and w0 > opening):
                continue  # 还有1件在审理中 names no object before its value; an item beside this one in (其中…)
            closed_before, parent = _bracket_relation(between)
            if closed_before:
                continue  # the sibling sits in a bracket that closed before this fact
            if sib_unit != unit and not parent:
                break
            if out[j] is not None:
                out[i] = out[j]
                break
            if _BARE_VERB.match(text[s0:s1]):
                if parent:
                    break
                continue
            verbs = [m.end() for m in _ANY_VERB.finditer(text, s0, s1)]
            k = verbs[-1] if verbs else s0  # after the last verb: 调委会累计排查|矛盾纠纷, 立案受理|行政复议案件
            if s1 - k >= 2 and not any(c in _CLAUSE_STOPS for c in text[k:s1]):
                out[i] = (k, s1)
            break
    return out


_ANY_VERB = re.compile(rf"(?:{_LEADS}|{_VERBS})+")


def _open_bracket(text: str, floor: int, pos: int) -> int | None:
    """The offset of the innermost bracket opened in text[floor:pos] and not closed before `pos`, else None."""
    depth = 0
    for k in range(pos - 1, floor - 1, -1):
        if text[k] in ")）":
            depth += 1
        elif text[k] in "(（":
            if depth == 0:
                return k
            depth -= 1
    return None


def _bracket_relation(between: str) -> tuple[bool, bool]:
    """For the text between a sibling's value and a fact's metric: (the sibling lies in a bracket closed in
    between, the fact lies in a bracket opened in between)."""
    depth, opened = 0, 0
    for c in reversed(between):
        if c in ")）":
            depth += 1
        elif c in "(（":
            if depth:
                depth -= 1
            else:
                opened += 1
    return depth > 0, opened > 0


#: characters a TIME span may carry on its right that are no part of the time (6月16日在)
_TIME_TAIL = "在于对，,、 　"
#: function words a PROGRAM span may carry on its left (了行政执法全过程记录制度)
_PROGRAM_HEAD = "了的和及与对在将把被以为并"


def _clean_time(time: str) -> str:
    """A WHEN tail's text less a stray preposition or comma on its right (6月16日在 → 6月16日)."""
    cleaned = time.rstrip(_TIME_TAIL)
    return cleaned or time


def _clean_program(text: str, program: Span | None, metric: tuple[int, int]) -> str | None:
    """A program's text less leading function words (了行政执法全过程记录制度 → 行政执法全过程记录制度);
    None for a program inside the metric phrase or named by it (it only repeats the metric's title)."""
    if program is None or program.text in text[metric[0]:metric[1]]:  # inside the metric, or repeating it
        return None
    cleaned = program.text.lstrip(_PROGRAM_HEAD)
    return cleaned if len(cleaned) >= 2 else program.text


def _other_times(text: str, times: list[Span], value: Span, year: int | None) -> tuple[TimeRole, ...]:
    """The other times of a fact's sentence with their roles: one per (text, role), the nearest to the value
    (a sentence naming 2022年同期 twice lists it once)."""
    chosen: dict[tuple[str, str], tuple[int, Span]] = {}
    for t in times:
        role = time_role(text, t.start, t.end)
        distance = min(abs(t.start - value.end), abs(value.start - t.end))
        key = (t.text, role)
        if key not in chosen or distance < chosen[key][0]:
            chosen[key] = (distance, t)
    kept = sorted(((t, role) for (_, role), (_, t) in chosen.items()), key=lambda item: item[0].start)
    return tuple(TimeRole(t.text, t.start, t.end, role, resolve_period(t.text, year)) for t, role in kept)


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
