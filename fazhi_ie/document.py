"""The document model: Document, Span, Relation, Fact, as frozen dataclasses.

Offsets are Python string indices into the original text, end exclusive. `to_dict` and
`from_dict` convert to and from the JSONL interchange format of docs/SCHEMA.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from .schema import Problem, validate_record
from .sentences import Sentence


def text_hash(text: str) -> str:
    """A short, stable fingerprint of a text (SHA-256, 16 hex digits): recognises a document
    whatever its id, e.g. to warn when a model is scored on text it was trained on."""
    import hashlib

    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class SchemaError(ValueError):
    """A record that breaks the schema; `problems` lists every violation."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(shown + more)


@dataclass(frozen=True)
class ValueNorm:
    """A normalised quantity. `number` is None when the text could not be parsed,
    and `unparsed` then says why."""

    number: float | None
    unit: str | None = None
    qualifier: str | None = None
    change: str | None = None
    unparsed: str | None = None

    @property
    def ok(self) -> bool:
        """True when the number could be read."""
        return self.number is not None

    def to_dict(self) -> dict[str, Any]:
        """The `norm` object of the interchange format."""
        out: dict[str, Any] = {"number": self.number, "unit": self.unit, "qualifier": self.qualifier,
                               "change": self.change}
        if self.unparsed is not None:
            out["unparsed"] = self.unparsed
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ValueNorm":
        number = data.get("number")
        return cls(
            number=float(number) if number is not None else None,
            unit=data.get("unit"),
            qualifier=data.get("qualifier"),
            change=data.get("change"),
            unparsed=data.get("unparsed"),
        )


@dataclass(frozen=True)
class Span:
    """An entity: a labelled [start, end) span of the document text."""

    id: str
    label: str
    start: int
    end: int
    text: str
    score: float | None = None
    norm: ValueNorm | None = None

    def to_dict(self) -> dict[str, Any]:
        """The entity as an interchange record."""
        out: dict[str, Any] = {"id": self.id, "label": self.label, "start": self.start, "end": self.end, "text": self.text}
        if self.norm is not None:
            out["norm"] = self.norm.to_dict()
        if self.score is not None:
            out["score"] = round(float(self.score), 4)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Span":
        norm = data.get("norm")
        return cls(
            id=str(data["id"]), label=data["label"], start=int(data["start"]), end=int(data["end"]),
            text=data["text"], score=data.get("score"),
            norm=ValueNorm.from_dict(norm) if isinstance(norm, Mapping) else None,
        )


@dataclass(frozen=True)
class Relation:
    """A directed relation between two entity ids of the same document."""

    id: str
    label: str
    head: str
    tail: str
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The relation as an interchange record."""
        out: dict[str, Any] = {"id": self.id, "label": self.label, "head": self.head, "tail": self.tail}
        if self.score is not None:
            out["score"] = round(float(self.score), 4)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Relation":
        return cls(id=str(data["id"]), label=data["label"], head=str(data["head"]), tail=str(data["tail"]), score=data.get("score"))


@dataclass(frozen=True)
class Evidence:
    """Where a fact comes from: its sentence and the metric and value spans."""

    sentence: str
    sentence_start: int
    sentence_end: int
    metric_span: tuple[int, int]
    value_span: tuple[int, int]
    #: where the metric is a bare verb (不予受理, 解除): the span of the counted object it shares with a sibling
    object_span: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The `evidence` object of an output fact."""
        out = {
            "sentence": self.sentence, "sentence_start": self.sentence_start, "sentence_end": self.sentence_end,
            "metric_span": list(self.metric_span), "value_span": list(self.value_span),
        }
        if self.object_span is not None:
            out["object_span"] = list(self.object_span)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Evidence":
        obj = data.get("object_span")
        return cls(data["sentence"], int(data["sentence_start"]), int(data["sentence_end"]),
                   tuple(data["metric_span"]), tuple(data["value_span"]),  # type: ignore[arg-type]
                   tuple(obj) if obj is not None else None)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Fact:
    """One HAS_VALUE pair enriched with agent, time and program (docs/SCHEMA.md, Facts)."""

    metric: str
    value: str
    number: float | None
    unit: str | None
    qualifier: str | None
    change: str | None
    agent: str | None
    time: str | None
    program: str | None
    evidence: Evidence
    #: the HAS_VALUE relation's score (the engine's confidence in the pairing), None for gold
    score: float | None = None
    #: ids of the fact's head (metric) and VALUE entities in the document
    metric_id: str | None = None
    value_id: str | None = None
    #: for a fact read from a block the page repeats verbatim: the value span of the same fact in the original
    duplicate_of: tuple[int, int] | None = None
    #: the period the value describes (2023, 2023-H1, 2021/2025, as of 2023-11; fazhi_ie.periods), None if unreadable
    period: str | None = None
    #: the other times of the sentence, each with its role (comparison_base, deadline, since, as_of, period)
    times: tuple = ()
    #: for a from-to pair (由A提高到B): the earlier value A, as written and as a number
    previous_value: str | None = None
    previous_number: float | None = None
    #: where the metric is a bare verb (收到行政复议申请245件,不予受理52件): the counted object it takes from its
    #: sibling clause (行政复议申请; offsets in evidence.object_span), else None
    metric_object: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The fact as an output record (docs/SCHEMA.md, Facts); score and span ids only when known."""
        out: dict[str, Any] = {
            "metric": self.metric, "value": self.value, "number": self.number, "unit": self.unit,
            "qualifier": self.qualifier, "change": self.change, "agent": self.agent, "time": self.time,
            "program": self.program, "evidence": self.evidence.to_dict(),
        }
        if self.score is not None:
            out["score"] = round(float(self.score), 4)
        if self.metric_id is not None:
            out["metric_id"] = self.metric_id
        if self.value_id is not None:
            out["value_id"] = self.value_id
        if self.duplicate_of is not None:
            out["duplicate_of"] = list(self.duplicate_of)
        if self.period is not None:
            out["period"] = self.period
        if self.times:
            out["times"] = [t.to_dict() for t in self.times]
        if self.previous_value is not None:
            out["previous_value"] = self.previous_value
            out["previous_number"] = self.previous_number
        if self.metric_object is not None:
            out["metric_object"] = self.metric_object
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Fact":
        return cls(
            data["metric"], data["value"], data.get("number"), data.get("unit"), data.get("qualifier"),
            data.get("change"), data.get("agent"), data.get("time"), data.get("program"),
            Evidence.from_dict(data["evidence"]), data.get("score"), data.get("metric_id"), data.get("value_id"),
            tuple(data["duplicate_of"]) if data.get("duplicate_of") is not None else None,  # type: ignore[arg-type]
            data.get("period"), tuple(_time_role(t) for t in data.get("times") or ()),
            data.get("previous_value"), data.get("previous_number"), data.get("metric_object"),
        )


def _time_role(data: Mapping[str, Any]):
    from .periods import TimeRole

    return TimeRole(data["text"], int(data["span"][0]), int(data["span"][1]), data["role"], data.get("period"))


@dataclass(frozen=True)
class Document:
    """A text with its entities, relations and (for output) facts."""

    id: str
    text: str
    meta: Mapping[str, Any] = field(default_factory=dict)
    entities: tuple[Span, ...] = ()
    relations: tuple[Relation, ...] = ()
    facts: tuple[Fact, ...] = ()
    #: the text's sentences, split once by the pipeline and shared by every stage (not serialised)
    sents: tuple[Sentence, ...] | None = field(default=None, compare=False, repr=False)

    def entity(self, entity_id: str) -> Span:
        """The entity with this id; KeyError naming the document when there is none."""
        for span in self.entities:
            if span.id == entity_id:
                return span
        raise KeyError(f"document {self.id}: no entity {entity_id!r}")

    def entities_by_id(self) -> dict[str, Span]:
        """{entity id: Span} for this document."""
        return {span.id: span for span in self.entities}

    def with_annotations(self, entities=None, relations=None, facts=None) -> "Document":
        """A copy with some of entities, relations and facts replaced."""
        changes: dict[str, Any] = {}
        if entities is not None:
            changes["entities"] = tuple(entities)
        if relations is not None:
            changes["relations"] = tuple(relations)
        if facts is not None:
            changes["facts"] = tuple(facts)
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The document as one interchange JSONL record (facts only when there are any)."""
        out: dict[str, Any] = {
            "id": self.id, "text": self.text, "meta": dict(self.meta),
            "entities": [e.to_dict() for e in self.entities],
            "relations": [r.to_dict() for r in self.relations],
        }
        if self.facts:
            out["facts"] = [f.to_dict() for f in self.facts]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, validate: bool = True, require_value_heads: bool = True) -> "Document":
        """Build a Document from an interchange record; raise SchemaError listing every problem."""
        if validate:
            problems = validate_record(data, require_value_heads=require_value_heads)
            if problems:
                raise SchemaError(problems)
        entities = tuple(sorted((Span.from_dict(e) for e in data.get("entities", [])), key=lambda s: (s.start, s.end)))
        return cls(
            id=str(data["id"]), text=data["text"], meta=dict(data.get("meta") or {}),
            entities=entities,
            relations=tuple(Relation.from_dict(r) for r in data.get("relations", [])),
            facts=tuple(Fact.from_dict(f) for f in data.get("facts", []) or []),
        )
