"""Normalise a VALUE span into number, unit, qualifier and change (SCHEMA.md, Facts).

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

PREFIX_QUALIFIERS = [("将近", "lt"), ("接近", "lt"), ("不足", "lt"), ("不到", "lt"), ("近", "lt"),
                     ("超过", "gt"), ("逾", "gt"), ("超", "gt"), ("大约", "approx"), ("约", "approx")]
SUFFIX_QUALIFIERS = [("以上", "gt"), ("以下", "lt"), ("以内", "lt"), ("左右", "approx"), ("上下", "approx"), ("余", "gt"),
                     ("多", "gt")]
CONTEXT_QUALIFIERS = [("突破", "gt"), ("超过", "gt")]  # a verb of exceeding just before the span
WORD_VALUES = {"一半": (50.0, "%"), "半数": (50.0, "%")}
INCREASE_WORDS = ("增长", "增加", "提高", "上升", "上涨", "增幅", "提升", "扩大", "增产", "翻")
DECREASE_WORDS = ("下降", "减少", "压减", "降低", "下滑", "缩短", "压缩", "回落", "降幅", "减产", "减", "降")
LEVEL_MARKERS = ("到", "至", "为", "达")
UNITS_STARTING_WITH_SCALE = ("千瓦", "千米", "千克", "百分点")  # a scale character that begins a unit

_CN_NUMERAL = "零〇○一壹二贰两三叁四肆五伍六陆七柒八捌九玖十拾百佰千仟万亿"
_NUMBER_RE = re.compile(rf"^(?P<arabic>\d+(?:\.\d+)?)|^(?P<chinese>[{_CN_NUMERAL}]+)")
_MIXED_RE = re.compile(r"^(\d+)([万亿])(\d)([千百])(?!\d)")  # 1万6千多户, 2万5千公里
_FRACTION_RE = re.compile(r"^([零〇一二两三四五六七八九十百千]+)分之([零〇一二两三四五六七八九十百千点]+)")
_CN_DECIMAL_RE = re.compile(r"^([零〇一二两三四五六七八九十百千万亿]+)点([零〇一二三四五六七八九]+)")
_DIGIT_IN_UNIT = re.compile(r"[\d零〇○一壹二贰两三叁四肆五伍六陆七柒八捌九玖]")
_RANGE_RE = re.compile(r"\d\s*(?:[-—–~～至到]|－)\s*\d|[一二三四五六七八九十]\s*[至到]\s*[一二三四五六七八九十]")


def fold(text: str) -> str:
    """A comparison copy: NFKC (full-width digits and %), no spaces, no thousands commas."""
    folded = unicodedata.normalize("NFKC", text)
    folded = re.sub(r"(?<=\d)\s+(?=[\d.])|(?<=\d)\s+(?=\D)|(?<=\.)\s+(?=\d)|^\s+|\s+$", "", folded)
    folded = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", folded)
    return folded


def parse_chinese_number(text: str) -> int:
    """Parse a Chinese numeral (一百零三万, 两, 十六, 二〇二三); ValueError if malformed."""
    if not text:
        raise ValueError("empty numeral")
    if all(ch in CHINESE_DIGITS for ch in text):
        if len(text) == 1:
            return CHINESE_DIGITS[text]
        return int("".join(str(CHINESE_DIGITS[ch]) for ch in text))
    total = 0
    section = 0
    digit: int | None = None
    for ch in text:
        if ch in CHINESE_DIGITS:
            if digit is not None and CHINESE_DIGITS[ch] != 0 and digit != 0:
                raise ValueError(f"two digits in a row in {text!r}")
            digit = CHINESE_DIGITS[ch]
        elif ch in SMALL_UNITS:
            section += (1 if digit is None else digit) * SMALL_UNITS[ch]
            digit = None
        elif ch in LARGE_UNITS:
            section += digit or 0
            if LARGE_UNITS[ch] == 100_000_000:
                total = ((total + section) or 1) * LARGE_UNITS[ch]
            else:
                total += (section or 1) * LARGE_UNITS[ch]
            section = 0
            digit = None
        else:
            raise ValueError(f"not a Chinese numeral character: {ch!r}")
    return total + section + (digit or 0)


def _read_chinese_decimal(text: str) -> Decimal:
    """七点八 → 7.8; digits after 点 are read one by one."""
    whole, _, frac = text.partition("点")
    value = Decimal(parse_chinese_number(whole))
    if frac:
        value += Decimal("0." + "".join(str(CHINESE_DIGITS[ch]) for ch in frac))
    return value


def detect_change(context: str) -> str | None:
    """'increase'/'decrease' when `context` (the text just before the value) ends with a change verb."""
    tail = context.rstrip()
    # A later value of a list shares the verb of the first: 分别增长8.9%、7.7%
    tail = re.sub(r"(?:[\d.．]+\s?(?:%|％|个百分点|倍)?[、和及与])+$", "", tail)
    tail = re.sub(r"(了|达|约|近|超过|分别)$", "", tail)
    for marker in LEVEL_MARKERS:
        if tail.endswith(marker) and not tail.endswith("增长" + marker):
            return None
    window = tail[-4:]
    if any(window.endswith(w) for w in DECREASE_WORDS):
        return "decrease"
    if any(window.endswith(w) for w in INCREASE_WORDS):
        return "increase"
    return None


CONTEXT_CHARS = 12  # how much text before a value is read for its change and qualifier


def normalize_span(text: str, start: int, end: int, *, floor: int = 0) -> ValueNorm:
    """Normalise text[start:end] with up to CONTEXT_CHARS before it (not before `floor`) as context."""
    return normalize_value(text[start:end], context=text[max(floor, start - CONTEXT_CHARS):start])


def span_norm(text: str, span) -> ValueNorm:
    """A VALUE span's stored norm, or the one computed from the text when it has none."""
    return span.norm or normalize_span(text, span.start, span.end)


def normalize_value(text: str, context: str = "") -> ValueNorm:
    """Normalise one VALUE span; `context` is the sentence text just before it (for change)."""
    change = detect_change(context) if context else None
    s = fold(text)
    if not s:
        return ValueNorm(None, unparsed="empty value text", change=change)
    if _RANGE_RE.search(s):
        return ValueNorm(None, unparsed=f"range {text!r}: two numbers, no single quantity", change=change)
    qualifier = None
    tail = context.rstrip()
    for word, qual in CONTEXT_QUALIFIERS:
        if tail.endswith(word):
            qualifier = qual
    if s in WORD_VALUES:
        number, unit = WORD_VALUES[s]
        return ValueNorm(number, unit, qualifier, change)
    if s.startswith("上") and s[1:2] in ("万", "亿"):  # 上亿人: reaching a hundred million
        s, qualifier = "一" + s[1:], "gt"
    mixed = _MIXED_RE.match(s)
    if mixed and not re.search("[万亿]", s[mixed.end():]):
        big = Decimal(mixed.group(1)) * SCALES[mixed.group(2)]
        small = Decimal(mixed.group(3)) * SCALES[mixed.group(4)]
        s = str(big + small) + s[mixed.end():]
    for word, qual in PREFIX_QUALIFIERS:
        if s.startswith(word):
            qualifier, s = qual, s[len(word):]
            break
    fraction = _FRACTION_RE.match(s)
    if fraction:
        try:
            denominator = parse_chinese_number(fraction.group(1))
            numerator = _read_chinese_decimal(fraction.group(2))
        except ValueError as exc:
            return ValueNorm(None, unparsed=f"cannot read the fraction in {text!r}: {exc}", change=change)
        if denominator == 0:
            return ValueNorm(None, unparsed=f"zero denominator in {text!r}", change=change)
        rest = s[fraction.end():]
        for word, qual in SUFFIX_QUALIFIERS:
            if rest == word:
                qualifier, rest = qualifier or qual, ""
        if rest:
            return ValueNorm(None, unparsed=f"unexpected text after the fraction in {text!r}", change=change)
        return ValueNorm(float(Decimal(numerator) / Decimal(denominator) * 100), "%", qualifier, change)
    percent_words = s.startswith("百分之")
    if percent_words:
        s = s[3:]
    match = _NUMBER_RE.match(s)
    if not match:
        return ValueNorm(None, unparsed=f"no number at the start of {text!r}", change=change)
    try:
        if match.group("arabic"):
            number = Decimal(match.group("arabic"))
            rest = s[match.end():]
            while rest and rest[0] in SCALES and not rest.startswith(UNITS_STARTING_WITH_SCALE):
                number *= SCALES[rest[0]]
                rest = rest[1:]
        else:
            decimal = _CN_DECIMAL_RE.match(s)
            if decimal:
                number = _read_chinese_decimal(decimal.group())
                rest = s[decimal.end():]
            else:
                rest = s[match.end():]
                number = Decimal(parse_chinese_number(match.group("chinese")))
    except (ValueError, InvalidOperation) as exc:
        return ValueNorm(None, unparsed=f"cannot read the number in {text!r}: {exc}", change=change)
    # Qualifiers and scales after the number: 6万余份, 1000余次, 十多个, 3亿多元.
    for word, qual in SUFFIX_QUALIFIERS:
        if rest.startswith(word):
            qualifier = qualifier or qual
            rest = rest[len(word):]
            break
    while rest and rest[0] in "万亿" and not rest.startswith(UNITS_STARTING_WITH_SCALE):
        number *= SCALES[rest[0]]
        rest = rest[1:]
    for word, qual in SUFFIX_QUALIFIERS:
        if rest.endswith(word):
            qualifier = qualifier or qual
            rest = rest[: -len(word)]
            break
    if percent_words:
        if rest:
            return ValueNorm(None, unparsed=f"unexpected text after 百分之 number in {text!r}", change=change)
        rest = "%"
    if re.search(_DIGIT_IN_UNIT, rest):
        return ValueNorm(None, unparsed=f"more than one number in {text!r}", change=change)
    rest = re.sub(r"[（(]([\u4e00-\u9fff]{1,2})[)）]$", r"\1", rest)  # 100多场(次) → 场次
    unit = rest or None
    if unit and not re.fullmatch(r"[%‰\u4e00-\u9fffA-Za-z²³/·]+", unit):
        return ValueNorm(None, unparsed=f"unexpected characters in unit {unit!r} of {text!r}", change=change)
    return ValueNorm(float(number), unit, qualifier, change)
