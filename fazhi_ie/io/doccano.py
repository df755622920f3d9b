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
from .jsonl import InputError, read_records


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
    for ent in record.get("entities", record.get("label", [])):
        if isinstance(ent, list):  # the older [start, end, label] form
            start, end, label = ent
            eid = f"T{len(entities) + 1}"
        else:
            start, end, label, eid = ent["start_offset"], ent["end_offset"], ent["label"], f"T{ent['id']}"
        entities.append(Span(eid, label, start, end, text[start:end]))
    relations = [Relation(f"R{r['id']}", r["type"], f"T{r['from_id']}", f"T{r['to_id']}") for r in record.get("relations", [])]
    data = Document(doc_id, text, dict(record.get("meta") or {}), tuple(entities), tuple(relations)).to_dict()
    return Document.from_dict(data, require_value_heads=False)


def read_doccano(path: str | Path) -> list[Document]:
    docs = []
    for lineno, record in read_records(path):
        try:
            docs.append(from_doccano(record, source=f"{path}:{lineno}"))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}:{lineno}: {exc}") from None
    return docs


def write_doccano(docs: Iterable[Document], path: str | Path) -> int:
    count = 0
    with Path(path).open("w", encoding="utf-8") as fh:
        for doc in docs:
            fh.write(json.dumps(to_doccano(doc), ensure_ascii=False) + "\n")
            count += 1
    return count
