"""One self-contained HTML page for a document: coloured entities, relations, facts.

No scripts, fonts or styles are fetched: the page works offline and from a file. Each
fact row links to its value in the text (``#v-<start>``), each relation row to its head
and tail (``#e-<id>``); the linked place is highlighted with CSS ``:target``.
"""
from __future__ import annotations

from html import escape as _escape_html
from pathlib import Path

from ..document import Document

_CONTROLS = {cp: 0x2400 + cp for cp in range(0x20) if chr(cp) not in "\t\n\r"} | {0x7F: 0x2421}


def escape(text: str, quote: bool = True) -> str:
    """HTML-escaped text; control characters (NUL and the like, which HTML forbids) are shown as their
    visible control pictures (U+2400 …), one character each, so the page stays valid and nothing is hidden."""
    return _escape_html(text.translate(_CONTROLS), quote)
from ..schema import ENTITY_LABELS

#: Background colours by entity label (light enough for black text).
LABEL_COLOURS = {
    "ORG": "#ffd8a8", "REGION": "#b2f2bb", "PROGRAM": "#d0bfff", "DOC": "#ffec99",
    "METRIC": "#a5d8ff", "VALUE": "#ffa8a8", "TIME": "#c3fae8",
}
_DEFAULT_COLOUR = "#e9ecef"

_CSS = """
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC",
       "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; margin: 1.5em auto; max-width: 70em;
       line-height: 1.9; color: #212529; padding: 0 1em; }
h1 { font-size: 1.4em; margin-bottom: .2em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
.meta { color: #495057; font-size: .9em; }
.legend span, mark { border-radius: .25em; padding: .05em .2em; }
.legend span { margin-right: .6em; font-size: .85em; }
.text { white-space: pre-wrap; border: 1px solid #dee2e6; border-radius: .4em; padding: 1em; }
mark { color: inherit; }
mark sub { font-size: .6em; color: #495057; margin-left: .15em; vertical-align: baseline; }
mark:target { outline: 3px solid #e8590c; }
tr:target { background: #fff3bf; }
table { border-collapse: collapse; font-size: .88em; width: 100%; }
th, td { border-bottom: 1px solid #dee2e6; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f1f3f5; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { max-height: 22em; overflow: auto; border: 1px solid #dee2e6; border-radius: .4em; }
"""


def _colour(label: str) -> str:
    return LABEL_COLOURS.get(label, _DEFAULT_COLOUR)


def _relation_notes(doc: Document) -> dict[str, list[str]]:
    """For each entity id, its relations as short lines ("HAS_VALUE → 93件"), shown on hover."""
    by_id = doc.entities_by_id()
    notes: dict[str, list[str]] = {}
    for rel in doc.relations:
        head, tail = by_id.get(rel.head), by_id.get(rel.tail)
        if head is None or tail is None:
            continue
        notes.setdefault(head.id, []).append(f"{rel.label} → {tail.text}")
        notes.setdefault(tail.id, []).append(f"{rel.label} ← {head.text}")
    return notes


def _text_html(doc: Document) -> str:
    parts: list[str] = []
    pos = 0
    notes = _relation_notes(doc)
    for span in sorted(doc.entities, key=lambda s: (s.start, -s.end)):
        if span.start < pos:  # overlapping spans break the schema; show the first one only
            continue
        parts.append(escape(doc.text[pos:span.start]))
        anchor = f' id="e-{escape(span.id)}"'
        title = "\n".join([f"{span.label} {span.id}" + (f" score {span.score:.2f}" if span.score is not None else "")]
                          + notes.get(span.id, []))
        inner = escape(doc.text[span.start:span.end])
        if span.label == "VALUE":
            inner = f'<span id="v-{span.start}"></span>{inner}'
        parts.append(f'<mark class="ent ent-{escape(span.label)}"{anchor} title="{escape(title)}" '
                     f'style="background:{_colour(span.label)}">{inner}<sub>{escape(span.label)}</sub></mark>')
        pos = span.end
    parts.append(escape(doc.text[pos:]))
    return "".join(parts)


def _fact_rows(doc: Document) -> str:
    rows = []
    for i, fact in enumerate(doc.facts, start=1):
        number = "" if fact.number is None else f"{fact.number:g}"
        vs, ve = fact.evidence.value_span
        cells = [
            f'<a href="#v-{vs}">{i}</a>', escape(fact.metric), f'<a href="#v-{vs}">{escape(fact.value)}</a>',
            number, escape(fact.unit or ""), escape(" ".join(x for x in (fact.qualifier, fact.change) if x)),
            escape(fact.agent or ""), escape(fact.time or ""), escape(fact.program or ""), f"{vs}–{ve}",
        ]
        rows.append(f'<tr class="fact" id="f-{i}">' + "".join(
            f'<td class="num">{c}</td>' if j in (0, 3, 9) else f"<td>{c}</td>" for j, c in enumerate(cells)) + "</tr>")
    return "\n".join(rows)


def _relation_rows(doc: Document) -> str:
    by_id = doc.entities_by_id()
    rows = []
    for rel in doc.relations:
        head, tail = by_id.get(rel.head), by_id.get(rel.tail)
        if head is None or tail is None:
            continue
        rows.append(
            f'<tr class="relation"><td>{escape(rel.label)}</td>'
            f'<td><a href="#e-{escape(head.id)}">{escape(head.text)}</a> <small>{escape(head.label)}</small></td>'
            f'<td><a href="#e-{escape(tail.id)}">{escape(tail.text)}</a> <small>{escape(tail.label)}</small></td></tr>')
    return "\n".join(rows)


def render(doc: Document, *, title: str | None = None) -> str:
    """The document as one self-contained HTML page (a string): entities coloured by label,
    a relations table, and a facts table whose rows link to their place in the text."""
    title = title or str(doc.meta.get("title") or doc.id)
    meta_bits = [f"{k}: {doc.meta[k]}" for k in ("region", "body", "year", "engine") if doc.meta.get(k) is not None]
    labels = [label for label in ENTITY_LABELS]
    legend = "".join(f'<span style="background:{_colour(l)}">{escape(l)}</span>' for l in labels)
    counts = f"{len(doc.entities)} entities, {len(doc.relations)} relations, {len(doc.facts)} facts"
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{escape(title)}</h1>
<p class="meta">{escape(doc.id)} · {escape(" · ".join(meta_bits))} · {counts}</p>
<p class="legend">{legend}</p>
<h2>Facts</h2>
<div class="scroll">
<table id="facts">
<thead><tr><th>#</th><th>metric</th><th>value</th><th>number</th><th>unit</th><th>qualifier / change</th>
<th>agent</th><th>time</th><th>program</th><th>offsets</th></tr></thead>
<tbody>
{_fact_rows(doc)}
</tbody>
</table>
</div>
<h2>Text</h2>
<div class="text" id="text">{_text_html(doc)}</div>
<h2>Relations</h2>
<div class="scroll">
<table id="relations">
<thead><tr><th>relation</th><th>head</th><th>tail</th></tr></thead>
<tbody>
{_relation_rows(doc)}
</tbody>
</table>
</div>
</body>
</html>
"""


def write_html(doc: Document, path: str | Path) -> Path:
    """Write `render(doc)` to `path` (UTF-8) and return the path."""
    path = Path(path)
    path.write_text(render(doc), encoding="utf-8")
    return path
