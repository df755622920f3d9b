"""Regular expressions and word lists of the rule extractor (data, no logic)."""
from __future__ import annotations

import re

from ..normalize import COMPOUND_TAIL, THOUSANDS

MEASURE_WORDS = (
    "个百分点|百分点|人次|场次|户次|件次|批次|余人次|平方公里|平方米|公里|千米|小时|"
    "万元|亿元|千元|美元|元|件|人|名|个|项|次|场|条|所|家|批|份|篇|天|日|户|起|期|种|套|位|座|处|支|台|辆|本|册|"
    "部|轮|封|张|盏|块|节|堂|期|组|支|类|宗|单|笔|例|年|月|周|吨|亩|倍|枚|斤|公斤|岁|千瓦|立方米|标准箱|万|亿"
)
# 1,234, １，２３４ and 12,345,678 (thousands separators, normalize.THOUSANDS) or digits, optionally
# spaced; then decimals
_ARABIC = rf"(?:{THOUSANDS}|\d(?:\s?\d)*)(?:\s?[.．]\s?\d(?:\s?\d)*)?"
_CHINESE = r"[一二两三四五六七八九十百千万亿零〇]+"
_PREFIX = r"(?:近|约|超过|逾|不足|不到|将近|接近)?"
# after the number: a compound amount's tail (1亿3000万, 2亿零5百万, normalize.COMPOUND_TAIL) or a scale
_MIDDLE = rf"(?:{COMPOUND_TAIL}(?:余|多)?|(?:万|亿|千)?(?:余|多)?(?:万|亿)?)"
_SUFFIX = r"(?:以上|以下|左右|余)?"
# a unit 万/亿 that the tail of a compound amount follows (1亿|3000万元) does not end a value
_NOT_CUT = r"(?!(?<=[万亿])零?\d)"

VALUE_RE = re.compile(
    rf"{_PREFIX}(?:(?P<arabic>{_ARABIC})|(?P<chinese>{_CHINESE}))\s?{_MIDDLE}\s?(?P<unit>%|％|‰|{MEASURE_WORDS}){_NOT_CUT}"
    rf"{_SUFFIX}"
    rf"|{_PREFIX}(?P<scaled>{_ARABIC}\s?(?:{COMPOUND_TAIL}|万|亿)(?:多|余)?)(?![\u4e00-\u9fff]*[%％])"
)
# Things shaped like values that are not: years, ordinals, list markers, dates.
NOT_VALUE_BEFORE = re.compile(r"(第|前|后|每|近\d|第[一二三四五六七八九十]+)$")

TIME_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:\s\d{2}:\d{2}(?::\d{2})?)?"
    r"|(?:[一二三四五六七八九十几多]|近[一二两三四五六七八九十]|过去的?[一二两三四五六七八九十])年(?:来|中|以来)"
    r"|新的一年|过去的?一年|这些年|当前|今后|年末|上年|[一二三四]季度(?:以来|以后)?|[\u4e00-\u9fff]{2}开展以来"
    r"|(?:截至|截止)?(?:(?:\d\s?){4}年(?:\s?\d{1,2}\s?月(?:\s?\d{1,2}\s?日)?)?(?:度|初|底|末|以来|上半年|下半年|同期|前三季度)?"
    r"|\d{1,2}月(?:\d{1,2}日)?(?:初|中旬|下旬|上旬|底|份|以来)?"
    r"|今年以来|今年来|去年以来|今年|去年|上半年|下半年|全年|年初|年底|截至目前|目前|近年来|同期|上年同期|"
    r"过去一年|过去五年|五年来|[一二三四五六七八九十]年来|“十[一二三四五六七八九]五”(?:时期|期间)?|新时代)"
)
DOC_RE = re.compile(r"《[^《》\n]{1,60}》")
PROGRAM_HEADS = (
    "专项行动|执行行动|专项活动|专项整治|专项斗争|主题教育|宣传活动|宣讲活动|竞赛活动|培养工程|示范创建|体制改革|工作机制|"
    "责任制|攻坚战|攻坚计划|国家宪法日|智慧审批|改革|行动|活动|工程|制度|机制|工作法|经验|普法|创建|计划|模式|品牌|"
    "体系|战略|建设|培养|斗争|试点|监管|任务"
)
QUOTED_PROGRAM_RE = re.compile(
    rf"(?:[\u4e00-\u9fff]{{0,6}})“[^“”\n]{{1,24}}”(?P<head>[\u4e00-\u9fff]{{0,8}}(?:{PROGRAM_HEADS}))?"
)
PROGRAM_VERBS = ("开展", "推进", "深化", "实施", "推行", "落实", "创建", "打造", "启动", "组织", "参与", "建立", "健全",
                 "完善", "坚持", "推动", "加强", "持续", "深入", "扎实", "全面", "大力", "积极", "不断", "加快", "着力")
PLAIN_PROGRAM_RE = re.compile(
    r"[\u4e00-\u9fff]{2,12}?(?:体制改革|制度改革|综合改革|专项整治|专项行动|攻坚战|主题教育|示范创建|体系建设|"
    r"(?<![一这该此])机制|(?<![一这该此])制度|改革)(?=[，,。；、和及与的\n]|$)"
)
# Standing lines of work are PROGRAM only when not modifying a following noun (社区矫正对象).
STANDING_LINES = frozenset({"法律援助", "人民调解", "社区矫正", "安置帮教", "公证", "行政复议", "公共法律服务", "法治督察",
                            "合法性审查"})
ORG_SUFFIX_RE = re.compile(
    r"(?:人民政府|人民法院|人民检察院|司法局|公安局|公安分局|分局|司法所|派出所|法院|检察院|委员会|办公室|依法治[区县市省]办|"
    r"律师事务所|调解委员会|调解中心|工作室|法律服务所|管理局|监督局|人社局|财政局|教育局|卫健局|民政局|[^\s，,。；、]局|厅|大学|学院)"
)
REGION_PREFIX_RE = re.compile(r"[\u4e00-\u9fff]{1,6}?(?:省|市|县|区|州|旗)")
STOP_CHARS = set("，,。；;、：:（）()“”《》!！?？\n 的和与及或在对向由把被为从将经是等了共各有")
# Content words that begin with a stop character (挽回经济损失, 各类案件): a metric phrase runs over them.
STOP_CHAR_WORDS = ("各类", "经济", "经营", "经费")
LIGHT_VERBS = ("开展", "组织", "完成", "提供", "做好", "实现", "举办", "召开", "进行", "达到", "达", "为", "是", "有", "共",
               "累计", "先后", "全年", "目前", "其中", "已", "共计", "合计", "分别", "总计", "新增加", "参加")
LINK_BEFORE_VALUE = re.compile(
    r"(?:(?:与|比|较)(?:去年|上年|上一年|前一年)(?:同期)?)?(?:同比|环比)?(?:增长|增加|提高|上升|上涨|下降|减少|降低|压减|提升)?"
    r"(?:了|达到|达|为|是|共|累计|约|分别为|分别|占|超过)?$"
)
METRIC_STOP_WORDS = ("开展", "组织", "完成", "提供", "做好", "举办", "召开", "进行", "累计", "先后", "全年", "全部", "目前", "其中",
                     "类", "级", "现场", "全", 
                     "共计", "合计", "总计", "共", "已", "并", "还", "又", "均", "全部", "先后", "分别", "同时", "此外")
OBJECT_MARKERS = ("对", "向", "为", "给", "与", "在", "到", "赴", "深入")
PROGRAM_MODIFIERS = ("行政执法", "行政处罚", "法律援助", "新时代", "社区矫正", "人民调解", "公共法律服务", "行政复议")
# Words that end a counted noun after its number (24名法治副校长积极参加 → 法治副校长).
METRIC_AFTER_STOPS = ("积极", "开展", "进行", "参加", "参与", "组长", "配备", "实施", "完成", "全部", "共同", "分别",
                      "通过", "获得", "受到", "纳入", "进行", "均", "已", "被", "将", "为", "都", "正在", "顺利")
DOC_VERB_TITLE_RE = re.compile(
    r"(?<=制定|出台|印发|颁布|修订|通过|实施|签署|发布|施行)[\u4e00-\u9fff]{2,16}?"
    r"(?:法|条例|纲要|规划|方案|协定|决定|办法|规定|清单)(?:草案)?(?=[，,。；、和及与的》\n]|$)"
)
