"""Coverage and pairwise precision/recall of metric canonicalisation against the hand grouping.

    python data/metrics/score_grouping.py [--groups data/metrics/groups.tsv] [--json OUT]

Scores the package of this repository (its root goes first on sys.path), not an installed copy.

Coverage: the share of gold facts of the four older local reports (`REPORTS`; `facts_for`, facts
from repeated text left out) whose metric gets a canonical key (any rule but 'none'), canonicalised
together as the panel does. In-sample: the lexicon was written with these strings in view. Also
per report with that report's own variants removed (as below), and for the other local reports
of the gold corpus (held out: no lexicon line was written from them).

Grouping settings scored (pairs of strings put together, against groups.tsv):

- shipped: the bundled lexicon as is, over all grouped strings (in-sample);
- leave_one_report_out: for each of `REPORTS`, every lexicon variant (by matching key) that occurs
  among that report's gold METRIC strings and in no other gold document is removed; the report's
  gold METRIC strings are canonicalised together and scored against groups.tsv restricted to them;
  pairs pooled over the four reports (pairs within one report only);
- leave_one_report_out_strict: the same, but a variant is also removed when its normal form is
  the normal form of a string that occurs only in that report (so a reworded copy left in the
  lexicon cannot place it either);
- leave_one_out (per string): each string scored alone with its own variant removed from the
  lexicon, so only other variants, normal forms and similarity can place it;
- similarity_only (no lexicon: normal forms, similarity and peers) and exact_strings (every
  distinct string its own indicator).
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from fazhi_ie.analysis.metric_keys import (DEFAULT_THRESHOLD, Lexicon, MetricCanonicalizer,  # noqa: E402
                                           PairwiseScores, match_key, normal_form, pairwise_scores,
                                           read_grouping)

GOLD_FILES = ("reports.jsonl", "gov-work-reports.jsonl")
LOCAL_FILE = "reports.jsonl"
REPORTS = ("chengguan-lanzhou-2023", "jinta-2023", "chengzhong-liuzhou-2023", "gansu-highlights-2023")
SETTINGS = ("shipped", "leave_one_report_out", "leave_one_report_out_strict", "leave_one_out", "similarity_only",
            "exact_strings")


def gold_documents() -> dict[str, list]:
    """The gold documents, by file name."""
    import fazhi_ie

    return {name: list(fazhi_ie.read_jsonl(ROOT / "data" / "annotations" / name, require_value_heads=False))
            for name in GOLD_FILES}


def gold_metrics(documents: dict[str, list]) -> dict[str, list[str]]:
    """{document id: its distinct gold METRIC strings in text order}."""
    out: dict[str, list[str]] = {}
    for docs in documents.values():
        for doc in docs:
            spans = sorted((e for e in doc.entities if e.label == "METRIC"), key=lambda e: e.start)
            out[doc.id] = list(dict.fromkeys(e.text for e in spans))
    return out


def report_lexicon(lexicon: Lexicon, report: str, metrics: dict[str, list[str]], strict: bool = False) -> Lexicon:
    """The lexicon without the variants that occur among `report`'s gold metrics and in no other document."""
    own = {match_key(m) for m in metrics[report]}
    elsewhere = {match_key(m) for doc_id, ms in metrics.items() if doc_id != report for m in ms}
    only_here = own - elsewhere
    drop = [v for v in lexicon.variants if v in only_here]
    if strict:
        normals = {normal_form(m) for m in only_here} - {normal_form(m) for m in elsewhere}
        drop += [v for v in lexicon.variants if normal_form(v) in normals]
    return lexicon.without(*drop)


def pooled(scores: list[PairwiseScores]) -> dict:
    """Pairwise scores summed over groups of strings scored apart."""
    tp, pp, gp = (sum(getattr(s, f) for s in scores) for f in ("true_pairs", "predicted_pairs", "gold_pairs"))
    p = tp / pp if pp else 1.0
    r = tp / gp if gp else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return asdict(PairwiseScores(round(p, 4), round(r, 4), round(f1, 4), tp, pp, gp, sum(s.strings for s in scores)))


def leave_one_report_out(groups: dict[str, str], metrics: dict[str, list[str]], threshold: float,
                         strict: bool = False) -> dict:
    """Pooled pairwise scores of each report canonicalised with its own variants removed (see the docstring)."""
    lexicon = Lexicon.from_file()
    by_key = {match_key(m): g for m, g in groups.items()}
    scores = []
    for report in REPORTS:
        keys = MetricCanonicalizer(report_lexicon(lexicon, report, metrics, strict), threshold).canonicalize_all(
            metrics[report])
        gold = {m: by_key[match_key(m)] for m in metrics[report] if match_key(m) in by_key}
        scores.append(pairwise_scores(gold, {m: keys[m].key for m in gold}))
    return pooled(scores)


def report_facts(documents: dict[str, list], ids: tuple[str, ...] | None) -> dict[str, list]:
    """{document id: its gold facts, repeats left out} for `ids` (None: the local reports not in REPORTS)."""
    from fazhi_ie.facts import facts_for

    docs = [d for d in documents[LOCAL_FILE] if (d.id in ids if ids is not None else d.id not in REPORTS)]
    return {d.id: [f for f in facts_for(d) if f.duplicate_of is None] for d in docs}


def coverage(facts: list, canon: MetricCanonicalizer) -> dict:
    """How many facts get a canonical key (any rule but 'none'), and the rules used."""
    keys = canon.canonicalize_all(f.metric for f in facts)
    rules = Counter(keys[f.metric].rule for f in facts)
    keyed = len(facts) - rules.get("none", 0)
    return {"facts": len(facts), "keyed": keyed, "share": round(keyed / len(facts), 4) if facts else 0.0,
            "rules": dict(sorted(rules.items()))}


def coverage_scores(documents: dict[str, list], metrics: dict[str, list[str]], threshold: float) -> dict:
    """In-sample coverage of REPORTS, its leave-one-report-out counterpart, and held-out local reports."""
    lexicon = Lexicon.from_file()
    facts = report_facts(documents, REPORTS)
    in_sample = coverage([f for ff in facts.values() for f in ff], MetricCanonicalizer(lexicon, threshold))
    parts = [coverage(facts[r], MetricCanonicalizer(report_lexicon(lexicon, r, metrics), threshold)) for r in REPORTS]
    loro_keyed, loro_facts = sum(p["keyed"] for p in parts), sum(p["facts"] for p in parts)
    held = report_facts(documents, None)
    held_out = coverage([f for ff in held.values() for f in ff], MetricCanonicalizer(lexicon, threshold))
    return {"reports": list(REPORTS), "in_sample": in_sample,
            "leave_one_report_out": {"facts": loro_facts, "keyed": loro_keyed,
                                     "share": round(loro_keyed / loro_facts, 4) if loro_facts else 0.0},
            "held_out": dict(held_out, reports=sorted(held))}


def score(groups: dict[str, str], threshold: float = DEFAULT_THRESHOLD) -> dict:
    """Every setting of the module docstring, as one JSON-ready dict."""
    lexicon = Lexicon.from_file()
    documents = gold_documents()
    metrics = gold_metrics(documents)
    shipped = MetricCanonicalizer(lexicon, threshold).canonicalize_all(groups)
    loo = {m: MetricCanonicalizer(lexicon.without(m), threshold).canonicalize(m) for m in groups}
    sim_only = MetricCanonicalizer(None, threshold).canonicalize_all(groups)
    return {
        "strings": len(groups), "indicators": len(set(groups.values())), "threshold": threshold,
        "coverage": coverage_scores(documents, metrics, threshold),
        "shipped": asdict(pairwise_scores(groups, {m: c.key for m, c in shipped.items()})),
        "shipped_rules": dict(sorted(Counter(c.rule for c in shipped.values()).items())),
        "leave_one_report_out": leave_one_report_out(groups, metrics, threshold),
        "leave_one_report_out_strict": leave_one_report_out(groups, metrics, threshold, strict=True),
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
    cov = result["coverage"]
    print(f"coverage of the gold facts of {len(REPORTS)} reports: {cov['in_sample']['keyed']}/"
          f"{cov['in_sample']['facts']} = {cov['in_sample']['share']:.3f} (in-sample), leave-one-report-out "
          f"{cov['leave_one_report_out']['share']:.3f}, held out ({', '.join(cov['held_out']['reports'])}) "
          f"{cov['held_out']['keyed']}/{cov['held_out']['facts']} = {cov['held_out']['share']:.3f}")
    print("rules (in-sample):", cov["in_sample"]["rules"])
    print(f"{result['strings']} strings in {result['indicators']} indicators, similarity threshold {args.threshold}")
    print(f"{'setting':<28} {'P':>6} {'R':>6} {'F1':>6} {'pairs ok/pred/gold':>20}")
    for name in SETTINGS:
        s = result[name]
        print(f"{name:<28} {s['precision']:>6.3f} {s['recall']:>6.3f} {s['f1']:>6.3f} "
              f"{s['true_pairs']:>6}/{s['predicted_pairs']}/{s['gold_pairs']}")
    print("rules (shipped):", result["shipped_rules"])
    if args.json:
        Path(args.json).write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
