"""fazhi_ie: structured, checkable facts from Chinese rule-of-law government reports."""
from .document import Document, Evidence, Fact, Relation, SchemaError, Span, ValueNorm
from .schema import ENTITY_LABELS, RELATION_LABELS, SCHEMA_VERSION
from .api import Pipeline, load
from .io.jsonl import read_jsonl, write_jsonl
from .render import render
from .tables import facts_table

__version__ = "0.1.0"

__all__ = [
    "Document", "Evidence", "Fact", "Relation", "SchemaError", "Span", "ValueNorm",
    "ENTITY_LABELS", "RELATION_LABELS", "SCHEMA_VERSION", "__version__",
    "Pipeline", "load", "read_jsonl", "write_jsonl", "facts_table", "render",
]
