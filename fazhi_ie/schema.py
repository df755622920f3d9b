"""The extraction schema (SCHEMA.md, version 1.1) in one place.

Labels, the relation head/tail table and document validation live here and nowhere
else: annotations, engines and the evaluator all read them from this module.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

SCHEMA_VERSION = "1.1"

ENTITY_LABELS: tuple[str, ...] = ("ORG", "REGION", "PROGRAM", "DOC", "METRIC", "VALUE", "TIME")

RELATION_RULES: Mapping[str, tuple[frozenset[str], frozenset[str]]] = {
    "HAS_VALUE": (frozenset({"METRIC", "PROGRAM", "DOC", "ORG"}), frozenset({"VALUE"})),
    "AGENT": (frozenset({"METRIC", "PROGRAM"}), frozenset({"ORG", "REGION"})),
    "WHEN": (frozenset({"METRIC", "PROGRAM"}), frozenset({"TIME"})),
    "IN_PROGRAM": (frozenset({"METRIC"}), frozenset({"PROGRAM"})),
}
RELATION_LABELS: tuple[str, ...] = tuple(RELATION_RULES)

QUALIFIERS: tuple[str, ...] = ("gt", "lt", "approx")
CHANGES: tuple[str, ...] = ("increase", "decrease")


def check_entity_label(label: str) -> None:
    """Raise ValueError naming the valid labels when `label` is not one of them."""
    if label not in ENTITY_LABELS:
        raise ValueError(f"unknown entity label {label!r}; valid labels: {', '.join(ENTITY_LABELS)}")


def check_relation(label: str, head_label: str, tail_label: str) -> str | None:
    """Return a problem description if a relation breaks the head/tail table, else None."""
    if label not in RELATION_RULES:
        return f"unknown relation label {label!r}; valid labels: {', '.join(RELATION_LABELS)}"
    heads, tails = RELATION_RULES[label]
    if head_label not in heads:
        return f"{label} head must be one of {', '.join(sorted(heads))}, got {head_label}"
    if tail_label not in tails:
        return f"{label} tail must be one of {', '.join(sorted(tails))}, got {tail_label}"
    return None


@dataclass(frozen=True)
class Problem:
    """One schema violation, located by document id and entity/relation id."""

    doc_id: str
    item_id: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.doc_id}" + (f" {self.item_id}" if self.item_id else "")
        return f"{where}: {self.message}"


def validate_record(record: Mapping, *, require_value_heads: bool = True) -> list[Problem]:
    """Check one interchange-format record (a parsed JSON line) against the schema.

    Reports every problem rather than stopping at the first: missing fields, unknown
    labels, text/offset mismatches, overlapping spans, duplicate or dangling ids,
    relations whose head/tail types break the table, and (when `require_value_heads`)
    VALUE entities that are not the tail of exactly one HAS_VALUE.
    """
    doc_id = str(record.get("id", "<no id>")) if isinstance(record, Mapping) else "<not an object>"
    problems: list[Problem] = []

    def add(item: str | None, message: str) -> None:
        problems.append(Problem(doc_id, item, message))

    if not isinstance(record, Mapping):
        add(None, "a line must be a JSON object")
        return problems
    if "id" not in record:
        add(None, "missing field 'id'")
    text = record.get("text")
    if not isinstance(text, str):
        add(None, "missing or non-string field 'text'")
        return problems
    entities = record.get("entities", [])
    relations = record.get("relations", [])
    if not isinstance(entities, list):
        add(None, "'entities' must be a list")
        entities = []
    if not isinstance(relations, list):
        add(None, "'relations' must be a list")
        relations = []

    labels_by_id: dict[str, str] = {}
    spans: list[tuple[int, int, str]] = []
    for index, ent in enumerate(entities):
        if not isinstance(ent, Mapping):
            add(f"entity #{index}", "entity must be an object")
            continue
        eid = str(ent.get("id", f"entity #{index}"))
        missing = [k for k in ("id", "label", "start", "end", "text") if k not in ent]
        if missing:
            add(eid, f"missing field(s) {', '.join(missing)}")
            continue
        if eid in labels_by_id:
            add(eid, "duplicate entity id")
        label = ent["label"]
        if label not in ENTITY_LABELS:
            add(eid, f"unknown entity label {label!r}; valid labels: {', '.join(ENTITY_LABELS)}")
        start, end = ent["start"], ent["end"]
        if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool):
            add(eid, f"start/end must be integers, got {start!r}/{end!r}")
            continue
        if not 0 <= start < end <= len(text):
            add(eid, f"offsets [{start}, {end}) outside text of length {len(text)} or empty")
            continue
        if text[start:end] != ent["text"]:
            add(eid, f"text {ent['text']!r} does not match text[{start}:{end}] = {text[start:end]!r}")
        score = ent.get("score")
        if score is not None and not (isinstance(score, (int, float)) and 0.0 <= score <= 1.0):
            add(eid, f"score must be a number in 0..1, got {score!r}")
        labels_by_id[eid] = label
        spans.append((start, end, eid))

    spans.sort()
    for (s1, e1, id1), (s2, e2, id2) in zip(spans, spans[1:]):
        if s2 < e1:
            add(id2, f"overlaps {id1} ([{s1}, {e1}) and [{s2}, {e2}))")

    relation_ids: set[str] = set()
    value_heads: dict[str, int] = {}
    for index, rel in enumerate(relations):
        if not isinstance(rel, Mapping):
            add(f"relation #{index}", "relation must be an object")
            continue
        rid = str(rel.get("id", f"relation #{index}"))
        missing = [k for k in ("id", "label", "head", "tail") if k not in rel]
        if missing:
            add(rid, f"missing field(s) {', '.join(missing)}")
            continue
        if rid in relation_ids:
            add(rid, "duplicate relation id")
        relation_ids.add(rid)
        head, tail = str(rel["head"]), str(rel["tail"])
        dangling = [x for x in (head, tail) if x not in labels_by_id]
        if dangling:
            add(rid, f"refers to unknown entity id(s) {', '.join(dangling)}")
            continue
        problem = check_relation(rel["label"], labels_by_id[head], labels_by_id[tail])
        if problem:
            add(rid, f"{problem} ({head} -> {tail})")
        if rel["label"] == "HAS_VALUE":
            value_heads[tail] = value_heads.get(tail, 0) + 1

    if require_value_heads:
        for eid, label in labels_by_id.items():
            if label == "VALUE" and value_heads.get(eid, 0) != 1:
                add(eid, f"VALUE must be the tail of exactly one HAS_VALUE, found {value_heads.get(eid, 0)}")
    return problems


def validate_records(records: Iterable[Mapping], **kwargs) -> list[Problem]:
    """Validate many records; also reports duplicate document ids."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for record in records:
        problems.extend(validate_record(record, **kwargs))
        doc_id = str(record.get("id")) if isinstance(record, Mapping) else None
        if doc_id is not None:
            if doc_id in seen:
                problems.append(Problem(doc_id, None, "duplicate document id"))
            seen.add(doc_id)
    return problems
