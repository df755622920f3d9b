"""The silver consistency pass (issue 7): edits on silver/reviewed/*.ann that the audit asked for.

    python data/annotations/tools/silverpass.py roundtrip   # check: rewriting a reviewed file changes nothing
    python data/annotations/tools/silverpass.py apply AUDIT.json   # tag the occurrences listed in TAG below
    python data/annotations/tools/silverpass.py resize              # RESIZE and SPLIT_REGION (boundary fixes)
    python data/annotations/tools/silverpass.py except AUDIT.json  # write the stated exceptions into audit-exceptions.tsv

`AUDIT.json` is `fazhi-ie audit … --json` over gold + silver.jsonl. For each key in TAG, every
untagged silver occurrence the audit lists (in the sentences named, or all) gets the entity,
unless it overlaps one already there (longer keys are applied first). Files are rewritten with
`consistency.write_compact`, so norms stay as reviewed. Each entry names the GUIDELINES.md rule
it applies; what is not tagged is a stated exception in `audit-exceptions.tsv`.
Re-running `apply` adds nothing where the occurrence is tagged already; `resize` skips edits whose old
entity is gone; `except` merges places into existing entries. The pass ran apply, resize and except in
turn, rebuilding silver.jsonl (`tools/silver.py build`) and re-auditing between steps.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tools/, for annotate
import annotate  # noqa: E402  (sets sys.path for fazhi_ie)
import consistency  # noqa: E402

from fazhi_ie.document import Document, Span  # noqa: E402

REVIEWED = annotate.ANNOTATIONS / "silver" / "reviewed"

# key -> (label, sentences "YEAR:S" to tag, or None for every untagged silver occurrence).
TAG: dict[str, tuple[str, set[str] | None]] = {
    # section 1: deictic jurisdiction words are always REGION; 7.3 全国 before 各族人民/人民 is REGION
    "我国": ("REGION", None),
    "全国": ("REGION", {"1985:S30", "1981:S18", "1980:S74"}),
    "中西部地区": ("REGION", None),
    # section 1 TIME: any temporal expression that dates the facts of its clause
    "今年": ("TIME", None),
    "五年来": ("TIME", None),
    "过去的五年中": ("TIME", None),
    "“六五”期间": ("TIME", None),
    "这几年": ("TIME", None),
    "连续两年": ("TIME", None),
    "多年": ("TIME", {"2016:S230", "1985:S68", "1981:S107"}),  # section 5: 多年积累下来的 is TIME
    # section 1 DOC: a titled document, also when referred back to (这个纲要)
    "全国农业发展纲要": ("DOC", None),
    "纲要": ("DOC", None),
    "五年计划": ("DOC", {"1955:S123", "1955:S135", "1955:S157"}),  # the first five-year plan itself
    # section 1 ORG: a body acting (中央财政超收较多)
    "中央财政": ("ORG", {"2007:S186"}),
    # 7.2 a named program or policy that is carried out or is the topic is PROGRAM
    "大跃进": ("PROGRAM", None),
    "社会主义改造": ("PROGRAM", None),
    "经济体制改革": ("PROGRAM", None),
    "社会保障体系": ("PROGRAM", None),
    "价格改革": ("PROGRAM", None),
    "大众创业、万众创新": ("PROGRAM", None),
    "良种补贴": ("PROGRAM", None),
    "财税体制改革": ("PROGRAM", None),
    "审计监督": ("PROGRAM", None),
    "工资改革": ("PROGRAM", None),
    "结构性改革": ("PROGRAM", None),
    "侨务政策": ("PROGRAM", None),
    "保险业改革": ("PROGRAM", None),
    "简政放权": ("PROGRAM", None),
    "创新驱动发展": ("PROGRAM", None),
    "扶贫开发": ("PROGRAM", None),
    "税制改革": ("PROGRAM", None),
    "结构性去杠杆": ("PROGRAM", None),
    # 7.1 a line of work followed by an attribute noun (力度, 效应) is the PROGRAM
    "减税降费": ("PROGRAM", None),
    "结构性减税": ("PROGRAM", None),
    "节能减排": ("PROGRAM", {"2013:S185", "2012:S144"}),
    # step 2. 7.2 a named program, policy, reform or system that is carried out, attained or the
    # topic of its clause is PROGRAM (a trailing 建设 stays out, section 5)
    "三级所有制": ("PROGRAM", None),
    "水污染防治": ("PROGRAM", None),
    "社会保障制度": ("PROGRAM", None),
    "农村土地整治": ("PROGRAM", None),
    "劳动力转移培训": ("PROGRAM", None),
    "城乡免费义务教育": ("PROGRAM", None),
    "基层医疗卫生服务体系": ("PROGRAM", None),
    "基本公共服务均等化": ("PROGRAM", None),
    "对外承包工程": ("PROGRAM", None),
    "对外援助": ("PROGRAM", None),
    "扶贫攻坚": ("PROGRAM", None),
    "经济监督": ("PROGRAM", None),
    "公共财政制度": ("PROGRAM", None),
    "县乡财政管理体制改革": ("PROGRAM", None),
    "城市改革": ("PROGRAM", None),
    "城市的改革": ("PROGRAM", None),
    "人民公社制度": ("PROGRAM", None),
    "人民公社化": ("PROGRAM", None),
    "五大运动": ("PROGRAM", None),
    "奖励制度": ("PROGRAM", None),
    "全球治理体系改革": ("PROGRAM", None),
    "“三大战略”": ("PROGRAM", None),
    "独立自主的和平外交政策": ("PROGRAM", None),
    "公共文化服务": ("PROGRAM", None),
    "国有企业下岗职工基本生活保障向失业保险并轨": ("PROGRAM", None),
    # 7.1 a program followed by an attribute noun (水平) is the PROGRAM
    "城市低保": ("PROGRAM", None),
    # section 1/5: the country as place or actor is REGION (中国 meaning the country; 新中国, 旧中国)
    "中华人民共和国": ("REGION", None),
    "新中国": ("REGION", None),
    "旧中国": ("REGION", None),
    "内地": ("REGION", None),
    # section 1 ORG: a specific body (加入世贸组织; 中国－东盟 as the two parties)
    "世贸组织": ("ORG", None),
    "东盟": ("ORG", None),
    # section 1 TIME
    "这一年": ("TIME", None),
    "这个期间": ("TIME", None),
    "长期以来": ("TIME", None),
    "重点产业调整振兴规划": ("DOC", None),
    # step 3
    "连续几年": ("TIME", None),
    "几年": ("TIME", {"1985:S40"}),  # 经过几年的调整 like 经过多年 (section 5)
    "全民健身活动": ("PROGRAM", None),
    "按保护价敞开收购农民余粮": ("PROGRAM", None),
    "责任清单": ("DOC", None),
    "西北": ("REGION", None),
    "西南": ("REGION", None),
    "西部地带": ("REGION", None),
    "东部": ("REGION", {"1986:S169"}),  # 东部、中部和西部地带 as areas
    "日本": ("REGION", None),
    "农村民生工程": ("PROGRAM", None),
}

A = "7.5a names, titles, slogans, events, meetings, facility and route names: nothing inside them is annotated"
C = "7.5c a line of work, body or place that only modifies a concrete noun (资金, 范围, 标准, 部门, 体系, 项目) is not an entity"
D = "7.5d a match inside another word is no entity"
E = ("7.5e a time that dates no fact: comparison base, ordinal or characterised period (极不平凡的一年), "
     "adverb, frequency (平均每年增长), era word in a phrase, speech opener")
G = ("7.5g a noun next to a VALUE it does not measure (a share or plan base: 占本年支出的, 完成预算数的; "
     "a comparison base; a list member before the counted noun; a capacity that describes an object) is not a METRIC")
L = ("7.5l a numeral that counts no fact (article 一个, ordinal or session number 第三次, slogan “三个代表”, fixed phrase "
     "两种资源, list header 八个方面, a count restated, the size of a kind of object) is no VALUE")
M = ("7.5m a policy or line of work named as an aim or field of a slogan or list (深化改革开放, 全面依法治国和依法行政, "
     "工业化、城镇化) is left out; carried out with its results reported it is PROGRAM (7.2); both readings stand")
N = ("7.5n rivers, lakes, seas and basins are natural features, not administrative areas (section 1): 黄河流域保护, "
     "长江、黄河、海岸带, 渤海湾, 准噶尔盆地")
V = ("section 1 METRIC: a change verb or noun (增加, 扩大, 增产, 预期增长, 增幅) stays out; the VALUE carries the change; "
     "the verb alone is the METRIC only by ellipsis, where its noun is left out")

GOLD = ("7.2 would make it PROGRAM (积极发展农业保险); the gold leaves it untagged (gwr-2014 S108): a gold change is due, "
        "recorded here")
VB = ("section 1 METRIC, value before its noun: the noun after the number is the METRIC and the verb before the number "
      "stays out (取消165项…事项, 惠及1.6亿学生, 成立7个商会人民调解委员会, 建成2个国家级…); the verb is the METRIC only "
      "where no noun follows")

R = ("7.5r a heading or topic that names what its values measure (铁：…年产能力…; 煤炭工业建设，五年投资…亿元) is their "
     "METRIC; the generic measure noun after it (年产能力, 发电能力, 投资, 纺锭) stays out")
S_ = ("7.5s a VALUE whose METRIC stands in another sentence (a page line break inside 广义货币M⏎2⏎增长11.3%, or a "
      "subject carried over from the sentence before) has no head in its sentence and is left out (section 0, section 2)")
T_ = "7.5t a vague quantity with 几 (几十亿元, 几十座) is no VALUE (section 1: vague quantities without a number)"

# Untagged findings the guidelines accept, pinned to the sentences of their untagged occurrences
# (gold and silver). None keeps the reason already in audit-exceptions.tsv.
EXCEPT: dict[str, str | None] = {
    "全国": A + "; 全国性 is 7.5d", "中国": None, "国务院": "7.5b/7.5c a body inside a post (国务院总理) or "
    "modifying a noun (国务院部门) is not ORG", "五年": None, "现在": None, "去年": None, "当前": None,
    "多年": None, "新时期": None, "上年": E + "; 基础上年 is 7.5d", "每年": E, "一年": E, "过去": E, "今后": E,
    "目前": D, "本年": E, "当时": E, "百年": E, "“十二五”": E, "同期": E, "第二年": E, "7年": E, "年终": E,
    "中央财政": C, "国家财政": C + "; 国家财政 as the state of the finances (国家财政仍然比较困难) is no body",
    "普法": None, "信访": None, "审计": None, "扶贫": None, "港澳": None, "部门": None, "企业": None,
    "合法性审查": None, "四个现代化": None, "补短板": M, "创新驱动": M, "全市": A + "; 健全市场 is 7.5d; "
    "全市总产值 as a comparison base is 7.5g",
    "改革开放": M, "法治政府建设": M, "依法行政": M, "全面深化改革": M, "依法治国": M, "全面依法治国": M,
    "全面从严治党": M, "疫情防控": M, "城镇化": M, "农业现代化": M, "生态文明建设": M, "载人航天": M,
    "“三农”": M, "总路线": M, "社会主义建设总路线": M, "基本经济制度": M, "建设社会主义新农村": M, "普惠金融": M,
    "国有资本经营预算": M, "现代企业制度": M, "现代市场体系": M, "国有资产监管": M, "抗灾救灾": M,
    "区域发展战略": M, "区域重大战略": M, "惩治腐败": M, "独立自主的和平外交政策": M, "精神文明创建活动": M,
    "要素市场化配置": M, "“走出去”": M, "经济特区": M, "探月工程": M, "失业保险": M, "出口退税": M,
    "节能减排": C, "低保": C, "法律援助": C, "南水北调": C, "股份制": C, "保障性住房建设": C,
    "全面创新改革试验": C, "国际产能合作": C, "西部开发": C, "中央银行": C, "五保": C, "大病保险": C,
    "远程教育": C, "村民自治": C, "劳务合作": C, "中西部": C,
    "一个": L, "两个": L, "三个": L, "四个": L, "一次": L, "三届": L, "三次": L, "四次": L, "五次": L,
    "两次": L, "两种": L, "五个": L, "七个": L, "八个": L, "一百": L, "十九个": L, "一百一十九个": L,
    "八十亿元": L, "一百五十万吨": L, "五万千瓦": L, "三档": L, "十项": L, "四类": L, "1次": L,
    "增加": V, "扩大": V, "增产": V, "预期增长": V, "增幅": V,
    "共计": "section 1 METRIC: scope words (共, 累计, 共计) stay out; 共计 is the METRIC only where no noun is left",
    "预算数": G, "支出": G, "本年支出": G, "支出总数": G, "工业支出": G, "预算支出": G, "学生": G, "投入": G,
    "水泥": G, "单位": G, "产量": G, "年产量": G, "粮食每亩平均年产量": G, "基本建设投资": G, "资金": G,
    "专项资金": G, "人民": G, "农户": G, "国家": G, "其他": G, "占世界": G, "原定计划": G, "总投资": G,
    "总额": G, "投资总额": G, "任务": G, "行业": G, "赤字": G, "经济增长": G, "经济": G, "群众": G,
    "公路建设投资": G, "增速": G, "建成住宅": G, "投入生产": G, "措施": G, "检查": G, "合成氨": G,
    "个人所得税起征点": G, "安全饮水问题": G, "农村": G,
    "北京": A, "上海": A, "包头": A, "广东": A, "哈尔滨": A, "大连": A, "宝鸡": A, "昆明": A, "深圳": A,
    "玉门": A, "辽宁": A, "金砖国家": A, "中非合作论坛": A, "博鳌亚洲论坛": A, "载人航天飞行": A,
    "一百年": A, "兰州": A,
    "黄河": N, "长江": N, "淮河": N, "太湖": N, "渤海": N, "准噶尔": N, "柴达木": N, "黄河上游": N,
    "华北": N, "二连": N + "; 十二连增 is 7.5d",
    "重庆": D, "中共": D, "教育部": D, "重工业部": D, "建筑材料工业部": D, "硫酸": D, "大督查": D,
    "年中": D,
    "人民公社": ("7.5o 人民公社 as the kind of rural collective (人民公社是…) is an unnamed collective (section 1), "
                 "neither ORG nor PROGRAM; it is PROGRAM as one of the 三面红旗 and METRIC where counted"),
    "大队": "section 1: unnamed collectives (生产队、生产大队) are not ORG",
    "人民代表大会": "section 1: an unnamed body (同级人民代表大会) is not ORG",
    "五年计划": "7.5p a generic five-year plan (几个五年计划时期, 比较完备的五年计划) is no titled document",
    "农村人民公社": ("7.5o 人民公社 as the kind of rural collective (人民公社是…) is an unnamed collective (section 1), "
                     "neither ORG nor PROGRAM; it is PROGRAM as one of the 三面红旗 and METRIC where counted"),
    "东部": C + "; “稳定东部，发展西部”方针 is a slogan (7.5a)",
    "党的十六大以来": E, "第一个五年": E, "新中国": C, "旧中国": "7.5e/7.5g a comparison base (为旧中国所望尘莫及) is no actor",
    "五年中": "7.5e a period that restates the dates just given (一九八一年至一九八五年的五年中) dates nothing more",
    "农业保险": GOLD, "综合治理": M + "; 法律服务和综合治理等资源 is 7.5c",
    "投资计划": "7.5e/7.5g a plan named as a comparison base (比原投资计划减少了16.1%) is no entity",
    "取消": VB, "惠及": VB, "新增": VB, "修订": VB, "成立": VB, "新开工建设": VB, "建成": VB,
    "收入": G, "农民人均纯收入": G + "; 2300元 is the poverty line the sentence sets (作为新的国家扶贫标准)",
    "工业": G + "; a scope note (包括村办工业为百分之六) is no METRIC",
    "每人平均": "section 1 METRIC: scope words stay out (每人平均 before its value)",
    "速度": G + "; the rate word after its METRIC (农业总产值平均每年递增的速度是…) stays out",
    "限额以上": G, "其他方面": G,
    "投资": R + "; elsewhere a comparison or share base (7.5g)", "年产": R + "; inside 年产量, 年产煤 (7.5d/7.5g)",
    "发电": R, "发电能力": R, "纺锭": R, "生产": R + "; " + VB,
    "建设完工": VB, "开始建设的": VB,
    "建成投产": "section 5: 建成 is a light verb and stays out (共建成投产项目二十多万个 → 项目)",
    "修建": "section 5: a light building verb stays out (全国公路共修建８，１３８公里 → 公路)",
    "3%": S_, "11.3%": S_, "7%": S_, "4%": S_, "超过4%": S_, "三亿元": S_, "八亿": S_,
    "十亿": T_, "十座": T_, "二个": L,
    "人大": ("gold leaves 人大 untagged in 接受人大监督, 人大代表议案 (chengzhong-liuzhou-2023) where section 1 "
             "would make it ORG; silver tags the body in session names (五届人大五次会议); a gold change is due"),
}

F = ("7.5f a named program or line of work counted with its result (农村危房改造190万户, 退耕还林382万公顷, "
     "新设6个国家自主创新示范区, 全国社会保障基金积累7810亿元) is the METRIC; carried out it is PROGRAM")
LABEL_EXCEPT: dict[str, str | None] = {
    "易地扶贫搬迁": None, "农村危房改造": F, "退耕还林": F, "退牧还草": F, "全国社会保障基金": F,
    "国家自主创新示范区": F, "法律援助": F, "城镇职工基本养老保险": F,
    "人民公社": EXCEPT["人民公社"],
    "两年": ("section 1/5: a duration of a program or task is VALUE (实施两年新增4万亿元的投资计划, 扩大到三年), "
             "any other span of time is TIME (用三年时间, 只花了六年)"),
}
H = ("7.5h a longer program or document name with its own head noun, qualifier, scope or marks is a different name, "
     "annotated as the text has it (社会主义改造 / 三大社会主义改造; 纲要 / 全国农业发展纲要; 减税降费 / 减税降费政策)")
Q = ("7.5q coordinated metrics or regions are one span where one value or statement is shared (…和农村居民人均纯收入"
     "年均实际增长超过7%), one span each where 分别 gives each its own value; both cuts occur")
# Boundary findings: unpinned like the gold's name entries; H unless named here.
BOUNDARY_EXCEPT: dict[str, str] = {
    "城镇居民人均可支配收入和农村居民人均纯收入 (METRIC)": Q, "小麦、稻谷最低收购价 (METRIC)": Q,
    "中西部和东北地区 (REGION)": Q,
    "到2007年 (TIME)": ("section 5: a TIME keeps its postposition; a 到 that belongs to the verb (增加到2007年13786元) "
                        "stays out, a 到 meaning 'by' (确保到2007年如期实现) stays in"),
    "政府机构改革 (PROGRAM)": H + "; a body before the program is its own entity (国务院及地方政府机构改革 → 机构改革, section 5)",
    "大中型和重点小型水库除险加固 (METRIC)": ("section 1: value before its noun, the noun after the number is the METRIC "
                                             "(完成7356座大中型和重点小型水库除险加固); with the number after, the predicate is in"),
    "工商税收 (METRIC)": "7.5d 其中工商税收到８，７２５… reads 工商税 + 收到",
}
R_TIME = ("7.5e/7.5i a TIME that is a comparison base (比一九五二年增长, 同1987年相比), sits in another clause or a "
          "relative clause, or belongs to another count (失业率全年控制在) dates no count: no WHEN")
R_PLACE = ("7.5i a REGION or body that is not clause-level, only describes (我国这样一个有六亿多人口的大国, 全国人民), "
           "or belongs to another count of the sentence is no AGENT")
RELATION_EXCEPT_PROGRAM = ("section 2: IN_PROGRAM goes to the program the count results from; where the sentence names a "
                           "wider program and the one it built (国家助学制度…家庭经济困难学生资助体系), to the nearer one")
LABEL_EXCEPT["三年"] = LABEL_EXCEPT["六年"] = LABEL_EXCEPT["两年"]

# Boundary fixes: (document, sentence, old text, new text, mode). "grow": the entity becomes the
# occurrence of new text that contains it; "shrink": the entity is cut to new text inside it;
# "next": the entity moves to the next occurrence of new text after it (a compact line that
# resolved to an earlier match). Relations stay with the entity.
RESIZE: list[tuple[str, int, str, str, str]] = [
    # section 5: a TIME keeps its postposition (从今年起, 从今年开始 as one TIME, as in s2006)
    ("silver-gwr-1981", 118, "今年", "从今年起", "grow"),
    ("silver-gwr-1958", 42, "今年", "从今年起", "grow"),
    ("silver-gwr-1958", 161, "今年", "从今年起", "grow"),
    ("silver-gwr-1958", 165, "今年", "从今年起", "grow"),
    ("silver-gwr-1993", 236, "今年", "从今年开始", "grow"),
    ("silver-gwr-2011", 65, "两年", "连续两年", "grow"),
    ("silver-gwr-2007", 96, "三年", "三年时间", "grow"),
    # 7.2: the carrying-out verb stays out of the PROGRAM (促进 中部地区崛起)
    ("silver-gwr-2007", 50, "促进中部地区崛起", "中部地区崛起", "shrink"),
    # a named line of work is one PROGRAM as the text coordinates it (人口和计划生育事业)
    ("silver-gwr-2008", 129, "计划生育", "人口和计划生育", "grow"),
    # section 1 METRIC: content verbs that define the count stay in (关停), direction words stay out,
    # the shortest phrase (继续建设, without 的)
    ("silver-gwr-2008", 54, "小火电", "关停小火电", "grow"),
    ("silver-gwr-1958", 92, "向西铺轨", "铺轨", "shrink"),
    ("silver-gwr-1956", 145, "继续建设的", "继续建设", "shrink"),
    ("silver-gwr-1956", 145, "继续建设的", "继续建设", "shrink"),
    # the METRIC is the 拖拉机 after 增加, not the one inside 拖拉机站
    ("silver-gwr-1958", 88, "拖拉机", "拖拉机", "next"),
]
# section 1 (rates and counts): a region before the count that says whose count it is becomes
# REGION with an AGENT: (document, sentence, METRIC text, region prefix).
SPLIT_REGION: list[tuple[str, int, str, str]] = [
    ("silver-gwr-2008", 2, "全国财政收入", "全国"),
    ("silver-gwr-2016", 18, "全国居民人均可支配收入", "全国"),
    ("silver-gwr-1985", 72, "全国进出口总额", "全国"),
]


def _sentence_span(doc: Document, n: int) -> tuple[int, int]:
    from fazhi_ie.sentences import split_sentences
    sent = split_sentences(doc.text)[n - 1]
    return sent.start, sent.end


def cmd_resize() -> int:
    """Apply RESIZE and SPLIT_REGION (each edit only while its old entity is still there)."""
    from dataclasses import replace as dc_replace
    from fazhi_ie.document import Relation

    sources = annotate.load_sources()
    docs: dict[str, Document] = {}
    done = 0
    for doc_id, n, old, new, mode in RESIZE:
        doc = docs.get(doc_id) or load(doc_id, sources)
        lo, hi = _sentence_span(doc, n)
        ents = [e for e in doc.entities if lo <= e.start < hi and e.text == old]
        if mode == "shrink":
            ents = [e for e in ents if new in e.text]
        target = None
        for e in ents:
            if mode == "grow":
                for k in range(max(lo, e.end - len(new)), e.start + 1):
                    if doc.text[k:k + len(new)] == new and k <= e.start and e.end <= k + len(new):
                        target = (e, k, k + len(new))
                        break
            elif mode == "shrink":
                k = e.start + e.text.index(new)
                target = (e, k, k + len(new))
            else:
                k = doc.text.find(new, e.end, hi)
                if k >= 0:
                    target = (e, k, k + len(new))
            if target:
                break
        if target is None:
            print(f"skip {doc_id} S{n} {old} -> {new}")
            continue
        e, a, b = target
        if any(o.id != e.id and o.start < b and a < o.end for o in doc.entities):
            print(f"skip {doc_id} S{n} {old} -> {new}: overlaps")
            continue
        moved = dc_replace(e, start=a, end=b, text=doc.text[a:b])
        doc = Document(doc.id, doc.text, doc.meta, tuple(moved if o.id == e.id else o for o in doc.entities), doc.relations)
        docs[doc_id] = doc
        done += 1
        print(f"{doc_id} S{n} {old} -> {doc.text[a:b]}")
    for doc_id, n, metric, prefix in SPLIT_REGION:
        doc = docs.get(doc_id) or load(doc_id, sources)
        lo, hi = _sentence_span(doc, n)
        ents = [e for e in doc.entities if lo <= e.start < hi and e.text == metric and e.label == "METRIC"]
        if not ents or not metric.startswith(prefix):
            print(f"skip {doc_id} S{n} {metric}")
            continue
        e = ents[0]
        cut = e.start + len(prefix)
        region = Span(f"N{len(doc.entities) + 1}", "REGION", e.start, cut, prefix)
        shrunk = dc_replace(e, start=cut, text=doc.text[cut:e.end])
        rel = Relation(f"NR{len(doc.relations) + 1}", "AGENT", e.id, region.id)
        doc = Document(doc.id, doc.text, doc.meta,
                       tuple(shrunk if o.id == e.id else o for o in doc.entities) + (region,), doc.relations + (rel,))
        docs[doc_id] = doc
        done += 1
        print(f"{doc_id} S{n} {metric} -> REGION {prefix} + METRIC {shrunk.text}, AGENT")
    for doc in docs.values():
        save(doc)
    print(f"{done} boundary edits")
    return 0


def load(doc_id: str, sources: dict[str, dict]) -> Document:
    """One reviewed silver file as a Document (norms filled, nothing projected)."""
    return annotate.build_document(REVIEWED / f"{doc_id}.ann", sources, project_repeat=False)


def save(doc: Document) -> None:
    (REVIEWED / f"{doc.id}.ann").write_text(consistency.write_compact(doc), encoding="utf-8")


def cmd_roundtrip() -> int:
    """Check that rewriting every reviewed file gives back the same spans, relations and norms."""
    from fazhi_ie.io.compact import parse_compact
    from fazhi_ie.sentences import split_sentences

    sources = annotate.load_sources()
    bad = 0
    for path in sorted(REVIEWED.glob("*.ann")):
        doc = load(path.stem, sources)
        res = parse_compact(consistency.write_compact(doc), split_sentences(doc.text))
        a = sorted((e.label, e.start, e.end) for e in doc.entities)
        b = sorted((e.label, e.start, e.end) for e in res.entities)
        if a != b or len(res.relations) != len(doc.relations) or res.errors:
            bad += 1
            print(f"{path.name}: roundtrip differs")
    print(f"roundtrip: {bad} file(s) differ")
    return 1 if bad else 0


def cmd_apply(audit_json: str) -> int:
    sources = annotate.load_sources()
    findings = json.loads(Path(audit_json).read_text(encoding="utf-8"))["findings"]
    wanted: dict[str, list[tuple[int, int, str]]] = {}
    for f in sorted(findings, key=lambda f: -len(f["key"])):
        if f["kind"] != "untagged" or f["key"] not in TAG:
            continue
        label, where = TAG[f["key"]]
        for o in f["occurrences"]:
            if not o["doc"].startswith("silver-") or o["annotation"] != "untagged":
                continue
            if where is not None and f"{o['doc'].rsplit('-', 1)[1]}:S{o['sentence']}" not in where:
                continue
            wanted.setdefault(o["doc"], []).append((o["start"], o["end"], label))
    added = 0
    for doc_id, spans in sorted(wanted.items()):
        doc = load(doc_id, sources)
        entities = list(doc.entities)
        n = len(entities)
        for start, end, label in spans:  # longer keys first
            if any(e.start < end and start < e.end for e in entities):
                continue
            n += 1
            entities.append(Span(f"N{n}", label, start, end, doc.text[start:end]))
            print(f"{doc_id} [{start},{end}) {doc.text[start:end]} -> {label}")
        if len(entities) != len(doc.entities):
            added += len(entities) - len(doc.entities)
            save(Document(doc.id, doc.text, doc.meta, tuple(entities), doc.relations))
    print(f"added {added} entities")
    return 0


def cmd_except(audit_json: str) -> int:
    """Pin every EXCEPT key's untagged occurrences into audit-exceptions.tsv (merging places)."""
    path = annotate.ANNOTATIONS / "audit-exceptions.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    index = {tuple(l.split("\t")[:2]): i for i, l in enumerate(lines) if l and not l.startswith("#")}
    findings = json.loads(Path(audit_json).read_text(encoding="utf-8"))["findings"]
    done = 0
    seen = {k for (kind, k) in index if kind == "boundary"}
    for f in findings:
        if f["kind"] == "boundary" and f.get("explained") is None and f["key"] not in seen and any(
                o["doc"].startswith("silver-") for o in f["occurrences"]):
            seen.add(f["key"])
            lines.append("\t".join(["boundary", f["key"], BOUNDARY_EXCEPT.get(f["key"], H)]))
            done += 1
            continue
        if f["kind"] == "relation" and f.get("explained") is None and any(
                o["doc"].startswith("silver-") for o in f["occurrences"]):
            tail = f["key"].rsplit("(", 1)[1].rstrip(")")
            reason = {"TIME": R_TIME, "PROGRAM": RELATION_EXCEPT_PROGRAM}.get(tail, R_PLACE)
            places = {f"{o['doc']}:S{o['sentence']}" for o in f["occurrences"]}
            key = ("relation", f["key"])
            if key in index:
                parts = lines[index[key]].split("\t")
                old = set(parts[3].split(",")) if len(parts) == 4 else set()
                lines[index[key]] = "\t".join(["relation", f["key"], parts[2], ",".join(sorted(old | places))])
            else:
                lines.append("\t".join(["relation", f["key"], reason, ",".join(sorted(places))]))
                index[key] = len(lines) - 1
            done += 1
            continue
        table = {"untagged": EXCEPT, "label": LABEL_EXCEPT}.get(f["kind"], {})
        if f["key"] not in table or f.get("explained") is not None:
            continue
        places = {f"{o['doc']}:S{o['sentence']}" for o in f["occurrences"]
                  if f["kind"] != "untagged" or o["annotation"] == "untagged"}
        key = (f["kind"], f["key"])
        if key in index:
            parts = lines[index[key]].split("\t")
            old = set(parts[3].split(",")) if len(parts) == 4 else set()
            reason = table[f["key"]] or parts[2]
            lines[index[key]] = "\t".join([f["kind"], f["key"], reason, ",".join(sorted(old | places))])
        else:
            reason = table[f["key"]]
            if reason is None:
                print(f"no reason for new key {f['key']}")
                continue
            lines.append("\t".join([f["kind"], f["key"], reason, ",".join(sorted(places))]))
            index[key] = len(lines) - 1
        done += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"pinned {done} findings")
    return 0


def main() -> int:
    if len(sys.argv) == 2 and sys.argv[1] == "resize":
        return cmd_resize()
    if len(sys.argv) == 3 and sys.argv[1] == "except":
        return cmd_except(sys.argv[2])
    if len(sys.argv) >= 2 and sys.argv[1] == "roundtrip":
        return cmd_roundtrip()
    if len(sys.argv) == 3 and sys.argv[1] == "apply":
        return cmd_apply(sys.argv[2])
    print("usage: silverpass.py roundtrip | apply AUDIT.json", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
