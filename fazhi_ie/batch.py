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

import json
import os
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence, TextIO

from .document import Document
from .engines import DEFAULT_ENGINE
from .io.jsonl import dumps_record
from .io.rows import CSV_COLUMNS, csv_text, format_fact_table
from .io.sources import Failure, Task, _resolved, iter_documents, list_sources, output_path_problem

FORMATS = ("jsonl", "csv", "table")


class BatchError(ValueError):
    """A problem with the batch as a whole (bad output path, nothing to read); one line."""


@dataclass(frozen=True)
class BatchConfig:
    """How to run a batch. Rejects values it cannot use."""

    engine: str = DEFAULT_ENGINE
    model: str | None = None
    fmt: str = "jsonl"
    workers: int = 1
    resume: bool = False
    stdin_format: str = "txt"
    max_in_flight: int = 0  # 0: 4 per worker
    meta: dict | None = None  # set on every document (e.g. {"year": 2023} from --meta year=2023)

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise BatchError(f"unknown format {self.fmt!r}; valid formats: {', '.join(FORMATS)}")
        if not isinstance(self.workers, int) or self.workers < 1:
            raise BatchError(f"--workers must be a whole number of at least 1, got {self.workers!r}")
        if self.stdin_format not in ("txt", "jsonl"):
            raise BatchError(f"unknown stdin format {self.stdin_format!r}; valid: txt, jsonl")
        if self.resume and self.fmt != "jsonl":
            raise BatchError("--resume needs --format jsonl (documents are complete lines there)")


# --- extraction (in this process or a worker) ------------------------------------------------
_WORKER_STATE: dict = {}  # per worker process: the engine, loaded once by _init_worker


def _init_worker(engine: str, model: str | None, fmt: str, threads: int, parent: int) -> None:
    """Load the engine once per worker process. Each worker gets its share of the cores for torch
    (the model engine): N workers that each used every core would fight for them and run slower
    than one. A watchdog ends the worker when its parent (`parent`, a pid) is gone, so a killed
    `fazhi-ie extract` leaves no orphaned workers behind."""
    from .engines import load_engine
    from .pipeline import Pipeline

    _watch_parent(parent)
    if engine == "model":
        import torch

        torch.set_num_threads(threads)
    _WORKER_STATE["pipeline"] = Pipeline(load_engine(engine, model))
    _WORKER_STATE["fmt"] = fmt


def _watch_parent(parent: int, interval: float = 0.5) -> None:
    """Exit this process as soon as `parent` is no longer its parent (it died)."""
    import threading

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(interval)

    threading.Thread(target=watch, name="fazhi-ie-parent-watchdog", daemon=True).start()


def _work(doc: Document) -> tuple[str | None, int, int, str | None]:
    return extract_rendered(doc, _WORKER_STATE["pipeline"], _WORKER_STATE["fmt"])


def extract_rendered(doc: Document, engine, fmt: str) -> tuple[str | None, int, int, str | None, list[str]]:
    """(rendered output, facts, values left out, error, warnings): extract one document and render it;
    output that breaks the schema is refused, never written. The warnings are the report's own
    (`meta.report.warnings`, e.g. meta and title disagree on the year)."""
    from .pipeline import Pipeline
    from .schema import validate_record

    try:
        out = (engine if isinstance(engine, Pipeline) else Pipeline(engine)).annotate(doc)
        record = out.to_dict()
        problems = validate_record(record)
        if problems:
            return None, 0, 0, "extraction output breaks the schema: " + "; ".join(str(p) for p in problems[:3]), []
        return (format_document(out, fmt, record), len(out.facts), len(out.meta.get("dropped_values") or []), None,
                list(out.meta.get("report", {}).get("warnings", [])))
    except Exception as exc:  # noqa: BLE001 - one bad document must not stop the batch
        return None, 0, 0, f"extraction failed: {type(exc).__name__}: {exc}", []


def format_document(doc: Document, fmt: str, record: dict | None = None) -> str:
    """One document in an output format: a JSONL line, CSV fact rows, or table lines."""
    if fmt == "jsonl":
        return dumps_record(record if record is not None else doc.to_dict())
    if fmt == "csv":
        return csv_text([doc], header=False)
    return format_fact_table([doc])


def csv_header() -> str:
    return ",".join(CSV_COLUMNS) + "\n"


# --- resume ----------------------------------------------------------------------------------
def completed_ids(path: str | Path, expect: dict | None = None) -> set[str]:
    """Ids of the documents complete in a JSONL output. A last line without its newline
    (what an interrupted run may leave) is cut off so that appending goes on from a clean
    line end; a complete line that is not a document record stops the resume (BatchError),
    since cutting there could destroy someone else's data. With `expect` ({"engine": …,
    "model": …}, from `engine_identity`), a record written by another engine or model stops
    the resume too: one output file never mixes engines."""
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
            if expect is not None:
                meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
                found = {key: meta.get(key) for key in expect}
                if found != expect:
                    raise BatchError(
                        f"{path}:{lineno}: written by " + ", ".join(f"{k} {v!r}" for k, v in found.items())
                        + "; this run uses " + ", ".join(f"{k} {v!r}" for k, v in expect.items())
                        + ". --resume continues a run with the same engine and model: give the earlier run's --engine/"
                        "--model, or write to a new output file")
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
        from .engines import engine_identity, load_engine
        from .pipeline import Pipeline

        # the engine is loaded (and so checked) here, before any worker starts: a broken model is one
        # clear error, not one traceback per worker
        pipeline = Pipeline(load_engine(config.engine, config.model))
        done = completed_ids(output, engine_identity(pipeline.engine)) if config.resume and output else set()
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

        def finish(item: Task | Failure, rendered: str | None, facts: int, dropped: int, error: str | None,
                   warnings: list[str] = ()) -> None:
            nonlocal last_postfix
            for warning in warnings:
                say(f"warning: {item.where}: document {item.doc.id}: {warning}")
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

        items = iter_documents(sources, stdin=stdin, meta=config.meta)
        if config.workers == 1:
            engine = pipeline
            for item in items:
                if already_done(item):
                    continue
                if isinstance(item, Task):
                    warn_content(item)
                    finish(item, *extract_rendered(item.doc, engine, config.fmt))
                else:
                    finish(item, None, 0, 0, None)
        else:
            del pipeline  # each worker loads its own
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
                                       max(1, (os.cpu_count() or 1) // config.workers), os.getpid())) as pool:
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
        problem = output_path_problem(target, name)
        if problem:
            raise BatchError(problem)
        try:
            handles.append(target.open(mode, encoding="utf-8", newline="\n"))
        except OSError as exc:
            for fh in handles:
                if fh is not None:
                    fh.close()
            raise BatchError(f"{target}: cannot write the {name} file ({exc.strerror or exc})") from None
    return handles[0], handles[1]
