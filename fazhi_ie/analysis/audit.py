"""Consistency audit of an annotated corpus: the same surface string annotated differently.

Four kinds of finding, each keyed by a surface string and ranked by how many occurrences
take part:

- ``label``: one string carries different labels (行政复议 PROGRAM here, METRIC there).
- ``untagged``: a string that is an entity in one place occurs elsewhere, inside one
  sentence, touching no entity at all.
- ``boundary``: an entity string is contained in another entity string of the same label
  (行政复议 vs 行政复议工作), keyed by the shorter one, the core.
- ``relation``: the same head and tail strings (as entities of one sentence) are linked by
  different relation labels, or linked in one sentence and not in another; and counts whose
  METRIC names a PROGRAM of the same sentence (受理行政复议案件 … 行政复议) linked IN_PROGRAM to
  it in some sentences and not in others. VALUE tails are left out: each VALUE has one head,
  chosen per sentence.

Every occurrence carries document id, sentence index (1-based, as in the sentence views),
character offsets and what was annotated there. An exceptions file lists findings the
guidelines accept (``KIND<TAB>KEY<TAB>REASON[<TAB>PLACES]`` per line, ``*`` for any kind, ``#``
comments; PLACES limits an entry to sentences ``doc:S<n>``); they are reported as explained,
not dropped silently.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ..document import Document, Span
from ..sentences import Sentence, sentence_index, split_sentences

KINDS: tuple[str, ...] = ("label", "untagged", "boundary", "relation")
# Boundary variants by affix: a core entity string and a longer one of the same label that adds at
# most MAX_AFFIX characters (行政复议 / 行政复议工作). Only names: a METRIC is cut per sentence around its
# VALUE (受理案件 / 受理各类案件), and 1件 in 31件, 今年 in 今年以来, 城关 in 城关区 are other expressions.
AFFIX_LABELS: tuple[str, ...] = ("PROGRAM", "DOC")
MAX_AFFIX = 4


@dataclass(frozen=True)
class AuditConfig:
    """What to report: kinds, the least occurrences per finding, the shortest string looked at."""

    kinds: tuple[str, ...] = KINDS
    min_count: int = 2
    min_length: int = 2

    def __post_init__(self) -> None:
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown:
            raise ValueError(f"unknown audit kind(s) {', '.join(unknown)}; valid: {', '.join(KINDS)}")
        if self.min_count < 1 or self.min_length < 1:
            raise ValueError("min_count and min_length must be at least 1")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "AuditConfig":
        """Build from a mapping; unknown keys are an error naming the valid ones."""
        valid = ("kinds", "min_count", "min_length")
        unknown = sorted(set(data) - set(valid))
        if unknown:
            raise ValueError(f"unknown audit option(s) {', '.join(unknown)}; valid: {', '.join(valid)}")
        values = dict(data)
        if "kinds" in values:
            values["kinds"] = tuple(values["kinds"])
        return cls(**values)


@dataclass(frozen=True)
class Occurrence:
    """One place a finding's string occurs, and what was annotated there."""

    doc: str
    sentence: int
    start: int
    end: int
    text: str
    annotation: str

    def to_dict(self) -> dict[str, Any]:
        return {"doc": self.doc, "sentence": self.sentence, "start": self.start, "end": self.end,
                "text": self.text, "annotation": self.annotation}


@dataclass
class Finding:
    """One inconsistency: its kind, key string, variants with counts, and every occurrence."""

    kind: str
    key: str
    variants: dict[str, int]
    occurrences: list[Occurrence] = field(default_factory=list)
    explained: str | None = None

    @property
    def count(self) -> int:
        return len(self.occurrences)

    def to_dict(self) -> dict[str, Any]:
        out = {"kind": self.kind, "key": self.key, "count": self.count, "variants": self.variants,
               "occurrences": [o.to_dict() for o in self.occurrences]}
        if self.explained is not None:
            out["explained"] = self.explained
        return out


@dataclass
class AuditReport:
    """All findings, unexplained first, each group ranked by occurrence count."""

    findings: list[Finding]
    documents: int

    @property
    def unexplained(self) -> list[Finding]:
        return [f for f in self.findings if f.explained is None]

    def counts(self, *, explained: bool | None = None) -> dict[str, int]:
        """Findings per kind (all, or only the explained/unexplained ones)."""
        out = {k: 0 for k in KINDS}
        for f in self.findings:
            if explained is None or (f.explained is not None) == explained:
                out[f.kind] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"documents": self.documents, "counts": self.counts(),
                "unexplained_counts": self.counts(explained=False),
                "findings": [f.to_dict() for f in self.findings]}

    def format_table(self, *, max_occurrences: int = 6, show_explained: bool = False) -> str:
        """A ranked text table: one row per finding, then its occurrences, the rarest variants first."""
        unexplained = self.counts(explained=False)
        explained = self.counts(explained=True)
        lines = [f"audit of {self.documents} document(s): "
                 + ", ".join(f"{k} {unexplained[k]}" for k in KINDS) + " unexplained"
                 + (" (" + ", ".join(f"{k} {explained[k]}" for k in KINDS) + " explained by exceptions)"
                    if any(explained.values()) else "")]
        shown = [f for f in self.findings if show_explained or f.explained is None]
        if not shown:
            return "\n".join(lines) + "\n"
        lines.append(f"{'#':>4}  {'kind':<9}{'count':>6}  key | variants")
        for rank, f in enumerate(shown, start=1):
            variants = "; ".join(f"{v} ×{n}" for v, n in f.variants.items())
            note = f"  [explained: {f.explained}]" if f.explained else ""
            lines.append(f"{rank:>4}  {f.kind:<9}{f.count:>6}  {f.key} | {variants}{note}")
            rarest_first = sorted(f.occurrences, key=lambda o: f.variants.get(o.annotation, 0))
            for occ in rarest_first[:max_occurrences]:
                lines.append(f"{'':>21}{occ.doc} S{occ.sentence} [{occ.start},{occ.end}) {occ.text} → {occ.annotation}")
            if f.count > max_occurrences:
                lines.append(f"{'':>21}… {f.count - max_occurrences} more")
        return "\n".join(lines) + "\n"


@dataclass
class _Doc:
    doc: Document
    sentences: list[Sentence]
    by_start: dict[int, list[Span]]
    starts: list[int]


def _index(doc: Document) -> _Doc:
    by_start: dict[int, list[Span]] = defaultdict(list)
    for span in doc.entities:
        by_start[span.start].append(span)
    return _Doc(doc, split_sentences(doc.text), by_start, sorted(by_start))


def _overlapping(d: _Doc, start: int, end: int) -> list[Span]:
    """Entities overlapping [start, end) (entities are flat, so a short scan suffices)."""
    from bisect import bisect_left

    out = []
    i = bisect_left(d.starts, end) - 1
    while i >= 0:
        for span in d.by_start[d.starts[i]]:
            if span.end > start:
                out.append(span)
        if d.starts[i] < start - 400:
            break
        i -= 1
    return sorted(out, key=lambda s: s.start)


def _sentence_no(d: _Doc, offset: int) -> int:
    idx = sentence_index(d.sentences, offset)
    return 0 if idx is None else idx + 1


def _occurrences_of(d: _Doc, text: str) -> Iterable[tuple[int, int, int]]:
    """(start, end, sentence number) of every occurrence of `text` inside one sentence."""
    pos = d.doc.text.find(text)
    while pos >= 0:
        idx = sentence_index(d.sentences, pos)
        if idx is not None and pos + len(text) <= d.sentences[idx].end:
            yield pos, pos + len(text), idx + 1
        pos = d.doc.text.find(text, pos + 1)


def audit(documents: Sequence[Document], config: AuditConfig | None = None,
          exceptions: dict[tuple[str, str], Accepted | str] | None = None) -> AuditReport:
    """Find every inconsistently annotated surface string across `documents`."""
    config = config or AuditConfig()
    docs = [_index(doc) for doc in documents]
    findings: list[Finding] = []
    labels_of: dict[str, set[str]] = defaultdict(set)
    for d in docs:
        for span in d.doc.entities:
            labels_of[span.text].add(span.label)
    strings = sorted(s for s in labels_of if len(s) >= config.min_length)

    if "label" in config.kinds:
        for text in strings:
            if len(labels_of[text]) > 1:
                occ = [Occurrence(d.doc.id, _sentence_no(d, s.start), s.start, s.end, s.text, s.label)
                       for d in docs for s in d.doc.entities if s.text == text]
                findings.append(_finding("label", text, occ))
    if "untagged" in config.kinds:
        for text in strings:
            occ = []
            for d in docs:
                for start, end, sent in _occurrences_of(d, text):
                    over = _overlapping(d, start, end)
                    exact = [s for s in over if s.start == start and s.end == end]
                    if exact:
                        occ.append(Occurrence(d.doc.id, sent, start, end, text, exact[0].label))
                    elif not over and not _metric_without_value(d, text, start, end, labels_of[text]):
                        occ.append(Occurrence(d.doc.id, sent, start, end, text, "untagged"))
            if len({o.annotation for o in occ}) > 1 and any(o.annotation == "untagged" for o in occ):
                findings.append(_finding("untagged", text, occ))
    if "boundary" in config.kinds:
        findings.extend(_boundaries(docs, strings, labels_of))
    if "relation" in config.kinds:
        findings.extend(_relations(docs, config))
    findings = [f for f in findings if f.count >= config.min_count]
    for f in findings:
        f.explained = _explain(f, exceptions or {})
    findings.sort(key=lambda f: (f.explained is not None, -f.count, KINDS.index(f.kind), f.key))
    return AuditReport(findings, len(documents))


def _finding(kind: str, key: str, occ: list[Occurrence]) -> Finding:
    variants: dict[str, int] = {}
    for o in occ:
        variants[o.annotation] = variants.get(o.annotation, 0) + 1
    return Finding(kind, key, dict(sorted(variants.items(), key=lambda kv: (-kv[1], kv[0]))), occ)


def _boundaries(docs: list[_Doc], strings: list[str], labels_of: dict[str, set[str]]) -> list[Finding]:
    """Entity strings that occur elsewhere cut differently: there only a part of the string is an
    entity of the same label (and nothing crosses its edges); plus, for names, a core string
    and longer strings of the same label that add at most MAX_AFFIX characters."""
    out = []
    for text in strings:
        for label in sorted(labels_of[text]):
            occ = []
            for d in docs:
                for start, end, sent in _occurrences_of(d, text):
                    over = _overlapping(d, start, end)
                    if any(s.start == start and s.end == end for s in over):
                        if any(s.start == start and s.end == end and s.label == label for s in over):
                            occ.append(Occurrence(d.doc.id, sent, start, end, text, label))
                        continue
                    if any(s.start <= start and end <= s.end for s in over):
                        continue  # inside a longer entity: a longer name, not a cut of this one
                    same = [s for s in over if s.label == label and start <= s.start and s.end <= end]
                    if same and all(start <= s.start and s.end <= end for s in over):
                        cut = " + ".join(f"{s.text}" for s in same)
                        occ.append(Occurrence(d.doc.id, sent, start, end, text, f"{label} {cut}"))
            if len({o.annotation for o in occ}) > 1:
                out.append(_finding("boundary", f"{text} ({label})", occ))
    by_label: dict[str, set[str]] = defaultdict(set)
    for text, labels in labels_of.items():
        for label in labels:
            by_label[label].add(text)
    for label in AFFIX_LABELS:
        for core in sorted(t for t in by_label[label] if len(t) >= 2):
            longer = sorted(t for t in by_label[label] if len(core) < len(t) <= len(core) + MAX_AFFIX and core in t)
            if not longer:
                continue
            wanted = {core, *longer}
            occ = [Occurrence(d.doc.id, _sentence_no(d, s.start), s.start, s.end, s.text, f"{label} {s.text}")
                   for d in docs for s in d.doc.entities if s.label == label and s.text in wanted]
            out.append(_finding("boundary", f"{core} ({label})", occ))
    return out


def _metric_without_value(d: _Doc, text: str, start: int, end: int, labels: set[str]) -> bool:
    """True for an untagged occurrence of a METRIC-only string that no VALUE measures there:
    a noun is a METRIC only where a VALUE measures it (GUIDELINES, METRIC), so only an
    occurrence with a VALUE right before it or within 4 characters after it is reported."""
    if labels != {"METRIC"}:
        return False
    near = _overlapping(d, max(0, start - 1), min(len(d.doc.text), end + 4))
    return not any(s.label == "VALUE" and (s.end == start or s.start >= end) for s in near)


def _relations(docs: list[_Doc], config: AuditConfig) -> list[Finding]:
    """Head/tail string pairs whose relation differs between sentences where both occur."""
    # Per sentence: the entities, and the relation labels between entity texts.
    linked: dict[tuple[str, str, str, str], dict[tuple[str, int], set[str]]] = defaultdict(dict)
    places: dict[tuple[str, int], tuple[_Doc, dict[tuple[str, str], list[Span]]]] = {}
    for d in docs:
        per_sentence: dict[int, dict[tuple[str, str], list[Span]]] = defaultdict(lambda: defaultdict(list))
        for span in d.doc.entities:
            per_sentence[_sentence_no(d, span.start)][(span.label, span.text)].append(span)
        for sent, ents in per_sentence.items():
            places[(d.doc.id, sent)] = (d, ents)
        by_id = d.doc.entities_by_id()
        for rel in d.doc.relations:
            head, tail = by_id.get(rel.head), by_id.get(rel.tail)
            if head is None or tail is None:
                continue
            key = (head.label, head.text, tail.label, tail.text)
            linked[key].setdefault((d.doc.id, _sentence_no(d, head.start)), set()).add(rel.label)
    out = []
    for (hl, ht, tl, tt), where in sorted(linked.items()):
        if len(ht) < config.min_length or len(tt) < config.min_length:
            continue
        if tl == "VALUE":
            continue  # every VALUE has one head: which one is decided per sentence, not per string
        occ = []
        for (doc_id, sent), (d, ents) in places.items():
            if (hl, ht) not in ents or (tl, tt) not in ents:
                continue
            labels = where.get((doc_id, sent), set())
            head = ents[(hl, ht)][0]
            tail = ents[(tl, tt)][0]
            start, end = min(head.start, tail.start), max(head.end, tail.end)
            occ.append(Occurrence(doc_id, sent, start, end, d.doc.text[start:end][:80],
                                  "+".join(sorted(labels)) or "not linked"))
        if len({o.annotation for o in occ}) > 1:
            occ.sort(key=lambda o: (o.doc, o.sentence))
            out.append(_finding("relation", f"{ht} ({hl}) > {tt} ({tl})", occ))
    out.extend(_named_programs(docs, config))
    return out


def _named_programs(docs: list[_Doc], config: AuditConfig) -> list[Finding]:
    """Counts whose METRIC names a PROGRAM of the same sentence: IN_PROGRAM here, not there."""
    by_program: dict[str, list[Occurrence]] = defaultdict(list)
    for d in docs:
        in_program = {(r.head, r.tail) for r in d.doc.relations if r.label == "IN_PROGRAM"}
        per_sentence: dict[int, list[Span]] = defaultdict(list)
        for span in d.doc.entities:
            per_sentence[_sentence_no(d, span.start)].append(span)
        for sent, spans in per_sentence.items():
            programs = [s for s in spans if s.label == "PROGRAM" and len(s.text) >= config.min_length]
            for m in (s for s in spans if s.label == "METRIC"):
                for p in programs:
                    if p.text in m.text and p.text != m.text:
                        start, end = min(m.start, p.start), max(m.end, p.end)
                        linked = "IN_PROGRAM" if (m.id, p.id) in in_program else "not linked"
                        by_program[p.text].append(
                            Occurrence(d.doc.id, sent, start, end, d.doc.text[start:end][:80], f"{m.text}: {linked}"))
    out = []
    for text, occ in sorted(by_program.items()):
        states = {o.annotation.rsplit(": ", 1)[1] for o in occ}
        if len(states) > 1:
            finding = _finding("relation", f"…{text}… (METRIC) > {text} (PROGRAM)", occ)
            finding.variants = {s: sum(1 for o in occ if o.annotation.endswith(s)) for s in sorted(states)}
            out.append(finding)
    return out


@dataclass(frozen=True)
class Accepted:
    """One exceptions-file entry: the reason, and optionally the only places (doc:S<n>) it covers."""

    reason: str
    places: frozenset[str] | None = None


def _explain(finding: Finding, exceptions: dict[tuple[str, str], Accepted | str]) -> str | None:
    """The reason an exception gives for `finding`, or None. An entry with places explains an
    untagged finding only when every untagged occurrence lies in one of those sentences."""
    key = finding.key
    bare = key.split(" (")[0] if finding.kind == "boundary" else key
    for kind in (finding.kind, "*"):
        for k in (key, bare):
            entry = exceptions.get((kind, k))
            if entry is None:
                continue
            if isinstance(entry, str):
                return entry
            if entry.places is not None:
                deviant = {f"{o.doc}:S{o.sentence}" for o in finding.occurrences
                           if finding.kind != "untagged" or o.annotation == "untagged"}
                if not deviant <= entry.places:
                    continue
            return entry.reason
    return None


def read_exceptions(path: str | Path) -> dict[tuple[str, str], Accepted]:
    """Parse an exceptions file: ``KIND<TAB>KEY<TAB>REASON[<TAB>PLACES]`` lines, ``#`` comment lines.

    PLACES, when given, is a comma-separated list of ``doc:S<n>``: the entry then explains the
    finding only while its untagged occurrences (for kind untagged; every occurrence otherwise)
    all lie there, so a new occurrence elsewhere shows up again.
    """
    out: dict[tuple[str, str], Accepted] = {}
    for lineno, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if not 3 <= len(parts) <= 4 or parts[0] not in (*KINDS, "*") or not parts[1] or not parts[2].strip():
            raise ValueError(f"{path}:{lineno}: expected KIND<TAB>KEY<TAB>REASON[<TAB>PLACES] with KIND one of "
                             f"{', '.join(KINDS)} or *")
        places = frozenset(p.strip() for p in parts[3].split(",") if p.strip()) if len(parts) == 4 else None
        out[(parts[0], parts[1])] = Accepted(parts[2].strip(), places)
    return out


def write_json(report: AuditReport, path: str | Path) -> None:
    """The full report, every occurrence included, as JSON."""
    Path(path).write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
