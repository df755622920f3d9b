"""Normalise a VALUE span into number, unit, qualifier and change (docs/SCHEMA.md, Facts).

Works on a normalised copy of the span text (full-width digits folded, spaces between
digits removed); the stored text is never changed. What cannot be parsed comes back as a
ValueNorm with `number=None` and `unparsed` giving the reason, never as a guessed number.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from .document import ValueNorm

CHINESE_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3,
                  "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8,
                  "九": 9, "玖": 9}
SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
LARGE_UNITS = {"万": 10_000, "亿": 100_000_000}
SCALES = {"十": Decimal(10), "百": Decimal(100), "千": Decimal(1000), "万": Decimal(10_000), "亿": Decimal(100_000_000)}

# "At least N" (至少, 不低于, 不少于) is "gt" like 以上 (docs/SCHEMA.md: gt/lt/approx, bounds included).
# Matched longest first, so 不超过 (lt) is never read as 超过 (gt).
PREFIX_QUALIFIERS = [("将近", "lt"), ("接近", "lt"), ("不足", "lt"), ("不到", "lt"), ("不超过", "lt"), ("低于", "lt"),
                     ("少于", "lt"), ("近", "lt"), ("超过", "gt"), ("逾", "gt"), ("超", "gt"), ("至少", "gt"),
                     ("不低于", "gt"), ("不少于", "gt"), ("高于", "gt"), ("多于", "gt"), ("大约", "approx"),
                     ("大約", "approx"), ("约", "approx"), ("約", "approx")]
SUFFIX_QUALIFIERS = [("以上", "gt"), ("以下", "lt"), ("以内", "lt"), ("左右", "approx"), ("上下", "approx"), ("余", "gt"),
                     ("稍多", "gt"), ("多", "gt")]
# Qualifier words that end the text just before the span (突破[1300万辆], 至少[一千五百斤], 低于[4.6%]);
# see normalize_value for how they combine with the span's own qualifier.
CONTEXT_QUALIFIERS = [("突破", "gt"), ("超过", "gt"), ("不超过", "lt"), ("至少", "gt"), ("不低于", "gt"), ("不少于", "gt"),
                      ("高于", "gt"), ("多于", "gt"), ("低于", "lt"), ("少于", "lt"), ("接近", "lt"), ("将近", "lt"),
                      ("不足", "lt"), ("不到", "lt")]
WORD_VALUES = {"一半": (50.0, "%"), "半数": (50.0, "%")}
INCREASE_WORDS = ("增长", "增長", "增加", "提高", "上升", "上涨", "增幅", "提升", "扩大", "增产", "翻", "递增", "净增",
                  "多出")
DECREASE_WORDS = ("下降", "减少", "減少", "压减", "降低", "下滑", "缩短", "压缩", "回落", "降幅", "减产", "减轻", "減輕",
                  "精简", "减", "降")
LEVEL_MARKERS = ("到", "至", "为", "為", "达", "達")
UNITS_STARTING_WITH_SCALE = ("千瓦", "千米", "千克", "百分点")  # a scale character that begins a unit

_CN_NUMERAL = "零〇○一壹二贰两三叁四肆五伍六陆七柒八捌九玖十拾百佰千仟万亿"
_CN_UNIT_CHARS = "十拾百佰千仟万亿"
_NUMBER_RE = re.compile(rf"^(?P<arabic>\d+(?:\.\d+)?)|^(?P<chinese>[{_CN_NUMERAL}]+)")
_FRACTION_RE = re.compile(r"^([零〇一二两三四五六七八九十百千]+)分之([零〇一二两三四五六七八九十百千点]+)")
_CN_DECIMAL_RE = re.compile(r"^([零〇一二两三四五六七八九十百千万亿]+)点([零〇一二三四五六七八九]+)")
_ARABIC_FRACTION_RE = re.compile(r"^(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)")  # 1/3 = 三分之一
_DIGIT_IN_UNIT = re.compile(r"[\d零〇○一壹二贰两三叁四肆五伍六陆七柒八捌九玖]")
_RANGE_RE = re.compile(r"\d\s*(?:[-—–~～至到]|－)\s*\d|[一二三四五六七八九十]\s*[至到]\s*[一二三四五六七八九十]")


# --- the number grammar, shared by the normaliser, the rule patterns and the model's span repair ---
# A thousands separator is an ASCII or full-width comma with exactly three digits after it and then no
# digit, in a number that starts with 1-3 digits not preceded by a digit: 1,234 and １，２３４,
# 12,345,678; not 3,45, nor 1234,567, nor the clause comma of 办理１２件，审结１０件.
THOUSANDS = r"(?<![\d.．])\d{1,3}(?:[,，]\d{3})+(?!\d)(?![,，]\d)"
# The part of an amount after 亿 or 万 (1亿3000万元, 1亿3千多万元, 2亿零5百万元, 1万6千多户, 5万3000元):
# a section below 10,000 (digits, or digits with 千/百/十), then 万 if it follows 亿. A part with no
# scale after it needs 零 (1亿零3000) or, after 万, four digits or a 千/百 (5万3000, 1万6千); the
# colloquial 1万2 or 1亿5千 (is it 1亿5千万?) is not read.
_SMALL_SECTION = r"\d(?:千(?![瓦米克])|百(?!分点))(?:零?\d[百十])?(?:零\d)?"
_SECTION = rf"(?:{_SMALL_SECTION}|\d{{1,4}}(?!\d))"
_AFTER_WAN = rf"(?:零{_SECTION}|{_SMALL_SECTION}|\d{{4}}(?!\d))"
COMPOUND_TAIL = rf"(?:亿(?:零?{_SECTION}[多余]?万{_AFTER_WAN}?|零{_SECTION})|万{_AFTER_WAN})(?![多余]?[万亿])"
_COMPOUND_TAIL_RE = re.compile(COMPOUND_TAIL)
_TAIL_PART_RE = re.compile(rf"零?({_SECTION})([多余])?(万)?")
_ARABIC_TO_CHINESE = str.maketrans("0123456789", "零一二三四五六七八九")


def _compound_value(head: Decimal, tail: str) -> tuple[Decimal, bool]:
    """The amount `head` + `tail` (a COMPOUND_TAIL match: 1 + 亿3千多万 = 130000000), and whether a
    多/余 inside it makes it a lower bound."""
    number = head * SCALES[tail[0]]
    more = False
    pos = 1
    while pos < len(tail):
        part = _TAIL_PART_RE.match(tail, pos)
        if part is None or part.end() == pos:
            raise ValueError(f"cannot read {tail[pos:]!r} in the amount")
        section = part.group(1)
        value = int(section) if section.isdigit() else parse_chinese_number(section.translate(_ARABIC_TO_CHINESE))
        number += value * (10_000 if part.group(3) else 1)
        more = more or bool(part.group(2))
        pos = part.end()
    return number, more


def fold(text: str) -> str:
    """A comparison copy: NFKC (full-width digits, commas and %), no spaces, no thousands separators
    (only where they group the digits as THOUSANDS says)."""
    folded = unicodedata.normalize("NFKC", text)
    folded = re.sub(r"(?<=\d)\s+(?=[\d.])|(?<=\d)\s+(?=\D)|(?<=\.)\s+(?=\d)|^\s+|\s+$", "", folded)
    folded = re.sub(THOUSANDS, lambda m: m.group().replace(",", ""), folded)
    return folded


def parse_chinese_number(text: str) -> int:
    """Parse a Chinese numeral (一百零三万, 两, 十六, 二〇二三, 六万万 = 六亿); ValueError if malformed.

    百 or 千 right after another unit character is malformed (八十万千), and so is 万 right after
    亿 (一亿万); 十 may stand alone (一百十八 = 118), and 万万 is the older way of writing 亿.
    """
    if not text:
        raise ValueError("empty numeral")
    if all(ch in CHINESE_DIGITS for ch in text):
        if len(text) == 1:
            return CHINESE_DIGITS[text]
        return int("".join(str(CHINESE_DIGITS[ch]) for ch in text))
    text = text.replace("万万", "亿")
    total = 0
    section = 0
    digit: int | None = None
    previous = ""
    for ch in text:
        if ch in CHINESE_DIGITS:
            if digit is not None and CHINESE_DIGITS[ch] != 0 and digit != 0:
                raise ValueError(f"two digits in a row in {text!r}")
            digit = CHINESE_DIGITS[ch]
        elif ch in SMALL_UNITS:
            if digit is None and previous and ch not in "十拾":  # 一百十八 is 118; 八十万千 is malformed
                raise ValueError(f"{ch!r} without a digit in {text!r}")
            section += (1 if digit is None else digit) * SMALL_UNITS[ch]
            digit = None
        elif ch in LARGE_UNITS:
            if digit is None and previous in LARGE_UNITS and not (previous == "万" and ch == "亿"):
                raise ValueError(f"{ch!r} right after {previous!r} in {text!r}")
            section += digit or 0
            if LARGE_UNITS[ch] == 100_000_000:
                total = ((total + section) or 1) * LARGE_UNITS[ch]
            else:
                total += (section or 1) * LARGE_UNITS[ch]
            section = 0
            digit = None
        else:
            raise ValueError(f"not a Chinese numeral character: {ch!r}")
        previous = ch
    return total + section + (digit or 0)


def _read_chinese_decimal(text: str) -> Decimal:
    """七点八 → 7.8; digits after 点 are read one by one."""
    whole, _, frac = text.partition("点")
    value = Decimal(parse_chinese_number(whole))
    if frac:
        value += Decimal("0." + "".join(str(CHINESE_DIGITS[ch]) for ch in frac))
    return value


# An earlier value of a list that shares the verb before it: 分别增长8.9%、[7.7%];
# 分别增加1753万和[2028万]; 增长百分之九点四和[百分之十四点五]; 分别提高7.4元和[16元].
_LIST_ITEM = (r"(?:约|近|超过)?(?:\d[\d.．]*|百分之[零〇一二两三四五六七八九十百千点]+|[零〇一二两三四五六七八九十百千万亿点]{2,})"
              r"[万亿]?(?:多|余)?(?:%|％|‰|个百分点|倍|[\u4e00-\u9fff]{1,3}?)?(?:左右|以上|以下)?[、和及与]")
_LIST_TAIL_RE = re.compile(rf"(?:{_LIST_ITEM})+$")
# A clause ends at a comma or semicolon that is not a digit-group comma (２８，０４９，７８０).
_CLAUSE_BREAK_RE = re.compile(r"(?<!\d)[，,；;。：:！？!?]|[，,；;。：:！？!?](?!\d)")
# The rise of a price or output, as a noun: 涨幅控制在[3%左右], 涨幅回落到[2.6%], 降幅[超过3%].
_RATE_CHANGE_RE = re.compile(r"(涨幅|增幅|降幅)(?:控制在|保持在|回落到|回落至|降到|降至|提高到|上升到|均为|在|为|為|是|达到|达)?$"
                             r"|(增长)(?:保持|控制)在$")
# 减轻企业和个人负担[5000多亿元], 降低利息负担[约2000亿元]: the amount the burden falls by.
_BURDEN_RE = re.compile(r"(?:减轻|減輕|降低|减少)[^，,；;。]{0,12}负担$")
# A comparison with an earlier time or a plan is a change: 比去年多[100万人], 比原定的计划还少[３．０２％],
# 比去年预算高[0.2个百分点], 还多[十四亿元]; one between two things is not (增速比各项贷款平均增速高[4.2]).
_COMPARATIVE_RE = re.compile(r"(还|再)?(?<![至最较很许更好大不])(多|少|高|低)(?:支出|支|收)?出?$")
_COMPARED_WITH_BEFORE_RE = re.compile(r"比(?![重例率]).*(?:年|同期|预算|计划|原定|原来|设想|规定)")


CONTEXT_READ_LIMIT = 80  # detect_change and context_qualifier read at most this many characters of context


def _squeeze(context: str) -> str:
    """The end of the context without spaces and zero-width characters (a comparison copy).

    Bounded, so that the end-anchored patterns below stay fast on any context a caller passes.
    """
    return re.sub(r"[\s\u200b\ufeff]+", "", context[-2 * CONTEXT_READ_LIMIT:])[-CONTEXT_READ_LIMIT:]


def detect_change(context: str) -> str | None:
    """'increase'/'decrease' when `context` (the text just before the value) ends with a change verb.

    新增 (newly added, a count) is not a change: the gold corpus annotates 城镇新增就业[1256万人]
    with change null.
    """
    tail = _LIST_TAIL_RE.sub("", _squeeze(context[-MAX_CONTEXT_READ:]))
    for _ in range(2):  # 增长了约, 分别增长
        tail = re.sub(r"(了|达|约|約|近|超过|分别)$", "", tail)
    clause = _CLAUSE_BREAK_RE.split(tail)[-1]
    rate = _RATE_CHANGE_RE.search(tail)
    if rate:
        return "decrease" if rate.group(1) == "降幅" else "increase"
    if _BURDEN_RE.search(clause):
        return "decrease"
    comparative = _COMPARATIVE_RE.search(clause)
    if comparative and (comparative.group(1) or _COMPARED_WITH_BEFORE_RE.search(clause[:comparative.start()])):
        return "increase" if comparative.group(2) in ("多", "高") else "decrease"
    for marker in LEVEL_MARKERS:
        if tail.endswith(marker) and not tail.endswith("增长" + marker):
            return None
    window = tail[-4:]
    if any(window.endswith(w) for w in DECREASE_WORDS):
        return "decrease"
    if any(window.endswith(w) for w in INCREASE_WORDS):
        return "increase"
    return None


_CONTEXT_QUALIFIER_RE = re.compile(
    "(" + "|".join(sorted((w for w, _ in CONTEXT_QUALIFIERS), key=len, reverse=True)) + ")(?:了|有|为|為|是|达到|达)?$")
# 约有[七百个], 約为[五百八十三亿元], 约增长[百分之三十三]; not 节约, 制约, 条约, 公约, 预约.
_CONTEXT_APPROX_RE = re.compile(r"(?<![节節制条條公预預契合签簽违違履特婚相邀简簡隐])(?:大约|大約|约|約)"
                                r"(?:有|为|為|达到|达|達|占|合|计|是|增长|增長|增加|提高|下降|减少|降低)?$")


def context_qualifier(context: str) -> str | None:
    """The qualifier stated just before a span (突破, 至少, 低于, 约有 ...), or None."""
    tail = _squeeze(context[-MAX_CONTEXT_READ:])
    found = _CONTEXT_QUALIFIER_RE.search(tail)
    if found:
        return dict(CONTEXT_QUALIFIERS)[found.group(1)]
    if _CONTEXT_APPROX_RE.search(tail):
        return "approx"
    return None


CONTEXT_CHARS = 20  # how much text before a value is read for its change and qualifier
#: the most context `detect_change` and `context_qualifier` read (its end), whatever they are given, so
#: their cost is bounded: the end-anchored patterns once backtracked quadratically on long contexts
MAX_CONTEXT_READ = 200
# (20, not 12: 比预算数２８，０４９，７８０，０００元少[…] and 减轻企业税收和社保缴费负担[…] need it)


def normalize_span(text: str, start: int, end: int, *, floor: int = 0) -> ValueNorm:
    """Normalise text[start:end] with up to CONTEXT_CHARS before it (not before `floor`) as context."""
    return normalize_value(text[start:end], context=text[max(floor, start - CONTEXT_CHARS):start])


def span_norm(text: str, span) -> ValueNorm:
    """A VALUE span's stored norm, or the one computed from the text when it has none."""
    return span.norm or normalize_span(text, span.start, span.end)


def normalize_value(text: str, context: str = "") -> ValueNorm:
    """Normalise one VALUE span; `context` is the sentence text just before it (for change and qualifier)."""
    change = detect_change(context) if context else None
    norm = _read_value(text)
    if norm.number is None:
        return ValueNorm(None, unparsed=norm.unparsed, change=change)
    around = context_qualifier(context) if context else None
    # The span's own qualifier wins, except that a bound beats an approximation: 低于[13%左右] is
    # "lt", 约占[60%以上] is "gt".
    qualifier = norm.qualifier or around
    if norm.qualifier == "approx" and around in ("gt", "lt"):
        qualifier = around
    return ValueNorm(norm.number, norm.unit, qualifier, change)


def _split_numeral(numeral: str, rest: str) -> tuple[str, str]:
    """Give back to the unit what the greedy numeral match took from it.

    七万万两: 两 after a unit character is the tael (a digit 2 there would be written 二);
    三千六百六十万千瓦: the last 千 begins the unit 千瓦 (12,000 kW is written 一万二千千瓦).
    """
    if len(numeral) > 1 and numeral.endswith("两") and numeral[-2] in _CN_UNIT_CHARS:
        numeral, rest = numeral[:-1], "两" + rest
    if len(numeral) > 1 and numeral[-1] in _CN_UNIT_CHARS and (numeral[-1] + rest).startswith(UNITS_STARTING_WITH_SCALE):
        numeral, rest = numeral[:-1], numeral[-1] + rest
    return numeral, rest


def _unparsed(reason: str) -> ValueNorm:
    return ValueNorm(None, unparsed=reason)


def _read_value(text: str) -> ValueNorm:
    """Number, unit and the span's own qualifier of one VALUE text (no context)."""
    s = re.sub(r"\s+", "", fold(text))  # 70% 以上
    if not s:
        return _unparsed("empty value text")
    if _RANGE_RE.search(s):
        return _unparsed(f"range {text!r}: two numbers, no single quantity")
    qualifier = None
    if s.startswith("上") and s[1:2] in ("百", "千", "万", "亿"):  # 上亿人, 上千种: reaching a hundred million, a thousand
        s, qualifier = "一" + s[1:], "gt"
    for word, qual in sorted(PREFIX_QUALIFIERS, key=lambda wq: len(wq[0]), reverse=True):
        if s.startswith(word):
            qualifier, s = qual, s[len(word):]
            break
    # 一半, 超过一半, 一半以上, 半数上下, 一半稍多
    word_value, word_qualifier = s, None
    for word, qual in SUFFIX_QUALIFIERS:
        if s.endswith(word) and s[: -len(word)] in WORD_VALUES:
            word_value, word_qualifier = s[: -len(word)], qual
            break
    if word_value in WORD_VALUES:
        number, unit = WORD_VALUES[word_value]
        return ValueNorm(number, unit, qualifier or word_qualifier)
    fraction = _FRACTION_RE.match(s)
    arabic_fraction = _ARABIC_FRACTION_RE.match(s)
    if fraction or arabic_fraction:
        try:
            if fraction:
                denominator = Decimal(parse_chinese_number(fraction.group(1)))
                numerator = _read_chinese_decimal(fraction.group(2))
            else:
                fraction = arabic_fraction
                numerator, denominator = Decimal(fraction.group(1)), Decimal(fraction.group(2))
        except (ValueError, InvalidOperation) as exc:
            return _unparsed(f"cannot read the fraction in {text!r}: {exc}")
        if denominator == 0:
            return _unparsed(f"zero denominator in {text!r}")
        rest = s[fraction.end():]
        for word, qual in SUFFIX_QUALIFIERS:
            if rest == word:
                qualifier, rest = qualifier or qual, ""
        if rest:
            return _unparsed(f"unexpected text after the fraction in {text!r}")
        return ValueNorm(float(numerator / denominator * 100), "%", qualifier)
    percent_words = s.startswith("百分之")
    if percent_words:
        s = s[3:]
    match = _NUMBER_RE.match(s)
    if not match:
        return _unparsed(f"no number at the start of {text!r}")
    last_scale = ""
    try:
        if match.group("arabic"):
            number = Decimal(match.group("arabic"))
            rest = s[match.end():]
            compound = _COMPOUND_TAIL_RE.match(rest) if "." not in match.group("arabic") else None
            if compound:  # 1亿3000万元, 2亿零5百万元, 1万6千多户: no scale may follow
                number, more = _compound_value(number, compound.group())
                qualifier = qualifier or ("gt" if more else None)
                last_scale, rest = compound.group()[0], rest[compound.end():]
            while not compound and rest and rest[0] in SCALES and not rest.startswith(UNITS_STARTING_WITH_SCALE):
                if last_scale == "亿" and rest[0] == "万":
                    return _unparsed(f"万 right after 亿 in {text!r}")
                number *= SCALES[rest[0]]
                last_scale, rest = rest[0], rest[1:]
        else:
            decimal = _CN_DECIMAL_RE.match(s)
            if decimal:
                number = _read_chinese_decimal(decimal.group())
                rest = s[decimal.end():]
            else:
                numeral, rest = _split_numeral(match.group("chinese"), s[match.end():])
                # 五亿二千多万: 多/余 inside the numeral, before its last scale (五亿 + 二千多 × 万)
                inner = re.match(r"(余|多)([万亿]+)", rest)
                if inner and not rest[1:].startswith(UNITS_STARTING_WITH_SCALE):
                    scales = inner.group(2)
                    if numeral.endswith("亿") and scales.startswith("万"):  # 十亿余万: the 万 adds nothing
                        scales = scales[1:]
                    numeral, rest, qualifier = numeral + scales, rest[inner.end():], qualifier or "gt"
                number = Decimal(parse_chinese_number(numeral))
                last_scale = "亿" if numeral.endswith("亿") else ""
    except (ValueError, InvalidOperation) as exc:
        return _unparsed(f"cannot read the number in {text!r}: {exc}")
    # 十几万, 一百几十种: more than the stated part; 2个多百分点, 3个多月
    some = re.match(r"几[十百千]?", rest)
    if some:
        qualifier, rest = qualifier or "gt", rest[some.end():]
    if re.match(r"个[多余]", rest):
        qualifier, rest = qualifier or "gt", "个" + rest[2:]
    # Qualifiers and scales after the number: 6万余份, 1000余次, 十多个, 3亿多元.
    suffix = ""
    for word, qual in SUFFIX_QUALIFIERS:
        if rest.startswith(word):
            qualifier = qualifier or qual
            suffix, rest = word, rest[len(word):]
            break
    while rest and rest[0] in "万亿" and not rest.startswith(UNITS_STARTING_WITH_SCALE):
        if last_scale == "亿" and rest[0] == "万":
            if suffix not in ("余", "多"):
                return _unparsed(f"万 right after 亿 in {text!r}")
            rest = rest[1:]  # 10亿余万: more than 10亿; the 万 adds nothing
            continue
        number *= SCALES[rest[0]]
        last_scale, rest = rest[0], rest[1:]
    for word, qual in SUFFIX_QUALIFIERS:
        if rest.endswith(word):
            qualifier = qualifier or qual
            rest = rest[: -len(word)]
            break
    half = re.fullmatch(r"([\u4e00-\u9fff])半([\u4e00-\u9fff]*)", rest)
    if half and not last_scale and number == number.to_integral_value():  # 一头半, 两年半, 一个半月
        number, rest = number + Decimal("0.5"), half.group(1) + half.group(2)
    if percent_words:
        if rest:
            return _unparsed(f"unexpected text after 百分之 number in {text!r}")
        rest = "%"
    if rest != "两" and re.search(_DIGIT_IN_UNIT, rest):  # 七万万两: 两 is the unit (tael)
        return _unparsed(f"more than one number in {text!r}")
    if re.search("[半几]", rest):
        return _unparsed(f"a half or an unstated number in the unit of {text!r}")
    rest = re.sub(r"[（(]([\u4e00-\u9fff]{1,2})[)）]$", r"\1", rest)  # 100多场(次) → 场次
    unit = rest or None
    if unit and not re.fullmatch(r"[%‰\u4e00-\u9fffA-Za-z²³/·]+", unit):
        return _unparsed(f"unexpected characters in unit {unit!r} of {text!r}")
    return ValueNorm(float(number), unit, qualifier)
