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


def _doc(text: str, pairs, others=(), meta=None) -> Document:
    """A document with a METRIC→VALUE pair for each (metric, value) (each found after the previous pair),
    and spans `others` = (label, text) (found from the start) that head no value."""
    spans, rels, pos = [], [], 0
    for k, (metric, value) in enumerate(pairs):
        m = text.index(metric, pos)
        v = text.index(value, m + len(metric)) if text.find(value, m + len(metric)) >= 0 else text.index(value, pos)
        pos = max(m + len(metric), v + len(value))
        spans += [Span(f"M{k}", "METRIC", m, m + len(metric), metric), Span(f"V{k}", "VALUE", v, v + len(value), value)]
        rels.append(Relation(f"R{k}", "HAS_VALUE", f"M{k}", f"V{k}"))
    for k, (label, words) in enumerate(others):
        o = text.index(words)
        spans.append(Span(f"O{k}", label, o, o + len(words), words))
    return Document("d", text, meta or {}, tuple(sorted(spans, key=lambda s: s.start)), tuple(rels))


def test_a_bare_verb_takes_in_the_value_less_object_between_it_and_its_value():
    text = "累计接收社区矫正对象4229人,累计解除3817人。"
    facts = facts_for(_doc(text, [("接收", "4229人"), ("解除", "3817人")], [("METRIC", "社区矫正对象")]))
    assert facts[0].metric == "接收社区矫正对象" and facts[0].metric_id == "M0"
    assert text[slice(*facts[0].evidence.metric_span)] == facts[0].metric
    # a METRIC with a value of its own is never taken in
    text = "依法办理涉企案件623件,挽回损失9000万元。"
    doc = Document("d", text, {}, (Span("M0", "METRIC", 0, 2, "依法"), Span("M1", "METRIC", 2, 8, "办理涉企案件"),
                                   Span("V0", "VALUE", 8, 12, "623件"), Span("V1", "VALUE", 17, 22, "9000万元")),
                   (Relation("R0", "HAS_VALUE", "M0", "V0"), Relation("R1", "HAS_VALUE", "M1", "V1")))
    assert facts_for(doc)[0].metric == "依法"


def test_a_verb_after_its_value_runs_on_to_its_object_over_a_region_only():
    text = "共有79人参加全区行政执法人员资格(续职)培训考试,75人通过。"
    [first, _] = facts_for(_doc(text, [("参加", "79人"), ("通过", "75人")],
                                [("REGION", "全区"), ("METRIC", "行政执法人员资格(续职)培训考试")]))
    assert first.metric == "参加全区行政执法人员资格(续职)培训考试"
    noun = facts_for(_doc("城区共16个部门,17家企业参加。", [("企业", "17家")], [("METRIC", "参加")]))
    assert noun[0].metric == "企业"  # a noun after its value keeps to itself


def test_bare_verbs_of_a_row_share_the_object_of_their_sibling_clause():
    text = "全年接待行政复议咨询500余件次,收到行政复议申请245件,立案193件,不予受理52件,办结163件。"
    facts = facts_for(_doc(text, [("接待行政复议咨询", "500余件次"), ("收到行政复议申请", "245件"), ("立案", "193件"),
                                  ("不予受理", "52件"), ("办结", "163件")]))
    objects = {f.value: f.metric_object for f in facts}
    assert objects == {"500余件次": None, "245件": None, "193件": "行政复议申请", "52件": "行政复议申请",
                       "163件": "行政复议申请"}
    fact = facts[-1]
    assert fact.metric == "办结" and text[slice(*fact.evidence.object_span)] == "行政复议申请"
    assert fact.to_dict()["metric_object"] == "行政复议申请"
    assert type(fact).from_dict(fact.to_dict()) == fact
    from fazhi_ie.schema import validate_record

    doc = _doc(text, [("收到行政复议申请", "245件"), ("办结", "163件")])
    record = doc.with_annotations(facts=facts_for(doc)).to_dict()
    assert validate_record(record) == []
    record["facts"][1]["metric_object"] = "行政复议"
    assert [p.message for p in validate_record(record)] == ["metric_object '行政复议' does not match text[19:25]"]


def test_the_object_of_a_bracketed_list_is_its_parent_and_never_crosses_a_sentence():
    text = ("收到行政复议申请41件(当面申请15,来信申请26),不予受理1件。"
            "复议案件6起(其中驳回复议申请2件,维持2件)。审结行政复议案件39件(其中2022年结转7件,2023年审结32件)。"
            "办结19件。")
    facts = facts_for(_doc(text, [("收到行政复议申请", "41件"), ("当面申请", "15"), ("来信申请", "26"), ("不予受理", "1件"),
                                  ("复议案件", "6起"), ("驳回复议申请", "2件"), ("维持", "2件"), ("审结行政复议案件", "39件"),
                                  ("结转", "7件"), ("审结", "32件"), ("办结", "19件")]))
    objects = [(f.metric, f.metric_object) for f in facts]
    assert ("不予受理", "行政复议申请") in objects and ("维持", "复议案件") in objects
    assert ("结转", "行政复议案件") in objects and ("审结", "行政复议案件") in objects
    assert ("办结", None) in objects  # the sibling is in another sentence
    # a different unit with no bracket between stops the search: 发布主题98个,办结2910件
    other = facts_for(_doc("发布“一件事一次办”主题98个,办结2910件。", [("发布“一件事一次办”主题", "98个"), ("办结", "2910件")]))
    assert other[1].metric_object is None


def test_time_program_and_other_times_are_clean():
    text = "2022年同期为7件,6月16日在万达广场组织企业88家参加,2022年同期为5件,落实了行政执法全过程记录制度。"
    doc = _doc(text, [("企业", "88家")], [("TIME", "2022年同期"), ("TIME", "6月16日在"), ("PROGRAM", "了行政执法全过程记录制度")])
    second = text.index("2022年同期", 1)
    doc = Document(doc.id, text, {"year": 2023}, doc.entities + (Span("O9", "TIME", second, second + 7, "2022年同期"),),
                   doc.relations + (Relation("R8", "WHEN", "M0", "O1"), Relation("R9", "IN_PROGRAM", "M0", "O2")))
    [fact] = facts_for(doc)
    assert fact.time == "6月16日" and fact.period == "2023-06-16"
    assert fact.program == "行政执法全过程记录制度"
    assert [t.text for t in fact.times] == ["2022年同期"]  # named twice, listed once
    title = "复核国家和省市“民主法治示范村(社区)”60个。"
    doc = _doc(title, [("国家和省市“民主法治示范村(社区)”", "60个")], [("PROGRAM", "“民主法治示范村(社区)”")])
    doc = Document(doc.id, title, {}, doc.entities, doc.relations + (Relation("R9", "IN_PROGRAM", "M0", "O0"),))
    assert facts_for(doc)[0].program is None  # inside the metric: it only repeats the metric's title


def test_a_new_area_report_resolves_its_deictic_and_default_agents_alike():
    text = ("2023年,新区司法局在新区党工委的领导下推进法治政府建设。\n印发《大连金普新区法治工作要点》"
            "《大连金普新区备案工作办法》。\n目前全区安置帮教对象3163人。全年办结行政复议案件163件。\n")
    doc = _doc(text, [("安置帮教对象", "3163人"), ("办结行政复议案件", "163件")], [("REGION", "全区")])
    doc = Document(doc.id, text, {}, doc.entities, doc.relations + (Relation("R9", "AGENT", "M0", "O0"),))
    agents = {f.value: f.agent for f in facts_for(doc)}
    assert agents["3163人"] == agents["163件"] == "大连金普新区"


def test_a_deictic_of_another_level_is_not_the_reports_region():
    text = "全市受理行政复议案件93件,全区受理行政复议案件40件。"
    doc = _doc(text, [("受理行政复议案件", "93件"), ("受理行政复议案件", "40件")], [("REGION", "全市")])
    second = text.index("全区")
    doc = Document(doc.id, text, {"region": "兰州市城关区"}, doc.entities + (Span("O9", "REGION", second, second + 2, "全区"),),
                   doc.relations + (Relation("R8", "AGENT", "M0", "O0"), Relation("R9", "AGENT", "M1", "O9")))
    assert [f.agent for f in facts_for(doc)] == ["全市", "兰州市城关区"]
