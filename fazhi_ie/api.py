"""The small public API: `nlp = fazhi_ie.load()`, `doc = nlp(text)`, `nlp.pipe(texts)`.

`load` builds one engine (rules or model) and returns a `Pipeline` that reuses it for every
call; every call runs `fazhi_ie.pipeline.annotate`, so the output is the same Document,
whichever engine runs.
"""
from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Union

from .document import Document
from .engines import Engine, default_engine_name, load_engine
from .pipeline import annotate

#: What `Pipeline.pipe` accepts per item: a text, a Document (its own annotations are
#: replaced), an interchange record with a "text" field, or a (text, meta) pair.
PipeInput = Union[str, Document, Mapping[str, Any], tuple]


class Pipeline:
    """A loaded extractor: call it on a text, or stream many texts through `pipe`.

    Holds one engine instance, built once by `load`; it keeps no other state, so one
    Pipeline can be reused for any number of documents.
    """

    def __init__(self, engine: Engine):
        self.engine = engine

    @property
    def engine_name(self) -> str:
        """The name of the engine in use ('rules' or 'model')."""
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
        return annotate(Document(doc_id, text, dict(meta or {})), engine=self.engine)

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
                yield annotate(_as_document(item, position), engine=self.engine)
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


def load(path: str | Path | None = None, engine: str | None = None) -> Pipeline:
    """Load an extractor and return a `Pipeline` (call it on a text).

    `engine=None` picks the default (`fazhi_ie.engines.default_engine_name()`: the shipped model
    unless $FAZHI_IE_ENGINE says otherwise); `engine="model"` with no path loads the shipped model, and
    giving a model directory as `path` implies the 'model' engine. The engine is built once here and reused for every call.
    """
    if engine is None:
        engine = "model" if path is not None else default_engine_name()
    return Pipeline(load_engine(engine, model_path=path))
