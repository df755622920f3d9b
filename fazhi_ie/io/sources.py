"""The one input layer: find input files, decode them, and turn records into Documents.

Every command that reads documents (extract, facts, compare, render, Ray, the API's
`read_documents`) goes through here, so they accept the same inputs and fail the same way:

- `.txt` files (any case of suffix) are one document each: UTF-8 (BOM optional) or UTF-16
  with a byte-order mark; the id is the file stem, or the path without its suffix where two
  files share a stem;
- `.jsonl` files hold one document per line (`text`, optional `id` and `meta`);
- directories are searched recursively for both; `-` is stdin.

A file or record that cannot be used becomes a `Failure` (where, id, reason), never an
exception that stops the other documents; problems with the request as a whole (a missing
path, an input that is also the output) raise `SourceError`.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, TextIO

from ..document import Document
from .jsonl import UTF16_BOMS, InputError, iter_lines, parse_line

TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl",)
STDIN = "-"


class SourceError(InputError):
    """A problem with the inputs as a whole (a missing path, nothing to read); one line."""


@dataclass(frozen=True)
class Source:
    """One input: a file (kind 'txt' or 'jsonl') or stdin (path None)."""

    path: Path | None
    kind: str
    doc_id: str | None = None  # for a .txt source

    @property
    def label(self) -> str:
        return "<stdin>" if self.path is None else str(self.path)

    def size(self) -> int:
        try:
            return self.path.stat().st_size if self.path is not None else 0
        except OSError:
            return 0


#: file kinds that hold one document each (the rest: jsonl, many documents; stdin)
SINGLE_DOCUMENT_KINDS = ("txt", "docx", "pdf", "html")
READABLE_SUFFIXES = (".txt", ".jsonl", ".docx", ".pdf", ".html", ".htm")


def input_kind(path: Path) -> str | None:
    """'txt', 'jsonl', 'docx', 'pdf' or 'html' by suffix (any case), else None."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return "txt"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in (".docx", ".pdf"):
        return suffix[1:]
    if suffix in (".html", ".htm"):
        return "html"
    return None


def list_sources(paths: Sequence[str], *, exclude: Iterable[str | Path] = (), stdin_format: str = "txt",
                 warn: Callable[[str], None] = lambda m: None) -> list[Source]:
    """The input files (directories expanded, sorted), skipping `exclude` (the output and
    errors files), with a unique document id for every .txt file: its stem, or its path
    without the suffix where two files share a stem."""
    excluded = {_resolved(p) for p in exclude if p}
    found: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for raw in paths:
        if raw == STDIN:
            found.append((Path(STDIN), "stdin"))
            continue
        path = Path(raw)
        if path.is_dir():
            every = sorted(p for p in path.rglob("*") if p.is_file() and not any(
                part.startswith(".") for part in p.relative_to(path).parts))
            every = [p for p in every if _resolved(p) not in excluded]
            for other in (p for p in every if not input_kind(p)):
                warn(f"warning: {other}: skipped: not a document format ({other.suffix or 'no suffix'}); "
                     f"readable: {' '.join(READABLE_SUFFIXES)}")
            files = [p for p in every if input_kind(p)]
            if not files:
                raise SourceError(f"{path}: directory holds no document file ({' '.join(READABLE_SUFFIXES)})")
            found.extend((p, input_kind(p) or "") for p in files)
        elif path.is_file() or (path.exists() and not path.is_dir()):  # a file, or a pipe such as /dev/stdin
            if _resolved(path) in excluded:
                raise SourceError(f"{path}: is also the output or errors file; give another output path")
            found.append((path, input_kind(path) or "txt"))
        else:
            raise SourceError(f"{path}: no such file or directory")
    unique: list[tuple[Path, str]] = []
    for path, kind in found:
        key = _resolved(path) if kind != "stdin" else Path(STDIN)
        if key in seen:
            warn(f"warning: {path}: given more than once; read once")
            continue
        seen.add(key)
        unique.append((path, kind))
    stems: dict[str, int] = {}
    for path, kind in unique:
        if kind in SINGLE_DOCUMENT_KINDS:
            stems[path.stem] = stems.get(path.stem, 0) + 1
    sources = []
    for path, kind in unique:
        if kind == "stdin":
            sources.append(Source(None, stdin_format, "stdin" if stdin_format == "txt" else None))
        elif kind in SINGLE_DOCUMENT_KINDS:
            doc_id = path.stem if stems[path.stem] == 1 else path.with_suffix("").as_posix()
            sources.append(Source(path, kind, doc_id))
        else:
            sources.append(Source(path, "jsonl"))
    return sources


def output_path_problem(path: str | Path, what: str = "output") -> str | None:
    """What is wrong with writing a file at `path` (a directory, or its folder missing), or None; checked
    before any work is done."""
    target = Path(path)
    if target.is_dir():
        return f"{target}: the {what} path is a directory; give a file name"
    if not target.parent.exists():
        return f"{target}: the {what} file's directory {target.parent} does not exist"
    return None


def _resolved(path: str | Path) -> Path:
    try:
        return Path(path).resolve()
    except OSError:
        return Path(os.path.abspath(path))


def decode_text(raw: bytes, name: str) -> str:
    """Text from bytes: UTF-8 (BOM optional) or UTF-16 with a BOM; a clear error otherwise."""
    if raw.startswith(UTF16_BOMS):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: UTF-16 text with an invalid sequence at byte {exc.start}") from None
    if b"\x00" in raw[:8192]:
        hint = " (it looks like UTF-16 without a byte-order mark; save it as UTF-8)" if _looks_utf16(raw) else ""
        raise InputError(f"{name}: contains NUL bytes, so not UTF-8 text: a binary file?{hint}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (invalid byte at offset {exc.start}); "
                         "convert it to UTF-8 first (e.g. iconv -f GB18030 -t UTF-8)") from None


def _looks_utf16(raw: bytes) -> bool:
    """True when the bytes read as mostly printable text in UTF-16 (LE or BE)."""
    sample = raw[:4096]
    sample = sample[:len(sample) // 2 * 2]
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = sample.decode(encoding)
        except UnicodeDecodeError:
            continue
        printable = sum(ch.isprintable() or ch.isspace() for ch in text)
        if text and printable >= 0.95 * len(text):
            return True
    return False


# --- documents -------------------------------------------------------------------------------
@dataclass
class Task:
    """A document to extract; `where` is file or file:line, `size` its input bytes."""

    doc: Document
    where: str
    size: int


@dataclass
class Failure:
    """A document (or file) that could not be read or extracted, and why."""

    where: str
    doc_id: str | None
    reason: str
    size: int = 0


def iter_documents(sources: Iterable[Source], *, stdin: TextIO | None = None, annotations: str = "drop",
                   meta: Mapping[str, Any] | None = None) -> Iterator[Task | Failure]:
    """Documents and failures in input order, one at a time; duplicate ids are failures. `meta` (e.g.
    {"year": 2023} from `--meta year=2023`) is set on every document, over what its record says."""
    first_seen: dict[str, str] = {}
    for source in sources:
        for item in _source_items(source, stdin, annotations):
            if isinstance(item, Task) and meta:
                item.doc = replace(item.doc, meta={**item.doc.meta, **meta})
            if isinstance(item, Task):
                earlier = first_seen.get(item.doc.id)
                if earlier is not None:
                    yield Failure(item.where, item.doc.id, f"duplicate document id {item.doc.id!r} "
                                  f"(first in {earlier}); give each document its own id", item.size)
                    continue
                first_seen[item.doc.id] = item.where
            yield item


def document_from_bytes(data: bytes, label: str, kind: str, doc_id: str) -> Task | Failure:
    """One single-document file (txt, docx, pdf, html) as a Task, or a Failure saying why it cannot be read.

    Text that is not UTF-8 is tried in the legacy encodings (GB18030, Big5, UTF-16 without a BOM) and the
    document's meta says how it was decoded; other formats go through `io.readers`."""
    from .readers import READERS, ReaderError, decode_legacy

    meta: dict[str, Any] = {"source": label}
    try:
        if kind == "txt":
            try:
                text = decode_text(data, label)
            except InputError:
                legacy = decode_legacy(data)
                if legacy is None:
                    raise
                text, meta["decoded"] = legacy.text, legacy.how
        else:
            extracted = READERS["." + kind](data)
            text = extracted.text
            meta.update({"source_format": extracted.format, "extracted": extracted.how})
    except (InputError, ReaderError) as exc:
        return Failure(label, doc_id, str(exc).removeprefix(label + ": "), len(data))
    return Task(Document(doc_id, text, meta), label, len(data))


def _source_items(source: Source, stdin: TextIO | None, annotations: str = "drop") -> Iterator[Task | Failure]:
    if source.kind in SINGLE_DOCUMENT_KINDS:
        if source.path is None:
            stream = stdin or sys.stdin
            data = stream.buffer.read() if hasattr(stream, "buffer") else stream.read().encode("utf-8")
        else:
            try:
                data = source.path.read_bytes()
            except OSError as exc:
                yield Failure(source.label, source.doc_id, f"cannot read ({exc.strerror or exc})", source.size())
                return
        yield document_from_bytes(data, source.label, source.kind, source.doc_id or "stdin")
        return
    lines: Iterable[tuple[int, str, int]]
    if source.path is None:
        stream = stdin or sys.stdin
        lines = ((n, line, len(line.encode("utf-8"))) for n, line in enumerate(stream, start=1))
        stem = "stdin"
    else:
        lines = iter_lines(source.path)
        stem = source.path.stem
    try:
        for lineno, line, size in lines:
            if not line.strip():
                continue
            where = f"{source.label}:{lineno}"
            record, problem = parse_line(line)
            if problem is not None:
                yield Failure(where, None, problem, size)
                continue
            doc_or_problem = record_document(record, f"{stem}-{lineno}", annotations)  # type: ignore[arg-type]
            if isinstance(doc_or_problem, str):
                doc_id = record.get("id")  # type: ignore[union-attr]
                doc_id = doc_id if isinstance(doc_id, (str, int)) and not isinstance(doc_id, bool) else None
                yield Failure(where, None if doc_id is None else str(doc_id), doc_or_problem, size)
            else:
                yield Task(doc_or_problem, where, size)
    except InputError as exc:
        where, _, reason = str(exc).partition(": ")
        yield Failure(where, None, f"{reason}; the rest of this file was not read", 0)


def items_from_bytes(data: bytes, label: str, kind: str, doc_id: str | None = None,
                     stem: str = "doc") -> Iterator[Task | Failure]:
    """The documents of one whole file given as bytes (as a distributed reader hands it over);
    the same ids, checks and failures as reading the file from disk."""
    if kind in SINGLE_DOCUMENT_KINDS:
        yield document_from_bytes(data, label, kind, doc_id or stem)
        return
    if data.startswith(UTF16_BOMS):
        lines = [line.encode("utf-8") for line in data.decode("utf-16", "replace").split("\n")]
    else:
        lines = data.split(b"\n")
    for lineno, raw in enumerate(lines, start=1):
        where = f"{label}:{lineno}"
        try:
            line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            yield Failure(where, None, f"not UTF-8 text (invalid byte at column {exc.start + 1})", len(raw))
            continue
        if not line.strip():
            continue
        record, problem = parse_line(line)
        if problem is not None:
            yield Failure(where, None, problem, len(raw))
            continue
        doc = record_document(record, f"{stem}-{lineno}")  # type: ignore[arg-type]
        if isinstance(doc, str):
            rid = record.get("id") if isinstance(record.get("id"), (str, int)) else None  # type: ignore[union-attr]
            yield Failure(where, None if rid is None else str(rid), doc, len(raw))
        else:
            yield Task(doc, where, len(raw))


#: what `record_document` does with a record's own entities, relations and facts
ANNOTATION_MODES = ("drop", "keep", "extracted")


def parse_meta_options(options: Sequence[str]) -> dict[str, Any]:
    """`["year=2023", "region=金塔县"]` (from `--meta`) as a dict; whole numbers become ints."""
    meta: dict[str, Any] = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--meta {option!r}: expected KEY=VALUE, e.g. --meta year=2023")
        meta[key.strip()] = int(value) if value.strip().isdigit() else value
    return meta


def record_document(record: dict, default_id: str, annotations: str = "drop") -> Document | str:
    """A Document from an input JSONL record, or what is wrong with the record (one line).

    `annotations`: "drop" reads text, id and meta only (the record is to be extracted);
    "keep" also reads its entities, relations and facts, which must follow the schema;
    "extracted" keeps them only for a record that is extraction output (meta.engine set).
    """
    text = record.get("text")
    if not isinstance(text, str):
        return "a document line needs a string 'text' field"
    meta = record.get("meta")
    if meta is not None and not isinstance(meta, dict):
        return f"'meta' must be an object, got {type(meta).__name__}"
    doc_id = record.get("id", default_id)
    if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)) or doc_id == "":
        return f"'id' must be a non-empty string or an integer, got {doc_id!r:.40}"
    surrogate = first_lone_surrogate(text)
    if surrogate is not None:
        return (f"'text' holds a lone surrogate ({text[surrogate]!a}) at offset {surrogate}, which is no character "
                "and cannot be written as UTF-8; fix the input's encoding")
    doc = Document(str(doc_id), text, dict(meta or {}))
    if annotations == "keep" or (annotations == "extracted" and doc.meta.get("engine")):
        from ..document import SchemaError

        try:
            return Document.from_dict({**record, "id": doc.id}, require_value_heads=False)
        except SchemaError as exc:
            return f"its annotations break the schema: {exc}"
    return doc


def first_lone_surrogate(text: str) -> int | None:
    """Offset of the first lone surrogate code point (U+D800-U+DFFF) in `text`, or None."""
    try:
        text.encode("utf-8")
        return None
    except UnicodeEncodeError as exc:
        return exc.start


def read_documents(paths: Sequence[str], *, on_failure: Callable[[Failure], None] | None = None,
                   stdin: TextIO | None = None, annotations: str = "drop",
                   meta: Mapping[str, Any] | None = None) -> Iterator[Document]:
    """The documents of `paths` (files, directories, `-`), one at a time, in input order.

    A file or record that cannot be read is passed to `on_failure` and skipped; without
    `on_failure` it raises InputError naming the file (and line). Raises SourceError for a
    path that does not exist. `annotations`: see `record_document`; `meta`: set on every document.
    """
    if annotations not in ANNOTATION_MODES:
        raise ValueError(f"annotations={annotations!r}; valid: {', '.join(ANNOTATION_MODES)}")
    for item in iter_documents(list_sources(paths), stdin=stdin, annotations=annotations, meta=meta):
        if isinstance(item, Task):
            yield item.doc
        elif on_failure is not None:
            on_failure(item)
        else:
            raise InputError(f"{item.where}: {item.reason}")
