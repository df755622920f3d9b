"""The rule engine and the extraction pipeline."""
from __future__ import annotations

from fazhi_ie.engines import ModelNotInstalledError, load_engine
from fazhi_ie.facts import document_defaults
from fazhi_ie.pipeline import extract as _extract


def extract(text, **kwargs):
    """These tests exercise the rule engine, named explicitly (the library's default is the model)."""
    kwargs.setdefault("engine", "rules")
    return _extract(text, **kwargs)
from fazhi_ie.schema import validate_record

import pytest


def spans(doc, label):
    return [e.text for e in doc.entities if e.label == label]


def test_values_metrics_and_links():
    doc = extract("今年来,全区受理行政复议案件93件,目前已审结75件,纠错率18.67%。", meta={"region": "兰州市城关区", "year": 2023})
    assert spans(doc, "VALUE") == ["93件", "75件", "18.67%"]
    assert spans(doc, "METRIC") == ["受理行政复议案件", "审结", "纠错率"]
    assert spans(doc, "TIME") == ["今年来", "目前"] and spans(doc, "REGION") == ["全区"]
    facts = {(f.metric, f.value, f.number, f.unit, f.agent, f.time) for f in doc.facts}
    assert ("受理行政复议案件", "93件", 93.0, "件", "兰州市城关区", "今年来") in facts  # 全区: the report's own region
    assert validate_record(doc.to_dict()) == []


def test_value_before_its_noun_and_document_defaults():
    doc = extract("区政府聘请4名法律顾问。", meta={"region": "兰州市城关区", "year": 2023})
    fact = doc.facts[0]
    assert (fact.metric, fact.number, fact.unit, fact.time) == ("法律顾问", 4.0, "名", "2023")


def test_years_ordinals_and_codes_are_not_values():
    doc = extract("2023年11月,第一批清单公布,建立“1+4+N”模式。")
    assert spans(doc, "VALUE") == []
    assert spans(doc, "TIME") == ["2023年11月"]


def test_docs_orgs_and_programs():
    doc = extract("兰州市城关区司法局组织开展“陇原风暴”执行行动,学习《重大行政决策程序暂行条例》和宪法。")
    assert "兰州市城关区司法局" in spans(doc, "ORG")
    assert "“陇原风暴”执行行动" in spans(doc, "PROGRAM")
    assert spans(doc, "DOC") == ["《重大行政决策程序暂行条例》", "宪法"]


def test_change_is_carried_into_facts():
    doc = extract("辖区涉案类警情与去年同比下降54.05%。")
    assert doc.facts[0].change == "decrease" and doc.facts[0].number == 54.05


def test_offsets_point_into_the_original_text():
    text = "\u3000\u3000全区 受理案件 9 3 件,增长１２％。"
    doc = extract(text)
    for e in doc.entities:
        assert text[e.start:e.end] == e.text
    assert validate_record(doc.to_dict()) == []


def test_defaults_inferred_from_opening_lines():
    defaults = document_defaults("柳州市城中区2023年法治政府建设年度报告\n正文", {}, ["柳州市城中区", "城中区"])
    assert defaults.agent == "柳州市城中区" and defaults.time == "2023"


def test_empty_and_non_chinese_text_give_empty_results():
    for text in ("", "   \n", "Hello, world. 2023"):
        doc = extract(text)
        assert doc.facts == () and validate_record(doc.to_dict()) == []


def test_model_engine_says_none_is_installed(monkeypatch):
    import fazhi_ie.engines

    monkeypatch.delenv("FAZHI_IE_MODEL", raising=False)
    monkeypatch.setattr(fazhi_ie.engines, "default_model_path", lambda: None)  # as in a build without the model
    with pytest.raises(ModelNotInstalledError, match="no trained model is installed"):
        load_engine("model")
    with pytest.raises(ValueError, match="valid engines: rules, model"):
        load_engine("spacy")


def test_a_metric_with_two_years_gives_each_value_its_own_time():
    from fazhi_ie.document import Document, Relation, Span
    from fazhi_ie.facts import facts_for

    text = "农民人均纯收入,1982年为270元,1987年提高到463元。"
    spans = [Span("T1", "METRIC", 0, 7, "农民人均纯收入"), Span("T2", "TIME", 8, 13, "1982年"),
             Span("T3", "VALUE", 14, 18, "270元"), Span("T4", "TIME", 19, 24, "1987年"), Span("T5", "VALUE", 27, 31, "463元")]
    rels = [Relation("R1", "HAS_VALUE", "T1", "T3"), Relation("R2", "HAS_VALUE", "T1", "T5"),
            Relation("R3", "WHEN", "T1", "T2"), Relation("R4", "WHEN", "T1", "T4")]
    facts = facts_for(Document("d", text, {}, tuple(spans), tuple(rels)))
    assert [(f.value, f.time) for f in facts] == [("270元", "1982年"), ("463元", "1987年")]
