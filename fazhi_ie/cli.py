"""The `fazhi-ie` command line: extract, validate, evaluate, stats, convert, audit.

Every expected failure (unreadable input, schema violations, a missing model) ends in one
line on stderr and a non-zero exit status, never a traceback; `--debug` shows the
traceback for a bug report.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence

from .document import Document, SchemaError
from .engines import ENGINE_NAMES, ModelNotInstalledError
from .io.jsonl import InputError, read_jsonl, read_records, write_jsonl
from .schema import validate_record

FORMATS = ("jsonl", "csv", "table")
CONVERT_FORMATS = ("jsonl", "labelstudio", "doccano")
TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl",)
SAMPLE_NAME = "sample_report.txt"
FACT_COLUMNS = ("doc_id", "metric", "value", "number", "unit", "qualifier", "change", "agent", "time", "program",
                "sentence_start", "sentence_end", "metric_start", "metric_end", "value_start", "value_end")


class CliError(Exception):
    """An error worth one line to the user."""


def _err(message: str) -> None:
    print(f"fazhi-ie: {message}", file=sys.stderr)


# --- input ---------------------------------------------------------------------------------
def expand_paths(paths: Sequence[str]) -> list[Path]:
    """Files as given, directories expanded to their .txt and .jsonl files (any case; sorted)."""
    from .batch import BatchError, list_sources

    try:
        return [src.path for src in list_sources(paths) if src.path is not None]
    except BatchError as exc:
        raise CliError(str(exc)) from None


def read_text_file(path: Path) -> str:
    """The whole file as text (UTF-8, or UTF-16 with a BOM); refuses binary input clearly."""
    from .batch import read_text_file as read

    return read(path)


def documents_from(path: Path) -> list[Document]:
    """A .txt file is one document (id = file stem); a .jsonl file holds documents with text."""
    from .batch import record_document

    if path.suffix.lower() in JSONL_SUFFIXES:
        docs = []
        for lineno, record in read_records(path):
            doc = record_document(record, f"{path.stem}-{lineno}")
            if isinstance(doc, str):
                raise InputError(f"{path}:{lineno}: {doc}")
            docs.append(doc)
        return docs
    return [Document(path.stem, read_text_file(path), {"source": str(path)})]


# --- output --------------------------------------------------------------------------------
def fact_rows(docs: Iterable[Document]) -> Iterable[dict]:
    for doc in docs:
        for fact in doc.facts:
            ev = fact.evidence
            yield {"doc_id": doc.id, "metric": fact.metric, "value": fact.value, "number": fact.number,
                   "unit": fact.unit, "qualifier": fact.qualifier, "change": fact.change, "agent": fact.agent,
                   "time": fact.time, "program": fact.program, "sentence_start": ev.sentence_start,
                   "sentence_end": ev.sentence_end, "metric_start": ev.metric_span[0], "metric_end": ev.metric_span[1],
                   "value_start": ev.value_span[0], "value_end": ev.value_span[1]}


def format_fact_table(docs: Sequence[Document]) -> str:
    lines = []
    for doc in docs:
        lines.append(f"== {doc.id}: {len(doc.facts)} facts, {len(doc.entities)} entities, {len(doc.relations)} relations")
        for fact in doc.facts:
            number = "?" if fact.number is None else f"{fact.number:g}"
            extra = " ".join(x for x in (fact.qualifier, fact.change) if x)
            lines.append(f"  {fact.agent or '-'} | {fact.metric} | {fact.value} → {number} {fact.unit or ''}"
                         f"{(' ' + extra) if extra else ''} | {fact.time or '-'}"
                         f" | @{fact.evidence.value_span[0]}")
        dropped = doc.meta.get("dropped_values") or []
        if dropped:
            lines.append(f"  ({len(dropped)} value(s) without a head or unreadable were left out: "
                         + ", ".join(d["text"] for d in dropped[:8]) + ")")
    return "\n".join(lines) + "\n"


def write_output(docs: list[Document], fmt: str, out: str | None) -> None:
    if fmt == "jsonl":
        if out:
            write_jsonl(docs, out)
            return
        from .io.jsonl import dumps_record

        text = "".join(dumps_record(d.to_dict()) for d in docs)
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=FACT_COLUMNS)
        writer.writeheader()
        writer.writerows(fact_rows(docs))
        text = buf.getvalue()
    else:
        text = format_fact_table(docs)
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


# --- commands ------------------------------------------------------------------------------
def cmd_extract(args: argparse.Namespace) -> int:
    from .batch import BatchConfig, BatchError, run_batch
    from .engines import default_engine_name

    paths = [str(resources.files("fazhi_ie.data").joinpath(SAMPLE_NAME))] if args.sample else []
    paths += args.paths
    if not paths:
        raise CliError("give at least one file or directory, - for stdin, or --sample")
    try:
        config = BatchConfig(engine=args.engine or default_engine_name(), model=args.model, fmt=args.format,
                             workers=args.workers, resume=args.resume, stdin_format=args.stdin_format)
        if args.resume and not args.output:
            raise BatchError("--resume needs -o OUTPUT (the file to continue)")
        result = run_batch(paths, config, output=args.output, errors=args.errors, progress=not args.quiet)
    except BatchError as exc:
        raise CliError(str(exc)) from None
    if not args.quiet:
        failed = len(result.failures)
        _err(f"{result.documents} document(s), {result.facts} fact(s)"
             + (f"; {result.dropped_values} value(s) without a head or unreadable left out (listed in meta.dropped_values)"
                if result.dropped_values else "")
             + (f"; {result.skipped} already complete, skipped" if result.skipped else "")
             + (f"; {failed} failed" + (f" (listed in {args.errors})" if args.errors else "") if failed else "")
             + (f", written to {args.output}" if args.output else ""))
    return 1 if result.failures else 0


def cmd_validate(args: argparse.Namespace) -> int:
    total = 0
    docs = 0
    for name in args.files:
        seen: dict[str, int] = {}
        try:
            for lineno, record in read_records(name, lenient=True):
                if isinstance(record, str):
                    print(f"{name}:{lineno}: {record}")
                    total += 1
                    continue
                docs += 1
                try:
                    problems = validate_record(record, require_value_heads=not args.allow_unlinked_values)
                except Exception as exc:  # noqa: BLE001 - a checker must go on to the next line
                    problems = [f"cannot check this line ({type(exc).__name__}: {exc})"]
                doc_id = record.get("id")
                if isinstance(doc_id, (str, int)) and not isinstance(doc_id, bool):
                    if str(doc_id) in seen:
                        print(f"{name}:{lineno}: {doc_id}: duplicate document id (first on line {seen[str(doc_id)]}) "
                              "[field: id]")
                        total += 1
                    seen.setdefault(str(doc_id), lineno)
                for problem in problems:
                    print(f"{name}:{lineno}: {problem}")
                total += len(problems)
        except InputError as exc:
            print(exc)
            total += 1
    summary = f"{docs} document(s) checked, {total} problem(s)"
    print(summary if total else summary + ": valid", file=sys.stderr)
    return 1 if total else 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluation import evaluate

    gold = [d for path in args.gold for d in read_jsonl(path, require_value_heads=False)]
    if bool(args.pred) == bool(args.engine):
        raise CliError("give exactly one of --pred FILE or --engine " + "|".join(ENGINE_NAMES))
    if args.pred:
        pred = [d for path in args.pred for d in read_jsonl(path, require_value_heads=False)]
    else:
        from .engines import load_engine
        from .pipeline import annotate

        engine = load_engine(args.engine, args.model)
        seen = sorted({d.id for d in gold} & set(getattr(engine, "trained_on", ())))
        if seen:
            print(f"fazhi-ie evaluate: warning: {len(seen)} of the {len(gold)} gold documents were in this model's "
                  f"training data ({', '.join(seen[:5])}{', …' if len(seen) > 5 else ''}), so these scores are "
                  "in-sample and flattering; held-out scores come from training/crossval.py (MODEL_CARD.md)",
                  file=sys.stderr)
        pred = [annotate(Document(d.id, d.text, d.meta), engine=engine) for d in gold]
    report = evaluate(gold, pred, bootstrap=args.bootstrap, seed=args.seed)
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    print(report.format_table(max_errors=args.errors))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from .stats import corpus_stats, format_stats

    all_docs: list[Document] = []
    for name in args.files:
        all_docs.extend(read_jsonl(name, require_value_heads=False))
    stats = corpus_stats(all_docs)
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=1))
    else:
        print(format_stats(stats, title=", ".join(Path(f).name for f in args.files)))
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from .io import doccano, labelstudio

    readers = {"jsonl": lambda p: read_jsonl(p, require_value_heads=False),
               "labelstudio": lambda p: labelstudio.read_labelstudio(p, utf16=not args.codepoint_offsets),
               "doccano": doccano.read_doccano}
    writers = {"jsonl": write_jsonl,
               "labelstudio": lambda d, p: labelstudio.write_labelstudio(d, p, utf16=not args.codepoint_offsets),
               "doccano": doccano.write_doccano}
    docs = readers[args.from_format](args.input)
    count = writers[args.to_format](docs, args.output)
    _err(f"converted {count} document(s) from {args.from_format} to {args.to_format}: {args.output}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .trainer import ConfigError, TrainConfig, train

    if args.list_options:
        from dataclasses import MISSING, fields

        for f in fields(TrainConfig):
            default = f.default_factory() if f.default_factory is not MISSING else f.default  # type: ignore[misc]
            print(f"{f.name} (default {default!r}): {f.metadata.get('help', '')}")
        return 0
    if not args.config:
        raise CliError("train needs --config CONFIG.json (see `fazhi-ie train --list-options` for its keys)")
    try:
        config = TrainConfig.from_file(args.config)
        if args.init:
            config.init_model = str(Path(args.init).resolve())
        if args.output:
            config.output_dir = str(Path(args.output).resolve())
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    summary = train(config, log=lambda m: print(m, file=sys.stderr))
    print(json.dumps({k: v for k, v in summary.items() if k != "history"}, ensure_ascii=False))
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from .audit import KINDS, AuditConfig, audit, read_exceptions, write_json

    kinds = tuple(args.kinds.split(",")) if args.kinds else KINDS
    try:
        config = AuditConfig(kinds=kinds, min_count=args.min_count, min_length=args.min_length)
        exceptions = read_exceptions(args.exceptions) if args.exceptions else None
    except (ValueError, OSError) as exc:
        raise CliError(str(exc)) from None
    docs = [d for path in args.files for d in read_jsonl(path, require_value_heads=False)]
    report = audit(docs, config, exceptions)
    if args.json:
        write_json(report, args.json)
    sys.stdout.write(report.format_table(max_occurrences=args.occurrences, show_explained=args.show_explained))
    return 1 if args.strict and report.unexplained else 0


def _nonnegative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _positive_int(text: str) -> int:
    value = _nonnegative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fazhi-ie", description="Facts from Chinese rule-of-law government reports.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for unexpected errors")
    sub = parser.add_subparsers(dest="command", required=True)

    ext = sub.add_parser("extract", help="extract entities, relations and facts from .txt/.jsonl files or directories")
    ext.add_argument("paths", nargs="*",
                     help="files or directories (.txt = one document; .jsonl = documents with text); - = stdin")
    ext.add_argument("-o", "--output", help="write here instead of stdout")
    ext.add_argument("--format", choices=FORMATS, default="jsonl", help="jsonl (interchange), csv (facts) or table")
    ext.add_argument("--engine", choices=ENGINE_NAMES,
                     help="extraction engine (default: rules, or $FAZHI_IE_ENGINE; the shipped model is opt-in, see MODEL_CARD.md)")
    ext.add_argument("--model", help="model directory for --engine model")
    ext.add_argument("--sample", action="store_true", help="also extract the bundled sample report")
    ext.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    ext.add_argument("--workers", type=_positive_int, default=1, help="worker processes, each loading the engine once")
    ext.add_argument("--resume", action="store_true",
                     help="continue an interrupted run: keep the documents complete in -o OUT, extract the rest")
    ext.add_argument("--errors", metavar="FILE", help="write every failed document (where, id, why) here as JSONL")
    ext.add_argument("--stdin-format", choices=("txt", "jsonl"), default="txt",
                     help="what - (stdin) holds: one text document or JSONL documents (default txt)")
    ext.set_defaults(func=cmd_extract)

    val = sub.add_parser("validate", help="check interchange JSONL files against the schema; lists every problem")
    val.add_argument("files", nargs="+")
    val.add_argument("--allow-unlinked-values", action="store_true", help="accept VALUEs that are not the tail of one HAS_VALUE")
    val.set_defaults(func=cmd_validate)

    ev = sub.add_parser("evaluate", help="score predictions (a file or an engine) against gold")
    ev.add_argument("--gold", required=True, nargs="+", help="gold interchange JSONL file(s)")
    ev.add_argument("--pred", nargs="+", help="predicted interchange JSONL file(s)")
    ev.add_argument("--engine", choices=ENGINE_NAMES, help="run this engine on the gold texts instead of --pred")
    ev.add_argument("--model", help="model directory for --engine model")
    ev.add_argument("--json", help="also write the full report (with every error) as JSON here")
    ev.add_argument("--errors", type=_nonnegative_int, default=30, help="errors to show in the table (default 30)")
    ev.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples over documents (0 = none)")
    ev.add_argument("--seed", type=int, default=0)
    ev.set_defaults(func=cmd_evaluate)

    st = sub.add_parser("stats", help="corpus statistics of interchange JSONL files")
    st.add_argument("files", nargs="+")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_stats)

    au = sub.add_parser("audit", help="list surface strings annotated inconsistently across a corpus")
    au.add_argument("files", nargs="+", help="interchange JSONL file(s), audited together")
    au.add_argument("--json", help="also write every finding with all its occurrences as JSON here")
    au.add_argument("--min-count", type=int, default=2, help="least occurrences for a finding (default 2)")
    au.add_argument("--min-length", type=int, default=2, help="shortest string looked at (default 2)")
    au.add_argument("--kinds", help="comma-separated subset of label,untagged,boundary,relation")
    au.add_argument("--exceptions", help="file of accepted findings (KIND<TAB>KEY<TAB>REASON[<TAB>doc:S<n>,...] per line)")
    au.add_argument("--occurrences", type=int, default=6, help="occurrences shown per finding (default 6)")
    au.add_argument("--show-explained", action="store_true", help="also list findings the exceptions explain")
    au.add_argument("--strict", action="store_true", help="exit 1 when any finding is unexplained")
    au.set_defaults(func=cmd_audit)

    tr = sub.add_parser("train", help="train the model engine from annotated documents (see training/configs/)")
    tr.add_argument("--config", help="training config JSON, required unless --list-options (keys: see "
                                      "`fazhi-ie train --list-options`)")
    tr.add_argument("--init", help="a trained model directory to continue from (e.g. the shipped default model)")
    tr.add_argument("--output", help="override the config's output_dir")
    tr.add_argument("--list-options", action="store_true", help="print every config key with its default and help")
    tr.set_defaults(func=cmd_train)

    cv = sub.add_parser("convert", help="convert annotations between jsonl, Label Studio JSON and doccano JSONL")
    cv.add_argument("input")
    cv.add_argument("output")
    cv.add_argument("--from", dest="from_format", choices=CONVERT_FORMATS, required=True)
    cv.add_argument("--to", dest="to_format", choices=CONVERT_FORMATS, required=True)
    cv.add_argument("--codepoint-offsets", action="store_true", help="Label Studio offsets are code points, not UTF-16")
    cv.set_defaults(func=cmd_convert)

    from .cli_research import add_research_commands

    add_research_commands(sub)  # facts, compare, render
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (CliError, InputError, SchemaError, ModelNotInstalledError) as exc:
        _err(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the CLI promises no traceback
        if args.debug:
            raise
        from .evaluation import EvaluationError

        kind = "error" if isinstance(exc, (EvaluationError, ValueError, OSError)) else "unexpected error"
        _err(f"{kind}: {exc} (run with --debug for a traceback)")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
