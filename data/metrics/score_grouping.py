"""Pairwise precision/recall of metric canonicalisation against the hand grouping.

    python data/metrics/score_grouping.py [--groups data/metrics/groups.tsv] [--json OUT]

Settings scored: the bundled lexicon + similarity fallback as shipped (in-sample: the
lexicon was written with these strings in view); leave-one-out (each string scored with
its own variant removed from the lexicon, so only other variants, similarity and peers can
place it: how the fallback handles an unseen variant); similarity only (no lexicon); and
exact strings (every distinct string its own indicator).
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from fazhi_ie.analysis.metric_keys import DEFAULT_THRESHOLD, Lexicon, MetricCanonicalizer, match_key, pairwise_scores, read_grouping

HERE = Path(__file__).resolve().parent


def score(groups: dict[str, str], threshold: float = DEFAULT_THRESHOLD) -> dict:
    lexicon = Lexicon.from_file()
    shipped = MetricCanonicalizer(lexicon, threshold).canonicalize_all(groups)
    loo = {m: MetricCanonicalizer(lexicon.without(m), threshold).canonicalize(m) for m in groups}
    sim_only = MetricCanonicalizer(None, threshold).canonicalize_all(groups)
    return {
        "strings": len(groups), "indicators": len(set(groups.values())), "threshold": threshold,
        "shipped": asdict(pairwise_scores(groups, {m: c.key for m, c in shipped.items()})),
        "shipped_rules": dict(Counter(c.rule for c in shipped.values())),
        "leave_one_out": asdict(pairwise_scores(groups, {m: c.key for m, c in loo.items()})),
        "similarity_only": asdict(pairwise_scores(groups, {m: c.key for m, c in sim_only.items()})),
        "exact_strings": asdict(pairwise_scores(groups, {m: match_key(m) for m in groups})),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--groups", default=str(HERE / "groups.tsv"))
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--json", help="also write the scores here")
    args = parser.parse_args()
    result = score(read_grouping(args.groups), args.threshold)
    print(f"{result['strings']} strings in {result['indicators']} indicators, similarity threshold {args.threshold}")
    print(f"{'setting':<16} {'P':>6} {'R':>6} {'F1':>6} {'pairs ok/pred/gold':>20}")
    for name in ("shipped", "leave_one_out", "similarity_only", "exact_strings"):
        s = result[name]
        print(f"{name:<16} {s['precision']:>6.3f} {s['recall']:>6.3f} {s['f1']:>6.3f} "
              f"{s['true_pairs']:>6}/{s['predicted_pairs']}/{s['gold_pairs']}")
    print("rules (shipped):", result["shipped_rules"])
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
