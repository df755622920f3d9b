"""The value normaliser: a table of real corpus strings, and property tests."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fazhi_ie.document import ValueNorm
from fazhi_ie.normalize import detect_change, fold, normalize_value, parse_chinese_number

# (span text as it appears in ../shared/corpus, text just before it, number, unit, qualifier, change)
CORPUS_TABLE = [
    ("100%", "出庭应诉率达", 100.0, "%", None, None),
    ("四个", "依法治区委员会", 4.0, "个", None, None),
    ("29个", "对全区", 29.0, "个", None, None),
    ("5天", "开展了为期", 5.0, "天", None, None),
    ("4名", "政府聘请", 4.0, "名", None, None),
    ("118份", "审查行政协议", 118.0, "份", None, None),
    ("211项", "(2023年版)》", 211.0, "项", None, None),
    ("99.16%", "全程网办率达", 99.16, "%", None, None),
    ("103.46万件", "累计办结", 1034600.0, "件", None, None),
    ("38条", "从轻处罚事项", 38.0, "条", None, None),
    ("190本", "抽取全区", 190.0, "本", None, None),
    ("20374条", "“双公示”信息", 20374.0, "条", None, None),
    ("5.58%", "7日迟报率", 5.58, "%", None, None),
    ("93件", "受理行政复议案件", 93.0, "件", None, None),
    ("96656.4万元", "执行到位金额", 966564000.0, "元", None, None),
    ("30913.46万元", "发放执行款", 309134600.0, "元", None, None),
    ("1000余次", "法治宣传活动", 1000.0, "次", "gt", None),
    ("300余场", "举办法治讲座", 300.0, "场", "gt", None),
    ("6万余份", "彩页手册书籍", 60000.0, "份", "gt", None),
    ("50余个", "原创短视频", 50.0, "个", "gt", None),
    ("70万人次", "受教育累计", 700000.0, "人次", None, None),
    ("300余场次", "宣讲活动", 300.0, "场次", "gt", None),
    ("10万余册", "普法教材", 100000.0, "册", "gt", None),
    ("100多场", "开设法治课", 100.0, "场", "gt", None),
    ("1600小时", "学习课时达", 1600.0, "小时", None, None),
    ("近10万次", "受教育师生", 100000.0, "次", "lt", None),
    ("2400余人次", "各类法律咨询", 2400.0, "人次", "gt", None),
    ("96.5%", "化解率为", 96.5, "%", None, None),
    ("0.36万人次", "解答群众咨询", 3600.0, "人次", None, None),
    ("5万余人", "受教育群众达", 50000.0, "人", "gt", None),
    ("0.28万余篇", "撰写信息稿件", 2800.0, "篇", "gt", None),
    ("1.89万件", "终端办件量", 18900.0, "件", None, None),
    ("97%以上", "办结率达到", 97.0, "%", "gt", None),
    ("181批次", "联合抽查检查", 181.0, "批次", None, None),
    ("897户次", "检查市场主体", 897.0, "户次", None, None),
    ("超过70%", "办理率", 70.0, "%", "gt", None),
    ("0.73万条", "公开各类信息", 7300.0, "条", None, None),
    ("150万元", "投资", 1500000.0, "元", None, None),
    ("476 项", "跨省通办事项", 476.0, "项", None, None),
    ("两次", "开展了", 2.0, "次", None, None),
    ("68.136万元", "罚款金额共计", 681360.0, "元", None, None),
    ("1546.5万人次", "累计首播收视", 15465000.0, "人次", None, None),
    ("2.1万余条", "刊发稿件", 21000.0, "条", "gt", None),
    ("266万余次", "点击量达", 2660000.0, "次", "gt", None),
    ("9000余万元", "挽回经济损失", 90000000.0, "元", "gt", None),
    ("245.3亿元", "执行到位金额", 24530000000.0, "元", None, None),
    ("6.3万余场", "宣讲等活动", 63000.0, "场", "gt", None),
    ("134.9万亿元", "生产总值达到", 134900000000000.0, "元", None, None),
    ("5%", "万亿元、增长", 5.0, "%", None, "increase"),
    ("30%左右", "贡献率保持在", 30.0, "%", "approx", None),
    ("1256万人", "城镇新增就业", 12560000.0, "人", None, None),
    ("超过3.2万亿美元", "外汇储备", 3200000000000.0, "美元", "gt", None),
    ("约1500亿元", "年支出减少", 150000000000.0, "元", "approx", "decrease"),
    ("3400多万人次", "惠及学生", 34000000.0, "人次", "gt", None),
    ("接近40%", "发电量的比重", 40.0, "%", "lt", None),
    ("5.5%左右", "调查失业率", 5.5, "%", "approx", None),
    ("1200万人左右", "城镇新增就业", 12000000.0, "人", "approx", None),
    ("2.3％", "生产总值增长", 2.3, "%", None, "increase"),
    ("近600万人", "特困供养", 6000000.0, "人", "lt", None),
    ("不到70万亿元", "生产总值从", 70000000000000.0, "元", "lt", None),
    ("6600万人以上", "城镇新增就业", 66000000.0, "人", "gt", None),
    ("13亿多人", "", 1300000000.0, "人", "gt", None),
    ("5千多户", "新设企业由", 5000.0, "户", "gt", None),
    ("近2000平方公里", "年均缩减", 2000.0, "平方公里", "lt", "decrease"),
    ("1.7亿吨以上", "退出钢铁产能", 170000000.0, "吨", "gt", None),
    ("17.2个百分点", "比一季度回落", 17.2, "个百分点", None, "decrease"),
    ("6 6 个", "提出法律草案", 66.0, "个", None, None),
    ("5 6 ％以上", "教育总人数的", 56.0, "%", "gt", None),
    ("4 6 2 8 0 亿元", "存款余额达到", 4628000000000.0, "元", None, None),
    ("８．３９亿平方米", "农村新建住房", 839000000.0, "平方米", None, None),
    ("近１００亿美元", "用汇", 10000000000.0, "美元", "lt", None),
    ("三亿零四百七十五万吨", "总产量达到", 304750000.0, "吨", None, None),
    ("二千二百万吨", "比上一年增产", 22000000.0, "吨", None, "increase"),
    ("十四万六千吨", "化学纤维由", 146000.0, "吨", None, None),
    ("三千七百多万平方米", "住宅面积共达", 37000000.0, "平方米", "gt", None),
    ("六亿一千八百万吨", "原煤由", 618000000.0, "吨", None, None),
    ("1 0 ．0 6 ‰", "", 10.06, "‰", None, None),
    ("两倍", "", 2.0, "倍", None, None),
    ("5055万千瓦", "", 50550000.0, "千瓦", None, None),
    ("百分之七点八", "", 7.8, "%", None, None),
    ("三分之一以上", "", 100 / 3, "%", "gt", None),
    ("7.7%", "增加值分别增长8.9%、", 7.7, "%", None, "increase"),
    ("1万6千多户", "新设企业由", 16000.0, "户", "gt", None),
    ("2万5千公里", "", 25000.0, "公里", None, None),
    ("上亿人", "", 100000000.0, "人", "gt", None),
    ("一半", "专项转移支付项目减少", 50.0, "%", None, "decrease"),
    ("3%以内", "居民消费价格涨幅控制在", 3.0, "%", "lt", None),
    ("100多场(次)", "开设法治课", 100.0, "场次", "gt", None),
    ("1300万辆", "新能源汽车年产量突破", 13000000.0, "辆", "gt", None),
    ("一番", "翻了", 1.0, "番", None, "increase"),
]


@pytest.mark.parametrize("text,context,number,unit,qualifier,change", CORPUS_TABLE, ids=[r[0] for r in CORPUS_TABLE])
def test_corpus_values(text, context, number, unit, qualifier, change):
    norm = normalize_value(text, context=context)
    assert norm.unparsed is None, norm.unparsed
    assert math.isclose(norm.number, number, rel_tol=1e-12)
    assert (norm.unit, norm.qualifier, norm.change) == (unit, qualifier, change)


def test_table_is_large_enough():
    assert len(CORPUS_TABLE) >= 60


@pytest.mark.parametrize("text", ["3至5年", "5%—6%", "第一批", "一年零三个月", "多项", "", "abc", "几十个", "1亿3千多万"])
def test_unparseable_values_say_why(text):
    norm = normalize_value(text)
    assert norm.number is None
    assert norm.unparsed  # a reason, never a guessed number


@pytest.mark.parametrize("context,expected", [
    ("同比下降", "decrease"), ("比上年增长", "increase"), ("提高到", None), ("下降到", None),
    ("增加到", None), ("受理行政复议案件", None), ("压减", "decrease"), ("同比增长了", "increase"),
])
def test_detect_change(context, expected):
    assert detect_change(context) == expected


def test_fold_keeps_meaning_and_never_touches_input():
    text = "１２ ３４５ 件"
    assert fold(text) == "12345件"
    assert text == "１２ ３４５ 件"


# --- property tests -------------------------------------------------------------------------
DIGITS = "零一二三四五六七八九"


def to_chinese(n: int) -> str:
    """Standard Chinese numeral for 0 <= n < 10**12 (test oracle, written independently)."""
    if n == 0:
        return "零"

    def below_10000(x: int) -> str:
        out, zero = "", False
        for value, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
            d = x // value % 10
            if d:
                if zero:
                    out += "零"
                    zero = False
                out += DIGITS[d] + name
            elif out:
                zero = True
        return out

    parts = []
    for value, name in ((10**8, "亿"), (10**4, "万"), (1, "")):
        chunk = n // value % 10**4
        if chunk:
            text = below_10000(chunk)
            if parts and chunk < 1000:
                text = "零" + text
            parts.append(text + name)
        elif parts and n % value:
            parts.append("")
    return "".join(parts).replace("零零", "零")


@given(st.integers(min_value=0, max_value=10**12 - 1))
@settings(max_examples=300, deadline=None)
def test_chinese_numerals_round_trip(n):
    assert parse_chinese_number(to_chinese(n)) == n


UNITS = ["件", "人次", "名", "个", "项", "元", "%", "个百分点", "场次", "户", "平方公里"]


@given(st.integers(min_value=0, max_value=10**9), st.sampled_from(UNITS), st.sampled_from(["", "万", "亿"]),
       st.sampled_from([("", None), ("近", "lt"), ("约", "approx"), ("超过", "gt")]), st.sampled_from(["", "余"]))
@settings(max_examples=300, deadline=None)
def test_arabic_values_round_trip(n, unit, scale, prefix, suffix):
    word, qualifier = prefix
    text = f"{word}{n}{scale}{suffix}{unit}"
    norm = normalize_value(text)
    factor = {"": 1, "万": 10**4, "亿": 10**8}[scale]
    assert norm.number == float(n * factor)
    assert norm.unit == unit
    assert norm.qualifier == (qualifier or ("gt" if suffix else None))


@given(st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False))
@settings(max_examples=200, deadline=None)
def test_decimal_with_wan_is_exact(d):
    norm = normalize_value(f"{d}万元")
    assert norm.number == float(d * 10000)


@given(st.builds(ValueNorm, st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
                 st.sampled_from([None, "件", "%"]), st.sampled_from([None, "gt", "lt", "approx"]),
                 st.sampled_from([None, "increase", "decrease"])))
def test_value_norm_dict_round_trip(norm):
    assert ValueNorm.from_dict(norm.to_dict()) == norm
