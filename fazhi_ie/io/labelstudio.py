"""Label Studio JSON import/export (spans as `labels` results, relations as `relation` results).

Offsets: Label Studio's current editor (1.23.2, checked against a running server: its text
regions are counted by code point in web/libs/editor .../RichText/domManager.ts, and a span an
annotator selects after an emoji is saved at code-point offsets) counts characters as Python
does. Older editors counted UTF-16 code units, where a character outside the Basic Multilingual
Plane (most emoji, 𠀀) counts as two. Writers take `utf16` to choose; the reader decides per task
from the text Label Studio stores with every span (`value.text`), so exports of either kind come
back right, and falls back to `utf16` only where that text cannot tell (no such character before
a span, or no `value.text`).

Three kinds of file: finished annotations (`to_labelstudio`, under `annotations`), an
engine's output for annotators to correct (`to_predictions`, under `predictions`, which
Label Studio shows as suggestions, never as finished work) with the labelling config that
fits them (`labelling_config`, generated from fazhi_ie.schema), and Label Studio's export,
read back by `from_labelstudio` from the human annotations only.
"""
from __future__ import annotations

import colorsys
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Iterable

from ..document import Document, Relation, SchemaError, Span
from ..schema import ENTITY_LABELS, RELATION_LABELS
from .jsonl import InputError

FROM_NAME = "label"
TO_NAME = "text"
#: the labelling config written beside a tasks file: tasks.json -> tasks.labelconfig.xml
CONFIG_SUFFIX = ".labelconfig.xml"


def _utf16_offsets(text: str) -> list[int]:
    """utf16[i] = UTF-16 offset of code point i (len(text)+1 entries)."""
    out = [0]
    for ch in text:
        out.append(out[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return out


def _results(doc: Document, *, utf16: bool, scores: bool = False) -> list[dict[str, Any]]:
    """The document's spans and relations as Label Studio results (with each one's score if `scores`)."""
    conv = _utf16_offsets(doc.text) if utf16 else None
    result: list[dict[str, Any]] = []
    for span in doc.entities:
        start, end = (conv[span.start], conv[span.end]) if conv else (span.start, span.end)
        item: dict[str, Any] = {"id": span.id, "from_name": FROM_NAME, "to_name": TO_NAME, "type": "labels",
                                "value": {"start": start, "end": end, "text": span.text, "labels": [span.label]}}
        if scores and span.score is not None:
            item["score"] = round(float(span.score), 4)
        result.append(item)
    for rel in doc.relations:
        item = {"type": "relation", "from_id": rel.head, "to_id": rel.tail, "direction": "right",
                "labels": [rel.label]}
        if scores and rel.score is not None:
            item["score"] = round(float(rel.score), 4)
        result.append(item)
    return result


def _task_data(doc: Document) -> dict[str, Any]:
    return {"text": doc.text, "doc_id": doc.id, "meta": dict(doc.meta)}


def to_labelstudio(docs: Iterable[Document], *, utf16: bool = True) -> list[dict[str, Any]]:
    """Tasks with one annotation each, ready for Label Studio's JSON import."""
    return [{"data": _task_data(doc), "annotations": [{"result": _results(doc, utf16=utf16)}]} for doc in docs]


def to_predictions(docs: Iterable[Document], model_version: str, *, utf16: bool = False) -> list[dict[str, Any]]:
    """Tasks whose spans and relations are an engine's suggestions (`predictions`), for annotators to
    accept or correct: Label Studio imports `annotations` as finished human work, `predictions` as
    pre-annotations. Each result keeps the engine's score; the prediction's `score` is their mean
    (0 when the engine found nothing, so such tasks sort first when ordered by score). Offsets are
    code points, as Label Studio's current editor counts them (`utf16=True` for older editors)."""
    tasks = []
    for doc in docs:
        result = _results(doc, utf16=utf16, scores=True)
        scored = [r["score"] for r in result if "score" in r]
        score = round(sum(scored) / len(scored), 4) if scored else 0.0
        tasks.append({"data": _task_data(doc),
                      "predictions": [{"model_version": model_version, "score": score, "result": result}]})
    return tasks


def _label_colours(labels: Iterable[str]) -> dict[str, str]:
    """A distinct colour per label: hues spread evenly round the colour wheel, whatever the schema's size."""
    labels = list(labels)
    out = {}
    for i, label in enumerate(labels):
        r, g, b = colorsys.hls_to_rgb(i / max(len(labels), 1), 0.45, 0.75)
        out[label] = "#{:02x}{:02x}{:02x}".format(round(r * 255), round(g * 255), round(b * 255))
    return out


def labelling_config() -> str:
    """Label Studio's labelling config (XML) for the schema: every entity label of fazhi_ie.schema with
    its own colour, every relation label, and the task's text; generated, so it never drifts from the
    schema. Region and text names match what `to_predictions` writes and `from_labelstudio` reads."""
    view = ET.Element("View")
    relations = ET.SubElement(view, "Relations")
    for label in RELATION_LABELS:
        ET.SubElement(relations, "Relation", value=label)
    labels = ET.SubElement(view, "Labels", name=FROM_NAME, toName=TO_NAME)
    for label, colour in _label_colours(ENTITY_LABELS).items():
        ET.SubElement(labels, "Label", value=label, background=colour)
    ET.SubElement(view, "Text", name=TO_NAME, value="$" + TO_NAME)
    ET.indent(view)
    return ET.tostring(view, encoding="unicode") + "\n"


def config_path_for(tasks_path: str | Path) -> Path:
    """Where the labelling config of a tasks file goes: tasks.json -> tasks.labelconfig.xml."""
    return Path(tasks_path).with_suffix(CONFIG_SUFFIX)


def _squashed(text: str) -> str:
    """`text` without white space: Label Studio leaves line breaks and edge spaces out of a span's text."""
    return "".join(text.split())


def _offset_convention(text: str, spans: list[dict[str, Any]], utf16: bool) -> bool:
    """Whether a task's span offsets are UTF-16 units (True) or code points (False): the convention
    under which every span's offsets hold the text Label Studio stored with it (`value.text`); `utf16`
    where both or neither do (no character outside the BMP before a span, or no stored text)."""
    checked = [(v["start"], v["end"], v["text"]) for v in (item.get("value") for item in spans)
               if isinstance(v, dict) and isinstance(v.get("text"), str)
               and type(v.get("start")) is int and type(v.get("end")) is int]
    if not checked or all(ord(ch) <= 0xFFFF for ch in text):
        return utf16
    units = _utf16_offsets(text)
    back = {u: i for i, u in enumerate(units)}

    def fits(as_utf16: bool) -> bool:
        for start, end, stored in checked:
            if as_utf16:
                if start not in back or end not in back:
                    return False
                start, end = back[start], back[end]
            if not 0 <= start < end <= len(text) or _squashed(text[start:end]) != _squashed(stored):
                return False
        return True

    if fits(utf16):
        return utf16
    return (not utf16) if fits(not utf16) else utf16


def _human_annotation(task: dict[str, Any], name: str, source: str) -> dict[str, Any]:
    """The task's human annotation: the one marked ground truth, else the first not skipped.

    Predictions never count (they are the engine's suggestions, not reviewed work), so a task
    that has only predictions, or whose annotations were all skipped, is refused by name."""
    annotations = task.get("annotations") or []
    if not isinstance(annotations, list) or not all(isinstance(a, dict) for a in annotations):
        raise InputError(f"{source}: task {name}: 'annotations' must be a list of objects with a 'result'")
    done = [a for a in annotations if not a.get("was_cancelled")]
    if not done:
        if annotations:
            why = "its annotation was skipped in Label Studio (was_cancelled)"
        elif task.get("predictions"):
            why = "it has only predictions (the engine's suggestions), no human annotation"
        else:
            why = "it has no annotation"
        raise InputError(f"{source}: task {name}: {why}; accept or correct it in Label Studio and export again, "
                         "or leave the task out of the export")
    return next((a for a in done if a.get("ground_truth")), done[0])


def from_labelstudio(tasks: list[dict[str, Any]], *, utf16: bool = True, source: str = "<labelstudio>") -> list[Document]:
    """Documents from Label Studio tasks: each task's human annotation (`annotations`: the one marked
    ground truth, else the first not skipped); a task with none (only `predictions`) is an error
    naming it. Offsets are code points or UTF-16 units as each task's stored span texts show, `utf16`
    where they cannot tell (see the module docstring). A relation drawn right to left (direction
    'left') is read with its ends swapped."""
    if not isinstance(tasks, list):
        raise InputError(f"{source}: expected a JSON list of Label Studio tasks")
    docs = []
    for index, task in enumerate(tasks):
        data = task.get("data", {}) if isinstance(task, dict) else {}
        text = data.get("text")
        if not isinstance(text, str):
            raise InputError(f"{source}: task {index} has no data.text")
        doc_id = str(data.get("doc_id") or task.get("id") or f"task-{index}")
        name = doc_id if str(task.get("id", doc_id)) == doc_id else f"{task['id']} (document {doc_id})"
        results = _human_annotation(task, name, source).get("result", [])
        if not isinstance(results, list):
            raise InputError(f"{source}: task {name}: an annotation's 'result' must be a list")
        raw_spans = [item for item in results if isinstance(item, dict) and item.get("type") != "relation"
                     and (item.get("type") == "labels" or "labels" in (item.get("value") or {}))]
        task_utf16 = _offset_convention(text, raw_spans, utf16)
        back = None
        fwd: list[int] = []
        if task_utf16:
            fwd = _utf16_offsets(text)
            back = {u: i for i, u in enumerate(fwd)}
        entities, relations = [], []
        for item in results:
            if not isinstance(item, dict):
                raise InputError(f"{source}: task {name}: each result must be an object, got {item!r:.40}")
            if item.get("type") == "relation":
                if "from_id" not in item or "to_id" not in item:
                    raise InputError(f"{source}: task {name}: relation result without from_id/to_id")
                labels = item.get("labels") or []
                if len(labels) != 1:
                    raise InputError(f"{source}: task {name}: relation {item.get('from_id')}->{item.get('to_id')} "
                                     f"needs exactly one label, got {labels}")
                head, tail = str(item["from_id"]), str(item["to_id"])
                if item.get("direction") == "left":
                    head, tail = tail, head
                elif item.get("direction") == "bi":
                    raise InputError(f"{source}: task {name}: relation {head}<->{tail} ({labels[0]}) points both "
                                     "ways; a relation has one head and one tail")
                relations.append(Relation(f"R{len(relations) + 1}", labels[0], head, tail))
            elif item.get("type") == "labels" or "labels" in (item.get("value") or {}):
                value = item.get("value")
                where = f"{source}: task {name}: span {item.get('id')}"
                if not isinstance(value, dict) or not isinstance(value.get("labels"), list):
                    raise InputError(f"{where}: a 'labels' result needs a value with start, end and labels")
                start, end = value.get("start"), value.get("end")
                limit = fwd[-1] if task_utf16 else len(text)
                if not (type(start) is int and type(end) is int and 0 <= start < end <= limit):
                    raise InputError(f"{where}: offsets {start!r}..{end!r} are not integers within the text "
                                     f"(length {limit}{' UTF-16 units' if task_utf16 else ''})")
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
                    raise InputError(f"{source}: task {name}: relation {rel.head}->{rel.tail} ({rel.label}) refers to "
                                     f"region id {end!r}, which no labelled span of the task has")
        record = Document(doc_id, text, dict(data.get("meta") or {}), tuple(entities), tuple(relations)).to_dict()
        try:
            docs.append(Document.from_dict(record, require_value_heads=False))
        except SchemaError as exc:
            raise InputError(f"{source}: task {name}: {exc}") from None
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


def write_predictions(docs: Iterable[Document], path: str | Path, model_version: str, **kwargs) -> tuple[int, Path]:
    """Write `to_predictions` tasks to `path` and the labelling config beside it (`config_path_for`);
    returns the number of tasks and the config's path."""
    tasks = to_predictions(docs, model_version, **kwargs)
    Path(path).write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    config = config_path_for(path)
    config.write_text(labelling_config(), encoding="utf-8")
    return len(tasks), config
