"""The `fazhi-ie` command line: extract, validate, evaluate, stats, convert, audit, train, and
(in research.py) facts, compare, render, and (in annotate.py) preannotate.

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

from ..document import Document, SchemaError
from ..engines import DEFAULT_ENGINE, ENGINE_NAMES, ModelNotInstalledError
from ..io.jsonl import InputError, read_jsonl, read_records, write_jsonl
from ..schema import validate_record
from .common import CliError, check_output_path, err

FORMATS = ("jsonl", "csv", "table")
CONVERT_FORMATS = ("jsonl", "labelstudio", "doccano")
SAMPLE_NAME = "sample_report.txt"
ENGINE_HELP = ("extraction engine (default: the shipped model, '" + DEFAULT_ENGINE + "', or $FAZHI_IE_ENGINE; "
               "'rules' is about 60 times faster, see the model card)")


# --- commands ------------------------------------------------------------------------------
def cmd_extract(args: argparse.Namespace) -> int:
    from ..batch import BatchConfig, BatchError, run_batch
    from ..engines import default_engine_name

    paths = [str(resources.files("fazhi_ie.data").joinpath(SAMPLE_NAME))] if args.sample else []
    paths += args.paths
    if not paths:
        raise CliError("give at least one file or directory, - for stdin, or --sample")
    try:
        from ..io.sources import parse_meta_options

        config = BatchConfig(engine=args.engine or default_engine_name(), model=args.model, fmt=args.format,
                             workers=args.workers, resume=args.resume, stdin_format=args.stdin_format,
                             meta=parse_meta_options(args.meta) or None)
        if args.resume and not args.output:
            raise BatchError("--resume needs -o OUTPUT (the file to continue)")
        result = run_batch(paths, config, output=args.output, errors=args.errors, progress=not args.quiet)
    except BatchError as exc:
        raise CliError(str(exc)) from None
    if not args.quiet:
        failed = len(result.failures)
        err(f"{result.documents} document(s), {result.facts} fact(s)"
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
    from ..analysis.evaluation import evaluate

    check_output_path(args.json, "--json")
    gold = [d for path in args.gold for d in read_jsonl(path, require_value_heads=False)]
    if bool(args.pred) == bool(args.engine):
        raise CliError("give exactly one of --pred FILE or --engine " + "|".join(ENGINE_NAMES))
    if args.pred:
        pred = [d for path in args.pred for d in read_jsonl(path, require_value_heads=False)]
    else:
        from ..pipeline import load

        nlp = load(args.model, args.engine)
        seen = in_sample_documents(nlp.engine, gold)
        if seen:
            err(f"evaluate: warning: {len(seen)} of the {len(gold)} gold documents were in the training data of this "
                f"model or of a model it was fine-tuned from ({', '.join(seen[:5])}{', …' if len(seen) > 5 else ''}),"
                " so these scores are in-sample and flattering; held-out scores come from training/crossval.py "
                "(the model card)")
        pred = [nlp.annotate(Document(d.id, d.text, d.meta)) for d in gold]
    report = evaluate(gold, pred, bootstrap=args.bootstrap, seed=args.seed)
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    print(report.format_table(max_errors=args.errors))
    return 0


def in_sample_documents(engine, docs: list[Document]) -> list[str]:
    """Ids of `docs` the engine's model saw in training: the same text (by hash, whatever its id),
    or, for a model saved before texts were hashed, the same id."""
    from ..document import text_hash

    hashes = getattr(engine, "trained_on_texts", frozenset())
    ids = getattr(engine, "trained_on", frozenset())
    return [d.id for d in docs if text_hash(d.text) in hashes or (not hashes and d.id in ids)]


def cmd_stats(args: argparse.Namespace) -> int:
    from ..analysis.stats import corpus_stats, format_stats

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
    from ..io import doccano, labelstudio

    readers = {"jsonl": lambda p: read_jsonl(p, require_value_heads=False),
               "labelstudio": lambda p: labelstudio.read_labelstudio(p, utf16=not args.codepoint_offsets),
               "doccano": doccano.read_doccano}
    writers = {"jsonl": write_jsonl,
               "labelstudio": lambda d, p: labelstudio.write_labelstudio(d, p, utf16=not args.codepoint_offsets),
               "doccano": doccano.write_doccano}
    docs = readers[args.from_format](args.input)
    count = writers[args.to_format](docs, args.output)
    err(f"converted {count} document(s) from {args.from_format} to {args.to_format}: {args.output}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from ..trainer import ConfigError, TrainConfig, option_fields, train

    if args.list_options:
        from dataclasses import MISSING

        for f in option_fields():
            default = f.default_factory() if f.default_factory is not MISSING else f.default  # type: ignore[misc]
            print(f"{f.name} (default {default!r}): {f.metadata.get('help', '')}")
        return 0
    if not args.config:
        raise CliError("train needs --config CONFIG.json (see `fazhi-ie train --list-options` for its keys)")
    overrides = {f.name: getattr(args, "opt_" + f.name) for f in option_fields()
                 if getattr(args, "opt_" + f.name, None) is not None}
    if args.init:
        overrides["init_model"] = str(Path(args.init).resolve())
    if args.output:
        overrides["output_dir"] = str(Path(args.output).resolve())
    try:
        config = TrainConfig.from_file(args.config, overrides)
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    summary = train(config, log=lambda m: print(m, file=sys.stderr))
    print(json.dumps({k: v for k, v in summary.items() if k != "history"}, ensure_ascii=False))
    return 0


def _option_value(type_name: str):
    """An argparse `type` that reads a training option from the command line (JSON for lists, objects
    and booleans, so `--exclude-docs '["a"]'` and `--rule-features false` work)."""
    def parse(text: str):
        if type_name in ("int", "float", "str"):
            try:
                return {"int": int, "float": float, "str": str}[type_name](text)
            except ValueError:
                raise argparse.ArgumentTypeError(f"expected {type_name}, got {text!r}") from None
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise argparse.ArgumentTypeError(f"expected JSON ({type_name}), got {text!r}") from None
    return parse


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """One `--key value` option per training option, generated from the config dataclasses."""
    from ..trainer import ARGUMENT_GROUPS

    for group in ARGUMENT_GROUPS:
        from dataclasses import fields

        section = parser.add_argument_group(f"{group.__name__} (override the config file)")
        for f in fields(group):
            type_name = str(f.type).replace("Optional[", "").rstrip("]")
            section.add_argument("--" + f.name.replace("_", "-"), dest="opt_" + f.name, metavar=type_name.upper(),
                                 type=_option_value(type_name), help=f.metadata.get("help"))


def cmd_audit(args: argparse.Namespace) -> int:
    from ..analysis.audit import KINDS, AuditConfig, audit, read_exceptions, write_json

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
                     help=ENGINE_HELP)
    ext.add_argument("--model", help="model directory for --engine model")
    ext.add_argument("--sample", action="store_true", help="also extract the bundled sample report")
    ext.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    ext.add_argument("--workers", type=_positive_int, default=1, help="worker processes, each loading the engine once")
    ext.add_argument("--resume", action="store_true",
                     help="continue an interrupted run: keep the documents complete in -o OUT, extract the rest")
    ext.add_argument("--errors", metavar="FILE", help="write every failed document (where, id, why) here as JSONL")
    ext.add_argument("--meta", action="append", default=[], metavar="KEY=VALUE",
                     help="set on every document, over what the input says (e.g. --meta year=2023 --meta region=金塔县); "
                          "the report's year and region otherwise come from its title or opening")
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
    ev.add_argument("--engine", choices=ENGINE_NAMES, help="run this engine on the gold texts instead of --pred "
                    f"(no default: name it; {DEFAULT_ENGINE} is what extraction uses)")
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
    add_training_options(tr)
    tr.set_defaults(func=cmd_train)

    cv = sub.add_parser("convert", help="convert annotations between jsonl, Label Studio JSON and doccano JSONL")
    cv.add_argument("input")
    cv.add_argument("output")
    cv.add_argument("--from", dest="from_format", choices=CONVERT_FORMATS, required=True)
    cv.add_argument("--to", dest="to_format", choices=CONVERT_FORMATS, required=True)
    cv.add_argument("--codepoint-offsets", action="store_true",
                    help="write Label Studio offsets as code points (as its current editor counts them), not UTF-16 "
                         "units; on reading, each task's span texts decide, this only where they cannot tell")
    cv.set_defaults(func=cmd_convert)

    from .annotate import add_annotate_commands
    from .research import add_research_commands

    add_research_commands(sub)  # facts, compare, render
    add_annotate_commands(sub)  # preannotate
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (CliError, InputError, SchemaError, ModelNotInstalledError) as exc:
        err(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the CLI promises no traceback
        if args.debug:
            raise
        from ..analysis.evaluation import EvaluationError

        if isinstance(exc, (EvaluationError, ValueError, OSError)):  # expected: the message says what is wrong
            err(f"error: {exc}")
        else:
            err(f"unexpected error: {type(exc).__name__}: {exc} (run with --debug for a traceback)")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
