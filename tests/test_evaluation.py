"""The evaluator: exact numbers on a tiny gold file, error kinds, bootstrap."""
from __future__ import annotations

from dataclasses import replace

import pytest

from fazhi_ie.document import Span
from fazhi_ie.analysis.evaluation import EvaluationError, evaluate
from fazhi_ie.io.jsonl import read_jsonl


@pytest.fixture
def gold(fixtures):
    return read_jsonl(fixtures / "gold_small.jsonl")


def test_gold_against_itself_is_perfect(gold):
    report = evaluate(gold, gold, bootstrap=50)
    assert report.entity_micro.f1 == 1.0 and report.relation_micro.f1 == 1.0 and report.facts.f1 == 1.0
    assert report.entity_seqeval["micro avg"]["f1-score"] == 1.0
    assert report.confidence["entity_micro_f1"] == (1.0, 1.0)
    assert report.errors == []


def test_known_perturbation_gives_known_scores(gold):
    doc = gold[0]
    ents = list(doc.entities)
    # 1) shrink the METRIC 受理行政复议案件 -> 行政复议案件 (wrong boundary), 2) relabel 全区 as ORG (wrong label)
    i = next(k for k, e in enumerate(ents) if e.text == "受理行政复议案件")
    ents[i] = Span(ents[i].id, "METRIC", ents[i].start + 2, ents[i].end, ents[i].text[2:])
    j = next(k for k, e in enumerate(ents) if e.text == "全区")
    ents[j] = replace(ents[j], label="ORG")
    pred = [doc.with_annotations(entities=ents), gold[1]]
    report = evaluate(gold, pred, bootstrap=0)
    total = sum(len(d.entities) for d in gold)
    assert report.entity_micro.tp == total - 2 and report.entity_micro.fp == 2 and report.entity_micro.fn == 2
    assert report.entities["METRIC"].fn == 1 and report.entities["REGION"].fn == 1 and report.entities["ORG"].fp == 1
    # relations touching either changed span no longer match: HAS_VALUE, AGENT x2, WHEN of 受理…
    assert report.relations["HAS_VALUE"].fn == 1 and report.relations["AGENT"].fn == 2 and report.relations["WHEN"].fn == 1
    kinds = sorted(e["kind"] for e in report.errors if "relation" not in e["kind"])
    assert kinds == ["wrong boundary", "wrong label"]
    # seqeval strict IOB2 agrees with the exact-span count
    assert report.entity_seqeval["micro avg"]["f1-score"] == pytest.approx(report.entity_micro.f1, abs=1e-4)


def test_missed_and_spurious_and_norm_accuracy(gold):
    doc = gold[1]
    value = next(e for e in doc.entities if e.text == "8081件")
    wrong_norm = replace(value, norm=replace(value.norm, number=8.0))
    ents = [wrong_norm if e.id == value.id else e for e in doc.entities]
    pred = [gold[0], doc.with_annotations(entities=ents)]
    report = evaluate(gold, pred, bootstrap=0)
    matched = report.norm_matched
    assert report.norm_accuracy["number"] == pytest.approx((matched - 1) / matched)
    empty = [gold[0], doc.with_annotations(entities=[], relations=[])]
    report = evaluate(gold, empty, bootstrap=0)
    assert report.entity_micro.fn == len(doc.entities)
    assert {e["kind"] for e in report.errors if e["doc_id"] == doc.id} == {"missed", "missed relation"}


def test_missing_documents_are_an_error(gold):
    with pytest.raises(EvaluationError, match="lack 1 gold document"):
        evaluate(gold, gold[:1])
    report = evaluate(gold, gold[:1], allow_missing=True, bootstrap=0)
    assert report.warnings


def test_report_outputs(gold):
    report = evaluate(gold, gold, bootstrap=10)
    data = report.to_dict()
    assert set(data) >= {"entities", "relations", "facts", "bootstrap_95ci", "errors"}
    assert "HAS_VALUE" in report.format_table()


def test_fact_field_accuracies_stay_within_0_and_1_and_one_document_has_no_interval():
    from fazhi_ie.document import Document, Relation, Span

    text = "区司法局受理案件93件。"
    spans = (Span("T1", "ORG", 0, 4, "区司法局"), Span("T2", "METRIC", 4, 8, "受理案件"), Span("T3", "VALUE", 8, 11, "93件"))
    gold = Document("d", text, {}, spans, (Relation("R1", "HAS_VALUE", "T2", "T3"), Relation("R2", "AGENT", "T2", "T1")))
    # the same pair of spans, but the head labelled PROGRAM: no HAS_VALUE true positive, yet the fact spans match
    wrong_head = Document("d", text, {}, (spans[0], Span("T2", "PROGRAM", 4, 8, "受理案件"), spans[2]),
                          (Relation("R1", "HAS_VALUE", "T2", "T3"), Relation("R2", "AGENT", "T2", "T1")))
    report = evaluate([gold], [wrong_head], bootstrap=200)
    assert report.facts.tp == 0 and report.fact_matched == 1
    assert all(0.0 <= v <= 1.0 for v in report.fact_field_accuracy.values())
    assert report.confidence == {} and any("no 95% interval" in w for w in report.warnings)
    assert "95% CI" not in report.format_table()


def test_lenient_fact_score_and_a_repeated_block_scored_once():
    from fazhi_ie.document import Document, Relation, Span

    body = "2023年，全县受理案件93件，审结75件，行政复议纠错率为5%。\n"  # a block of 30+ characters
    text = "标题\n" + body + "相关链接\n" + body
    first, second = text.index("受理案件"), text.rindex("受理案件")

    def doc(metric_start, metric_end, extra=()):
        spans = [Span("T1", "METRIC", first, first + 4, text[first:first + 4]),
                 Span("T2", "VALUE", first + 4, first + 7, text[first + 4:first + 7]),
                 Span("T3", "METRIC", metric_start, metric_end, text[metric_start:metric_end]),
                 Span("T4", "VALUE", second + 4, second + 7, text[second + 4:second + 7])]
        return Document("d", text, {"region": "金塔县", "year": 2023}, tuple(spans),
                        (Relation("R1", "HAS_VALUE", "T1", "T2"), Relation("R2", "HAS_VALUE", "T3", "T4")))

    gold = doc(second, second + 4)
    shorter = doc(second + 2, second + 4)  # differs only inside the repeat
    report = evaluate([gold], [shorter], bootstrap=0)
    assert report.facts.f1 == 1.0 and any("scored once" in w for w in report.warnings)
    both = evaluate([gold], [shorter], bootstrap=0, score_repeats=True)
    assert both.facts.tp == 1 and both.facts.fp == 1
    assert both.lenient_facts.tp == 2  # value exact, metric overlapping, same agent and time
