"""The extraction schema (docs/SCHEMA.md, version 1.1) in one place.

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
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.doc_id}" + (f" {self.item_id}" if self.item_id else "")
        return f"{where}: {self.message}" + (f" [field: {self.field}]" if self.field else "")


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x == x and x not in (float("inf"), float("-inf"))


def _is_id(x: object) -> bool:
    return (isinstance(x, str) and x != "") or _is_int(x)


def validate_record(record: Mapping, *, require_value_heads: bool = True) -> list[Problem]:
    """Check one interchange-format record (a parsed JSON line) against the schema.

    Reports every problem rather than stopping at the first, each naming the document,
    the entity/relation/fact and the field: missing or mistyped fields (id, text, meta,
    labels, offsets, norm, score, facts), unknown labels, text/offset mismatches,
    overlapping spans, duplicate or dangling ids, relations whose head/tail types break
    the table, and (when `require_value_heads`) VALUE entities that are not the tail of
    exactly one HAS_VALUE. A record with no problems is one that Document.from_dict,
    evaluation, statistics and conversion can all use.
    """
    if not isinstance(record, Mapping):
        return [Problem("<not an object>", None, "a line must be a JSON object")]
    raw_id = record.get("id")
    doc_id = str(raw_id) if _is_id(raw_id) else "<no id>"
    problems: list[Problem] = []

    def add(item: str | None, message: str, field: str | None = None) -> None:
        problems.append(Problem(doc_id, item, message, field))

    if "id" not in record:
        add(None, "missing field 'id'", "id")
    elif not _is_id(raw_id):
        add(None, f"document id must be a non-empty string or an integer, got {raw_id!r:.40}", "id")
    meta = record.get("meta")
    if meta is not None and not isinstance(meta, Mapping):
        add(None, f"meta must be an object, got {type(meta).__name__}", "meta")
    text = record.get("text")
    if not isinstance(text, str):
        add(None, "missing field 'text'" if text is None else f"text must be a string, got {type(text).__name__}", "text")
        return problems
    entities = record.get("entities", [])
    relations = record.get("relations", [])
    if entities is None:
        entities = []
    if relations is None:
        relations = []
    if not isinstance(entities, list):
        add(None, "entities must be a list", "entities")
        entities = []
    if not isinstance(relations, list):
        add(None, "relations must be a list", "relations")
        relations = []

    labels_by_id: dict[str, str] = {}
    spans: list[tuple[int, int, str]] = []
    for index, ent in enumerate(entities):
        if not isinstance(ent, Mapping):
            add(f"entity #{index + 1}", "entity must be an object")
            continue
        eid = str(ent["id"]) if _is_id(ent.get("id")) else f"entity #{index + 1}"
        missing = [k for k in ("id", "label", "start", "end", "text") if k not in ent]
        if missing:
            add(eid, f"missing field(s) {', '.join(missing)}", ", ".join(missing))
            continue
        if not _is_id(ent["id"]):
            add(eid, f"entity id must be a non-empty string or an integer, got {ent['id']!r:.40}", "id")
            continue
        if eid in labels_by_id:
            add(eid, "duplicate entity id", "id")
        label = ent["label"]
        if not isinstance(label, str) or label not in ENTITY_LABELS:
            add(eid, f"unknown entity label {label!r:.40}; valid labels: {', '.join(ENTITY_LABELS)}", "label")
            label = None
        start, end = ent["start"], ent["end"]
        if not (_is_int(start) and _is_int(end)):
            add(eid, f"start/end must be integers, got {start!r:.20}/{end!r:.20}", "start")
            continue
        if not 0 <= start < end <= len(text):
            add(eid, f"offsets [{start}, {end}) outside text of length {len(text)} or empty", "start")
            continue
        if not isinstance(ent["text"], str) or text[start:end] != ent["text"]:
            add(eid, f"text {ent['text']!r:.60} does not match text[{start}:{end}] = {text[start:end]!r:.60}", "text")
        score = ent.get("score")
        if score is not None and not (_is_number(score) and 0.0 <= score <= 1.0):
            add(eid, f"score must be a number in 0..1, got {score!r:.20}", "score")
        if ent.get("norm") is not None:
            _check_norm(ent["norm"], lambda msg, f: add(eid, msg, f"norm.{f}" if f else "norm"))
        if label is not None:
            labels_by_id[eid] = label
            spans.append((start, end, eid))

    spans.sort()
    for (s1, e1, id1), (s2, e2, id2) in zip(spans, spans[1:]):
        if s2 < e1:
            add(id2, f"overlaps {id1} ([{s1}, {e1}) and [{s2}, {e2}))", "start")

    relation_ids: set[str] = set()
    value_heads: dict[str, int] = {}
    for index, rel in enumerate(relations):
        if not isinstance(rel, Mapping):
            add(f"relation #{index + 1}", "relation must be an object")
            continue
        rid = str(rel["id"]) if _is_id(rel.get("id")) else f"relation #{index + 1}"
        missing = [k for k in ("id", "label", "head", "tail") if k not in rel]
        if missing:
            add(rid, f"missing field(s) {', '.join(missing)}", ", ".join(missing))
            continue
        bad = [k for k in ("id", "head", "tail") if not _is_id(rel[k])]
        if bad:
            add(rid, f"{'/'.join(bad)} must be a non-empty string or an integer", ", ".join(bad))
            continue
        if rid in relation_ids:
            add(rid, "duplicate relation id", "id")
        relation_ids.add(rid)
        score = rel.get("score")
        if score is not None and not (_is_number(score) and 0.0 <= score <= 1.0):
            add(rid, f"score must be a number in 0..1, got {score!r:.20}", "score")
        if not isinstance(rel["label"], str):
            add(rid, f"unknown relation label {rel['label']!r:.40}; valid labels: {', '.join(RELATION_LABELS)}", "label")
            continue
        head, tail = str(rel["head"]), str(rel["tail"])
        dangling = [x for x in (head, tail) if x not in labels_by_id]
        if dangling:
            add(rid, f"refers to unknown entity id(s) {', '.join(dangling)}", "head" if head in dangling else "tail")
            continue
        problem = check_relation(rel["label"], labels_by_id[head], labels_by_id[tail])
        if problem:
            add(rid, f"{problem} ({head} -> {tail})", "label")
        if rel["label"] == "HAS_VALUE":
            value_heads[tail] = value_heads.get(tail, 0) + 1

    if require_value_heads:
        for eid, label in labels_by_id.items():
            if label == "VALUE" and value_heads.get(eid, 0) != 1:
                add(eid, f"VALUE must be the tail of exactly one HAS_VALUE, found {value_heads.get(eid, 0)}")
    facts = record.get("facts")
    if facts is not None:
        if not isinstance(facts, list):
            add(None, "facts must be a list", "facts")
        else:
            for index, fact in enumerate(facts):
                _check_fact(fact, text, lambda msg, f, i=index: add(f"fact #{i + 1}", msg, f))
    return problems


def _check_norm(norm: object, add) -> None:
    if not isinstance(norm, Mapping):
        add(f"norm must be an object, got {type(norm).__name__}", None)
        return
    number = norm.get("number")
    if number is not None and not _is_number(number):
        add(f"number must be a number or null, got {number!r:.30}", "number")
    for key in ("unit", "unparsed"):
        if norm.get(key) is not None and not isinstance(norm[key], str):
            add(f"{key} must be a string or null, got {norm[key]!r:.30}", key)
    for key, valid in (("qualifier", QUALIFIERS), ("change", CHANGES)):
        value = norm.get(key)
        if value is not None and (not isinstance(value, str) or value not in valid):
            add(f"{key} must be null or one of {', '.join(valid)}, got {value!r:.30}", key)


#: roles of the other times of a fact's sentence (fazhi_ie.periods)
TIME_ROLES = ("period", "comparison_base", "deadline", "since", "as_of")


def _check_fact(fact: object, text: str, add) -> None:
    if not isinstance(fact, Mapping):
        add("a fact must be an object", None)
        return
    for key in ("metric", "value"):
        if not isinstance(fact.get(key), str):
            add(f"missing field '{key}'" if key not in fact else f"{key} must be a string, got {fact[key]!r:.30}", key)
    _check_norm({k: fact.get(k) for k in ("number", "unit", "qualifier", "change")}, add)
    for key in ("agent", "time", "program", "metric_id", "value_id", "period", "previous_value", "metric_object"):
        if fact.get(key) is not None and not isinstance(fact[key], str):
            add(f"{key} must be a string or null, got {fact[key]!r:.30}", key)
    prev = fact.get("previous_number")
    if prev is not None and not (isinstance(prev, (int, float)) and not isinstance(prev, bool)):
        add(f"previous_number must be a number or null, got {prev!r:.30}", "previous_number")
    times = fact.get("times")
    if times is not None and not (isinstance(times, list) and all(
            isinstance(t, Mapping) and isinstance(t.get("text"), str) and t.get("role") in TIME_ROLES
            and isinstance(t.get("span"), list) and len(t["span"]) == 2 and all(_is_int(x) for x in t["span"])
            and 0 <= t["span"][0] < t["span"][1] <= len(text) and text[t["span"][0]:t["span"][1]] == t["text"]
            for t in times)):
        add(f"times must be a list of {{text, span, role, period}} with a role of {', '.join(TIME_ROLES)}", "times")
    dup = fact.get("duplicate_of")
    if dup is not None and not (isinstance(dup, list) and len(dup) == 2 and all(_is_int(x) for x in dup)
                                and 0 <= dup[0] < dup[1] <= len(text)):
        add(f"duplicate_of must be [start, end] within the text or null, got {dup!r:.30}", "duplicate_of")
    score = fact.get("score")
    if score is not None and not (isinstance(score, (int, float)) and not isinstance(score, bool)
                                  and 0.0 <= score <= 1.0):
        add(f"score must be a number in [0, 1] or null, got {score!r:.30}", "score")
    ev = fact.get("evidence")
    if not isinstance(ev, Mapping):
        add("missing field 'evidence'" if ev is None else "evidence must be an object", "evidence")
        return
    start, end = ev.get("sentence_start"), ev.get("sentence_end")
    if not (_is_int(start) and _is_int(end) and 0 <= start <= end <= len(text)):
        add(f"evidence sentence_start/sentence_end must be integers within the text, got {start!r:.20}/{end!r:.20}", "evidence.sentence_start")
    elif ev.get("sentence") != text[start:end]:
        add(f"evidence sentence does not match text[{start}:{end}]", "evidence.sentence")
    for key, field in (("metric_span", "metric"), ("value_span", "value")):
        span = ev.get(key)
        if not (isinstance(span, list) and len(span) == 2 and all(_is_int(x) for x in span)
                and 0 <= span[0] < span[1] <= len(text)):
            add(f"evidence {key} must be [start, end] within the text, got {span!r:.30}", f"evidence.{key}")
        elif isinstance(fact.get(field), str) and text[span[0]:span[1]] != fact[field]:
            add(f"{field} {fact[field]!r:.40} does not match text[{span[0]}:{span[1]}]", field)
    obj = ev.get("object_span")
    if obj is not None or fact.get("metric_object") is not None:
        if not (isinstance(obj, list) and len(obj) == 2 and all(_is_int(x) for x in obj)
                and 0 <= obj[0] < obj[1] <= len(text)):
            add(f"evidence object_span must be [start, end] within the text with metric_object, got {obj!r:.30}",
                "evidence.object_span")
        elif text[obj[0]:obj[1]] != fact.get("metric_object"):
            add(f"metric_object {fact.get('metric_object')!r:.40} does not match text[{obj[0]}:{obj[1]}]", "metric_object")


def validate_records(records: Iterable[Mapping], **kwargs) -> list[Problem]:
    """Validate many records; also reports duplicate document ids."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for record in records:
        problems.extend(validate_record(record, **kwargs))
        doc_id = str(record.get("id")) if isinstance(record, Mapping) and _is_id(record.get("id")) else None
        if doc_id is not None:
            if doc_id in seen:
                problems.append(Problem(doc_id, None, "duplicate document id"))
            seen.add(doc_id)
    return problems
