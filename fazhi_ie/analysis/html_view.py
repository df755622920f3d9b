"""One self-contained HTML page for a document, made for review: coloured entities, relations, facts.

Nothing is fetched (no scripts, fonts or styles from elsewhere, and a Content-Security-Policy that
allows only the page's own inline style and script): the page works offline and from a file.

Without JavaScript the page reads as plain HTML: every fact is a table row that links to its value
in the text (``#v-<start>``), every relation row to its head and tail (``#e-<id>``), and the linked
place is highlighted with CSS ``:target``; low-score facts and duplicates are marked by the server.
A small inline script (vanilla JavaScript) adds the review tools: sorting by any column, a filter
per column and a search box across columns, a score threshold (rows below it hidden or greyed),
hiding duplicates, a count of the rows shown, and a click on a row to jump to its evidence.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from html import escape as _escape_html
from pathlib import Path

from ..document import Document, Fact
from ..schema import ENTITY_LABELS

_CONTROLS = {cp: 0x2400 + cp for cp in range(0x20) if chr(cp) not in "\t\n\r"} | {0x7F: 0x2421}

#: Facts whose score is below this are marked low (class ``low``) unless `render` is told otherwise.
LOW_SCORE = 0.5

#: Background colours by entity label (light enough for black text).
LABEL_COLOURS = {
    "ORG": "#ffd8a8", "REGION": "#b2f2bb", "PROGRAM": "#d0bfff", "DOC": "#ffec99",
    "METRIC": "#a5d8ff", "VALUE": "#ffa8a8", "TIME": "#c3fae8",
}
_DEFAULT_COLOUR = "#e9ecef"


def escape(text: str, quote: bool = True) -> str:
    """HTML-escaped text; control characters (NUL and the like, which HTML forbids) are shown as their
    visible control pictures (U+2400 …), one character each, so the page stays valid and nothing is hidden."""
    return _escape_html(text.translate(_CONTROLS), quote)


@dataclass(frozen=True)
class _Column:
    """One column of the facts table: its header, its cells' class, whether it sorts and filters as numbers,
    its tooltip."""

    header: str
    css: str
    numeric: bool = False
    help: str = ""


#: The facts table's columns, in order (each row's cells follow it).
FACT_COLUMNS = (
    _Column("#", "i", True, "the fact's place in document order; links to its value in the text"),
    _Column("score", "score", True, "the engine's confidence in the metric–value pairing (— for gold annotations)"),
    _Column("metric", "metric"),
    _Column("value", "value", help="as written; links to its place in the text"),
    _Column("number", "number", True, "the value as a number"),
    _Column("unit", "unit"),
    _Column("previous", "previous", help="the earlier value of a from-to pair (由A提高到B)"),
    _Column("qualifier / change", "qc"),
    _Column("agent", "agent"),
    _Column("time", "time", help="the time the sentence gives the fact (hover for the sentence's other times)"),
    _Column("period", "period", help="the period the value describes"),
    _Column("program", "program"),
    _Column("dup", "dup", help="a fact from a block the page repeats verbatim; links to the original"),
    _Column("offsets", "offsets", True, "start–end of the value in the text"),
)

_CSS = """
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC",
       "Microsoft YaHei", "WenQuanYi Micro Hei", sans-serif; margin: 1.5em auto; max-width: 92em;
       line-height: 1.9; color: #212529; padding: 0 1em; }
[hidden] { display: none !important; }
h1 { font-size: 1.4em; margin-bottom: .2em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
.meta, .count, .note { color: #495057; font-size: .9em; }
.legend span, mark { border-radius: .25em; padding: .05em .2em; }
.legend span { margin-right: .6em; font-size: .85em; }
.text { white-space: pre-wrap; border: 1px solid #dee2e6; border-radius: .4em; padding: 1em; max-width: 72em; }
mark { color: inherit; }
mark sub { font-size: .6em; color: #495057; margin-left: .15em; vertical-align: baseline; }
mark:target { outline: 3px solid #e8590c; }
mark.metric-hl { outline: 2px dashed #1c7ed6; outline-offset: 1px; }
.val:target { background: #ffd43b; outline: 3px solid #e8590c; outline-offset: 1px; border-radius: .2em;
              animation: flash 1.2s ease-out 2; }
@keyframes flash { 50% { background: #ff922b; } }
tr:target { background: #fff3bf; }
table { border-collapse: collapse; font-size: .88em; width: 100%; line-height: 1.5; }
th, td { border-bottom: 1px solid #dee2e6; padding: .25em .45em; text-align: left; vertical-align: top; }
th { background: #f1f3f5; font-weight: 600; white-space: nowrap; }
#relations th { position: sticky; top: 0; }
#facts thead { position: sticky; top: 0; z-index: 1; box-shadow: 0 1px 0 #ced4da; }
#facts .filters th { padding: .15em .25em; background: #f8f9fa; }
#facts .filters input { width: 100%; box-sizing: border-box; font: inherit; font-size: .9em; min-width: 3.5em;
                        padding: .05em .25em; border: 1px solid #ced4da; border-radius: .25em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.dup, td.score, td.time, td.period, td.value, td.unit { white-space: nowrap; }
td.metric { min-width: 11em; } td.agent, td.program { min-width: 7em; } td.value { min-width: 4em; }
.flag { font-size: .72em; border-radius: .3em; padding: 0 .3em; margin-left: .3em; color: #fff; font-weight: 600; }
.flag-low { background: #e03131; } .flag-dup { background: #868e96; }
tr.low td.score { background: #ffe3e3; color: #c92a2a; font-weight: 600; }
tr.low td:first-child { box-shadow: inset 3px 0 #fa5252; }
tr.dup { color: #868e96; } tr.dup td.dup { background: #e9ecef; }
tr.fact.below { opacity: .4; }
table.interactive tr.fact { cursor: pointer; }
table.interactive tr.fact:hover { background: #f1f8ff; }
tr.fact.current { background: #fff3bf; box-shadow: inset 0 0 0 2px #e8590c; }
th.sortable { cursor: pointer; user-select: none; }
th.sortable:hover { background: #e7f5ff; }
th[aria-sort="ascending"]::after { content: " ▲"; font-size: .8em; }
th[aria-sort="descending"]::after { content: " ▼"; font-size: .8em; }
.tools { display: flex; flex-wrap: wrap; gap: .4em 1.4em; align-items: center; font-size: .9em;
         background: #f8f9fa; border: 1px solid #dee2e6; border-radius: .4em; padding: .4em .8em; }
.tools input[type=search] { width: 16em; font: inherit; }
.tools input[type=range] { vertical-align: middle; width: 10em; }
.tools output { font-variant-numeric: tabular-nums; display: inline-block; min-width: 2.5em; }
#fact-count { font-weight: 600; color: #212529; }
.scroll { max-height: 30em; overflow: auto; border: 1px solid #dee2e6; border-radius: .4em; }
a.back { position: fixed; right: 1em; bottom: 1em; background: #1c7ed6; color: #fff; padding: .2em .7em;
         border-radius: 1em; text-decoration: none; font-size: .85em; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
"""

# The review tools. Only adds behaviour to the plain table; reads data from escaped attributes and
# cell text, writes only textContent (never HTML), so nothing from the report can run as code.
_SCRIPT = r"""
(function () {
  "use strict";
  var table = document.getElementById("facts");
  if (!table || !table.tBodies.length) return;
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.querySelectorAll("tr.fact"));
  var heads = Array.prototype.slice.call(table.querySelectorAll("thead tr.heads th"));
  var filters = Array.prototype.slice.call(table.querySelectorAll("thead tr.filters input"));
  var byId = function (id) { return document.getElementById(id); };
  var search = byId("fact-search"), minScore = byId("min-score"), minOut = byId("min-score-value");
  var grey = byId("grey-below"), hideDups = byId("hide-dups"), count = byId("fact-count"), back = byId("back");
  var collator = new Intl.Collator("zh-CN", {numeric: true});
  var sortCol = -1, sortDir = 1, current = null, metricMark = null;

  function key(row, col) {
    var cell = row.cells[col];
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
  }
  function numberTest(text) {
    var m = /^(<=|>=|<|>|=)\s*(-?\d+(?:\.\d+)?)$/.exec(text);
    if (!m) return null;
    var x = parseFloat(m[2]);
    return function (v) {
      return m[1] === "<" ? v < x : m[1] === ">" ? v > x : m[1] === "<=" ? v <= x : m[1] === ">=" ? v >= x : v === x;
    };
  }
  function update() {
    var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var min = parseFloat(minScore.value) || 0;
    var tests = [];
    filters.forEach(function (input) {
      var text = input.value.trim(), col = +input.getAttribute("data-col");
      if (!text) return;
      var num = input.getAttribute("data-type") === "num" ? numberTest(text) : null, lower = text.toLowerCase();
      tests.push(num ? function (row) { var v = parseFloat(key(row, col)); return !isNaN(v) && num(v); }
                     : function (row) { return row.cells[col].textContent.toLowerCase().indexOf(lower) >= 0; });
    });
    var shown = 0, greyed = 0;
    rows.forEach(function (row) {
      var text = row.textContent.toLowerCase();
      var ok = terms.every(function (t) { return text.indexOf(t) >= 0; }) &&
               tests.every(function (t) { return t(row); });
      if (hideDups.checked && row.classList.contains("dup")) ok = false;
      var score = row.getAttribute("data-score");
      var below = score !== null && parseFloat(score) < min;
      if (below && !grey.checked) ok = false;
      row.hidden = !ok;
      row.classList.toggle("below", ok && below);
      if (ok) { shown += 1; if (below) greyed += 1; }
    });
    minOut.value = min.toFixed(2);
    count.textContent = shown + " of " + rows.length + " facts shown" +
      (greyed ? " (" + greyed + " greyed: score below " + min.toFixed(2) + ")" : "");
  }
  function sortBy(col) {
    sortDir = col === sortCol ? -sortDir : 1;
    sortCol = col;
    var numeric = heads[col].getAttribute("data-type") === "num";
    var keyed = rows.map(function (row) {
      var k = key(row, col);
      return {row: row, key: numeric ? (k === "" ? NaN : parseFloat(k)) : k, order: +row.getAttribute("data-i")};
    });
    keyed.sort(function (a, b) {
      var ea = numeric ? isNaN(a.key) : a.key === "", eb = numeric ? isNaN(b.key) : b.key === "";
      if (ea !== eb) return ea ? 1 : -1;  // empty cells last, whichever the direction
      var d = ea ? 0 : numeric ? a.key - b.key : collator.compare(a.key, b.key);
      return d ? d * sortDir : a.order - b.order;
    });
    keyed.forEach(function (k) { tbody.appendChild(k.row); });
    heads.forEach(function (th, j) {
      if (j === col) th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    });
  }
  function jump(row) {
    var target = row.getAttribute("data-target");
    if (current) current.classList.remove("current");
    current = row;
    row.classList.add("current");
    if (metricMark) metricMark.classList.remove("metric-hl");
    metricMark = row.getAttribute("data-metric") ? byId(row.getAttribute("data-metric")) : null;
    if (metricMark) metricMark.classList.add("metric-hl");
    back.setAttribute("href", "#" + row.id);
    back.textContent = "\u2191 fact " + row.getAttribute("data-i");
    if (location.hash !== "#" + target) location.hash = target;
    var place = byId(target);
    if (place) place.scrollIntoView({block: "center"});
  }
  heads.forEach(function (th, col) {
    th.classList.add("sortable");
    th.tabIndex = 0;
    th.title = (th.title ? th.title + " \u2014 " : "") + "click to sort";
    th.addEventListener("click", function () { sortBy(col); });
    th.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(col); }
    });
  });
  tbody.addEventListener("click", function (e) {
    var row = e.target.closest("tr.fact");
    if (!row) return;
    var link = e.target.closest("a");
    if (link && link.getAttribute("href") !== "#" + row.getAttribute("data-target")) return;  // e.g. "dup of #3"
    if (!link && String(window.getSelection())) return;  // selecting text to copy, not jumping
    e.preventDefault();
    jump(row);
  });
  [search, minScore].concat(filters).forEach(function (input) { input.addEventListener("input", update); });
  [grey, hideDups].forEach(function (input) { input.addEventListener("change", update); });
  byId("fact-reset").addEventListener("click", function () {
    search.value = "";
    filters.forEach(function (input) { input.value = ""; });
    minScore.value = "0";
    grey.checked = hideDups.checked = false;
    sortCol = -1;
    rows.forEach(function (row) { tbody.appendChild(row); });
    heads.forEach(function (th) { th.removeAttribute("aria-sort"); });
    update();
  });
  byId("fact-tools").hidden = false;
  table.querySelector("tr.filters").hidden = false;
  table.classList.add("interactive");
  update();
})();
"""

_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode("ascii")
#: Nothing may be loaded from anywhere; only this page's inline styles and its one script run.
CONTENT_SECURITY_POLICY = (f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{_SCRIPT_HASH}'; "
                           "img-src data:; base-uri 'none'; form-action 'none'")


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
    """The text with its entities as coloured marks; a VALUE's text is the target ``v-<start>``."""
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
            inner = f'<span class="val" id="v-{span.start}">{inner}</span>'
        parts.append(f'<mark class="ent ent-{escape(span.label)}"{anchor} title="{escape(title)}" '
                     f'style="background:{_colour(span.label)}">{inner}<sub>{escape(span.label)}</sub></mark>')
        pos = span.end
    parts.append(escape(doc.text[pos:]))
    return "".join(parts)


def _number(value: float | None) -> str:
    """A number as a reader writes it: no exponent, no trailing .0, every digit kept."""
    if value is None:
        return ""
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.12g}"


def _fact_scores(doc: Document) -> list[float | None]:
    """Each fact's score, or (for facts stored before they carried one) its HAS_VALUE relation's."""
    by_pair = {(rel.head, rel.tail): float(rel.score) for rel in doc.relations
               if rel.label == "HAS_VALUE" and rel.score is not None}
    return [float(f.score) if f.score is not None else by_pair.get((f.metric_id, f.value_id)) for f in doc.facts]


def _cell(html: str, column: _Column, *, sort: object = None, title: str = "") -> str:
    classes = column.css + (" num" if column.numeric else "")
    attrs = f' class="{classes}"' + ("" if sort is None else f' data-sort="{escape(str(sort))}"')
    attrs += f' title="{escape(title)}"' if title else ""
    return f"<td{attrs}>{html}</td>"


def _fact_rows(doc: Document, scores: list[float | None], low_score: float) -> str:
    """One ``<tr class="fact">`` per fact: plain HTML, marked ``low`` and ``dup`` where they are."""
    originals = {f.evidence.value_span: i for i, f in enumerate(doc.facts, start=1) if f.duplicate_of is None}
    entity_ids = {span.id for span in doc.entities}
    c = FACT_COLUMNS
    rows = []
    for i, (fact, score) in enumerate(zip(doc.facts, scores), start=1):
        vs, ve = fact.evidence.value_span
        low = score is not None and score < low_score
        classes = "fact" + (" low" if low else "") + (" dup" if fact.duplicate_of is not None else "")
        score_html = "—" if score is None else f"{score:.2f}"
        score_html += '<span class="flag flag-low">low</span>' if low else ""
        dup_html = ""
        if fact.duplicate_of is not None:
            k = originals.get(tuple(fact.duplicate_of))
            ds, de = fact.duplicate_of
            dup_html = (f'<a href="#f-{k}">of #{k}</a>' if k else f'<a href="#v-{ds}">of {ds}–{de}</a>')
            dup_html = f'<span class="flag flag-dup">dup</span> {dup_html}'
        other_times = "\n".join(f"{t.text} ({t.role})" for t in fact.times if hasattr(t, "text"))
        previous_title = "" if fact.previous_number is None else f"previous number {_number(fact.previous_number)}"
        cells = [
            _cell(f'<a href="#v-{vs}">{i}</a>', c[0], sort=i),
            _cell(score_html, c[1], sort="" if score is None else round(score, 4)),
            _cell(escape(fact.metric), c[2]),
            _cell(f'<a href="#v-{vs}">{escape(fact.value)}</a>', c[3]),
            _cell(_number(fact.number), c[4], sort="" if fact.number is None else repr(float(fact.number))),
            _cell(escape(fact.unit or ""), c[5]),
            _cell(escape(fact.previous_value or ""), c[6], title=previous_title),
            _cell(escape(" ".join(x for x in (fact.qualifier, fact.change) if x)), c[7]),
            _cell(escape(fact.agent or ""), c[8]),
            _cell(escape(fact.time or ""), c[9], title=other_times and "other times:\n" + other_times),
            _cell(escape(fact.period or ""), c[10]),
            _cell(escape(fact.program or ""), c[11]),
            _cell(dup_html, c[12], sort="1" if fact.duplicate_of is not None else ""),
            _cell(f"{vs}–{ve}", c[13], sort=vs),
        ]
        attrs = f' data-i="{i}" data-target="v-{vs}"'
        attrs += "" if score is None else f' data-score="{round(score, 4)}"'
        attrs += f' data-metric="e-{escape(fact.metric_id)}"' if fact.metric_id in entity_ids else ""
        sentence = doc.text[fact.evidence.sentence_start:fact.evidence.sentence_end] or fact.evidence.sentence
        rows.append(f'<tr class="{classes}" id="f-{i}"{attrs} title="{escape(sentence)}">' + "".join(cells) + "</tr>")
    return "\n".join(rows)


def _fact_table(doc: Document, low_score: float) -> str:
    """The facts section: review tools (shown by the script), a summary line and the full-height table."""
    heads = "".join("<th" + (' data-type="num"' if col.numeric else "")
                    + (f' title="{escape(col.help)}"' if col.help else "") + f">{escape(col.header)}</th>"
                    for col in FACT_COLUMNS)
    filters = "".join(
        f'<th><input type="search" size="3" data-col="{j}"' + (' data-type="num" placeholder="&gt; 10"' if col.numeric
                                                       else ' placeholder="filter"')
        + f' aria-label="filter {escape(col.header)}"></th>' for j, col in enumerate(FACT_COLUMNS))
    n = len(doc.facts)
    scores = _fact_scores(doc)
    n_low = sum(1 for s in scores if s is not None and s < low_score)
    n_dup = sum(1 for f in doc.facts if f.duplicate_of is not None)
    return f"""<div class="tools" id="fact-tools" hidden>
<label>search <input type="search" id="fact-search" placeholder="all columns" aria-label="search all columns"></label>
<label>min score <input type="range" id="min-score" min="0" max="1" step="0.05" value="0">
<output id="min-score-value" for="min-score">0.00</output></label>
<label><input type="checkbox" id="grey-below"> grey out below instead of hiding</label>
<label><input type="checkbox" id="hide-dups"> hide duplicates</label>
<button type="button" id="fact-reset">reset</button>
</div>
<p class="count"><span id="fact-count">{n} facts</span> · {n_low} with score below {low_score:g} (marked low) ·
{n_dup} duplicate{'' if n_dup == 1 else 's'} of a repeated block (marked dup)</p>
<noscript><p class="note">Sorting, filtering and the score threshold need JavaScript;
the table lists every fact.</p></noscript>
<table id="facts">
<thead><tr class="heads">{heads}</tr>
<tr class="filters" hidden>{filters}</tr></thead>
<tbody>
{_fact_rows(doc, scores, low_score)}
</tbody>
</table>"""


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


def render(doc: Document, *, title: str | None = None, low_score: float = LOW_SCORE) -> str:
    """The document as one self-contained HTML page (a string): entities coloured by label, a facts
    table for review (rows link to their place in the text; scores below `low_score` marked low)
    and a relations table."""
    if not 0 <= low_score <= 1:
        raise ValueError(f"low_score must be between 0 and 1, got {low_score!r}")
    title = title or str(doc.meta.get("title") or doc.id)
    meta_bits = [f"{k}: {doc.meta[k]}" for k in ("region", "body", "year", "engine") if doc.meta.get(k) is not None]
    legend = "".join(f'<span style="background:{_colour(l)}">{escape(l)}</span>' for l in ENTITY_LABELS)
    counts = f"{len(doc.entities)} entities, {len(doc.relations)} relations, {len(doc.facts)} facts"
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{escape(title)}</h1>
<p class="meta">{escape(doc.id)} · {escape(" · ".join(meta_bits))} · {counts}</p>
<p class="legend">{legend}</p>
<h2>Facts</h2>
{_fact_table(doc, low_score)}
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
<a class="back" id="back" href="#facts">↑ facts</a>
<script>{_SCRIPT}</script>
</body>
</html>
"""


def write_html(doc: Document, path: str | Path, *, title: str | None = None, low_score: float = LOW_SCORE) -> Path:
    """Write `render(doc)` to `path` (UTF-8) and return the path."""
    path = Path(path)
    path.write_text(render(doc, title=title, low_score=low_score), encoding="utf-8")
    return path
