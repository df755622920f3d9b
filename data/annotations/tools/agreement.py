"""Inter-annotator agreement and adjudication sheets for the double-annotated corpus.

    python data/annotations/tools/agreement.py            # build A/B JSONL, score, write sheets

Builds double/A.jsonl and double/B.jsonl from the two annotators' compact files (the
repeated block of chengzhong-liuzhou-2023 left unprojected, so it is not counted twice), scores B
against A with the project evaluator (F1 is symmetric: swapping the roles swaps P and R),
writes double/agreement.json and double/agreement.md, and for every document an
adjudication sheet listing each sentence where the two versions differ.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import annotate  # noqa: E402  (sets sys.path for fazhi_ie)

from fazhi_ie.analysis.evaluation import evaluate  # noqa: E402
from fazhi_ie.io.compact import to_compact  # noqa: E402
from fazhi_ie.io.jsonl import write_jsonl  # noqa: E402
from fazhi_ie.sentences import split_sentences  # noqa: E402

DOUBLE = annotate.ANNOTATIONS / "double"
SHEETS = annotate.ANNOTATIONS / "adjudication"


def sentence_blocks(compact: str) -> dict[str, list[str]]:
    blocks: dict[str, list[str]] = {}
    current = None
    for line in compact.splitlines():
        if line.startswith("@S"):
            current = line
            blocks[current] = []
        elif current:
            blocks[current].append(line)
    return blocks


def norm_lines(doc, sentences) -> dict[str, list[str]]:
    """VALUE norms per sentence, so the sheets show norm disagreements too."""
    from fazhi_ie.sentences import sentence_index

    out: dict[str, list[str]] = {}
    for e in doc.entities:
        if e.label == "VALUE" and e.norm is not None:
            idx = sentence_index(sentences, e.start)
            n = e.norm
            out.setdefault(f"@S{idx + 1}", []).append(
                f"  norm {e.text} = {n.number} {n.unit or '-'} {n.qualifier or '-'} {n.change or '-'}")
    return out


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ids", default="", help="comma-separated document ids (default: all with both versions)")
    parser.add_argument("--sheets-only", action="store_true", help="write adjudication sheets, not the agreement files")
    parser.add_argument("--no-sheets", action="store_true", help="write the agreement files, not the sheets")
    args = parser.parse_args()
    sources = annotate.load_sources()
    ids = [i for i in sources if (DOUBLE / "A" / f"{i}.ann").exists() and (DOUBLE / "B" / f"{i}.ann").exists()]
    if args.ids:
        ids = [i for i in ids if i in args.ids.split(",")]
    if not ids:
        raise SystemExit("no document has both an A and a B annotation yet")
    # The repeated block of chengzhong-liuzhou-2023 is a mechanical copy: agreement is
    # measured on what the annotators annotated, so it is not projected here.
    docs = {pool: [annotate.build_document(DOUBLE / pool / f"{i}.ann", sources, project_repeat=False) for i in ids]
            for pool in "AB"}
    if not args.sheets_only:
        for pool in "AB":
            write_jsonl(docs[pool], DOUBLE / f"{pool}.jsonl")
        report = evaluate(docs["A"], docs["B"], bootstrap=1000, seed=0)
        (DOUBLE / "agreement.json").write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
        table = report.format_table(max_errors=0)
        (DOUBLE / "agreement.md").write_text(
            f"# Inter-annotator agreement (B scored against A), {len(ids)} documents\n\n```\n{table}\n```\n",
            encoding="utf-8")
        print(table)
    if args.no_sheets:
        return 0
    SHEETS.mkdir(exist_ok=True)
    for a, b in zip(docs["A"], docs["B"]):
        sentences = split_sentences(a.text)
        limit = annotate.annotate_until(sources[a.id])
        blocks_a, blocks_b = sentence_blocks(to_compact(a, sentences)), sentence_blocks(to_compact(b, sentences))
        norms_a, norms_b = norm_lines(a, sentences), norm_lines(b, sentences)
        out = [f"# Adjudication sheet for {a.id}: sentences where annotators A and B differ", ""]
        differing = 0
        for n, sent in enumerate(sentences, start=1):
            if limit is not None and sent.start >= limit:
                break
            key = f"@S{n}"
            la, lb = blocks_a.get(key, []), blocks_b.get(key, [])
            na, nb = norms_a.get(key, []), norms_b.get(key, [])
            if la == lb and na == nb:
                continue
            differing += 1
            out += [f"{key}  {sent.text}", "--- A:"] + la + na + ["--- B:"] + lb + nb + [""]
        (SHEETS / f"{a.id}.txt").write_text("\n".join(out) + "\n", encoding="utf-8")
        print(f"{a.id}: {differing} differing sentences")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
