"""Time as data (fazhi_ie.periods and the fact layer): periods resolved against the report year, roles of the
other times of a sentence, comparison bases never a fact's time, from-to pairs as one fact."""
from __future__ import annotations

import pytest

import fazhi_ie
from conftest import ROOT
from fazhi_ie.periods import resolve_period, time_role


@pytest.mark.parametrize("text,period", [
    ("2023年", "2023"), ("2023", "2023"), ("今年", "2023"), ("全年", "2023"), ("今年以来", "2023"), ("2023年度", "2023"),
    ("去年", "2022"), ("上半年", "2023-H1"), ("第三季度", "2023-Q3"), ("1-10月", "2023-01/2023-10"),
    ("１－１０月", "2023-01/2023-10"), ("2023年11月", "2023-11"), ("12月4日", "2023-12-04"),
    ("2021年至2023年", "2021/2023"), ("“十四五”时期", "2021/2025"), ("“十四五”以来", "since 2021"),
    ("五年来", "2019/2023"), ("过去五年", "2019/2023"), ("2021年以来", "since 2021"),
    ("截至11月底", "as of 2023-11"), ("截至目前", "as of 2023"), ("二〇二二年", "2022"),
    ("工作开展以来", None), ("近期", None),
])
def test_periods_resolve_against_the_report_year(text, period):
    assert resolve_period(text, 2023) == period


def test_relative_times_need_a_report_year():
    assert resolve_period("今年", None) is None and resolve_period("2021年", None) == "2021"


@pytest.mark.parametrize("sentence,time,role", [
    ("全县受理案件120件，较2022年同期增长15%。", "2022年同期", "comparison_base"),
    ("受理案件120件，比去年增加10件。", "去年", "comparison_base"),
    ("与2022年相比，案件下降5%。", "2022年", "comparison_base"),
    ("到2025年实现全覆盖。", "2025年", "deadline"),
    ("2021年以来累计办理300件。", "2021年以来", "since"),
    ("截至11月底，共办理300件。", "截至11月底", "as_of"),
    ("今年以来，全县受理案件93件。", "今年以来", "period"),
])
def test_the_role_of_a_time_in_its_sentence(sentence, time, role):
    start = sentence.index(time)
    assert time_role(sentence, start, start + len(time)) == role


def test_a_comparison_base_is_never_the_facts_time_and_is_listed_with_its_role():
    from fazhi_ie.facts import facts_for

    facts = [f for d in fazhi_ie.read_jsonl(ROOT / "data" / "annotations" / "reports.jsonl") for f in facts_for(d)]
    bases = [t for f in facts for t in f.times if t.role == "comparison_base"]
    assert bases and all(f.time not in {t.text for t in f.times if t.role == "comparison_base"} for f in facts)
    assert sum(f.period is not None for f in facts) / len(facts) > 0.95


def test_a_from_to_pair_is_one_fact_with_its_previous_value():
    gold = {d.id: d for d in fazhi_ie.read_jsonl(ROOT / "data" / "annotations" / "reports.jsonl")}
    from fazhi_ie.facts import facts_for

    pair = [f for f in facts_for(gold["jinta-2023"]) if f.metric == "线上办件占比"]
    assert [(f.previous_value, f.value, f.previous_number, f.number, f.change) for f in pair] == [
        ("8.82%", "61.40%", 8.82, 61.4, "increase")]


def test_output_records_carry_period_times_and_previous_values():
    doc = fazhi_ie.load(engine="rules")("2023年，全县受理案件120件，较2022年同期增长15%。截至11月底，累计办理300件。")
    record = doc.to_dict()
    assert fazhi_ie.Document.from_dict(record) == doc
    periods = {f["value"]: f.get("period") for f in record["facts"]}
    assert periods["120件"] == "2023" and periods["300件"] == "as of 2023-11"


def test_a_from_to_pair_with_its_base_year_named_is_one_fact():
    from fazhi_ie.document import Document, Relation, Span
    from fazhi_ie.facts import facts_for

    text = "全县行政复议纠错率由上年的8%提高到21%。"
    m, a, b = text.index("行政复议纠错率"), text.index("8%"), text.index("21%")
    doc = Document("d", text, {"year": 2023}, (Span("T1", "METRIC", m, m + 7, "行政复议纠错率"),
                                                Span("T2", "VALUE", a, a + 2, "8%"), Span("T3", "VALUE", b, b + 3, "21%")),
                   (Relation("R1", "HAS_VALUE", "T1", "T2"), Relation("R2", "HAS_VALUE", "T1", "T3")))
    assert [(f.previous_value, f.value, f.change, f.period) for f in facts_for(doc)] == [("8%", "21%", "increase", "2023")]
