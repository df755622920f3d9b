"""Metric canonicalisation: variants of one indicator under one canonical key.

出庭应诉率, 行政机关负责人出庭应诉率 and 负责人出庭应诉率 are one indicator. A metric string is
mapped to a key by, in order (the rule is recorded with every result):

1. ``lexicon``: it equals a variant in the lexicon (compared by `match_key`: NFKC, no
   whitespace, quotation marks or brackets; the stored metric text is never changed);
2. ``similarity``: its character-bigram Dice similarity to a lexicon variant is at least
   the threshold (default 0.8), and it takes the most similar variant's key;
3. ``similarity-peer`` (only in `canonicalize_all`): it is that similar to another unmatched
   metric of the same batch, and joins that metric's key;
4. ``none``: its own matching key.

A modifier often makes a different indicator (兼职人民调解员 vs 人民调解员, 中央财政赤字 vs
财政赤字), so there is no suffix or substring rule: such variants belong in the lexicon.
Measured on a hand grouping of gold METRIC strings in data/metrics/ (README there).

The lexicon is a plain TSV shipped as package data (`fazhi_ie/data/metric_lexicon.tsv`);
edit a copy and pass it as `MetricCanonicalizer.from_file(path)`. Format, one indicator a
line: ``key<TAB>variant<TAB>variant…`` (the key is a variant too); ``#`` starts a comment.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence

LEXICON_NAME = "metric_lexicon.tsv"
DEFAULT_THRESHOLD = 0.8
RULES = ("lexicon", "similarity", "similarity-peer", "none")
_DROP = set(" \t\r\n\u3000“”‘’\"'「」『』()（）[]【】")


@dataclass(frozen=True)
class Canonical:
    """The canonical key of one metric string, the rule that produced it, its score in 0..1
    and the lexicon variant or peer metric it matched (None for rule 'none')."""

    key: str
    rule: str
    score: float
    matched: str | None = None


def match_key(text: str) -> str:
    """The form metric strings are compared in: NFKC, without whitespace, quotation marks or brackets."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch not in _DROP)


def _bigrams(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text}


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the character bigrams of two strings (1.0 = same bigrams)."""
    x, y = _bigrams(a), _bigrams(b)
    if not x or not y:
        return 0.0
    return 2 * len(x & y) / (len(x) + len(y))


@dataclass(frozen=True)
class Lexicon:
    """Indicators as {matching key of a variant: canonical key}."""

    variants: dict[str, str]

    @classmethod
    def parse(cls, content: str, name: str = "<lexicon>") -> "Lexicon":
        """Read the TSV format described in the module docstring; errors name the line."""
        variants: dict[str, str] = {}
        for lineno, line in enumerate(content.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cells = [c.strip() for c in line.split("\t") if c.strip()]
            key = cells[0]
            for variant in cells:
                mk = match_key(variant)
                if not mk:
                    raise ValueError(f"{name}:{lineno}: empty variant")
                if variants.get(mk, key) != key:
                    raise ValueError(f"{name}:{lineno}: {variant!r} is already a variant of {variants[mk]!r}")
                variants[mk] = key
        return cls(variants)

    def without(self, variant: str) -> "Lexicon":
        """A copy without one variant (for leave-one-out measurement)."""
        mk = match_key(variant)
        return Lexicon({k: v for k, v in self.variants.items() if k != mk})

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> "Lexicon":
        """The lexicon in `path`, or the bundled one when `path` is None."""
        if path is None:
            return cls.parse(resources.files("fazhi_ie.data").joinpath(LEXICON_NAME).read_text(encoding="utf-8"),
                             f"fazhi_ie/data/{LEXICON_NAME}")
        return cls.parse(Path(path).read_text(encoding="utf-8"), str(path))


class MetricCanonicalizer:
    """Maps metric strings to canonical keys with a lexicon and a similarity fallback."""

    def __init__(self, lexicon: Lexicon | None = None, threshold: float = DEFAULT_THRESHOLD):
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.lexicon = lexicon if lexicon is not None else Lexicon({})
        self.threshold = threshold
        self._variants = sorted(self.lexicon.variants)  # a fixed order: ties go to the first

    @classmethod
    def from_file(cls, path: str | Path | None = None, threshold: float = DEFAULT_THRESHOLD) -> "MetricCanonicalizer":
        """A canonicalizer over the lexicon in `path` (the bundled one when None)."""
        return cls(Lexicon.from_file(path), threshold)

    def canonicalize(self, metric: str) -> Canonical:
        """The canonical key of one metric string, by the lexicon rules, else by similarity, else itself."""
        found = self._lexicon_match(match_key(metric))
        return found if found is not None else Canonical(match_key(metric) or metric, "none", 1.0, None)

    def canonicalize_all(self, metrics: Iterable[str]) -> dict[str, Canonical]:
        """Canonical keys for many strings; unmatched ones may also join a similar unmatched peer.

        Peers are visited in order of first appearance, so the result is deterministic for a
        given input order.
        """
        out: dict[str, Canonical] = {}
        peers: list[str] = []  # matching keys of unmatched strings that head their own group
        for metric in metrics:
            if metric in out:
                continue
            mk = match_key(metric) or metric
            found = self._lexicon_match(mk)
            if found is None:
                best, best_score = None, 0.0
                for peer in peers:
                    score = similarity(mk, peer)
                    if score > best_score:
                        best, best_score = peer, score
                if best is not None and best_score >= self.threshold:
                    found = Canonical(best, "similarity-peer", round(best_score, 4), best)
                else:
                    peers.append(mk)
                    found = Canonical(mk, "none", 1.0, None)
            out[metric] = found
        return out

    def _lexicon_match(self, mk: str) -> Canonical | None:
        variants = self.lexicon.variants
        if mk in variants:
            return Canonical(variants[mk], "lexicon", 1.0, mk)
        best, best_score = None, 0.0
        for variant in self._variants:
            score = similarity(mk, variant)
            if score > best_score:
                best, best_score = variant, score
        if best is not None and best_score >= self.threshold:
            return Canonical(variants[best], "similarity", round(best_score, 4), best)
        return None


@lru_cache(maxsize=1)
def default_canonicalizer() -> MetricCanonicalizer:
    """The canonicalizer over the bundled lexicon, built on first use (not at import)."""
    return MetricCanonicalizer.from_file(None)


def read_grouping(path: str | Path) -> dict[str, str]:
    """A hand grouping file (``indicator<TAB>metric`` lines, ``#`` comments) as {metric: indicator}."""
    grouping: dict[str, str] = {}
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        indicator, sep, metric = line.partition("\t")
        if not sep or not metric.strip():
            raise ValueError(f"{path}:{lineno}: expected 'indicator<TAB>metric'")
        if metric in grouping:
            raise ValueError(f"{path}:{lineno}: {metric!r} listed twice")
        grouping[metric] = indicator.strip()
    return grouping


@dataclass(frozen=True)
class PairwiseScores:
    """Pairwise precision/recall/F1 of a grouping: pairs of strings put together by both,
    over pairs put together by the prediction (P) and by the gold grouping (R)."""

    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    gold_pairs: int
    strings: int


def pairwise_scores(gold: dict[str, str], predicted: dict[str, str]) -> PairwiseScores:
    """Compare two groupings of the same strings ({string: group}) pair by pair."""
    strings: Sequence[str] = sorted(gold)
    missing = [s for s in strings if s not in predicted]
    if missing:
        raise ValueError(f"no predicted group for {len(missing)} string(s), e.g. {missing[0]!r}")
    tp = pp = gp = 0
    for i, a in enumerate(strings):
        for b in strings[i + 1:]:
            same_gold = gold[a] == gold[b]
            same_pred = predicted[a] == predicted[b]
            gp += same_gold
            pp += same_pred
            tp += same_gold and same_pred
    precision = tp / pp if pp else 1.0
    recall = tp / gp if gp else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairwiseScores(round(precision, 4), round(recall, 4), round(f1, 4), tp, pp, gp, len(strings))
