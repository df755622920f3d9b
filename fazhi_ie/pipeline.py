"""text → sentences → spans → relations → facts, for one engine."""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

from .document import Document
from .engines import Engine, load_engine
from .facts import assemble_facts, document_defaults
from .schema import SCHEMA_VERSION


def _engine(engine: str | Engine) -> Engine:
    return load_engine(engine) if isinstance(engine, str) else engine


def extract(text: str, *, engine: str | Engine = "rules", doc_id: str = "doc",
            meta: Mapping[str, Any] | None = None) -> Document:
    """Extract entities, relations and facts from `text` (offsets into `text` itself)."""
    return annotate(Document(doc_id, text, dict(meta or {})), engine=engine)


def annotate(doc: Document, *, engine: str | Engine = "rules") -> Document:
    """A copy of `doc` with the engine's entities, relations and facts (its own are replaced)."""
    eng = _engine(engine)
    if not isinstance(doc.text, str):
        raise TypeError(f"document {doc.id}: text must be a string")
    prediction = eng.predict(doc.text)
    meta = dict(doc.meta)
    meta["engine"] = eng.name
    meta["schema_version"] = SCHEMA_VERSION
    if prediction.dropped:
        meta["dropped_values"] = prediction.dropped
    if prediction.repaired:
        meta["repaired_spans"] = prediction.repaired
    out = Document(doc.id, doc.text, meta, tuple(prediction.entities), tuple(prediction.relations))
    from .rules.gazetteer import default_named_regions

    defaults = document_defaults(doc.text, doc.meta, list(default_named_regions()))
    return out.with_annotations(facts=assemble_facts(out, defaults))


def annotate_all(docs: Iterable[Document], *, engine: str | Engine = "rules") -> Iterator[Document]:
    """Annotate many documents with one engine instance."""
    eng = _engine(engine)
    for doc in docs:
        yield annotate(doc, engine=eng)
