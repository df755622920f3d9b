"""A compact, line-based annotation format for writing gold by hand in a text editor.

The document is shown as numbered sentences (see `render_sentence_view`). An annotation
file lists, per sentence, its entities in text order and its relations by entity text:

    @S12
    E ORG 城关区法院
    E METRIC 受理各类案件
    E VALUE 71034件
    R HAS_VALUE 受理各类案件 > 71034件
    R AGENT 受理各类案件 > 城关区法院

- `@S<n>` starts sentence n (1-based, as in the view). Every sentence of the view gets its
  `@S` line, even when it has nothing to annotate, so that completeness can be checked.
- `E LABEL TEXT` marks the first occurrence of TEXT at or after the end of the previous
  entity of the sentence. Add ` #k` to take the k-th such occurrence instead.
- `E VALUE TEXT = NUMBER UNIT QUALIFIER CHANGE` overrides the normalised value
  (`-` for none), e.g. `E VALUE 近10万次 = 100000 次 lt -`.
- `R LABEL HEAD > TAIL` links two entities of the same sentence by their text; when two
  entities share a text, write `TEXT#k` for the k-th of them in text order.
- Lines starting with `#` are comments.

`parse_compact` reports every problem with its line number instead of guessing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..document import Document, Relation, Span, ValueNorm
from ..schema import ENTITY_LABELS, RELATION_LABELS, check_relation
from ..sentences import Sentence, sentence_index

_SENTENCE_RE = re.compile(r"^@S(\d+)\s*$")
_OCCURRENCE_RE = re.compile(r"^(.*?)\s+#(\d+)$")
_REF_RE = re.compile(r"^(.*?)#(\d+)$")


@dataclass
class CompactResult:
    """What `parse_compact` found: spans, relations, errors and the sentences seen."""

    entities: list[Span] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sentences_seen: set[int] = field(default_factory=set)


def render_sentence_view(sentences: list[Sentence], *, end: int | None = None) -> str:
    """One line per sentence: `S<n>\\t<start>\\t<end>\\t<text>`, up to offset `end`."""
    lines = []
    for n, sent in enumerate(sentences, start=1):
        if end is not None and sent.start >= end:
            break
        lines.append(f"S{n}\t{sent.start}\t{sent.end}\t{sent.text}")
    return "\n".join(lines) + "\n"


def _parse_norm(spec: str) -> ValueNorm:
    parts = spec.split()
    if len(parts) != 4:
        raise ValueError("norm override needs 4 fields: NUMBER UNIT QUALIFIER CHANGE ('-' for none)")
    number, unit, qualifier, change = (None if p == "-" else p for p in parts)
    return ValueNorm(float(number) if number is not None else None, unit, qualifier, change)


def parse_compact(source: str, sentences: list[Sentence], *, name: str = "<compact>") -> CompactResult:
    """Resolve a compact annotation against `sentences`; collect every error with its line."""
    result = CompactResult()
    current: int | None = None
    cursor = 0
    sentence_entities: list[Span] = []
    pending_relations: list[tuple[int, str, str, str, int]] = []
    next_entity = 1

    def flush() -> None:
        nonlocal sentence_entities, pending_relations
        for lineno, label, head_ref, tail_ref, sent_no in pending_relations:
            head = _resolve_ref(head_ref, sentence_entities)
            tail = _resolve_ref(tail_ref, sentence_entities)
            for ref, found in ((head_ref, head), (tail_ref, tail)):
                if isinstance(found, str):
                    result.errors.append(f"{name}:{lineno}: S{sent_no}: {found} ({ref!r})")
            if isinstance(head, Span) and isinstance(tail, Span):
                problem = check_relation(label, head.label, tail.label)
                if problem:
                    result.errors.append(f"{name}:{lineno}: S{sent_no}: {problem}")
                else:
                    result.relations.append(Relation(f"R{len(result.relations) + 1}", label, head.id, tail.id))
        sentence_entities = []
        pending_relations = []

    for lineno, raw in enumerate(source.splitlines(), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _SENTENCE_RE.match(line.strip())
        if match:
            flush()
            number = int(match.group(1))
            if not 1 <= number <= len(sentences):
                result.errors.append(f"{name}:{lineno}: no sentence S{number} (document has {len(sentences)})")
                current = None
                continue
            if number - 1 in result.sentences_seen:
                result.errors.append(f"{name}:{lineno}: S{number} appears twice")
            current = number - 1
            result.sentences_seen.add(current)
            cursor = sentences[current].start
            continue
        kind, _, rest = line.partition(" ")
        if current is None:
            result.errors.append(f"{name}:{lineno}: annotation before any valid @S line")
            continue
        sent = sentences[current]
        if kind == "E":
            label, _, span_text = rest.partition(" ")
            if label not in ENTITY_LABELS:
                result.errors.append(f"{name}:{lineno}: unknown label {label!r}; valid: {', '.join(ENTITY_LABELS)}")
                continue
            norm = None
            if label == "VALUE" and " = " in span_text:
                span_text, _, spec = span_text.partition(" = ")
                try:
                    norm = _parse_norm(spec)
                except ValueError as exc:
                    result.errors.append(f"{name}:{lineno}: {exc}")
            occurrence = 1
            occ = _OCCURRENCE_RE.match(span_text)
            if occ:
                span_text, occurrence = occ.group(1), int(occ.group(2))
            if not span_text:
                result.errors.append(f"{name}:{lineno}: empty entity text")
                continue
            position = -1
            search_from = cursor - sent.start
            for _ in range(occurrence):
                found = sent.text.find(span_text, search_from)
                if found < 0:
                    position = -1
                    break
                position = sent.start + found
                search_from = found + 1
            if position < 0:
                where = "in the sentence" if cursor == sent.start else "after the previous entity"
                result.errors.append(
                    f"{name}:{lineno}: S{current + 1}: {span_text!r} (occurrence {occurrence}) not found {where}; "
                    "list entities in text order")
                continue
            start, end = position, position + len(span_text)
            span = Span(f"T{next_entity}", label, start, end, span_text, norm=norm)
            next_entity += 1
            sentence_entities.append(span)
            result.entities.append(span)
            cursor = end
        elif kind == "R":
            label, _, refs = rest.partition(" ")
            if label not in RELATION_LABELS:
                result.errors.append(f"{name}:{lineno}: unknown relation {label!r}; valid: {', '.join(RELATION_LABELS)}")
                continue
            if " > " not in refs:
                result.errors.append(f"{name}:{lineno}: relation needs 'HEAD > TAIL'")
                continue
            head_ref, _, tail_ref = refs.partition(" > ")
            pending_relations.append((lineno, label, head_ref.strip(), tail_ref.strip(), current + 1))
        else:
            result.errors.append(f"{name}:{lineno}: a line must start with @S, E, R or #: {line[:40]!r}")
    flush()
    return result


def _resolve_ref(ref: str, entities: list[Span]) -> Span | str:
    matches = [e for e in entities if e.text == ref]
    index = None
    if not matches:
        m = _REF_RE.match(ref)
        if m:
            matches = [e for e in entities if e.text == m.group(1)]
            index = int(m.group(2))
    if not matches:
        return "no entity with this text in the sentence"
    if index is None:
        if len(matches) > 1:
            return f"{len(matches)} entities share this text; write TEXT#k"
        return matches[0]
    if not 1 <= index <= len(matches):
        return f"only {len(matches)} entities with this text"
    return matches[index - 1]


def to_compact(doc: Document, sentences: list[Sentence]) -> str:
    """Write a document's entities and relations in the compact format (for review)."""
    by_sentence: dict[int, list[Span]] = {}
    for span in sorted(doc.entities, key=lambda s: s.start):
        idx = sentence_index(sentences, span.start)
        if idx is not None:
            by_sentence.setdefault(idx, []).append(span)
    by_id = doc.entities_by_id()
    lines: list[str] = []
    for idx in range(len(sentences)):
        lines.append(f"@S{idx + 1}")
        spans = by_sentence.get(idx, [])
        cursor = sentences[idx].start
        for span in spans:
            segment = doc.text[cursor:span.start]
            skipped = segment.count(span.text)
            suffix = f" #{skipped + 1}" if skipped else ""
            lines.append(f"E {span.label} {span.text}{suffix}")
            cursor = span.end
        ids = {s.id for s in spans}
        for rel in doc.relations:
            if rel.head in ids:
                lines.append(f"R {rel.label} {_ref(by_id[rel.head], spans)} > {_ref(by_id[rel.tail], spans)}")
    return "\n".join(lines) + "\n"


def _ref(span: Span, spans: list[Span]) -> str:
    same = [s for s in spans if s.text == span.text]
    return span.text if len(same) == 1 else f"{span.text}#{same.index(span) + 1}"
