"""Metric canonicalisation rules (fazhi_ie.analysis.metric_keys): levels kept apart, the normal form (light verbs
and fillers dropped, content verbs kept), rates never merged with counts, and the coverage of the gold facts of the
four older reports."""
from __future__ import annotations

import pytest

import fazhi_ie
from conftest import ROOT
from fazhi_ie.analysis.metric_keys import Lexicon, MetricCanonicalizer, is_rate, level_of, normal_form
from fazhi_ie.analysis.panel import indicator_of

REPORTS = ("chengguan-lanzhou-2023", "jinta-2023", "chengzhong-liuzhou-2023", "gansu-highlights-2023")
LEVELS = ("国家级", "省级", "市级")


# --- levels ---------------------------------------------------------------------------------------
def test_levels_never_share_a_key():
    canon = MetricCanonicalizer.from_file()
    keys = {level: canon.canonicalize(f"{level}民主法治示范村(社区)").key for level in LEVELS}
    assert len(set(keys.values())) == 3 and all(keys[level].startswith(level) for level in LEVELS)
    assert canon.canonicalize("民主法治示范村(社区)").key not in keys.values()
    # the level goes in front of a level-free indicator, so the panel still splits it off
    assert indicator_of("国家级民主法治示范村", canon.canonicalize("国家级民主法治示范村").key) == (
        "民主法治示范村(社区) [国家级]", "国家级")


def test_levels_are_never_merged_by_similarity_or_as_peers():
    strings = [f"{level}民主法治示范村" for level in LEVELS] + ["民主法治示范村", "区级社区矫正委员会", "街道级社区矫正委员会"]
    loose = MetricCanonicalizer(None, threshold=0.05).canonicalize_all(strings)
    assert len({c.key for c in loose.values()}) == len(strings)
    national = MetricCanonicalizer(Lexicon.parse("国家级模范人民调解员\n"), threshold=0.05)
    assert national.canonicalize("省级模范人民调解员").key == "省级模范人民调解员"
    assert level_of("创建省市级法治宣传教育基地") == "省市级" and level_of("三级综治中心") == ""


def test_a_lexicon_line_may_not_mix_levels():
    with pytest.raises(ValueError, match="x.tsv:1: variants of different levels"):
        Lexicon.parse("民主法治示范村\t国家级民主法治示范村\n", "x.tsv")
    with pytest.raises(ValueError, match="normal form"):
        Lexicon.parse("法治讲座\n开展法治讲座\t专题讲座\n")


# --- the normal form -----------------------------------------------------------------------------
@pytest.mark.parametrize("variant, plain", [
    ("开展法治讲座", "法治讲座"), ("组织开展法治讲座", "法治讲座"), ("共召开联席会议", "联席会议"),
    ("累计接收社区矫正对象", "接收社区矫正对象"), ("受理各类案件", "受理案件"), ("排查化解各项矛盾纠纷", "排查化解矛盾纠纷"),
    ("全县政务服务事项", "政务服务事项"), ("诉前调解案件数", "诉前调解案件"), ("市场主体总量", "市场主体"),
    ("调解成功率达", "调解成功率"), ("法治督察工作", "法治督察"), ("政务服务事项目录清单", "政务服务事项"),
    ("企业检查", "检查企业"), ("矛盾纠纷化解", "化解矛盾纠纷"), ("复议案件", "行政复议案件"), ("执法单位", "行政执法单位"),
    ("法制副校长", "法治副校长"),
])
def test_light_verbs_and_fillers_do_not_change_the_indicator(variant, plain):
    assert normal_form(variant) == normal_form(plain)


def test_content_verbs_and_words_stay():
    verbs = ("受理行政复议案件", "审结行政复议案件", "办结行政复议案件", "收到行政复议申请", "排查矛盾纠纷", "化解矛盾纠纷")
    assert len({normal_form(m) for m in verbs}) == len(verbs)
    assert normal_form("组织措施处理").base == "组织措施处理"  # a noun that starts like a light verb
    assert normal_form("居民消费价格指数").base == "居民消费价格指数"  # 数 inside a word
    assert normal_form("全国财政收入").base == "全国财政收入"  # another area than the report's own
    assert normal_form("开展").base == "开展" and normal_form("共计").base == "共计"  # never below two characters


def test_normal_forms_group_without_a_lexicon():
    canon = MetricCanonicalizer(None)
    keys = canon.canonicalize_all(["开展法治体检", "组织开展法治体检", "受理案件", "审结案件", "法律顾问"])
    assert keys["开展法治体检"].key == keys["组织开展法治体检"].key == "法治体检"
    assert keys["开展法治体检"].rule == "normalised" and keys["组织开展法治体检"].rule == "similarity-peer"
    assert keys["受理案件"].key != keys["审结案件"].key
    assert keys["法律顾问"].rule == "none"
    lexicon = MetricCanonicalizer(Lexicon.parse("法治讲座\t普法讲座\n"))
    assert lexicon.canonicalize("组织开展普法讲座").key == "法治讲座"
    assert lexicon.canonicalize("组织开展普法讲座").rule == "lexicon-normalised"


def test_a_rate_is_never_similar_to_a_count():
    assert is_rate("出庭应诉率") and is_rate("压缩时限比") and not is_rate("出庭应诉数")
    canon = MetricCanonicalizer(Lexicon.parse("行政机关负责人出庭应诉率\n"), threshold=0.3)
    assert canon.canonicalize("行政机关负责人出庭应诉数").rule != "similarity"
    assert canon.canonicalize("负责人出庭应诉率").rule == "similarity"


# --- coverage of the gold facts --------------------------------------------------------------------
def test_most_gold_facts_of_the_four_older_reports_get_a_canonical_key():
    from fazhi_ie.facts import facts_for

    docs = [d for d in fazhi_ie.read_jsonl(ROOT / "data" / "annotations" / "reports.jsonl", require_value_heads=False)
            if d.id in REPORTS]
    assert sorted(d.id for d in docs) == sorted(REPORTS)
    facts = [f for d in docs for f in facts_for(d) if f.duplicate_of is None]
    keys = MetricCanonicalizer.from_file().canonicalize_all(f.metric for f in facts)
    keyed = sum(keys[f.metric].rule != "none" for f in facts)
    assert keyed / len(facts) >= 0.80, f"{keyed} of {len(facts)} facts get a canonical key"
