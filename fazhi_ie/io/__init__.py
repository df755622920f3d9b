"""Reading and writing annotations: interchange JSONL, Label Studio, doccano, compact text."""
from .jsonl import InputError, read_jsonl, read_records, write_jsonl

__all__ = ["InputError", "read_jsonl", "read_records", "write_jsonl"]
