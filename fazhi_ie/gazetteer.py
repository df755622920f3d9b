"""The gazetteer of regions, bodies, programs and laws, matched longest-first with hanlp_trie."""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

from .schema import check_entity_label


def read_gazetteer(path: str | Path | None = None) -> dict[str, str]:
    """Read `label<TAB>term` lines (the bundled list when `path` is None) into {term: label}."""
    if path is None:
        content = resources.files("fazhi_ie.data").joinpath("gazetteer.tsv").read_text(encoding="utf-8")
        name = "fazhi_ie/data/gazetteer.tsv"
    else:
        content = Path(path).read_text(encoding="utf-8")
        name = str(path)
    terms: dict[str, str] = {}
    for lineno, line in enumerate(content.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        label, sep, term = line.partition("\t")
        if not sep or not term.strip():
            raise ValueError(f"{name}:{lineno}: expected 'LABEL<TAB>term'")
        check_entity_label(label)
        terms[term.strip()] = label
    return terms


class Gazetteer:
    """Longest-match lookup of known terms; returns (start, end, label) with character offsets."""

    def __init__(self, terms: dict[str, str]):
        from hanlp_trie import Trie

        self.terms = dict(terms)
        self._trie = Trie(self.terms)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        return [(start, end, label) for start, end, label in self._trie.parse_longest(text)]


@lru_cache(maxsize=4)
def default_gazetteer() -> Gazetteer:
    """The bundled gazetteer, built on first use (not at import)."""
    return Gazetteer(read_gazetteer())


@lru_cache(maxsize=1)
def default_named_regions() -> tuple[str, ...]:
    """Named regions of the bundled gazetteer (not 全区/我区/本区/辖区), for a document's own area."""
    return tuple(t for t, label in default_gazetteer().terms.items()
                 if label == "REGION" and not t.startswith(("全", "我", "本", "辖")))
