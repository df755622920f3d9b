"""Build fazhi_ie/data/bound_bigrams.txt: character bigrams an entity edge must not split (decoding option
`keep_words_whole`, fazhi_ie/neural/cohesion.py).

A bigram of two CJK characters is bound when, over unlabeled report text (the national work reports
of ../shared/corpus and the texts of the gold training documents), it occurs at least `--min-count`
times with PMI log(p(ab) / (p(a) p(b))) at least `--min-pmi`, and no gold span of a training document
starts or ends between its two characters. Held-out texts (jinpu-2023 and the held-out writer of the
local tier) are never read, so scores on them stay honest.

    python -m training.cohesion --out fazhi_ie/data/bound_bigrams.txt
"""
from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "gov-work-reports.jsonl"
GOLD = (ROOT / "data" / "annotations" / "reports.jsonl", ROOT / "data" / "annotations" / "local.jsonl")
SPLITS = ROOT / "data" / "annotations" / "splits.json"
HELD_OUT = ("jinpu-2023",)


def is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def split_bigrams(docs: list[dict]) -> Counter:
    """How often gold spans start or end between the two characters of each CJK bigram."""
    out: Counter = Counter()
    for doc in docs:
        text = doc["text"]
        for ent in doc["entities"]:
            for i in (ent["start"], ent["end"]):
                if 0 < i < len(text) and is_cjk(text[i - 1]) and is_cjk(text[i]):
                    out[text[i - 1:i + 1]] += 1
    return out


def bound_bigrams(texts: list[str], split: Counter, min_pmi: float, min_count: int) -> list[tuple[str, float, int]]:
    """(bigram, PMI, count) of every bound bigram, most cohesive first."""
    uni: Counter = Counter()
    bi: Counter = Counter()
    for text in texts:
        uni.update(ch for ch in text if is_cjk(ch))
        bi.update(text[i:i + 2] for i in range(len(text) - 1) if is_cjk(text[i]) and is_cjk(text[i + 1]))
    n_uni, n_bi = sum(uni.values()), sum(bi.values())
    out = []
    for ab, count in bi.items():
        if count < min_count or split[ab]:
            continue
        pmi = math.log(count * n_uni * n_uni / (n_bi * uni[ab[0]] * uni[ab[1]]))
        if pmi >= min_pmi:
            out.append((ab, pmi, count))
    out.sort(key=lambda x: (-x[1], x[0]))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--min-pmi", type=float, default=3.0)
    parser.add_argument("--min-count", type=int, default=3)
    args = parser.parse_args(argv)
    held_out = set(HELD_OUT) | set(json.loads(SPLITS.read_text(encoding="utf-8"))["local_held_out_writer"])
    texts = [json.loads(line)["text"] for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    gold = [json.loads(line) for path in GOLD for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    train = [d for d in gold if d["id"] not in held_out]
    texts += [d["text"] for d in train]
    rows = bound_bigrams(texts, split_bigrams(train), args.min_pmi, args.min_count)
    header = (f"# bigrams an entity edge must not split (training/cohesion.py: PMI >= {args.min_pmi}, count >= "
              f"{args.min_count}, never split by a gold span of the {len(train)} training documents; "
              f"{sum(map(len, texts)):,} characters read, held-out documents never)\n")
    Path(args.out).write_text(header + "".join(ab + "\n" for ab, _, _ in rows), encoding="utf-8")
    print(f"{len(rows)} bound bigrams -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
