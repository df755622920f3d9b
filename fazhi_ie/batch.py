"""Batch extraction over any number of documents, in constant memory.

Inputs are streamed: `.txt` files (one document each, any case of suffix; UTF-8, or UTF-16
with a byte-order mark), `.jsonl` files (one document per line with `text`, optional `id`
and `meta`), directories (searched recursively) and `-` for stdin. Each document is
extracted by one engine instance per process (`workers` processes, each loading the engine
once through `engines.load_engine`), written whole in input order with one write and a
flush, so an interrupted run leaves complete lines plus at most one partial line, which
`resume` cuts off before skipping the documents already written. A document that cannot
be read or extracted is recorded (where, id, reason) and the rest go on.
"""
from __future__ import annotations

import csv
import io
import json
import os
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence, TextIO

from .document import Document
from .io.jsonl import UTF16_BOMS, InputError, dumps_record, iter_lines, parse_line

TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl",)
FORMATS = ("jsonl", "csv", "table")
STDIN = "-"


class BatchError(ValueError):
    """A problem with the batch as a whole (bad output path, nothing to read); one line."""


@dataclass(frozen=True)
class BatchConfig:
    """How to run a batch. Rejects values it cannot use."""

    engine: str = "rules"
    model: str | None = None
    fmt: str = "jsonl"
    workers: int = 1
    resume: bool = False
    stdin_format: str = "txt"
    max_in_flight: int = 0  # 0: 4 per worker

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise BatchError(f"unknown format {self.fmt!r}; valid formats: {', '.join(FORMATS)}")
        if not isinstance(self.workers, int) or self.workers < 1:
            raise BatchError(f"--workers must be a whole number of at least 1, got {self.workers!r}")
        if self.stdin_format not in ("txt", "jsonl"):
            raise BatchError(f"unknown stdin format {self.stdin_format!r}; valid: txt, jsonl")
        if self.resume and self.fmt != "jsonl":
            raise BatchError("--resume needs --format jsonl (documents are complete lines there)")


# --- sources ---------------------------------------------------------------------------------
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


def input_kind(path: Path) -> str | None:
    """'txt' or 'jsonl' by suffix (any case), else None."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return "txt"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
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
            files = sorted(p for p in path.rglob("*") if p.is_file() and input_kind(p))
            files = [p for p in files if _resolved(p) not in excluded]
            if not files:
                raise BatchError(f"{path}: directory holds no .txt or .jsonl files")
            found.extend((p, input_kind(p) or "") for p in files)
        elif path.is_file():
            if _resolved(path) in excluded:
                raise BatchError(f"{path}: is also the output or errors file; give another output path")
            found.append((path, input_kind(path) or "txt"))
        else:
            raise BatchError(f"{path}: no such file or directory")
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
        if kind == "txt":
            stems[path.stem] = stems.get(path.stem, 0) + 1
    sources = []
    for path, kind in unique:
        if kind == "stdin":
            sources.append(Source(None, stdin_format, "stdin" if stdin_format == "txt" else None))
        elif kind == "txt":
            doc_id = path.stem if stems[path.stem] == 1 else path.with_suffix("").as_posix()
            sources.append(Source(path, "txt", doc_id))
        else:
            sources.append(Source(path, "jsonl"))
    return sources


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


def read_text_file(path: Path) -> str:
    """The whole file as text; refuses binary and undecodable input with a clear message."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return decode_text(raw, str(path))


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


def iter_documents(sources: Iterable[Source], *, stdin: TextIO | None = None) -> Iterator[Task | Failure]:
    """Documents and failures in input order, one at a time; duplicate ids are failures."""
    first_seen: dict[str, str] = {}
    for source in sources:
        for item in _source_items(source, stdin):
            if isinstance(item, Task):
                earlier = first_seen.get(item.doc.id)
                if earlier is not None:
                    yield Failure(item.where, item.doc.id, f"duplicate document id {item.doc.id!r} "
                                  f"(first in {earlier}); give each document its own id", item.size)
                    continue
                first_seen[item.doc.id] = item.where
            yield item


def _source_items(source: Source, stdin: TextIO | None) -> Iterator[Task | Failure]:
    if source.kind == "txt":
        try:
            if source.path is None:
                stream = stdin or sys.stdin
                data = stream.buffer.read() if hasattr(stream, "buffer") else stream.read().encode("utf-8")
                text = decode_text(data, "<stdin>")
                size = len(data)
            else:
                text = read_text_file(source.path)
                size = source.size()
        except InputError as exc:
            reason = str(exc)
            if reason.startswith(source.label + ": "):
                reason = reason[len(source.label) + 2:]
            yield Failure(source.label, source.doc_id, reason, source.size())
            return
        meta = {"source": source.label}
        yield Task(Document(source.doc_id or "stdin", text, meta), source.label, size)
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
            doc_or_problem = record_document(record, f"{stem}-{lineno}")  # type: ignore[arg-type]
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
    if kind == "txt":
        try:
            text = decode_text(data, label)
        except InputError as exc:
            yield Failure(label, doc_id, str(exc).removeprefix(label + ": "), len(data))
            return
        yield Task(Document(doc_id or stem, text, {"source": label}), label, len(data))
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


def record_document(record: dict, default_id: str) -> Document | str:
    """A Document from an input JSONL record, or what is wrong with the record."""
    text = record.get("text")
    if not isinstance(text, str):
        return "a document line needs a string 'text' field"
    meta = record.get("meta")
    if meta is not None and not isinstance(meta, dict):
        return f"'meta' must be an object, got {type(meta).__name__}"
    doc_id = record.get("id", default_id)
    if isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)) or doc_id == "":
        return f"'id' must be a non-empty string or an integer, got {doc_id!r:.40}"
    return Document(str(doc_id), text, dict(meta or {}))


# --- extraction (in this process or a worker) ------------------------------------------------
_WORKER_STATE: dict = {}  # per worker process: the engine, loaded once by _init_worker


def _init_worker(engine: str, model: str | None, fmt: str, threads: int) -> None:
    """Load the engine once per worker process. Each worker gets its share of the cores for torch
    (the model engine): N workers that each used every core would fight for them and run slower
    than one."""
    from .engines import load_engine

    if engine == "model":
        import torch

        torch.set_num_threads(threads)
    _WORKER_STATE["engine"] = load_engine(engine, model)
    _WORKER_STATE["fmt"] = fmt


def _work(doc: Document) -> tuple[str | None, int, int, str | None]:
    return extract_rendered(doc, _WORKER_STATE["engine"], _WORKER_STATE["fmt"])


def extract_rendered(doc: Document, engine, fmt: str) -> tuple[str | None, int, int, str | None]:
    """(rendered output, facts, values left out, error): extract one document and render it;
    output that breaks the schema is refused, never written."""
    from .pipeline import annotate
    from .schema import validate_record

    try:
        out = annotate(doc, engine=engine)
        record = out.to_dict()
        problems = validate_record(record)
        if problems:
            return None, 0, 0, "extraction output breaks the schema: " + "; ".join(str(p) for p in problems[:3])
        rendered = render(out, fmt, record)
        try:
            rendered.encode("utf-8")
        except UnicodeEncodeError as exc:
            return None, 0, 0, (f"the document holds {exc.object[exc.start:exc.end]!a} at offset {exc.start} of its "
                                "output, a lone surrogate that UTF-8 cannot store; fix the input's encoding")
        return rendered, len(out.facts), len(out.meta.get("dropped_values") or []), None
    except Exception as exc:  # noqa: BLE001 - one bad document must not stop the batch
        return None, 0, 0, f"extraction failed: {type(exc).__name__}: {exc}"


def render(doc: Document, fmt: str, record: dict | None = None) -> str:
    """One document in an output format: a JSONL line, CSV fact rows, or table lines."""
    if fmt == "jsonl":
        return dumps_record(record if record is not None else doc.to_dict())
    from .cli import FACT_COLUMNS, fact_rows, format_fact_table

    if fmt == "csv":
        buf = io.StringIO()
        csv.DictWriter(buf, fieldnames=FACT_COLUMNS, lineterminator="\n").writerows(fact_rows([doc]))
        return buf.getvalue()
    return format_fact_table([doc])


def csv_header() -> str:
    from .cli import FACT_COLUMNS

    buf = io.StringIO()
    csv.DictWriter(buf, fieldnames=FACT_COLUMNS, lineterminator="\n").writeheader()
    return buf.getvalue()


# --- resume ----------------------------------------------------------------------------------
def completed_ids(path: str | Path) -> set[str]:
    """Ids of the documents complete in a JSONL output. A last line without its newline
    (what an interrupted run may leave) is cut off so that appending goes on from a clean
    line end; a complete line that is not a document record stops the resume (BatchError),
    since cutting there could destroy someone else's data."""
    path = Path(path)
    done: set[str] = set()
    if not path.exists():
        return done
    good_end = 0
    with path.open("r+b") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.endswith(b"\n"):
                break
            try:
                record = json.loads(raw)
                doc_id = record["id"]
                if not isinstance(record.get("text"), str):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                raise BatchError(f"{path}:{lineno}: not a document record of an earlier run, so --resume will not "
                                 "append to this file; give the output of the interrupted run") from None
            done.add(str(doc_id))
            good_end += len(raw)
        fh.seek(0, os.SEEK_END)
        if fh.tell() != good_end:
            fh.truncate(good_end)
    return done


# --- the batch -------------------------------------------------------------------------------
@dataclass
class BatchResult:
    """What a batch did: documents written, facts, values left out, documents skipped as
    already complete (resume), failures, characters extracted and seconds taken."""

    documents: int = 0
    facts: int = 0
    dropped_values: int = 0
    skipped: int = 0
    failures: list[Failure] = field(default_factory=list)
    characters: int = 0
    seconds: float = 0.0


def run_batch(paths: Sequence[str], config: BatchConfig, *, output: str | None = None, errors: str | None = None,
              progress: bool = True, out_stream: TextIO | None = None, err_stream: TextIO | None = None,
              stdin: TextIO | None = None) -> BatchResult:
    """Extract every document of `paths` into `output` (or `out_stream`); see the module doc."""
    err_stream = err_stream or sys.stderr
    bar = None

    def say(message: str) -> None:
        if bar is not None:
            bar.write(message, file=err_stream)
        else:
            print(message, file=err_stream)

    # list the inputs first (cheap; refuses an input that is also the output), then open
    # (and so check) the output files, before any document is read
    sources = list_sources(paths, exclude=[output or "", errors or ""], stdin_format=config.stdin_format, warn=say)
    out_fh, err_fh = _open_outputs(output, errors, config)
    try:
        done = completed_ids(output) if config.resume and output else set()
        if out_fh is None:
            assert output is None
            out = out_stream or sys.stdout
        else:
            out = out_fh
        if config.fmt == "csv" and not (config.resume and done):
            out.write(csv_header())
        from tqdm import tqdm

        total = sum(s.size() for s in sources) or None
        # output on the terminal: the bar waits half a second, and is cleared before each
        # document is written, so that the two never mix
        to_screen = progress and out_fh is None and getattr(out, "isatty", lambda: False)()
        bar = tqdm(total=total, unit="B", unit_scale=True, desc="extracting", file=err_stream,
                   disable=not progress, dynamic_ncols=True, mininterval=0.5, delay=0.5 if to_screen else 0)
        result = BatchResult()
        started = time.perf_counter()
        last_postfix = 0.0

        def finish(item: Task | Failure, rendered: str | None, facts: int, dropped: int, error: str | None) -> None:
            nonlocal last_postfix
            if isinstance(item, Failure) or error is not None:
                failure = item if isinstance(item, Failure) else Failure(item.where, item.doc.id, error or "", item.size)
                result.failures.append(failure)
                say(f"error: {failure.where}" + (f": document {failure.doc_id}" if failure.doc_id else "")
                    + f": {failure.reason}")
                if err_fh is not None:
                    err_fh.write(dumps_record({"where": failure.where, "id": failure.doc_id, "error": failure.reason}))
                    err_fh.flush()
            else:
                if to_screen:
                    with tqdm.external_write_mode(file=out):
                        out.write(rendered or "")
                else:
                    out.write(rendered or "")
                out.flush()  # each document whole: one write, then flushed
                result.documents += 1
                result.facts += facts
                result.dropped_values += dropped
                result.characters += len(item.doc.text)
            bar.update(item.size)
            now = time.perf_counter()
            if progress and now - last_postfix > 0.5:
                last_postfix = now
                rate = result.characters / max(now - started, 1e-9)
                bar.set_postfix_str(f"{result.documents} docs, {rate:,.0f} chars/s", refresh=False)

        def already_done(item: Task | Failure) -> bool:
            """A document --resume finds complete in the output: counted as skipped, not extracted again."""
            if isinstance(item, Task) and item.doc.id in done:
                result.skipped += 1
                bar.update(item.size)
                return True
            return False

        def warn_content(task: Task) -> None:
            if not task.doc.text.strip():
                say(f"warning: {task.where}: document {task.doc.id} is empty; it has no facts")
            elif not any("\u4e00" <= ch <= "\u9fff" for ch in task.doc.text):
                say(f"warning: {task.where}: document {task.doc.id} has no Chinese text; it has no facts")

        items = iter_documents(sources, stdin=stdin)
        if config.workers == 1:
            from .engines import load_engine

            engine = load_engine(config.engine, config.model)
            for item in items:
                if already_done(item):
                    continue
                if isinstance(item, Task):
                    warn_content(item)
                    finish(item, *extract_rendered(item.doc, engine, config.fmt))
                else:
                    finish(item, None, 0, 0, None)
        else:
            _run_parallel(items, config, already_done, finish, warn_content)
        result.seconds = time.perf_counter() - started
        bar.close()
        bar = None
        return result
    finally:
        if bar is not None:
            bar.close()
        for fh in (out_fh, err_fh):
            if fh is not None:
                fh.close()


def _run_parallel(items, config: BatchConfig, already_done, finish, warn_content) -> None:
    """Workers extract; this process reads input and writes output in input order, with at
    most `max_in_flight` documents between the two (constant memory)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    limit = config.max_in_flight or 4 * config.workers
    pending: deque = deque()
    with ProcessPoolExecutor(max_workers=config.workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_init_worker,
                             initargs=(config.engine, config.model, config.fmt,
                                       max(1, (os.cpu_count() or 1) // config.workers))) as pool:
        try:
            for item in items:
                if already_done(item):
                    continue
                if isinstance(item, Task):
                    warn_content(item)
                    pending.append((item, pool.submit(_work, item.doc)))
                else:
                    pending.append((item, None))
                while len(pending) >= limit or (pending and pending[0][1] is None):
                    _finish_first(pending, finish)
            while pending:
                _finish_first(pending, finish)
        except BrokenProcessPool as exc:
            for _item, future in pending:
                if future is not None:
                    future.cancel()
            raise BatchError(f"a worker process died ({exc}); the documents written so far are complete: "
                             "run again with --resume") from None
        except BaseException:
            for _item, future in pending:
                if future is not None:
                    future.cancel()
            raise


def _finish_first(pending: deque, finish) -> None:
    item, future = pending.popleft()
    if future is None:
        finish(item, None, 0, 0, None)
        return
    try:
        finish(item, *future.result())
    except Exception as exc:  # noqa: BLE001 - a worker that died is one failed document
        finish(item, None, 0, 0, f"worker failed: {type(exc).__name__}: {exc}")


def _open_outputs(output: str | None, errors: str | None, config: BatchConfig):
    """Open (and so check) the output and errors files before any work is done."""
    if output and errors and _resolved(output) == _resolved(errors):
        raise BatchError("the output and errors files must differ")
    handles = []
    for name, path, mode in (("output", output, "a" if config.resume else "w"), ("errors", errors, "w")):
        if not path:
            handles.append(None)
            continue
        target = Path(path)
        if target.is_dir():
            raise BatchError(f"{target}: the {name} path is a directory; give a file name")
        if not target.parent.exists():
            raise BatchError(f"{target}: the {name} file's directory {target.parent} does not exist")
        try:
            handles.append(target.open(mode, encoding="utf-8", newline="\n"))
        except OSError as exc:
            for fh in handles:
                if fh is not None:
                    fh.close()
            raise BatchError(f"{target}: cannot write the {name} file ({exc.strerror or exc})") from None
    return handles[0], handles[1]
