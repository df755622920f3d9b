"""The one fact-row definition: a Fact of a Document as a flat row of named fields.

Every tabular output builds on `fact_rows`: the CSV and table formats of `fazhi-ie extract`
(`CSV_COLUMNS`), the pandas facts table (`fazhi_ie.tables`, which adds the canonical metric)
and the Ray job's Parquet files (`RAY_COLUMNS`). Each row keeps the document id and every
offset, so `doc.text[value_start:value_end] == value` traces each number back to the text.
"""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Iterator, Sequence

from ..document import Document, Fact
from ..facts import DocumentDefaults, defaults_for

#: every field of a fact row, in order
ROW_FIELDS = ("doc_id", "region", "year", "metric", "metric_object", "value", "number", "unit", "qualifier", "change", "agent", "time",
              "period", "previous_value", "previous_number", "program", "metric_score", "value_score", "relation_score", "sentence", "sentence_start",
              "sentence_end", "metric_start", "metric_end", "value_start", "value_end", "engine", "duplicate_of")
#: the columns of `fazhi-ie extract --format csv`
CSV_COLUMNS = ("doc_id", "metric", "value", "number", "unit", "qualifier", "change", "agent", "time", "program",
               "sentence_start", "sentence_end", "metric_start", "metric_end", "value_start", "value_end",
               "period", "previous_value", "previous_number", "duplicate_of", "metric_object")
#: the columns of the Ray job's Parquet files (`where` and `error` are the job's own)
RAY_COLUMNS = ("doc_id", "metric", "value", "number", "unit", "qualifier", "change", "agent", "time", "program",
               "sentence", "sentence_start", "sentence_end", "metric_start", "metric_end", "value_start",
               "value_end", "where", "error")


def report_year(value: Any) -> int | None:
    """The year of a document default time ('2023', '2023年度' → 2023), or None."""
    try:
        return int(str(value)[:4]) if value is not None else None
    except ValueError:
        return None


def fact_row(doc: Document, fact: Fact, defaults: DocumentDefaults, scores: dict | None = None) -> dict[str, Any]:
    """One fact as a row with every field of ROW_FIELDS (`scores`: from `_span_scores(doc)`)."""
    ev = fact.evidence
    (m0, m1), (v0, v1) = ev.metric_span, ev.value_span
    scores = scores if scores is not None else _span_scores(doc)
    head = scores["spans"].get(fact.metric_id) or scores["by_offsets"].get((m0, m1, "head"))
    value = scores["spans"].get(fact.value_id) or scores["by_offsets"].get((v0, v1, "VALUE"))
    return {
        "doc_id": doc.id, "region": defaults.agent, "year": report_year(defaults.time),
        "metric": fact.metric, "metric_object": fact.metric_object, "value": fact.value, "number": fact.number, "unit": fact.unit,
        "qualifier": fact.qualifier, "change": fact.change, "agent": fact.agent, "time": fact.time,
        "period": fact.period, "previous_value": fact.previous_value, "previous_number": fact.previous_number,
        "program": fact.program,
        "metric_score": head.score if head else None, "value_score": value.score if value else None,
        "relation_score": fact.score if fact.score is not None else scores["relations"].get((m0, v0)),
        # The sentence is cut from the document text by its offsets, not copied from evidence.
        "sentence": doc.text[ev.sentence_start:ev.sentence_end],
        "sentence_start": ev.sentence_start, "sentence_end": ev.sentence_end,
        "metric_start": m0, "metric_end": m1, "value_start": v0, "value_end": v1,
        "engine": doc.meta.get("engine"),
        # a fact from a block the page repeats: "start-end" of its value in the original block
        "duplicate_of": "-".join(map(str, fact.duplicate_of)) if fact.duplicate_of else None,
    }


def _span_scores(doc: Document) -> dict:
    """Spans by id and by offsets, and HAS_VALUE scores by (head start, value start), for facts read
    from files written before facts carried their span ids."""
    by_id = doc.entities_by_id()
    return {
        "spans": by_id,
        "by_offsets": {(e.start, e.end, "VALUE" if e.label == "VALUE" else "head"): e for e in doc.entities},
        "relations": {(by_id[r.head].start, by_id[r.tail].start): r.score for r in doc.relations
                      if r.label == "HAS_VALUE" and r.head in by_id and r.tail in by_id},
    }


def fact_rows(docs: Iterable[Document]) -> Iterator[dict[str, Any]]:
    """Every fact of `docs` as a row (ROW_FIELDS), document by document, in fact order."""
    for doc in docs:
        if not doc.facts:
            continue
        defaults, scores = defaults_for(doc), _span_scores(doc)
        for fact in doc.facts:
            yield fact_row(doc, fact, defaults, scores)


def csv_text(docs: Iterable[Document], *, header: bool = True, columns: Sequence[str] = CSV_COLUMNS) -> str:
    """The fact rows of `docs` as CSV text (`columns`, with a header line unless `header=False`)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    if header:
        writer.writeheader()
    writer.writerows(fact_rows(docs))
    return buf.getvalue()


def format_fact_table(docs: Iterable[Document]) -> str:
    """A plain-text table of each document's facts, for reading in a terminal."""
    lines = []
    for doc in docs:
        lines.append(f"== {doc.id}: {len(doc.facts)} facts, {len(doc.entities)} entities, {len(doc.relations)} relations")
        for fact in doc.facts:
            number = "?" if fact.number is None else f"{fact.number:g}"
            extra = " ".join(x for x in (fact.qualifier, fact.change) if x)
            lines.append(f"  {fact.agent or '-'} | {fact.metric} | {fact.value} → {number} {fact.unit or ''}"
                         f"{(' ' + extra) if extra else ''} | {fact.time or '-'}"
                         f" | @{fact.evidence.value_span[0]}")
        dropped = doc.meta.get("dropped_values") or []
        if dropped:
            lines.append(f"  ({len(dropped)} value(s) without a head or unreadable were left out: "
                         + ", ".join(d["text"] for d in dropped[:8]) + ")")
    return "\n".join(lines) + "\n"
