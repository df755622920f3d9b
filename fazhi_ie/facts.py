"""Facts: each HAS_VALUE pair enriched with agent, time, program and evidence (docs/SCHEMA.md).

Reads entities, relations, sentences and document meta; writes nothing back. `facts_for`
is the one place facts are made (the pipeline, the tables, the research commands and the
evaluator all call it), so a document gets the same facts whoever asks. Document defaults
(the report's own region or body, and its year) fill agent and time where the sentence
states none; they come from meta, or else from the title and opening lines (`defaults_for`).

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
from .sentences import linking_windows, sentence_index, split_sentences

OPENING_CHARS = 300
_YEAR_RE = re.compile(r"(19[5-9]\d|20\d\d)\s?年")


@dataclass(frozen=True)
class DocumentDefaults:
    """The agent and time a fact falls back to when its sentence states none."""

    agent: str | None
    time: str | None


def document_defaults(text: str, meta: Mapping, known_regions: list[str] | None = None) -> DocumentDefaults:
    """Region/body and year from meta, else inferred from the title and opening lines."""
    agent = meta.get("region") or meta.get("body")
    year = meta.get("year")
    opening = text[:OPENING_CHARS]
    if agent is None and known_regions:
        hits = [(opening.find(r), -len(r), r) for r in known_regions if r in opening]
        if hits:
            agent = min(hits)[2]
    if year is None:
        match = _YEAR_RE.search(opening)
        if match:
            year = match.group(1)
    return DocumentDefaults(agent=str(agent) if agent else None, time=str(year) if year else None)


def defaults_for(doc: Document) -> DocumentDefaults:
    """The agent and time `doc`'s facts fall back to (meta, else the opening with the known regions)."""
    from .gazetteer import default_named_regions

    return document_defaults(doc.text, doc.meta, list(default_named_regions()))


def facts_for(doc: Document, defaults: DocumentDefaults | None = None) -> list[Fact]:
    """The facts of `doc`: one per HAS_VALUE relation, in text order of the value.

    `defaults` (default: `defaults_for(doc)`) lets an evaluator assemble gold and predicted
    facts under the same document defaults.
    """
    return assemble_facts(doc, defaults if defaults is not None else defaults_for(doc))


def assemble_facts(doc: Document, defaults: DocumentDefaults) -> list[Fact]:
    """One Fact per HAS_VALUE relation of `doc` under `defaults` (use `facts_for`)."""
    by_id = doc.entities_by_id()
    outgoing: dict[tuple[str, str], list[Span]] = {}
    for rel in doc.relations:
        if rel.label in ("AGENT", "WHEN", "IN_PROGRAM"):
            outgoing.setdefault((rel.head, rel.label), []).append(by_id[rel.tail])
    windows = linking_windows(doc.text, sentences=doc.sents)
    facts = []
    pairs = [(by_id[r.head], by_id[r.tail], r.score) for r in doc.relations if r.label == "HAS_VALUE"]
    for head, value, score in sorted(pairs, key=lambda p: p[1].start):
        norm = span_norm(doc.text, value)
        ev_start, ev_end = _evidence_bounds(windows, head, value)
        agent = _nearest(outgoing.get((head.id, "AGENT")), value)
        when = _nearest(outgoing.get((head.id, "WHEN")), value)
        program = _nearest(outgoing.get((head.id, "IN_PROGRAM")), value)
        facts.append(Fact(
            metric=head.text, value=value.text, number=norm.number, unit=norm.unit, qualifier=norm.qualifier,
            change=norm.change,
            agent=agent.text if agent else defaults.agent,
            time=when.text if when else defaults.time,
            program=program.text if program else None,
            evidence=Evidence(doc.text[ev_start:ev_end], ev_start, ev_end, (head.start, head.end),
                              (value.start, value.end)),
            score=score, metric_id=head.id, value_id=value.id,
        ))
    return facts


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
