"""Corpus statistics: documents, characters, entities and relations per label, value units."""
from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from ..document import Document
from ..normalize import span_norm
from ..schema import ENTITY_LABELS, RELATION_LABELS


def corpus_stats(docs: Sequence[Document]) -> dict[str, Any]:
    """Counts over `docs`; value units/qualifiers come from `norm` (computed when absent)."""
    entities: Counter[str] = Counter()
    relations: Counter[str] = Counter()
    units: Counter[str] = Counter()
    qualifiers: Counter[str] = Counter()
    changes: Counter[str] = Counter()
    unparsed = 0
    for doc in docs:
        entities.update(e.label for e in doc.entities)
        relations.update(r.label for r in doc.relations)
        for e in doc.entities:
            if e.label != "VALUE":
                continue
            norm = span_norm(doc.text, e)
            if norm.number is None:
                unparsed += 1
            units[norm.unit or "(none)"] += 1
            qualifiers[norm.qualifier or "(none)"] += 1
            changes[norm.change or "(none)"] += 1
    return {
        "documents": len(docs),
        "characters": sum(len(d.text) for d in docs),
        "entities": {label: entities.get(label, 0) for label in ENTITY_LABELS},
        "entities_total": sum(entities.values()),
        "relations": {label: relations.get(label, 0) for label in RELATION_LABELS},
        "relations_total": sum(relations.values()),
        "value_units": dict(units.most_common()),
        "value_qualifiers": dict(qualifiers.most_common()),
        "value_changes": dict(changes.most_common()),
        "values_unparsed": unparsed,
    }


def format_stats(stats: dict[str, Any], title: str = "corpus") -> str:
    """A Markdown table of `corpus_stats` output."""
    lines = [f"### {title}", "", "| measure | count |", "|---|---:|",
             f"| documents | {stats['documents']} |", f"| characters | {stats['characters']:,} |"]
    lines += [f"| entities: {k} | {v} |" for k, v in stats["entities"].items()]
    lines.append(f"| entities: total | {stats['entities_total']} |")
    lines += [f"| relations: {k} | {v} |" for k, v in stats["relations"].items()]
    lines.append(f"| relations: total | {stats['relations_total']} |")
    lines += [f"| values with qualifier {k} | {v} |" for k, v in stats["value_qualifiers"].items()]
    lines += [f"| values with change {k} | {v} |" for k, v in stats["value_changes"].items()]
    lines.append(f"| values unparsed | {stats['values_unparsed']} |")
    unit_cells = ", ".join(f"{k} {v}" for k, v in stats["value_units"].items())
    lines += ["", f"Values by unit: {unit_cells}"]
    return "\n".join(lines)
