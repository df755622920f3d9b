"""Score predicted documents against gold: entities, relations, facts, with bootstrap CIs.

Entities are scored with seqeval in strict IOB2 mode over character tags (one tag per
character, so a match is an exact character span and label), per label, micro and macro.
Relations are strict: both spans, both types and the label must match. Facts are HAS_VALUE
pairs (metric span + value span); on matched values the normalised number, unit,
qualifier and change are compared, and on matched facts the agent and time fields.
Confidence intervals come from a percentile bootstrap over documents. Errors are listed
as missed, spurious, wrong boundary, wrong label, or wrong boundary and label.

The package's extraction path never imports this module.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

from ..document import Document, Span
from ..facts import DocumentDefaults, defaults_for, facts_for
from ..normalize import span_norm
from ..schema import ENTITY_LABELS, RELATION_LABELS
from ..sentences import sentence_index, split_sentences

NORM_FIELDS = ("number", "unit", "qualifier", "change")
FACT_FIELDS = ("agent", "time", "program")


class EvaluationError(ValueError):
    """Gold and predictions cannot be compared (missing documents, different texts)."""


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: "Counts") -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"precision": round(self.precision, 4), "recall": round(self.recall, 4), "f1": round(self.f1, 4),
                "tp": self.tp, "fp": self.fp, "fn": self.fn, "support": self.tp + self.fn}


def _set_counts(gold: set, pred: set) -> Counts:
    tp = len(gold & pred)
    return Counts(tp, len(pred) - tp, len(gold) - tp)


@dataclass
class DocScores:
    """Per-document counts: the unit the bootstrap resamples."""

    entities: dict[str, Counts]
    relations: dict[str, Counts]
    facts: Counts
    norm_matched: int
    norm_correct: dict[str, int]
    fact_field_correct: dict[str, int]
    fact_matched: int = 0  # facts whose metric and value spans both match (the field accuracies' denominator)
    lenient_facts: Counts = field(default_factory=Counts)  # value exact, metric overlapping, agent and time right


@dataclass
class EvaluationReport:
    """Everything `evaluate` measured; `to_dict` is JSON-ready, `format_table` readable."""

    documents: int
    entity_seqeval: dict[str, dict[str, float]]
    entities: dict[str, Counts]
    relations: dict[str, Counts]
    facts: Counts
    norm_accuracy: dict[str, float]
    norm_matched: int
    fact_field_accuracy: dict[str, float]
    confidence: dict[str, tuple[float, float]]
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    fact_matched: int = 0
    lenient_facts: Counts = field(default_factory=Counts)

    @staticmethod
    def _micro(table: dict[str, Counts]) -> Counts:
        total = Counts()
        for c in table.values():
            total.add(c)
        return total

    @staticmethod
    def _macro(table: dict[str, Counts]) -> float:
        present = [c for c in table.values() if c.tp + c.fn + c.fp]
        return sum(c.f1 for c in present) / len(present) if present else 0.0

    @property
    def entity_micro(self) -> Counts:
        return self._micro(self.entities)

    @property
    def relation_micro(self) -> Counts:
        return self._micro(self.relations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "entities": {
                "per_label": {k: v.to_dict() for k, v in self.entities.items()},
                "micro": self.entity_micro.to_dict(),
                "macro_f1": round(self._macro(self.entities), 4),
                "seqeval_strict_iob2": self.entity_seqeval,
            },
            "relations": {
                "per_label": {k: v.to_dict() for k, v in self.relations.items()},
                "micro": self.relation_micro.to_dict(),
                "macro_f1": round(self._macro(self.relations), 4),
            },
            "facts": {
                "has_value_pairs": self.facts.to_dict(),
                "lenient": self.lenient_facts.to_dict(),
                "matched_values": self.norm_matched,
                "value_norm_accuracy": {k: round(v, 4) for k, v in self.norm_accuracy.items()},
                "matched_facts": self.fact_matched,
                "matched_fact_field_accuracy": {k: round(v, 4) for k, v in self.fact_field_accuracy.items()},
            },
            "bootstrap_95ci": {k: [round(lo, 4), round(hi, 4)] for k, (lo, hi) in self.confidence.items()},
            "errors": self.errors,
            "warnings": self.warnings,
        }

    def _label_table(self, title: str, table: dict[str, Counts], micro: Counts, ci_key: str) -> list[str]:
        header = f"{'label':<12}{'P':>8}{'R':>8}{'F1':>8}{'support':>9}{'pred':>7}"
        rows = [(label, c) for label, c in table.items()] + [("micro", micro)]
        lines = ["", title, header]
        for label, c in rows:
            lines.append(f"{label:<12}{c.precision:>8.3f}{c.recall:>8.3f}{c.f1:>8.3f}{c.tp + c.fn:>9}{c.tp + c.fp:>7}")
        ci = self.confidence.get(ci_key)
        if ci:
            lines[-1] += f"   95% CI [{ci[0]:.3f}, {ci[1]:.3f}]"
        lines.append(f"{'macro':<12}{'':>16}{self._macro(table):>8.3f}")
        return lines

    def format_table(self, max_errors: int = 30) -> str:
        lines = [f"Documents: {self.documents}"]
        lines += self._label_table("Entities (exact character spans; seqeval strict IOB2)", self.entities,
                                   self.entity_micro, "entity_micro_f1")
        lines += self._label_table("Relations (strict: spans, types and label)", self.relations,
                                   self.relation_micro, "relation_micro_f1")
        f = self.facts
        ci = self.confidence.get("fact_f1")
        lines += ["", "Facts (HAS_VALUE pairs: metric span + value span)",
                  f"P {f.precision:.3f}  R {f.recall:.3f}  F1 {f.f1:.3f}  (gold {f.tp + f.fn}, pred {f.tp + f.fp})"
                  + (f"   95% CI [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""),
                  f"Lenient (value exact, metric overlapping, agent and time right): P {self.lenient_facts.precision:.3f}"
                  f"  R {self.lenient_facts.recall:.3f}  F1 {self.lenient_facts.f1:.3f}"
                  + (f"   95% CI [{self.confidence['lenient_fact_f1'][0]:.3f}, {self.confidence['lenient_fact_f1'][1]:.3f}]"
                     if "lenient_fact_f1" in self.confidence else ""),
                  f"On {self.norm_matched} matched values: " + ", ".join(
                      f"{k} {v:.3f}" for k, v in self.norm_accuracy.items()),
                  f"On {self.fact_matched} matched facts (metric and value spans): "
                  + ", ".join(f"{k} {v:.3f}" for k, v in self.fact_field_accuracy.items())]
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  {w}" for w in self.warnings]
        if self.errors and max_errors:
            lines += ["", f"Errors (first {min(max_errors, len(self.errors))} of {len(self.errors)}):"]
            for err in self.errors[:max_errors]:
                gold = f"gold {err['gold']['label']} {err['gold']['text']!r}" if err.get("gold") else ""
                pred = f"pred {err['pred']['label']} {err['pred']['text']!r}" if err.get("pred") else ""
                lines.append(f"  {err['doc_id']} @{err['start']}: {err['kind']:<24} {gold} {pred}".rstrip())
        return "\n".join(lines)


def _span_key(span: Span) -> tuple[int, int, str]:
    return (span.start, span.end, span.label)


def _char_tags(doc: Document) -> list[str]:
    tags = ["O"] * len(doc.text)
    for span in doc.entities:
        tags[span.start] = f"B-{span.label}"
        for i in range(span.start + 1, span.end):
            tags[i] = f"I-{span.label}"
    return tags


def _relation_keys(doc: Document) -> dict[str, set]:
    by_id = doc.entities_by_id()
    keys: dict[str, set] = {label: set() for label in RELATION_LABELS}
    for rel in doc.relations:
        keys.setdefault(rel.label, set()).add((_span_key(by_id[rel.head]), _span_key(by_id[rel.tail])))
    return keys


def _norm(doc: Document, span: Span):
    return span_norm(doc.text, span)


def _doc_scores(gold: Document, pred: Document, defaults: DocumentDefaults) -> DocScores:
    gold_spans = {_span_key(s) for s in gold.entities}
    pred_spans = {_span_key(s) for s in pred.entities}
    entities = {label: _set_counts({k for k in gold_spans if k[2] == label}, {k for k in pred_spans if k[2] == label})
                for label in ENTITY_LABELS}
    gold_rel, pred_rel = _relation_keys(gold), _relation_keys(pred)
    relations = {label: _set_counts(gold_rel.get(label, set()), pred_rel.get(label, set())) for label in RELATION_LABELS}
    facts = relations["HAS_VALUE"]
    gold_values = {(s.start, s.end): s for s in gold.entities if s.label == "VALUE"}
    pred_values = {(s.start, s.end): s for s in pred.entities if s.label == "VALUE"}
    matched = gold_values.keys() & pred_values.keys()
    norm_correct = dict.fromkeys(NORM_FIELDS, 0)
    for key in matched:
        g, p = _norm(gold, gold_values[key]), _norm(pred, pred_values[key])
        for name in NORM_FIELDS:
            gv, pv = getattr(g, name), getattr(p, name)
            if name == "number":
                same = (gv is None and pv is None) or (gv is not None and pv is not None and math.isclose(gv, pv, rel_tol=1e-9))
            else:
                same = gv == pv
            norm_correct[name] += int(same)
    gold_facts = {(f.evidence.metric_span, f.evidence.value_span): f for f in facts_for(gold, defaults)}
    pred_facts = {(f.evidence.metric_span, f.evidence.value_span): f for f in facts_for(pred, defaults)}
    field_correct = dict.fromkeys(FACT_FIELDS, 0)
    both = gold_facts.keys() & pred_facts.keys()
    for key in both:
        for name in FACT_FIELDS:
            field_correct[name] += int(getattr(gold_facts[key], name) == getattr(pred_facts[key], name))
    return DocScores(entities, relations, Counts(facts.tp, facts.fp, facts.fn), len(matched), norm_correct, field_correct,
                     len(both), _lenient(list(gold_facts.values()), list(pred_facts.values())))


def _lenient(gold_facts: list, pred_facts: list) -> Counts:
    """Lenient fact matching: a predicted fact is right when its value span is exact, its metric span overlaps
    the gold fact's, and its agent and time are the gold fact's (one to one)."""
    unused = list(gold_facts)
    tp = 0
    for p in pred_facts:
        (pv0, pv1), (pm0, pm1) = p.evidence.value_span, p.evidence.metric_span
        for g in unused:
            (gm0, gm1) = g.evidence.metric_span
            if g.evidence.value_span == (pv0, pv1) and pm0 < gm1 and gm0 < pm1 and g.agent == p.agent \
                    and g.time == p.time:
                unused.remove(g)
                tp += 1
                break
    return Counts(tp, len(pred_facts) - tp, len(gold_facts) - tp)


def _without_repeats(gold: Document, pred: Document) -> tuple[Document, Document, int]:
    """Both documents without the entities (and their relations) inside repeated blocks; the characters left out."""
    from ..report import repeated_blocks

    blocks = repeated_blocks(gold.text)
    if not blocks:
        return gold, pred, 0

    def inside(span: Span) -> bool:
        return any(start <= span.start and span.end <= end for start, end, _ in blocks)

    def strip(doc: Document) -> Document:
        keep = [e for e in doc.entities if not inside(e)]
        ids = {e.id for e in keep}
        return doc.with_annotations(entities=keep, relations=[r for r in doc.relations
                                                               if r.head in ids and r.tail in ids], facts=())

    return strip(gold), strip(pred), sum(end - start for start, end, _ in blocks)


def _first_difference(gold: str, pred: str) -> str:
    """Where two texts first differ, for an error message."""
    at = next((i for i, (a, b) in enumerate(zip(gold, pred)) if a != b), min(len(gold), len(pred)))
    return (f"first difference at offset {at}: gold {gold[at:at + 10]!r}, predicted {pred[at:at + 10]!r}; "
            f"lengths {len(gold)} and {len(pred)}")


def _errors(gold: Document, pred: Document) -> list[dict[str, Any]]:
    sentences = split_sentences(gold.text)

    def context(start: int) -> str:
        idx = sentence_index(sentences, start)
        return sentences[idx].text if idx is not None else ""

    def brief(span: Span) -> dict[str, Any]:
        return {"label": span.label, "start": span.start, "end": span.end, "text": span.text}

    gold_keys = {_span_key(s) for s in gold.entities}
    pred_keys = {_span_key(s) for s in pred.entities}
    errors = []
    for g in gold.entities:
        if _span_key(g) in pred_keys:
            continue
        overlapping = [p for p in pred.entities if p.start < g.end and g.start < p.end]
        if not overlapping:
            kind, p = "missed", None
        else:
            p = overlapping[0]
            if (p.start, p.end) == (g.start, g.end):
                kind = "wrong label"
            elif p.label == g.label:
                kind = "wrong boundary"
            else:
                kind = "wrong boundary and label"
        errors.append({"doc_id": gold.id, "kind": kind, "start": g.start, "gold": brief(g),
                       "pred": brief(p) if p else None, "sentence": context(g.start)})
    for p in pred.entities:
        if _span_key(p) in gold_keys:
            continue
        if not any(g.start < p.end and p.start < g.end for g in gold.entities):
            errors.append({"doc_id": gold.id, "kind": "spurious", "start": p.start, "gold": None, "pred": brief(p),
                           "sentence": context(p.start)})
    gold_rel, pred_rel = _relation_keys(gold), _relation_keys(pred)
    text = gold.text
    for label in RELATION_LABELS:
        for kind, keys in (("missed relation", gold_rel[label] - pred_rel[label]),
                           ("spurious relation", pred_rel[label] - gold_rel[label])):
            for head, tail in sorted(keys):
                item = {"label": label, "text": f"{text[head[0]:head[1]]} -> {text[tail[0]:tail[1]]}",
                        "head": list(head), "tail": list(tail)}
                errors.append({"doc_id": gold.id, "kind": kind, "start": min(head[0], tail[0]),
                               "gold": item if kind == "missed relation" else None,
                               "pred": item if kind == "spurious relation" else None, "sentence": context(head[0])})
    errors.sort(key=lambda e: (e["start"], e["kind"]))
    return errors


def _aggregate(scores: Sequence[DocScores]):
    entities = {label: Counts() for label in ENTITY_LABELS}
    relations = {label: Counts() for label in RELATION_LABELS}
    facts = Counts()
    for s in scores:
        for label, c in s.entities.items():
            entities[label].add(c)
        for label, c in s.relations.items():
            relations[label].add(c)
        facts.add(s.facts)
    return entities, relations, facts


def _bootstrap(scores: Sequence[DocScores], iterations: int, seed: int) -> dict[str, tuple[float, float]]:
    if iterations <= 0 or not scores:
        return {}
    import numpy as np

    rng = np.random.default_rng(seed)
    ent = np.array([[sum(c.tp for c in s.entities.values()), sum(c.fp for c in s.entities.values()),
                     sum(c.fn for c in s.entities.values())] for s in scores], dtype=float)
    rel = np.array([[sum(c.tp for c in s.relations.values()), sum(c.fp for c in s.relations.values()),
                     sum(c.fn for c in s.relations.values())] for s in scores], dtype=float)
    fac = np.array([[s.facts.tp, s.facts.fp, s.facts.fn] for s in scores], dtype=float)
    len_ = np.array([[s.lenient_facts.tp, s.lenient_facts.fp, s.lenient_facts.fn] for s in scores], dtype=float)
    idx = rng.integers(0, len(scores), size=(iterations, len(scores)))
    out = {}
    for name, table in (("entity_micro_f1", ent), ("relation_micro_f1", rel), ("fact_f1", fac),
                        ("lenient_fact_f1", len_)):
        sums = table[idx].sum(axis=1)
        tp, fp, fn = sums[:, 0], sums[:, 1], sums[:, 2]
        denom = 2 * tp + fp + fn
        f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
        out[name] = (float(np.percentile(f1, 2.5)), float(np.percentile(f1, 97.5)))
    return out


def evaluate(gold: Sequence[Document], pred: Sequence[Document], *, bootstrap: int = 1000, seed: int = 0,
             allow_missing: bool = False, score_repeats: bool = False) -> EvaluationReport:
    """Compare `pred` with `gold`, matched by document id.

    A block a page repeats verbatim (chengzhong prints its body twice) is scored once: the entities and
    relations inside the repeat are left out of both sides, unless `score_repeats`."""
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    for name, docs in (("gold", gold), ("predictions", pred)):
        seen: set[str] = set()
        for d in docs:
            if d.id in seen:
                raise EvaluationError(f"document id {d.id!r} appears more than once in the {name} "
                                      "(the same file given twice, or two documents with one id)")
            seen.add(d.id)
    pred_by_id = {d.id: d for d in pred}
    warnings = []
    missing = [d.id for d in gold if d.id not in pred_by_id]
    if missing and not allow_missing:
        raise EvaluationError(f"predictions lack {len(missing)} gold document(s): {', '.join(missing[:10])}")
    extra = sorted(set(pred_by_id) - {d.id for d in gold})
    if extra:
        warnings.append(f"{len(extra)} predicted document(s) have no gold and were ignored: {', '.join(extra[:10])}")
    if missing:
        warnings.append(f"{len(missing)} gold document(s) have no prediction and count as all missed: {', '.join(missing[:10])}")
    scores, errors, y_true, y_pred = [], [], [], []
    for g in gold:
        p = pred_by_id.get(g.id) or Document(g.id, g.text, g.meta)
        if p.text != g.text:
            raise EvaluationError(f"document {g.id}: predicted text differs from gold text ({_first_difference(g.text, p.text)})")
        defaults = defaults_for(g)
        if not score_repeats:
            g, p, left_out = _without_repeats(g, p)
            if left_out:
                warnings.append(f"document {g.id}: a block the page repeats verbatim ({left_out:,} characters) is "
                                "scored once")
        scores.append(_doc_scores(g, p, defaults))
        errors.extend(_errors(g, p))
        y_true.append(_char_tags(g))
        y_pred.append(_char_tags(p))
    seq = classification_report(y_true, y_pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0) if gold else {}
    entity_seqeval = {k: {m: (round(float(v), 4) if m != "support" else int(v)) for m, v in vals.items()}
                      for k, vals in seq.items()}
    entities, relations, facts = _aggregate(scores)
    matched = sum(s.norm_matched for s in scores)
    norm_accuracy = {name: (sum(s.norm_correct[name] for s in scores) / matched if matched else 0.0) for name in NORM_FIELDS}
    fact_matched = sum(s.fact_matched for s in scores)
    lenient = Counts()
    for sc in scores:
        lenient.add(sc.lenient_facts)
    field_accuracy = {name: (sum(s.fact_field_correct[name] for s in scores) / fact_matched if fact_matched else 0.0)
                      for name in FACT_FIELDS}
    if bootstrap > 0 and len(scores) < 2:
        warnings.append(f"no 95% interval: an interval over documents needs at least two, and there "
                        f"{'is one' if scores else 'are none'}")
    return EvaluationReport(
        documents=len(gold), entity_seqeval=entity_seqeval, entities=entities, relations=relations, facts=facts,
        norm_accuracy=norm_accuracy, norm_matched=matched, fact_field_accuracy=field_accuracy,
        confidence=_bootstrap(scores, bootstrap if len(scores) >= 2 else 0, seed), errors=errors, warnings=warnings,
        fact_matched=fact_matched, lenient_facts=lenient,
    )
