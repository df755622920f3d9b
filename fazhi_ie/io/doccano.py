"""doccano JSONL import/export (sequence labeling with relations).

One line per document: {"id", "text", "entities": [{"id", "label", "start_offset",
"end_offset"}], "relations": [{"id", "from_id", "to_id", "type"}]}; doccano ids are
integers, so our ids are kept under "doc_id" and mapped back on import. Offsets are
code points, as doccano's Python back end stores them.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from ..document import Document, Relation, Span
from .jsonl import InputError, dumps_record, read_records


def to_doccano(doc: Document) -> dict[str, Any]:
    numbers = {span.id: i for i, span in enumerate(doc.entities, start=1)}
    return {
        "id": doc.id, "text": doc.text, "meta": dict(doc.meta),
        "entities": [{"id": numbers[s.id], "label": s.label, "start_offset": s.start, "end_offset": s.end}
                     for s in doc.entities],
        "relations": [{"id": i, "from_id": numbers[r.head], "to_id": numbers[r.tail], "type": r.label}
                      for i, r in enumerate(doc.relations, start=1)],
    }


def from_doccano(record: dict[str, Any], *, source: str = "<doccano>") -> Document:
    text = record.get("text")
    if not isinstance(text, str):
        raise InputError(f"{source}: record without a text field")
    doc_id = str(record.get("doc_id") or record.get("id") or "doc")
    entities = []
    raw_entities = record.get("entities", record.get("label", [])) or []
    if not isinstance(raw_entities, list):
        raise InputError(f"{source}: 'entities' must be a list")
    if not isinstance(record.get("relations", []) or [], list):
        raise InputError(f"{source}: 'relations' must be a list")
    for index, ent in enumerate(raw_entities):
        where = f"{source}: entity #{index + 1}"
        if isinstance(ent, list):  # the older [start, end, label] form
            if len(ent) != 3:
                raise InputError(f"{where}: expected [start, end, label], got {ent!r}")
            start, end, label = ent
            eid = f"T{len(entities) + 1}"
        elif isinstance(ent, dict):
            missing = [k for k in ("id", "label", "start_offset", "end_offset") if k not in ent]
            if missing:
                raise InputError(f"{where}: missing field(s) {', '.join(repr(k) for k in missing)}")
            start, end, label, eid = ent["start_offset"], ent["end_offset"], ent["label"], f"T{ent['id']}"
        else:
            raise InputError(f"{where}: an entity must be an object or a [start, end, label] list")
        if not (type(start) is int and type(end) is int and 0 <= start < end <= len(text)):
            raise InputError(f"{where}: offsets {start!r}..{end!r} are not integers within the text "
                             f"(length {len(text)})")
        if not isinstance(label, str):
            raise InputError(f"{where}: label must be a string, got {label!r}")
        entities.append(Span(eid, label, start, end, text[start:end]))
    relations = []
    for index, rel in enumerate(record.get("relations", []) or []):
        missing = [k for k in ("id", "from_id", "to_id", "type") if not isinstance(rel, dict) or k not in rel]
        if missing:
            raise InputError(f"{source}: relation #{index + 1}: missing field(s) {', '.join(repr(k) for k in missing)}")
        relations.append(Relation(f"R{rel['id']}", rel["type"], f"T{rel['from_id']}", f"T{rel['to_id']}"))
    data = Document(doc_id, text, dict(record.get("meta") or {}), tuple(entities), tuple(relations)).to_dict()
    return Document.from_dict(data, require_value_heads=False)


def read_doccano(path: str | Path) -> list[Document]:
    docs = []
    for lineno, record in read_records(path):
        try:
            docs.append(from_doccano(record, source=f"{path}:{lineno}"))
        except InputError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}:{lineno}: {exc}") from None
    return docs


def write_doccano(docs: Iterable[Document], path: str | Path) -> int:
    count = 0
    with Path(path).open("w", encoding="utf-8") as fh:
        for doc in docs:
            fh.write(dumps_record(to_doccano(doc)))
            count += 1
    return count
