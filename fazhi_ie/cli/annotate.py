"""`fazhi-ie preannotate`: an engine's output as Label Studio tasks for annotators to correct.

Registered by `fazhi_ie.cli.build_parser` through `add_annotate_commands`. Inputs are read by
the one input layer (`fazhi_ie.io.sources`, as `extract` reads them); the engine's spans and
relations go under each task's `predictions` (suggestions, with scores and the model's
fingerprint as `model_version`), and the labelling config generated from the schema is written
beside the tasks (tasks.json -> tasks.labelconfig.xml). After correction in Label Studio, its
export comes back with `fazhi-ie convert EXPORT.json OUT.jsonl --from labelstudio --to jsonl`.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..engines import DEFAULT_ENGINE, ENGINE_NAMES, engine_identity
from .common import CliError, check_output_path, err

#: meta keys the pipeline adds to what it extracts; a task keeps the document's own meta only, so
#: the corrected annotation does not claim to be an engine's output
PIPELINE_META_KEYS = ("engine", "model", "schema_version", "report", "dropped_values")


def model_version(engine) -> str:
    """What a prediction says made it: the model's fingerprint, else the engine's name."""
    identity = engine_identity(engine)
    return identity["model"] or identity["engine"]


def cmd_preannotate(args: argparse.Namespace) -> int:
    from ..document import Document
    from ..io.labelstudio import write_predictions
    from ..io.sources import read_documents
    from ..pipeline import load

    check_output_path(args.output, "-o")
    if Path(args.output).suffix.lower() != ".json":
        raise CliError(f"{args.output}: Label Studio imports tasks from a .json file; name the output *.json")
    failures = []

    def failed(failure) -> None:
        failures.append(failure)
        err("error: " + failure.where + (f": document {failure.doc_id}" if failure.doc_id else "")
            + f": {failure.reason}; left out")

    nlp = load(args.model, args.engine)
    docs = []
    for doc in read_documents(args.paths, on_failure=failed):
        meta = {k: v for k, v in doc.meta.items() if k not in PIPELINE_META_KEYS}
        predicted = nlp.annotate(Document(doc.id, doc.text, meta))
        docs.append(Document(doc.id, doc.text, meta, predicted.entities, predicted.relations))
    if not docs:
        raise CliError("no document to pre-annotate" + (" (every input failed)" if failures else ""))
    version = model_version(nlp.engine)
    count, config = write_predictions(docs, args.output, version, utf16=args.utf16_offsets)
    spans = sum(len(d.entities) for d in docs)
    relations = sum(len(d.relations) for d in docs)
    err(f"{count} task(s), {spans} span(s) and {relations} relation(s) predicted by {version}: {args.output}; "
        f"labelling config: {config}" + (f"; {len(failures)} input(s) failed" if failures else ""))
    return 1 if failures else 0


def add_annotate_commands(sub: argparse._SubParsersAction) -> None:
    """Register `preannotate` on the `fazhi-ie` parser."""
    pre = sub.add_parser("preannotate", help="an engine's output as Label Studio tasks (predictions) to correct, "
                                             "with the labelling config beside them")
    pre.add_argument("paths", nargs="+", help="files or directories (.txt, .jsonl, ... as for extract); - = stdin")
    pre.add_argument("-o", "--output", required=True,
                     help="tasks file (.json); the labelling config goes beside it (tasks.labelconfig.xml)")
    pre.add_argument("--engine", choices=ENGINE_NAMES,
                     help=f"engine that suggests the annotations (default: {DEFAULT_ENGINE}, the shipped model, or "
                          "$FAZHI_IE_ENGINE)")
    pre.add_argument("--model", help="model directory for --engine model (e.g. one you retrained)")
    pre.add_argument("--utf16-offsets", action="store_true",
                     help="count offsets in UTF-16 units, for Label Studio editors older than the current one "
                          "(which counts code points, the default here)")
    pre.set_defaults(func=cmd_preannotate)
