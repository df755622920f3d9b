"""fazhi_ie: structured, checkable facts from Chinese rule-of-law government reports.

The public surface: `load()` returns a `Pipeline` (text → sentences → spans → relations →
facts); `read_documents` reads .txt/.jsonl files and folders; `read_jsonl`/`write_jsonl`
the interchange format; `facts_table` one row per fact; `panel` a region × year table of indicators; `render` an HTML review page;
`register_engine` adds an engine of your own.
"""
from .document import Document, Evidence, Fact, Relation, SchemaError, Span, ValueNorm
from .schema import ENTITY_LABELS, RELATION_LABELS, SCHEMA_VERSION
from .engines import DEFAULT_ENGINE, register_engine
from .pipeline import Pipeline, load
from .io.jsonl import read_jsonl, write_jsonl
from .io.sources import read_documents
from .analysis.html_view import render
from .analysis.tables import facts_table
from .analysis.panel import panel

__version__ = "0.1.0"

__all__ = [
    "Document", "Evidence", "Fact", "Relation", "SchemaError", "Span", "ValueNorm",
    "ENTITY_LABELS", "RELATION_LABELS", "SCHEMA_VERSION", "DEFAULT_ENGINE", "__version__",
    "Pipeline", "load", "register_engine", "read_documents", "read_jsonl", "write_jsonl", "facts_table", "panel", "render",
]
