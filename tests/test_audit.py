"""The consistency audit on a small corpus with one planted inconsistency of each kind."""
from __future__ import annotations

import json

import pytest

from fazhi_ie.analysis.audit import AuditConfig, audit, read_exceptions
from fazhi_ie.cli import main
from fazhi_ie.document import Document, Relation, Span
from fazhi_ie.io.jsonl import write_jsonl


def make(doc_id: str, text: str, ents: list[tuple[str, str, int]], rels: list[tuple[str, int, int]] = ()) -> Document:
    """Entities as (label, text, k-th occurrence in the document); relations by entity index."""
    spans = []
    for i, (label, surface, k) in enumerate(ents, start=1):
        pos = -1
        for _ in range(k):
            pos = text.index(surface, pos + 1)
        spans.append(Span(f"T{i}", label, pos, pos + len(surface), surface))
    relations = [Relation(f"R{i}", label, f"T{h}", f"T{t}") for i, (label, h, t) in enumerate(rels, start=1)]
    return Document(doc_id, text, {}, tuple(spans), relations=tuple(relations))


@pytest.fixture
def corpus() -> list[Document]:
    a = make("a", "今年以来,城关区受理行政复议案件93件。深化行政复议,提高社区矫正工作水平。",
             [("TIME", "今年以来", 1), ("REGION", "城关区", 1), ("METRIC", "受理行政复议案件", 1), ("VALUE", "93件", 1),
              ("PROGRAM", "行政复议", 2), ("PROGRAM", "社区矫正工作", 1)],
             [("HAS_VALUE", 3, 4), ("AGENT", 3, 2), ("WHEN", 3, 1)])
    b = make("b", "今年以来,城关区受理行政复议案件12件。行政复议纠错率5%。筑牢社区矫正工作防线。",
             [("TIME", "今年以来", 1), ("METRIC", "受理行政复议案件", 1), ("VALUE", "12件", 1),
              ("METRIC", "行政复议", 2), ("METRIC", "纠错率", 1), ("VALUE", "5%", 1), ("PROGRAM", "社区矫正", 1)],
             [("HAS_VALUE", 2, 3), ("HAS_VALUE", 5, 6)])
    c = make("c", "开展法治督察2次。推进法治督察。全区企业发展良好。企业1200家。",
             [("METRIC", "法治督察", 1), ("VALUE", "2次", 1), ("PROGRAM", "法治督察", 2), ("REGION", "全区", 1),
              ("METRIC", "企业", 2), ("VALUE", "1200家", 1)],
             [("HAS_VALUE", 1, 2), ("HAS_VALUE", 5, 6)])
    return [a, b, c]


def by_kind(report, kind: str) -> dict[str, object]:
    return {f.key: f for f in report.findings if f.kind == kind}


def test_planted_label_conflict(corpus):
    found = by_kind(audit(corpus), "label")
    assert set(found) == {"行政复议", "法治督察"}
    f = found["行政复议"]
    assert f.variants == {"METRIC": 1, "PROGRAM": 1}
    occ = {(o.doc, o.sentence, o.annotation) for o in f.occurrences}
    assert occ == {("a", 2, "PROGRAM"), ("b", 2, "METRIC")}


def test_planted_untagged_string(corpus):
    found = by_kind(audit(corpus), "untagged")
    f = found["城关区"]  # REGION in a, untagged in b
    untagged = [o for o in f.occurrences if o.annotation == "untagged"]
    assert [(o.doc, o.sentence, o.start, o.end) for o in untagged] == [("b", 1, 5, 8)]
    assert corpus[1].text[5:8] == "城关区"
    # 企业 is a METRIC only where a VALUE measures it: 全区企业发展良好 is not reported
    assert "企业" not in found
    # occurrences inside another entity (行政复议 in 受理行政复议案件) are not untagged
    assert all(o.annotation != "untagged" for o in found.get("行政复议", type("F", (), {"occurrences": []})).occurrences)


def test_planted_boundaries(corpus):
    found = by_kind(audit(corpus), "boundary")
    cut = found["社区矫正工作 (PROGRAM)"]  # tagged whole in a, only 社区矫正 in b
    assert {o.annotation for o in cut.occurrences} == {"PROGRAM", "PROGRAM 社区矫正"}
    assert "法治督察 (PROGRAM)" not in found  # one cut only: a label conflict, not a boundary
    assert "社区矫正 (PROGRAM)" in found  # core + 工作 as a longer PROGRAM name
    assert found["社区矫正 (PROGRAM)"].variants == {"PROGRAM 社区矫正": 1, "PROGRAM 社区矫正工作": 1}


def test_planted_relation_difference(corpus):
    found = by_kind(audit(corpus), "relation")
    assert set(found) >= {"受理行政复议案件 (METRIC) > 今年以来 (TIME)"}
    f = found["受理行政复议案件 (METRIC) > 今年以来 (TIME)"]
    assert f.variants == {"WHEN": 1, "not linked": 1}
    # VALUE tails are never compared: each VALUE's one head is a per-sentence decision
    assert not any("(VALUE)" in key for key in found)


def test_ranking_config_and_exceptions(corpus, tmp_path):
    report = audit(corpus)
    counts = [f.count for f in report.findings]
    assert counts == sorted(counts, reverse=True)
    assert audit(corpus, AuditConfig(kinds=("label",))).counts() == {"label": 2, "untagged": 0, "boundary": 0, "relation": 0}
    with pytest.raises(ValueError, match="valid: label, untagged"):
        AuditConfig(kinds=("labels",))
    with pytest.raises(ValueError, match="unknown audit option"):
        AuditConfig.from_dict({"min_cout": 2})
    path = tmp_path / "exceptions.tsv"
    path.write_text("# comment\nlabel\t行政复议\ta rate of a line of work is a METRIC\n*\t社区矫正\tsee 7.1\n", encoding="utf-8")
    explained = audit(corpus, exceptions=read_exceptions(path))
    reasons = {(f.kind, f.key): f.explained for f in explained.findings if f.explained}
    assert reasons[("label", "行政复议")] == "a rate of a line of work is a METRIC"
    assert reasons[("boundary", "社区矫正 (PROGRAM)")] == "see 7.1"
    assert explained.findings[-1].explained  # explained findings come last
    # an entry pinned to places explains only the untagged occurrences it lists
    path.write_text("untagged\t城关区\tplace names are fine here\tb:S1\n", encoding="utf-8")
    assert by_kind(audit(corpus, exceptions=read_exceptions(path)), "untagged")["城关区"].explained
    path.write_text("untagged\t城关区\tplace names are fine here\tb:S2,a:S1\n", encoding="utf-8")
    assert by_kind(audit(corpus, exceptions=read_exceptions(path)), "untagged")["城关区"].explained is None
    path.write_text("labl\t行政复议\treason\n", encoding="utf-8")
    with pytest.raises(ValueError, match=":1: expected KIND"):
        read_exceptions(path)


def test_a_consistent_corpus_has_no_findings():
    doc = make("x", "城关区受理案件5件。城关区受理案件6件。",
               [("REGION", "城关区", 1), ("METRIC", "受理案件", 1), ("VALUE", "5件", 1),
                ("REGION", "城关区", 2), ("METRIC", "受理案件", 2), ("VALUE", "6件", 1)],
               [("HAS_VALUE", 2, 3), ("AGENT", 2, 1), ("HAS_VALUE", 5, 6), ("AGENT", 5, 4)])
    assert audit([doc]).findings == []


def test_cli_table_json_and_strict(corpus, tmp_path, capsys):
    data = tmp_path / "corpus.jsonl"
    write_jsonl(corpus, data)
    out = tmp_path / "audit.json"
    assert main(["audit", str(data), "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "unexplained" in table and "城关区" in table and "b S1 [5,8) 城关区 → untagged" in table
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["documents"] == 3 and record["counts"]["label"] == 2
    first = record["findings"][0]
    assert {"kind", "key", "count", "variants", "occurrences"} <= set(first)
    assert {"doc", "sentence", "start", "end", "text", "annotation"} == set(first["occurrences"][0])
    assert main(["audit", str(data), "--strict"]) == 1
    assert main(["audit", str(data), "--kinds", "nope"]) == 1
    assert "valid: label, untagged, boundary, relation" in capsys.readouterr().err
