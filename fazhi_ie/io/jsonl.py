"""Interchange JSONL (docs/SCHEMA.md): one document per line."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator

from ..document import Document, SchemaError


class InputError(ValueError):
    """Input that cannot be read; the message names the file and line."""


_LINE_SEPARATORS = {0x2028: "\\u2028", 0x2029: "\\u2029", 0x85: "\\u0085"}
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def dumps_record(record: dict) -> str:
    """One JSONL line (with its newline): UTF-8 text unescaped, except U+2028, U+2029 and
    U+0085, which are written as \\u escapes so that no line-splitting reader breaks the line."""
    line = json.dumps(record, ensure_ascii=False)
    for char, escape in _LINE_SEPARATORS.items():
        if chr(char) in line:
            line = line.replace(chr(char), escape)
    return line + "\n"


def iter_lines(path: str | Path) -> Iterator[tuple[int, str, int]]:
    """Yield (line number, line text, size in bytes) of a UTF-8 (or BOM-marked UTF-16) file,
    one line at a time. Lines end at \\n only (never at U+2028 and the like)."""
    path = Path(path)
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with fh:
        head = fh.read(2)
        fh.seek(0)
        if head in UTF16_BOMS:
            import io

            with io.TextIOWrapper(fh, encoding="utf-16", newline="\n") as text:
                try:
                    for lineno, line in enumerate(text, start=1):
                        yield lineno, line, len(line.encode("utf-8"))
                except UnicodeDecodeError as exc:
                    raise InputError(f"{path}: invalid UTF-16 text ({exc.reason})") from None
            return
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(f"{path}:{lineno}: not UTF-8 text (invalid byte at column {exc.start + 1}); "
                                 "convert the file to UTF-8") from None
            yield lineno, line, len(raw)


def parse_line(line: str) -> tuple[dict | None, str | None]:
    """(record, None) for a JSON object line, else (None, what is wrong with it)."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        where = f"column {exc.colno}" if exc.msg.endswith(" at") else f"at column {exc.colno}"
        return None, f"malformed JSON ({exc.msg} {where})"
    except RecursionError:
        return None, "malformed JSON (nested too deeply)"
    if not isinstance(record, dict):
        return None, "each line must be a JSON object"
    return record, None


def read_records(path: str | Path, *, lenient: bool = False) -> Iterator[tuple[int, dict | str]]:
    """Yield (line number, parsed JSON object) for each non-blank line of `path`, streaming.

    A malformed line raises InputError naming it; with `lenient=True` it is yielded as
    (line number, message) instead and reading goes on, so a checker can list every problem.
    """
    for lineno, line, _size in iter_lines(path):
        if not line.strip():
            continue
        record, problem = parse_line(line)
        if problem is None:
            yield lineno, record  # type: ignore[misc]
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
            fh.write(dumps_record(doc.to_dict()))
            count += 1
    return count
