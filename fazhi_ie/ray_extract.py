"""Extraction beyond one machine with Ray Data (optional: `pip install 'fazhi-ie[ray]'`).

    python -m fazhi_ie.ray_extract INPUT... --out FACTS_DIR [--actors N] [--address ray://head:10001]

Input files (.txt = one document, .jsonl = documents with `text`, directories searched) are
read as whole files by Ray's readers (on a cluster they must be on storage every node can
see: NFS, S3 via s3://...), split into documents with the same ids and checks as
`fazhi-ie extract`, and mapped through a pool of actors, each of which loads the engine
once (`engines.load_engine`) and runs `pipeline.annotate`. The facts are written as Parquet,
one row per fact (the columns of `fazhi-ie extract --format csv` plus the evidence
sentence); a document that fails is one row with `error` set and the fact columns null.
Each actor holds one CPU; the readers need CPUs besides, so give Ray at least actors + 1
CPUs or the job waits for resources forever. Ray is imported only here, never by
`import fazhi_ie`.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from .io.rows import RAY_COLUMNS as FACT_FIELDS


def _require_ray():
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError:
        raise RuntimeError("Ray is not installed: pip install -c constraints.txt 'fazhi-ie[ray]'") from None
    return ray


def _file_documents(row: dict[str, Any], ids: dict[str, str]) -> list[dict[str, Any]]:
    """One input file (bytes + path) → document rows (id, text, meta as JSON, where, error)."""
    from .io.sources import Task, input_kind, items_from_bytes

    path = str(row["path"])
    name = Path(path)
    out = []
    for item in items_from_bytes(bytes(row["bytes"]), path, input_kind(name) or "txt", ids.get(path), name.stem):
        if isinstance(item, Task):
            out.append({"id": item.doc.id, "text": item.doc.text, "meta": json.dumps(dict(item.doc.meta), ensure_ascii=False),
                        "where": item.where, "error": None})
        else:
            out.append({"id": item.doc_id, "text": None, "meta": None, "where": item.where, "error": item.reason})
    return out


class FactExtractor:
    """A Ray actor's callable: loads the engine once, turns a batch of documents into fact rows."""

    def __init__(self, engine: str | None = None, model: str | None = None):
        from .pipeline import load

        self.pipeline = load(model, engine)

    def __call__(self, batch):
        import pandas as pd

        from .document import Document
        from .io.rows import fact_rows
        from .schema import validate_record

        rows: list[dict[str, Any]] = []
        for doc_id, text, meta, where, error in zip(batch["id"], batch["text"], batch["meta"], batch["where"],
                                                    batch["error"]):
            if isinstance(error, str) and error:
                rows.append(_row(doc_id, where=where, error=error))
                continue
            try:
                doc = self.pipeline.annotate(Document(str(doc_id), text, json.loads(meta) if meta else {}))
                problems = validate_record(doc.to_dict())
                if problems:
                    raise ValueError("extraction output breaks the schema: " + str(problems[0]))
            except Exception as exc:  # noqa: BLE001 - one bad document must not stop the job
                rows.append(_row(doc_id, where=where, error=f"extraction failed: {type(exc).__name__}: {exc}"))
                continue
            rows.extend(_row(doc.id, **{k: row[k] for k in FACT_FIELDS if k in row and k != "doc_id"}, where=where)
                        for row in fact_rows([doc]))
        frame = pd.DataFrame(rows, columns=list(FACT_FIELDS))
        for column in ("sentence_start", "sentence_end", "metric_start", "metric_end", "value_start", "value_end"):
            frame[column] = frame[column].astype("Int64")
        frame["number"] = frame["number"].astype("float64")
        for column in set(FACT_FIELDS) - {"number", "sentence_start", "sentence_end", "metric_start", "metric_end",
                                           "value_start", "value_end"}:
            frame[column] = frame[column].astype("string")
        return frame


def _row(doc_id, **values) -> dict[str, Any]:
    row: dict[str, Any] = {name: None for name in FACT_FIELDS}
    row["doc_id"] = None if doc_id is None else str(doc_id)
    row.update(values)
    return row


def extract_to_parquet(paths: Sequence[str], out_dir: str | Path, *, engine: str | None = None,
                       model: str | None = None, actors: int = 1, batch_size: int = 8) -> dict[str, Any]:
    """Extract every document of `paths` with `actors` Ray actors and write the facts as Parquet
    under `out_dir`. Uses the running Ray instance (ray.init() first, or it starts a local
    one). Returns counts and timing: documents, facts, failures, seconds, chars per second."""
    ray = _require_ray()
    from .batch import BatchError
    from .engines import default_engine_name
    from .io.sources import list_sources

    available = ray.cluster_resources().get("CPU", 0) if ray.is_initialized() else None
    if available is not None and available < actors + 1:
        raise BatchError(f"{actors} actor(s) need at least {actors + 1} CPUs in the Ray cluster (one each, plus one "
                         f"for reading), it has {available:g}")
    if actors < 1 or batch_size < 1:
        raise BatchError(f"actors and batch size must be at least 1, got {actors} and {batch_size}")
    sources = list_sources(paths)
    files = [str(s.path) for s in sources if s.path is not None]
    if not files:
        raise BatchError("no input files (stdin cannot be read by Ray)")
    ids = {str(s.path): s.doc_id for s in sources if s.path is not None and s.doc_id}
    started = time.perf_counter()
    docs = ray.data.read_binary_files(files, include_paths=True).flat_map(_file_documents, fn_kwargs={"ids": ids})
    facts = docs.map_batches(FactExtractor, fn_constructor_kwargs={"engine": engine or default_engine_name(),
                                                                    "model": model},
                             batch_size=batch_size, batch_format="pandas", concurrency=actors)
    facts.write_parquet(str(out_dir))
    seconds = time.perf_counter() - started
    import pyarrow.parquet as pq

    table = pq.read_table(str(out_dir), columns=["doc_id", "error", "where"])
    errors = table.column("error").to_pylist()
    failures = [{"where": w, "id": d, "error": e}
                for d, e, w in zip(table.column("doc_id").to_pylist(), errors, table.column("where").to_pylist()) if e]
    return {"facts": sum(1 for e in errors if not e), "failures": failures, "seconds": round(seconds, 2),
            "documents_with_facts": len({d for d, e in zip(table.column("doc_id").to_pylist(), errors) if not e})}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fazhi_ie.ray_extract", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="input .txt/.jsonl files or directories (shared storage on a cluster)")
    parser.add_argument("--out", required=True, help="output directory for the Parquet fact files")
    parser.add_argument("--actors", type=int, default=1, help="actors (each loads the engine once); default 1")
    parser.add_argument("--batch-size", type=int, default=8, help="documents per actor call (default 8)")
    parser.add_argument("--engine", choices=("rules", "model"), help="default: model when installed, else rules")
    parser.add_argument("--model", help="model directory for --engine model (on every node)")
    parser.add_argument("--address", help="Ray cluster address (default: start a local instance)")
    parser.add_argument("--num-cpus", type=int, help="CPUs of the local instance (default: all)")
    args = parser.parse_args(argv)
    try:
        ray = _require_ray()
        ray.init(address=args.address, num_cpus=None if args.address else args.num_cpus, include_dashboard=False,
                 log_to_driver=False)
        summary = extract_to_parquet(args.paths, args.out, engine=args.engine, model=args.model, actors=args.actors,
                                     batch_size=args.batch_size)
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"fazhi-ie ray: error: {exc}", file=sys.stderr)
        return 1
    for failure in summary["failures"]:
        print(f"error: {failure['where']}: {failure['error']}", file=sys.stderr)
    print(json.dumps({k: v for k, v in summary.items() if k != "failures"} | {"failures": len(summary["failures"])}))
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
