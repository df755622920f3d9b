"""The local-report tier (issue 13): documents written by the team in the genre of local
rule-of-law reports, annotated like silver and better reviewed. Training only.

    python data/annotations/tools/local.py prepare     # local/written/ -> local/sources.jsonl, local/views/
    python data/annotations/tools/local.py build       # local/first/, reviewed/, double/ -> local.jsonl, local/first.jsonl, local/double.jsonl
    python data/annotations/tools/local.py agreement   # local/double/ against reviewed and first; first against reviewed
    python data/annotations/tools/local.py stats       # the tier's statistics (documents, regions, provinces, years, kinds, labels)

Every document is marked written (`meta.source` "written", `meta.tier` "local") and never
passed off as a real report. The writer of each document is in `meta.writer`; annotators and
reviewers were other people (separate annotation agents), listed per batch in
`local/README.md`. The blind double sample is `random.Random(2026).sample` of 9 documents in
id order; writer w5's documents are the held-out writer (never in training, for a separate
score; `splits.json`).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import annotate  # noqa: E402  (sets sys.path for fazhi_ie)
import silver  # noqa: E402

from fazhi_ie.document import Document  # noqa: E402
from fazhi_ie.io.compact import render_sentence_view  # noqa: E402
from fazhi_ie.io.jsonl import read_jsonl, write_jsonl  # noqa: E402
from fazhi_ie.schema import validate_record  # noqa: E402
from fazhi_ie.sentences import split_sentences  # noqa: E402

ANNOTATIONS = annotate.ANNOTATIONS
LOCAL = ANNOTATIONS / "local"
WRITTEN, VIEWS = LOCAL / "written", LOCAL / "views"
SOURCES = LOCAL / "sources.jsonl"
FIRST, REVIEWED, DOUBLE = LOCAL / "first", LOCAL / "reviewed", LOCAL / "double"
OUT_REVIEWED, OUT_FIRST, OUT_DOUBLE = ANNOTATIONS / "local.jsonl", LOCAL / "first.jsonl", LOCAL / "double.jsonl"
HELD_OUT_WRITER = "w5"
DOUBLE_SAMPLE = 9
META_KEYS = ("source", "title", "kind", "region", "province", "level", "body", "year", "writer", "furniture",
             "tier", "review")


def local_sources() -> dict[str, dict]:
    """The tier's documents (local/sources.jsonl), in id order."""
    return {d["id"]: d for d in map(json.loads, SOURCES.read_text(encoding="utf-8").splitlines())}


def double_sample(ids: list[str]) -> list[str]:
    """The blind double-annotation sample: 9 documents (about 10%), seeded, in id order."""
    return sorted(random.Random(2026).sample(sorted(ids), DOUBLE_SAMPLE))


def cmd_prepare(_: argparse.Namespace) -> int:
    """Collect the written documents and their meta; write sources.jsonl and one sentence view each."""
    metas = {}
    for meta_file in sorted(WRITTEN.glob("*.meta.jsonl")):
        for n, line in enumerate(meta_file.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                meta = json.loads(line)
                if meta.get("source") != "written":
                    raise SystemExit(f"{meta_file}:{n}: meta.source must be 'written'")
                metas[meta["id"]] = meta
    docs = []
    for path in sorted(WRITTEN.glob("*.txt")):
        if path.stem not in metas:
            raise SystemExit(f"{path}: no meta line in {WRITTEN}/*.meta.jsonl")
        meta = {k: v for k, v in metas[path.stem].items() if k != "id"}
        docs.append({"id": path.stem, "text": path.read_text(encoding="utf-8"), "meta": {**meta, "tier": "local"}})
    missing = sorted(set(metas) - {d["id"] for d in docs})
    if missing:
        raise SystemExit(f"meta lines without a text: {', '.join(missing)}")
    with SOURCES.open("w", encoding="utf-8") as fh:
        for doc in docs:
            fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
    VIEWS.mkdir(exist_ok=True)
    for doc in docs:
        (VIEWS / f"{doc['id']}.txt").write_text(render_sentence_view(split_sentences(doc["text"])), encoding="utf-8")
    chars = sum(len(d["text"]) for d in docs)
    print(f"{len(docs)} documents, {chars:,} characters -> {SOURCES.relative_to(ANNOTATIONS)}, views in "
          f"{VIEWS.relative_to(ANNOTATIONS)}; double sample: {', '.join(double_sample([d['id'] for d in docs]))}")
    return 0


def local_meta(src: dict, review: dict) -> dict:
    """A local-tier record's meta: the writer's meta, tier "local" and the review record."""
    return {**{k: src.get(k) for k in META_KEYS}, "tier": "local", "review": review}


def build_pool(folder: Path, status: str, sources: dict[str, dict], firsts: dict[str, Document] | None = None):
    """Every valid document of one folder, with the tier's meta; failures by id."""
    return silver.build_pool(folder, status, sources, firsts, meta_of=local_meta)


def cmd_build(_: argparse.Namespace) -> int:
    sources = local_sources()
    firsts, failed_first = build_pool(FIRST, "first pass", sources)
    reviewed, failed_reviewed = build_pool(REVIEWED, "reviewed", sources, {d.id: d for d in firsts})
    write_jsonl(firsts, OUT_FIRST)
    write_jsonl(reviewed, OUT_REVIEWED)
    silver._report(f"first pass -> {OUT_FIRST.relative_to(ANNOTATIONS)}", firsts, failed_first, len(sources))
    silver._report(f"reviewed -> {OUT_REVIEWED.relative_to(ANNOTATIONS)}", reviewed, failed_reviewed, len(sources))
    doubles = [i for i in double_sample(list(sources)) if (DOUBLE / f"{i}.ann").exists()]
    if doubles:
        built, failed_double = build_pool(DOUBLE, "double", {i: sources[i] for i in doubles})
        write_jsonl(built, OUT_DOUBLE)
        silver._report(f"double -> {OUT_DOUBLE.relative_to(ANNOTATIONS)}", built, failed_double, len(doubles))
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    silver.write_agreement({"first": OUT_FIRST, "reviewed": OUT_REVIEWED, "double": OUT_DOUBLE}, LOCAL,
                           "Local-tier agreement (`tools/local.py agreement`)", args.bootstrap)
    return 0


def cmd_stats(_: argparse.Namespace) -> int:
    from collections import Counter

    docs = list(local_sources().values())
    meta = [d["meta"] for d in docs]
    print(f"documents {len(docs)}, characters {sum(len(d['text']) for d in docs):,}, regions "
          f"{len({m['region'] for m in meta})}, provinces {len({m['province'] for m in meta})}, years "
          f"{dict(sorted(Counter(m['year'] for m in meta).items()))}")
    print("kinds:", dict(Counter(m["kind"] for m in meta).most_common()))
    print("levels:", dict(Counter(m["level"] for m in meta).most_common()))
    print("writers:", dict(sorted(Counter(m["writer"] for m in meta).items())))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare").set_defaults(func=cmd_prepare)
    sub.add_parser("build").set_defaults(func=cmd_build)
    agree = sub.add_parser("agreement")
    agree.add_argument("--bootstrap", type=int, default=1000)
    agree.set_defaults(func=cmd_agreement)
    sub.add_parser("stats").set_defaults(func=cmd_stats)
    args = parser.parse_args()
    return args.func(args) or 0


if __name__ == "__main__":
    raise SystemExit(main())
