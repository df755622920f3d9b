"""The research subcommands of `fazhi-ie`: facts, compare, render.

Registered by `fazhi_ie.cli.build_parser` through `add_research_commands`. Inputs are read
by the one input layer (`fazhi_ie.io.sources`, as `extract` reads them): .txt files (one
document), interchange .jsonl files, directories of them and `-`. A file or record that
cannot be read is reported on one line naming it (and its line) and left out; the others go
on and the command exits 1 at the end. Documents are extracted with the chosen engine unless
they already are extraction output (meta.engine is set) or `--annotations` says to use their
own entities and relations.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Iterator

from ..document import Document
from ..engines import DEFAULT_ENGINE, ENGINE_NAMES
from ..analysis.tables import TABLE_FORMATS
from .common import CliError, check_output_path, err


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", choices=ENGINE_NAMES, default=None,
                        help=f"engine for texts that are not extracted yet (default: {DEFAULT_ENGINE}, the shipped "
                             "model, or $FAZHI_IE_ENGINE)")
    parser.add_argument("--model", help="model directory for --engine model")
    parser.add_argument("--annotations", action="store_true",
                        help="use the JSONL records' own entities and relations (e.g. gold) instead of extracting")
    parser.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE",
                        help="set on every document (e.g. --meta year=2023); otherwise the report's year and region "
                             "come from its title or opening, never from page furniture")
    parser.add_argument("--duplicates", action="store_true",
                        help="keep facts from text a page repeats verbatim (left out by default: they would count twice)")


class DocumentReader:
    """Documents with facts from files and directories (see the module docstring); counts the
    inputs it had to leave out in `failures`."""

    def __init__(self, paths: list[str], *, engine: str | None = None, model: str | None = None,
                 annotations: bool = False, meta: list[str] | None = None):
        from ..io.sources import parse_meta_options

        self.paths, self.engine, self.model, self.annotations = paths, engine, model, annotations
        self.meta = parse_meta_options(meta or [])
        self.failures = 0

    def _failed(self, failure) -> None:
        self.failures += 1
        err("error: " + failure.where + (f": document {failure.doc_id}" if failure.doc_id else "")
            + f": {failure.reason}; left out")

    def __iter__(self) -> Iterator[Document]:
        from ..facts import facts_for
        from ..io.sources import read_documents

        nlp = None
        mode = "keep" if self.annotations else "extracted"
        for doc in read_documents(self.paths, on_failure=self._failed, annotations=mode, meta=self.meta):
            if self.annotations or doc.meta.get("engine"):
                yield doc if doc.facts else doc.with_annotations(facts=facts_for(doc))
                continue
            if nlp is None:
                from ..pipeline import load

                nlp = load(self.model, self.engine)
            yield nlp.annotate(doc)


class _duplicates_reported:
    """Turn the tables' warning about facts from repeated text into one line on stderr."""

    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings(record=True)
        self._caught = self._catch.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        from ..analysis.tables import DuplicateFactsLeftOut

        self._catch.__exit__(*exc)
        for w in self._caught:
            if issubclass(w.category, DuplicateFactsLeftOut):
                err(str(w.message).split("; pass include_duplicates")[0] + "; --duplicates keeps them")
            else:
                import warnings

                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return False


def _is_table(path: Path) -> bool:
    """A facts table (.csv/.parquet, or .jsonl whose first record has canonical_metric)."""
    if path.suffix in (".csv", ".parquet"):
        return True
    if path.suffix == ".jsonl" and path.is_file():
        from ..io.jsonl import read_records

        for _, record in read_records(path):
            return "canonical_metric" in record and "text" not in record
    return False


def _check_output(path: str | None, fmt: str | None = None) -> None:
    """Refuse an output name whose format is unknown before any work is done."""
    from ..analysis.tables import table_format

    if path:
        try:
            table_format(path, fmt)
        except ValueError as exc:
            raise CliError(str(exc)) from None
        check_output_path(path)


def cmd_facts(args: argparse.Namespace) -> int:
    from ..analysis.metric_keys import MetricCanonicalizer
    from ..analysis.tables import facts_table, write_table

    _check_output(args.output, args.format)
    canon = MetricCanonicalizer.from_file(args.lexicon) if args.lexicon else None
    docs = DocumentReader(args.paths, engine=args.engine, model=args.model, annotations=args.annotations,
                          meta=args.meta)
    with _duplicates_reported():
        frame = facts_table(docs, canonicalizer=canon, include_duplicates=args.duplicates)
    if args.output:
        fmt = write_table(frame, args.output, args.format)
        print(f"fazhi-ie: {len(frame)} fact(s) from {frame['doc_id'].nunique()} document(s) written to "
              f"{args.output} ({fmt})", file=sys.stderr)
    else:
        frame.to_csv(sys.stdout, index=False)
    return 1 if docs.failures else 0


def cmd_compare(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..analysis.tables import compare_table, facts_table, read_table, write_table

    _check_output(args.output)
    tables = [Path(p) for p in args.paths if _is_table(Path(p))]
    others = [p for p in args.paths if not _is_table(Path(p))]
    frames = [read_table(p) for p in tables]
    if others:
        docs = DocumentReader(others, engine=args.engine, model=args.model, annotations=args.annotations,
                          meta=args.meta)
        with _duplicates_reported():
            frames.append(facts_table(docs, include_duplicates=args.duplicates))
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if args.metric:
        keep = frame["canonical_metric"].str.contains(args.metric, regex=False) | \
            frame["metric"].str.contains(args.metric, regex=False)
        frame = frame[keep.fillna(False)]
        if frame.empty:
            raise CliError(f"no fact's metric or canonical metric contains {args.metric!r}")
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
    return 1 if others and docs.failures else 0


def cmd_render(args: argparse.Namespace) -> int:
    from ..analysis.html_view import write_html

    check_output_path(args.output)
    docs = DocumentReader([args.file], engine=args.engine, model=args.model, annotations=args.annotations,
                          meta=args.meta)
    chosen = None
    ids = []
    for doc in docs:
        ids.append(doc.id)
        if args.doc is None or doc.id == args.doc:
            chosen = doc
            break
    if chosen is None and not ids:
        raise CliError(f"{args.file}: holds no document to render")
    if chosen is None:
        raise CliError(f"{args.file}: no document with id {args.doc!r}; ids: {', '.join(ids[:20])}"
                       + (", …" if len(ids) > 20 else ""))
    out = args.output or f"{Path(args.file).stem}.html"
    write_html(chosen, out)
    print(f"fazhi-ie: {chosen.id}: {len(chosen.facts)} fact(s) rendered to {out}", file=sys.stderr)
    return 1 if docs.failures else 0


def cmd_panel(args: argparse.Namespace) -> int:
    from ..analysis.panel import CELL_RULE, panel, panel_format, write_panel

    for path in (args.output, args.wide):
        if path:
            try:
                panel_format(path)
            except ValueError as exc:
                raise CliError(str(exc)) from None
            check_output_path(path)
    docs = DocumentReader(args.paths, engine=args.engine, model=args.model, annotations=args.annotations,
                          meta=args.meta)
    with _duplicates_reported():
        result = panel(docs, include_duplicates=args.duplicates)
    long = result.long
    if args.indicator:
        long = long[long["indicator"].str.contains(args.indicator, regex=False)]
    if args.output:
        write_panel(long, args.output)
    else:
        long.drop(columns=["rule"]).to_csv(sys.stdout, index=False)
    if args.wide:
        from ..analysis.panel import wide_table

        write_panel(wide_table(long), args.wide)
    err(f"{len(long)} cell(s): {long['region'].nunique()} region(s), {long['indicator'].nunique()} indicator(s)"
        + (f", written to {args.output}" if args.output else "") + (f"; wide table in {args.wide}" if args.wide else "")
        + f". One value per cell: {CELL_RULE}")
    return 1 if docs.failures else 0


def add_research_commands(sub) -> None:
    """Add the facts, compare, panel and render subcommands to the `fazhi-ie` subparsers."""
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

    pa = sub.add_parser("panel", help="region × year panel of indicators: one numeric value per cell by a stated rule")
    pa.add_argument("paths", nargs="+", help=".txt / .jsonl documents or directories")
    pa.add_argument("-o", "--output", help="the long table: panel.csv, .parquet or .dta (default: CSV on stdout)")
    pa.add_argument("--wide", help="also write the wide table (region-year rows × indicators): .csv, .parquet or .dta")
    pa.add_argument("--indicator", help="only indicators whose name contains this")
    _add_input_options(pa)
    pa.set_defaults(func=cmd_panel)

    re_ = sub.add_parser("render", help="one self-contained HTML page: entities, relations and facts")
    re_.add_argument("file", help="a .txt document or a .jsonl file (the first document, or --doc ID)")
    re_.add_argument("-o", "--output", help="HTML file to write (default: FILE's name with .html)")
    re_.add_argument("--doc", help="id of the document to render from a .jsonl file")
    _add_input_options(re_)
    re_.set_defaults(func=cmd_render)
