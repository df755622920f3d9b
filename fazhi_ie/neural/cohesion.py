"""Word cohesion for decoding: character bigrams that an entity edge must not split.

Reads: the package's `bound_bigrams.txt` (one bigram a line, `#` comments), built by
training/cohesion.py from unlabeled report text (bigram PMI) minus every bigram that a gold
training span splits. Writes: per piece junction of a text, whether it lies inside such a bigram
(`bound_junctions`), for the constrained decoding of `engine.decode_spans`. No segmenter at run time.
"""
from __future__ import annotations

from importlib import resources

import numpy as np

from .tokenization import TokenizedText

BOUND_BIGRAMS_FILE = "bound_bigrams.txt"


def parse_bigrams(content: str, source: str = BOUND_BIGRAMS_FILE) -> frozenset[str]:
    """The bigrams of a bound-bigram file; a line that is not two characters is an error naming it."""
    out = set()
    for number, line in enumerate(content.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if len(line) != 2:
            raise ValueError(f"{source}:{number}: expected a bigram (two characters), got {line!r}")
        out.add(line)
    return frozenset(out)


def load_bound_bigrams() -> frozenset[str]:
    """The shipped bound bigrams (fazhi_ie/data/bound_bigrams.txt)."""
    content = resources.files("fazhi_ie.data").joinpath(BOUND_BIGRAMS_FILE).read_text(encoding="utf-8")
    return parse_bigrams(content, f"fazhi_ie/data/{BOUND_BIGRAMS_FILE}")


def bound_junctions(text: str, pieces: TokenizedText, bound: frozenset[str]) -> np.ndarray:
    """bool [len(pieces)]: entry j is True when pieces j-1 and j touch and the two characters either side of
    the junction form a bound bigram (no entity may start at piece j nor end at piece j-1); entry 0 is False."""
    n = len(pieces)
    out = np.zeros(n, dtype=bool)
    if n < 2 or not bound:
        return out
    for j in np.nonzero(pieces.ends[:-1] == pieces.starts[1:])[0].tolist():
        at = int(pieces.starts[j + 1])
        if 0 < at < len(text) and text[at - 1:at + 1] in bound:
            out[j + 1] = True
    return out
