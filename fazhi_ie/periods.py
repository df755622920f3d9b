"""Time expressions as data: the period a value describes, and the role of a time in its sentence.

`resolve_period("今年以来", 2023)` gives "2023"; the grammar of periods:

| period | meaning | from |
|---|---|---|
| `2023` | a calendar year | 2023年, 今年, 全年, 本年度, 今年以来 |
| `2023-H1`, `2023-Q3` | half year, quarter | 上半年, 第三季度 |
| `2023-11`, `2023-12-04` | a month, a day | 2023年11月, 12月4日 |
| `2023-01/2023-10` | a run of months | 1-10月, 1至10月 |
| `2021/2025` | a run of years | 2021年至2025年, “十四五”时期, 五年来 |
| `as of 2023-11` | a stock at a date | 截至11月底, 截至目前 (→ `as of 2023`) |
| `since 2021` | since a year, to the report's time | 2021年以来 |

A time's **role** in its sentence (`time_role`): `period` (what the value describes), `comparison_base`
(同比, 较上年, 比2022年同期, 与去年相比: never the fact's time), `deadline` (到2025年, 2025年前), `since`
(…以来) or `as_of` (截至…). Relative words resolve against the report year (去年 → year − 1).
What cannot be read gives None, never a guess.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
_CN = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
       "九": 9, "十": 10}
_FIVE_YEAR_PLANS = {"十一五": (2006, 2010), "十二五": (2011, 2015), "十三五": (2016, 2020), "十四五": (2021, 2025),
                    "十五五": (2026, 2030), "八五": (1991, 1995), "九五": (1996, 2000), "十五": (2001, 2005)}
ROLES = ("period", "comparison_base", "deadline", "since", "as_of")


@dataclass(frozen=True)
class TimeRole:
    """A time of a fact's sentence: its text and offsets, its role, and its period (None when unreadable)."""

    text: str
    start: int
    end: int
    role: str
    period: str | None

    def to_dict(self) -> dict:
        return {"text": self.text, "span": [self.start, self.end], "role": self.role, "period": self.period}


def _small_number(text: str) -> int | None:
    """1-12 (or a year count) from digits or Chinese numerals (十一, 12, 五)."""
    text = text.translate(_DIGITS)
    if text.isdigit():
        return int(text)
    if text and all(ch in _CN for ch in text):
        if len(text) == 1:
            return _CN[text]
        if text.startswith("十"):
            return 10 + (_CN[text[1]] if len(text) > 1 else 0)
        if len(text) == 2 and text[1] == "十":
            return _CN[text[0]] * 10
        if len(text) == 3 and text[1] == "十":
            return _CN[text[0]] * 10 + _CN[text[2]]
    return None


_YEAR = r"((?:19|20)\d\d|[〇○零一二三四五六七八九]{4})\s?年"
_MONTH = r"([0-9０-９]{1,2}|十[一二]?|[一二三四五六七八九])\s?月"
_RE = {
    "year_range": re.compile(_YEAR + r"(?:度)?\s*(?:[至到—\-－~～]|—)\s*" + r"((?:19|20)\d\d)\s?年?"),
    "month_range": re.compile(r"(?:" + _YEAR + r")?([0-9０-９]{1,2}|十[一二]?|[一二三四五六七八九])\s?(?:月份?)?\s*[至到—\-－~～]\s*"
                              + _MONTH),
    "date": re.compile(r"(?:" + _YEAR + r")?" + _MONTH + r"([0-9０-９]{1,2})\s?[日号]"),
    "month": re.compile(r"(?:" + _YEAR + r")?" + _MONTH + r"(?:份|底|末|初|中旬|下旬|上旬)?"),
    "year": re.compile(_YEAR),
}


def _year_of(text: str) -> int | None:
    text = text.translate(_DIGITS)
    if text.isdigit():
        return int(text)
    digits = "".join(str(_CN.get(ch, "")) for ch in text)
    return int(digits) if len(digits) == 4 else None


def resolve_period(text: str, report_year: int | None) -> str | None:
    """The period `text` (a TIME) names, resolved against `report_year`; None when it cannot be read."""
    t = text.replace(" ", "").translate(_DIGITS)
    y = report_year
    as_of = t.startswith("截至") or t.startswith("截止") or t.startswith("到目前") or t in ("目前", "当前", "现在")
    core = re.sub(r"^(截至|截止到?|到)", "", t)
    for name, (first, last) in _FIVE_YEAR_PLANS.items():
        if name in core:
            return f"since {first}" if "以来" in core else f"{first}/{last}"
    if re.fullmatch(r"(19|20)\d\d", core):
        return core
    m = re.search(r"(过去|近)([一二三四五六七八九十两\d]+)年(来|以来|间)?|([一二三四五六七八九十两\d]+)年(来|以来|间)", core)
    if m and y is not None and not _RE["year"].search(core):
        n = _small_number(m.group(2) or m.group(4))
        if n:
            return f"{y - n + 1}/{y}"
    m = _RE["year_range"].search(core)
    if m:
        return f"{_year_of(m.group(1))}/{_year_of(m.group(2))}"
    year = None
    m = _RE["year"].search(core)
    if m:
        year = _year_of(m.group(1))
    elif re.search(r"今年|本年|全年|年内|当年", core):
        year = y
    elif re.search(r"去年|上年|上一年|前一年", core):
        year = y - 1 if y is not None else None
    elif re.search(r"明年|下一年", core):
        year = y + 1 if y is not None else None
    if "以来" in core and year is not None and not re.search(r"今年|本年", core) and m is not None:
        return f"since {year}"
    m = _RE["month_range"].search(core)
    if m and (year or y):
        a, b = _small_number(m.group(2)), _small_number(m.group(3))
        yy = year or y
        if a and b and 1 <= a <= b <= 12:
            return f"{yy}-{a:02d}/{yy}-{b:02d}"
    m = _RE["date"].search(core)
    if m and (year or y):
        month, day = _small_number(m.group(2)), _small_number(m.group(3))
        if month and day and 1 <= month <= 12 and 1 <= day <= 31:
            return f"{'as of ' if as_of else ''}{year or y}-{month:02d}-{day:02d}"
    m = _RE["month"].search(core)
    if m and (year or y):
        month = _small_number(m.group(2))
        if month and 1 <= month <= 12:
            return f"{'as of ' if as_of else ''}{year or y}-{month:02d}"
    half = re.search(r"(上|下)半年", core)
    if half and (year or y):
        return f"{year or y}-H{1 if half.group(1) == '上' else 2}"
    quarter = re.search(r"第?([一二三四1-4])季度", core)
    if quarter and (year or y):
        return f"{year or y}-Q{_small_number(quarter.group(1))}"
    if as_of and (year or y):
        return f"as of {year or y}"
    return str(year) if year is not None else None


_BASE_BEFORE = re.compile(r"(比|较|与|同|对比|相比|相较|相对)\s*$")
_BASE_AFTER = re.compile(r"^\s*(同期|相比|相较|同比|比较|年同期|末相比|底相比)")
_DEADLINE_BEFORE = re.compile(r"(到|至|在|于)\s*$")
_DEADLINE_AFTER = re.compile(r"^\s*(前|之前|以前|底前|年底前|完成|实现|建成|达到)")


def time_role(text: str, start: int, end: int) -> str:
    """The role of the TIME text[start:end] in its sentence (see the module docstring)."""
    span = text[start:end]
    before, after = text[max(0, start - 4):start], text[end:end + 4]
    if _BASE_BEFORE.search(before) or _BASE_AFTER.match(after) or span.endswith("同期"):
        return "comparison_base"
    if span.startswith("截至") or span.startswith("截止") or before.endswith("截至") or before.endswith("截止"):
        return "as_of"
    if (span.endswith("以来") or after.startswith("以来")) and not re.match(r"^(今年|本年|年初)", span):
        return "since"
    if _DEADLINE_AFTER.match(after) or (_DEADLINE_BEFORE.search(before) and re.search(r"年$", span)
                                        and re.match(r"^\s*(年底|底|末)?(前|全面|基本|实现|要)", after)):
        return "deadline"
    return "period"
