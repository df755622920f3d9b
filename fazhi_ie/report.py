"""What a report says about itself: its year, its region, its page furniture and its repeated text.

Reads the text (and meta, which overrides); writes nothing. `report_info` finds

- the **year** its numbers describe, from the report's own words: the title (a short line near
  the top naming a year), else the opening, else the year the body names most; never from page
  furniture such as 今天是 2024年11月24日 or 发布时间：2024-01-31;
- the **region** (or body) it is about: meta, else a known region named in the title or opening, else
  (`author_region`) the region the body names most whose level is the one the title and opening speak of
  deictically (省司法厅, 全省 → 甘肃省; 新区司法局 → 大连金普新区);
- **page furniture** lines (navigation, publication lines, 今天是…, footers, share links);
- **repeated blocks**: runs of lines printed verbatim twice in one page (chengzhong prints its
  body twice), so that facts from the copy can be marked `duplicate_of` their original.

Each finding says how it was found (`year_source`, `region_source`); where meta and the text
disagree, a warning says so and meta wins. Offsets are into the original text, end exclusive.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping, Sequence

#: lines of page furniture: site navigation, publication and date lines, footers, share links
FURNITURE_RE = re.compile(
    r"今天是|发布时间|发布日期|更新时间|信息来源|来源[:：]|浏览次数|点击量|阅读量|访问量|字号[:：]|【打印|【关闭|打印本页|关闭窗口"
    r"|主办单位|承办单位|网站标识码|ICP|备案号|首页\s*[>＞›]|当前位置|您的位置|分享到|责任编辑|日期[:：]\s*[0-9０-９]"
    r"|欢迎访问")
#: a line this long is body text even when it names a source
MAX_FURNITURE_LINE = 120
MAX_TITLE_LINE = 60
TITLE_LINES = 6
OPENING_CHARS = 400
_DIGITS = str.maketrans("０１２３４５６７８９〇○零一二三四五六七八九", "0123456789000123456789")
_YEAR_RE = re.compile(r"(?<![0-9])((?:19[5-9]|20[0-4])[0-9])\s?年")
_CN_YEAR_RE = re.compile(r"([〇○零一二三四五六七八九]{4})年")
MIN_REPEAT_CHARS = 30  # a repeated run of lines shorter than this is not a repeated block


@dataclass(frozen=True)
class ReportInfo:
    """The report's year and region with how each was found, its furniture and repeated blocks."""

    region: str | None = None
    region_source: str | None = None  # "meta", "title", "opening" or "body"
    year: int | None = None
    year_source: str | None = None  # "meta", "title", "opening" or "body"
    furniture: tuple[tuple[int, int], ...] = ()
    repeats: tuple[tuple[int, int, int], ...] = ()  # (start, end, start of the original)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    def to_dict(self) -> dict:
        """JSON-ready (meta.report of extraction output)."""
        return {"region": self.region, "region_source": self.region_source, "year": self.year,
                "year_source": self.year_source, "repeats": [list(r) for r in self.repeats],
                "warnings": list(self.warnings)}

    def original_of(self, start: int, end: int) -> tuple[int, int] | None:
        """The span [start, end) shifted to its original, when it lies inside a repeated block."""
        for r_start, r_end, original in self.repeats:
            if r_start <= start and end <= r_end:
                return start - r_start + original, end - r_start + original
        return None


def _lines(text: str) -> list[tuple[int, int]]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


def furniture_lines(text: str) -> list[tuple[int, int]]:
    """The [start, end) of every line that is page furniture."""
    return [(s, e) for s, e in _lines(text)
            if e - s <= MAX_FURNITURE_LINE and FURNITURE_RE.search(text[s:e])]


def _years(text: str) -> list[tuple[int, int]]:
    """(year, offset) of every year named in `text` (digits, full-width digits or 二〇二三年)."""
    plain = text.translate(_DIGITS)  # one character for one: offsets hold
    found = [(int(m.group(1)), m.start()) for m in _YEAR_RE.finditer(plain)]
    found += [(int(m.group(1)), m.start()) for m in _CN_YEAR_RE.finditer(plain) if m.group(1).isdigit()]
    return sorted(found, key=lambda y: y[1])


def repeated_blocks(text: str, min_chars: int = MIN_REPEAT_CHARS) -> list[tuple[int, int, int]]:
    """Runs of whole lines that repeat an earlier run verbatim: (start, end, original start)."""
    lines = _lines(text)
    first_seen: dict[str, int] = {}
    blocks: list[tuple[int, int, int]] = []
    j = 0
    while j < len(lines):
        s, e = lines[j]
        body = text[s:e]
        i = first_seen.get(body) if body.strip() else None
        if i is None:
            if body.strip():
                first_seen.setdefault(body, j)
            j += 1
            continue
        k = 0  # extend the run while the lines after both copies agree (the copy may not overlap its original)
        while j + k < len(lines) and i + k < j and text[slice(*lines[i + k])] == text[slice(*lines[j + k])]:
            k += 1
        start, end = lines[j][0], lines[j + k - 1][1]
        if end - start >= min_chars and text[start:end].strip():
            blocks.append((start, end, lines[i][0]))
        for m in range(j, j + k):
            first_seen.setdefault(text[slice(*lines[m])], m)
        j += max(k, 1)
    return blocks


def report_info(text: str, meta: Mapping | None = None, known_regions: Sequence[str] = ()) -> ReportInfo:
    """The report's year, region, furniture and repeated blocks (see the module docstring)."""
    meta = meta or {}
    furniture = furniture_lines(text)
    furniture_starts = {start for start, _ in furniture}
    warnings: list[str] = []
    lines = [(s, e) for s, e in _lines(text) if e > s and s not in furniture_starts and text[s:e].strip()]

    # year: title, opening, body (never furniture)
    found_year, year_source = None, None
    for s, e in lines[:TITLE_LINES]:
        if e - s <= MAX_TITLE_LINE and s < OPENING_CHARS * 2:
            years = _years(text[s:e])
            if years:
                found_year, year_source = years[0][0], "title"
                break
    if found_year is None:
        opening = [(y, s + off) for s, e in lines if s < OPENING_CHARS for y, off in _years(text[s:e])]
        if opening:
            found_year, year_source = opening[0][0], "opening"
    if found_year is None:
        counts = Counter(y for s, e in lines for y, _ in _years(text[s:e]))
        if counts:
            found_year, year_source = counts.most_common(1)[0][0], "body"
    year = found_year
    if meta.get("year") is not None:
        meta_year = _as_year(meta.get("year"))
        if found_year is not None and meta_year is not None and meta_year != found_year:
            warnings.append(f"meta says year {meta_year} but the report's {year_source} says {found_year}; "
                            f"using {meta_year} (meta wins)")
        year, year_source = meta_year, "meta"

    # region: meta, title, opening
    region, region_source = None, None
    if meta.get("region") or meta.get("body"):
        region, region_source = str(meta.get("region") or meta.get("body")), "meta"
    elif known_regions:
        for source, spans in (("title", [(s, e) for s, e in lines[:TITLE_LINES] if e - s <= MAX_TITLE_LINE]),
                              ("opening", [(s, e) for s, e in lines if s < OPENING_CHARS])):
            hits = [(s + text[s:e].find(r), -len(r), r) for s, e in spans for r in known_regions if r in text[s:e]]
            if hits:
                region, region_source = min(hits)[2], source
                break
        if region is None:
            region = author_region(text, lines, known_regions)
            region_source = "body" if region else None
    return ReportInfo(region, region_source, year, year_source, tuple(furniture), tuple(repeated_blocks(text)),
                      tuple(warnings))


#: a deictic mention of the report's own level: 全省, 我区, 本县, or a body named by its level alone at a
#: clause start (2023年,新区司法局…; 省司法厅…)
_DEICTIC_LEVEL = re.compile(r"(?:全|我|本)(省|市|区|县|州|旗)"
                            r"|(?:^|[，,。；;：:\n]|年)(新区|省|市|区|县|州)(?=司法厅|司法局|人民政府|政府|党工委|党委|管委会)")
#: a place name the text itself uses as the head of a document or body title: 《大连金普新区…, 中共大连金普新区…
_NAMED_PLACE = re.compile(r"(?:《|中共)([\u4e00-\u9fff]{2,10})")
_LEVEL_ENDS = ("新区", "自治州", "自治县", "自治区", "省", "市", "区", "县", "州", "旗", "盟")
MIN_REGION_MENTIONS = 2


def author_region(text: str, lines: Sequence[tuple[int, int]], known_regions: Sequence[str] = ()) -> str | None:
    """The region a report that names none in its title or opening is about: the levels its title and opening
    speak of deictically (全省, 省司法厅, 新区司法局) → the region of one of those levels that the body (never
    furniture) names most, at least MIN_REGION_MENTIONS times: a known region, or a place name the text uses as
    the head of a title (《大连金普新区贯彻落实…》). None where there is no deictic level or no such region."""
    opening = [text[s:e] for i, (s, e) in enumerate(lines) if s < OPENING_CHARS or i < TITLE_LINES]
    levels = {m.group(1) or m.group(2) for chunk in opening for m in _DEICTIC_LEVEL.finditer(chunk)}
    if not levels:
        return None
    body = "\n".join(text[s:e] for s, e in lines)
    candidates = {r for r in known_regions if r.endswith(tuple(levels))}
    for m in _NAMED_PLACE.finditer(body):  # every prefix of the title head that ends in a level word
        head = m.group(1)
        candidates.update(head[:k] for k in range(2, len(head) + 1)
                          if head[:k].endswith(_LEVEL_ENDS) and head[:k].endswith(tuple(levels)) and k > 2)
    counts = {c: body.count(c) for c in candidates}
    ranked = sorted((n, len(c), c) for c, n in counts.items() if n >= MIN_REGION_MENTIONS)
    if not ranked:
        return None
    top_n, _, top = ranked[-1]
    fuller = [(len(c), c) for n, _, c in ranked if c.endswith(top) and 2 * n >= top_n]  # 金普新区 → 大连金普新区
    return max(fuller)[1]


def _as_year(value) -> int | None:
    match = re.match(r"\s*((?:19|20)\d\d)", str(value).translate(_DIGITS))
    return int(match.group(1)) if match else None
