"""The one flow: text → sentences → spans and relations → normalised values → facts.

`Pipeline` (what `fazhi_ie.load()` returns) owns the stages, each done once per document:

1. sentences: `split_sentences`, kept on the Document as `sents` for every later stage;
2. spans and relations: the engine's `predict(text, sentences)`;
3. normalisation: every VALUE's `norm`, read with the context of its own linking window
   (one floor rule for every engine, so no change word leaks in from another sentence);
4. facts: `facts.facts_for(doc)`, the only place defaults and assembly happen, with what the report
   says about itself (`fazhi_ie.report`: its year and region and how they were found, repeated
   blocks) in `meta.report`.
"""
from __future__ import annotations

import inspect
from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence, Union

from .document import Document, Span
from .engines import Engine, engine_identity, load_engine
from .facts import facts_for, info_for
from .normalize import normalize_span
from .schema import SCHEMA_VERSION
from .sentences import Sentence, linking_windows, sentence_index, split_sentences

#: What `Pipeline.pipe` accepts per item: a text, a Document (its own annotations are
#: replaced), an interchange record with a "text" field, or a (text, meta) pair.
PipeInput = Union[str, Document, Mapping[str, Any], tuple]


def normalize_values(text: str, entities: Sequence[Span], sentences: Sequence[Sentence]) -> list[Span]:
    """`entities` with every VALUE's norm read from the text, with context back to the start of
    the linking window that holds it (never from an earlier sentence)."""
    windows = linking_windows(text, sentences=sentences)
    out = []
    for span in entities:
        if span.label == "VALUE":
            k = sentence_index(windows, span.start)
            floor = windows[k].start if k is not None else span.start
            span = replace(span, norm=normalize_span(text, span.start, span.end, floor=floor))
        out.append(span)
    return out


class Pipeline:
    """A loaded extractor: call it on a text, or stream many texts through `pipe`.

    Holds one engine instance, built once by `load`; it keeps no other state, so one
    Pipeline can be reused for any number of documents.
    """

    def __init__(self, engine: Engine):
        self.engine = engine
        try:
            self._passes_sentences = "sentences" in inspect.signature(engine.predict).parameters
        except (TypeError, ValueError):
            self._passes_sentences = False

    @property
    def engine_name(self) -> str:
        """The name of the engine in use ('rules', 'model' or a registered one)."""
        return self.engine.name

    def __repr__(self) -> str:
        return f"Pipeline(engine={self.engine_name!r})"

    def __call__(self, text: str, meta: Mapping[str, Any] | None = None, *, doc_id: str = "doc") -> Document:
        """Extract entities, relations and facts from `text`.

        `meta` (e.g. {"region": "兰州市城关区", "year": 2023}) gives the report's own area
        and year, which facts fall back to when a sentence states none.
        """
        if not isinstance(text, str):
            raise TypeError(f"expected a text (str), got {type(text).__name__}")
        return self.annotate(Document(doc_id, text, dict(meta or {})))

    def annotate(self, doc: Document) -> Document:
        """A copy of `doc` with this engine's entities, relations and facts (its own are replaced)."""
        if not isinstance(doc.text, str):
            raise TypeError(f"document {doc.id}: text must be a string")
        sents = doc.sents if doc.sents is not None else tuple(split_sentences(doc.text))
        if self._passes_sentences:
            prediction = self.engine.predict(doc.text, sentences=sents)
        else:
            prediction = self.engine.predict(doc.text)
        meta = dict(doc.meta)
        meta.update({k: v for k, v in engine_identity(self.engine).items() if v is not None})
        meta["schema_version"] = SCHEMA_VERSION
        if prediction.dropped:
            meta["dropped_values"] = prediction.dropped
        if prediction.repaired:
            meta["repaired_spans"] = prediction.repaired
        entities = normalize_values(doc.text, prediction.entities, sents)
        info = info_for(doc)
        meta["report"] = info.to_dict()
        out = Document(doc.id, doc.text, meta, tuple(entities), tuple(prediction.relations), sents=sents)
        return out.with_annotations(facts=facts_for(out, info=info))

    def pipe(self, items: Iterable[PipeInput], *, batch_size: int = 16) -> Iterator[Document]:
        """Annotate many texts or documents, yielding Documents in input order as they are done.

        Streams: the input is consumed `batch_size` items at a time, so a generator over a
        large corpus is never held in memory. Texts get ids doc-0, doc-1, … by position.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        iterator = iter(items)
        position = 0
        while True:
            batch = list(islice(iterator, batch_size))
            if not batch:
                return
            for item in batch:
                yield self.annotate(_as_document(item, position))
                position += 1


def _as_document(item: PipeInput, position: int) -> Document:
    if isinstance(item, Document):
        return Document(item.id, item.text, dict(item.meta))
    if isinstance(item, str):
        return Document(f"doc-{position}", item, {})
    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        return Document(f"doc-{position}", item[0], dict(item[1] or {}))
    if isinstance(item, Mapping) and isinstance(item.get("text"), str):
        return Document(str(item.get("id", f"doc-{position}")), item["text"], dict(item.get("meta") or {}))
    raise TypeError(f"item {position}: expected a text, a Document, a (text, meta) pair or a record with 'text', "
                    f"got {type(item).__name__}")


def load(path: str | Path | None = None, engine: str | Engine | None = None) -> Pipeline:
    """Load an extractor and return a `Pipeline` (call it on a text).

    `engine` is a name ('rules', 'model', or one added with `fazhi_ie.register_engine`), an engine
    object (anything with `name` and `predict(text)`), or None for the default
    (`engines.default_engine_name()`: the shipped model unless $FAZHI_IE_ENGINE says otherwise).
    A model directory as `path` implies the 'model' engine. The engine is built once, here.
    """
    if engine is not None and not isinstance(engine, str):
        if path is not None:
            raise ValueError("give a model directory or an engine object, not both")
        if not callable(getattr(engine, "predict", None)) or not isinstance(getattr(engine, "name", None), str):
            raise TypeError(f"an engine needs a string `name` and a `predict(text)` method; got {type(engine).__name__}")
        return Pipeline(engine)
    if engine is None and path is not None:
        engine = "model"
    return Pipeline(load_engine(engine, model_path=path))


def annotate(doc: Document, *, engine: str | Engine | None = None) -> Document:
    """`load(engine=engine).annotate(doc)`: for one-off calls; reuse a Pipeline for many documents."""
    return load(engine=engine).annotate(doc)


def extract(text: str, *, engine: str | Engine | None = None, doc_id: str = "doc",
            meta: Mapping[str, Any] | None = None) -> Document:
    """Extract entities, relations and facts from `text` (offsets into `text` itself)."""
    return load(engine=engine)(text, meta, doc_id=doc_id)
