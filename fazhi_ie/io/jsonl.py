"""Interchange JSONL (SCHEMA.md): one document per line."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator

from ..document import Document, SchemaError


class InputError(ValueError):
    """Input that cannot be read; the message names the file and line."""


def read_records(path: str | Path, *, lenient: bool = False) -> Iterator[tuple[int, dict | str]]:
    """Yield (line number, parsed JSON object) for each non-blank line of `path`.

    A malformed line raises InputError naming it; with `lenient=True` it is yielded as
    (line number, message) instead and reading goes on, so a checker can list every problem.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    for lineno, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            problem = None if isinstance(record, dict) else "each line must be a JSON object"
        except json.JSONDecodeError as exc:
            problem = f"malformed JSON ({exc.msg} at column {exc.colno})"
        if problem is None:
            yield lineno, record
        elif lenient:
            yield lineno, problem
        else:
            raise InputError(f"{path}:{lineno}: {problem}")


def read_jsonl(path: str | Path, *, validate: bool = True, require_value_heads: bool = True) -> list[Document]:
    """Read interchange JSONL into Documents; raise InputError naming the line on any problem."""
    docs = []
    for lineno, record in read_records(path):
        try:
            docs.append(Document.from_dict(record, validate=validate, require_value_heads=require_value_heads))
        except SchemaError as exc:
            raise InputError(f"{path}:{lineno}: {exc}") from None
    return docs


def write_jsonl(docs: Iterable[Document], path: str | Path) -> int:
    """Write Documents as interchange JSONL (UTF-8, no ASCII escaping); return the count."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as fh:
        for doc in docs:
            fh.write(json.dumps(doc.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    return count
