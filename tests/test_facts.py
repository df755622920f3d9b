"""The fact layer's metric rule (facts.metric_phrase): no metric of one or two characters where the text has
something longer; the rule leaves gold-length metrics alone."""
from __future__ import annotations

from conftest import ROOT

import fazhi_ie
from fazhi_ie.document import Document, Relation, Span
from fazhi_ie.facts import facts_for


def _fact(text: str, metric: str, value: str):
    m, v = text.index(metric), text.index(value)
    doc = Document("d", text, {}, (Span("T1", "METRIC", m, m + len(metric), metric),
                                   Span("T2", "VALUE", v, v + len(value), value)),
                   (Relation("R1", "HAS_VALUE", "T1", "T2"),))
    [fact] = facts_for(doc)
    assert text[slice(*fact.evidence.metric_span)] == fact.metric and fact.metric_id == "T1"
    return fact.metric


def test_a_short_metric_runs_on_to_its_value():
    assert _fact("目前已依法纠正行政机关违法行为14件。", "依法", "14件") == "依法纠正行政机关违法行为"
    assert _fact("收到行政复议申请245件，不予受理52件。", "不", "52件") == "不予受理"
    assert _fact("及格率为98.7%。", "格率", "98.7%") == "及格率"  # a copula before the value stays out


def test_nothing_longer_leaves_it_short():
    assert _fact("受理93件，累计办结103件。", "办结", "103件") == "办结"
    assert _fact("对全区29个单位开展督察。", "单位", "29个") == "单位"


def test_gold_metrics_are_never_changed():
    for doc in fazhi_ie.read_jsonl(ROOT / "data" / "annotations" / "reports.jsonl"):
        for fact in facts_for(doc):
            assert fact.metric == doc.entity(fact.metric_id).text


def test_a_metric_closes_the_bracket_it_opened():
    assert _fact("实现全区175个行政村(社区)全覆盖。", "行政村(社区", "175个") == "行政村(社区)"


def test_a_deictic_agent_is_the_reports_region_and_a_stock_is_as_of():
    doc = fazhi_ie.load(engine="rules")("2023年，全区受理行政复议案件93件。全区现有人民调解组织225个。",
                                        meta={"region": "兰州市城关区", "year": 2023})
    by_value = {f.value: f for f in doc.facts}
    assert by_value["93件"].agent == "兰州市城关区" and by_value["93件"].period == "2023"
    assert by_value["225个"].period == "as of 2023"
    national = fazhi_ie.load(engine="rules")("全国受理案件93件。", meta={"region": "兰州市城关区", "year": 2023})
    assert {f.agent for f in national.facts} <= {"全国"}
