"""The research subcommands of `fazhi-ie`: facts, compare, render.

Registered by `fazhi_ie.cli.build_parser` through `add_research_commands`; kept apart from
cli.py so that extraction and validation options can change without touching these.
Inputs are .txt files (one document), interchange .jsonl files and directories of them;
documents are extracted with the chosen engine unless they already are extraction output
(meta.engine is set) or `--annotations` says to use their own entities and relations.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Iterator

from .document import Document
from .engines import ENGINE_NAMES
from .tables import TABLE_FORMATS

DOC_SUFFIXES = (".txt", ".jsonl")


def _cli_error(message: str) -> Exception:
    from .cli import CliError

    return CliError(message)


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=ENGINE_NAMES, default=None,
                        help="engine for texts that are not extracted yet (default: rules, or "
                             "$FAZHI_IE_ENGINE)")
    parser.add_argument("--model", help="model directory for --engine model")
    parser.add_argument("--annotations", action="store_true",
                        help="use the JSONL records' own entities and relations (e.g. gold) instead of extracting")


def load_documents(paths: list[str], *, engine: str | None = None, model: str | None = None,
                   annotations: bool = False) -> Iterator[Document]:
    """Documents with facts from files and directories (see the module docstring)."""
    from .cli import expand_paths, read_text_file
    from .facts import assemble_facts, document_defaults
    from .io.jsonl import read_records
    from .rules.gazetteer import default_named_regions

    nlp = None
    for path in expand_paths(paths):
        if path.suffix not in DOC_SUFFIXES:
            raise _cli_error(f"{path}: expected a .txt or .jsonl document file")
        if path.suffix == ".txt":
            records = [(1, {"id": path.stem, "text": read_text_file(path), "meta": {"source": str(path)}})]
        else:
            records = list(read_records(path))
        for lineno, record in records:
            if not isinstance(record.get("text"), str):
                raise _cli_error(f"{path}:{lineno}: a document line needs a string 'text' field")
            meta = record.get("meta") or {}
            if annotations or (isinstance(meta, dict) and meta.get("engine")):
                doc = Document.from_dict(record, require_value_heads=False)
                if not doc.facts:
                    defaults = document_defaults(doc.text, doc.meta, list(default_named_regions()))
                    doc = doc.with_annotations(facts=assemble_facts(doc, defaults))
                yield doc
                continue
            if nlp is None:
                from .api import load

                nlp = load(model, engine)
            yield nlp(record["text"], meta=meta, doc_id=str(record.get("id", f"{path.stem}-{lineno}")))


def _is_table(path: Path) -> bool:
    """A facts table (.csv/.parquet, or .jsonl whose first record has canonical_metric)."""
    if path.suffix in (".csv", ".parquet"):
        return True
    if path.suffix == ".jsonl" and path.is_file():
        from .io.jsonl import read_records

        for _, record in read_records(path):
            return "canonical_metric" in record and "text" not in record
    return False


def _check_output(path: str | None, fmt: str | None = None) -> None:
    """Refuse an output name whose format is unknown before any work is done."""
    from .tables import table_format

    if path:
        try:
            table_format(path, fmt)
        except ValueError as exc:
            raise _cli_error(str(exc)) from None


def cmd_facts(args: argparse.Namespace) -> int:
    from .canon import MetricCanonicalizer
    from .tables import facts_table, write_table

    _check_output(args.output, args.format)
    canon = MetricCanonicalizer.from_file(args.lexicon) if args.lexicon else None
    docs = load_documents(args.paths, engine=args.engine, model=args.model, annotations=args.annotations)
    frame = facts_table(docs, canonicalizer=canon)
    if args.output:
        fmt = write_table(frame, args.output, args.format)
        print(f"fazhi-ie: {len(frame)} fact(s) from {frame['doc_id'].nunique()} document(s) written to "
              f"{args.output} ({fmt})", file=sys.stderr)
    else:
        frame.to_csv(sys.stdout, index=False)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    import pandas as pd

    from .tables import compare_table, facts_table, read_table, write_table

    _check_output(args.output)
    tables = [Path(p) for p in args.paths if _is_table(Path(p))]
    others = [p for p in args.paths if not _is_table(Path(p))]
    frames = [read_table(p) for p in tables]
    if others:
        frames.append(facts_table(load_documents(others, engine=args.engine, model=args.model,
                                                 annotations=args.annotations)))
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if args.metric:
        keep = frame["canonical_metric"].str.contains(args.metric, regex=False) | \
            frame["metric"].str.contains(args.metric, regex=False)
        frame = frame[keep.fillna(False)]
        if frame.empty:
            raise _cli_error(f"no fact's metric or canonical metric contains {args.metric!r}")
    pivot = compare_table(frame, min_reports=args.min_reports)
    if args.output:
        fmt = write_table(pivot.reset_index(), args.output)
        print(f"fazhi-ie: {len(pivot)} indicator(s) × {pivot.shape[1]} report(s) written to {args.output} ({fmt})",
              file=sys.stderr)
    elif pivot.empty:
        print(f"no indicator is reported in at least {args.min_reports} document(s)")
    else:
        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200,
                               "display.max_colwidth", 40, "display.unicode.east_asian_width", True):
            print(pivot.to_string())
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from .render import write_html

    docs = load_documents([args.file], engine=args.engine, model=args.model, annotations=args.annotations)
    chosen = None
    ids = []
    for doc in docs:
        ids.append(doc.id)
        if args.doc is None or doc.id == args.doc:
            chosen = doc
            break
    if chosen is None:
        raise _cli_error(f"{args.file}: no document with id {args.doc!r}; ids: {', '.join(ids[:20])}")
    out = args.output or f"{Path(args.file).stem}.html"
    write_html(chosen, out)
    print(f"fazhi-ie: {chosen.id}: {len(chosen.facts)} fact(s) rendered to {out}", file=sys.stderr)
    return 0


def add_research_commands(sub) -> None:
    """Add the facts, compare and render subcommands to the `fazhi-ie` subparsers."""
    fa = sub.add_parser("facts", help="one table of facts across documents: CSV, Parquet or JSONL by -o suffix")
    fa.add_argument("paths", nargs="+", help=".txt / .jsonl documents or directories")
    fa.add_argument("-o", "--output", help="out.csv, out.parquet or out.jsonl (default: CSV on stdout)")
    fa.add_argument("--format", choices=TABLE_FORMATS, help="table format when the suffix does not say")
    fa.add_argument("--lexicon", help="metric lexicon TSV to use instead of the bundled one")
    _add_input_options(fa)
    fa.set_defaults(func=cmd_facts)

    co = sub.add_parser("compare", help="canonical metric × report pivot, to read one indicator across reports")
    co.add_argument("paths", nargs="+", help="documents (.txt/.jsonl, directories) or facts tables (.csv/.parquet/.jsonl)")
    co.add_argument("-o", "--output", help="write the pivot as .csv, .parquet or .jsonl instead of printing it")
    co.add_argument("--metric", help="only indicators whose canonical key or metric text contains this")
    co.add_argument("--min-reports", type=int, default=2, help="only indicators found in at least N reports (default 2)")
    _add_input_options(co)
    co.set_defaults(func=cmd_compare)

    re_ = sub.add_parser("render", help="one self-contained HTML page: entities, relations and facts")
    re_.add_argument("file", help="a .txt document or a .jsonl file (the first document, or --doc ID)")
    re_.add_argument("-o", "--output", help="HTML file to write (default: FILE's name with .html)")
    re_.add_argument("--doc", help="id of the document to render from a .jsonl file")
    _add_input_options(re_)
    re_.set_defaults(func=cmd_render)
