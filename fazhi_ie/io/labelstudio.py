"""Label Studio JSON import/export (spans as `labels` results, relations as `relation` results).

Label Studio's browser front end measures text offsets in UTF-16 code units, so a
character outside the Basic Multilingual Plane (most emoji) counts as two. Export and
import convert between those and our code-point offsets (`utf16=True`, the default);
pass `utf16=False` for files whose offsets are already code points.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

from ..document import Document, Relation, SchemaError, Span
from .jsonl import InputError

FROM_NAME = "label"
TO_NAME = "text"


def _utf16_offsets(text: str) -> list[int]:
    """utf16[i] = UTF-16 offset of code point i (len(text)+1 entries)."""
    out = [0]
    for ch in text:
        out.append(out[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return out


def to_labelstudio(docs: Iterable[Document], *, utf16: bool = True) -> list[dict[str, Any]]:
    """Tasks with one annotation each, ready for Label Studio's JSON import."""
    tasks = []
    for doc in docs:
        conv = _utf16_offsets(doc.text) if utf16 else None
        result: list[dict[str, Any]] = []
        for span in doc.entities:
            start, end = (conv[span.start], conv[span.end]) if conv else (span.start, span.end)
            result.append({"id": span.id, "from_name": FROM_NAME, "to_name": TO_NAME, "type": "labels",
                           "value": {"start": start, "end": end, "text": span.text, "labels": [span.label]}})
        for rel in doc.relations:
            result.append({"type": "relation", "from_id": rel.head, "to_id": rel.tail, "direction": "right",
                           "labels": [rel.label]})
        tasks.append({"data": {"text": doc.text, "doc_id": doc.id, "meta": dict(doc.meta)},
                      "annotations": [{"result": result}]})
    return tasks


def from_labelstudio(tasks: list[dict[str, Any]], *, utf16: bool = True, source: str = "<labelstudio>") -> list[Document]:
    """Documents from Label Studio tasks (first annotation, else first prediction)."""
    if not isinstance(tasks, list):
        raise InputError(f"{source}: expected a JSON list of Label Studio tasks")
    docs = []
    for index, task in enumerate(tasks):
        data = task.get("data", {}) if isinstance(task, dict) else {}
        text = data.get("text")
        if not isinstance(text, str):
            raise InputError(f"{source}: task {index} has no data.text")
        doc_id = str(data.get("doc_id") or task.get("id") or f"task-{index}")
        annotations = task.get("annotations") or task.get("predictions") or [{}]
        if not isinstance(annotations, list) or not isinstance(annotations[0], dict):
            raise InputError(f"{source}: task {doc_id}: 'annotations' must be a list of objects with a 'result'")
        results = annotations[0].get("result", [])
        if not isinstance(results, list):
            raise InputError(f"{source}: task {doc_id}: an annotation's 'result' must be a list")
        back = None
        fwd: list[int] = []
        if utf16:
            fwd = _utf16_offsets(text)
            back = {u: i for i, u in enumerate(fwd)}
        entities, relations = [], []
        for item in results:
            if not isinstance(item, dict):
                raise InputError(f"{source}: task {doc_id}: each result must be an object, got {item!r:.40}")
            if item.get("type") == "relation":
                if "from_id" not in item or "to_id" not in item:
                    raise InputError(f"{source}: task {doc_id}: relation result without from_id/to_id")
                labels = item.get("labels") or []
                if len(labels) != 1:
                    raise InputError(f"{source}: task {doc_id}: relation {item.get('from_id')}->{item.get('to_id')} "
                                     f"needs exactly one label, got {labels}")
                relations.append(Relation(f"R{len(relations) + 1}", labels[0], str(item["from_id"]), str(item["to_id"])))
            elif item.get("type") == "labels" or "labels" in (item.get("value") or {}):
                value = item.get("value")
                where = f"{source}: task {doc_id}: span {item.get('id')}"
                if not isinstance(value, dict) or not isinstance(value.get("labels"), list):
                    raise InputError(f"{where}: a 'labels' result needs a value with start, end and labels")
                start, end = value.get("start"), value.get("end")
                limit = fwd[-1] if utf16 else len(text)
                if not (type(start) is int and type(end) is int and 0 <= start < end <= limit):
                    raise InputError(f"{where}: offsets {start!r}..{end!r} are not integers within the text "
                                     f"(length {limit}{' UTF-16 units' if utf16 else ''})")
                if back is not None:
                    if start not in back or end not in back:
                        raise InputError(f"{where}: offset {start if start not in back else end} splits a "
                                         "surrogate pair (a character outside the BMP); are the offsets code points? "
                                         "Then pass --codepoint-offsets")
                    start, end = back[start], back[end]
                labels = value["labels"]
                if len(labels) != 1:
                    raise InputError(f"{where}: needs exactly one label, got {labels}")
                entities.append(Span(str(item.get("id") or f"T{len(entities) + 1}"), labels[0], start, end, text[start:end]))
        known = {e.id for e in entities}
        for rel in relations:
            for end in (rel.head, rel.tail):
                if end not in known:
                    raise InputError(f"{source}: task {doc_id}: relation {rel.head}->{rel.tail} ({rel.label}) refers to "
                                     f"region id {end!r}, which no labelled span of the task has")
        record = Document(doc_id, text, dict(data.get("meta") or {}), tuple(entities), tuple(relations)).to_dict()
        try:
            docs.append(Document.from_dict(record, require_value_heads=False))
        except SchemaError as exc:
            raise InputError(f"{source}: task {doc_id}: {exc}") from None
    return docs


def read_labelstudio(path: str | Path, **kwargs) -> list[Document]:
    try:
        tasks = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a Label Studio JSON export ({exc})") from None
    return from_labelstudio(tasks, source=str(path), **kwargs)


def write_labelstudio(docs: Iterable[Document], path: str | Path, **kwargs) -> int:
    tasks = to_labelstudio(docs, **kwargs)
    Path(path).write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    return len(tasks)
