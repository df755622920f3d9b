"""A region × year panel of indicators, from the facts of many reports.

`panel(docs)` gives two tables:

- `long`: one row per (region, year, indicator, unit): the chosen numeric value, how many facts
  mentioned the indicator (`n_mentions`), the rule that chose the value, and the evidence
  (document id and value offsets of the chosen fact, so every cell can be checked in the text);
- `wide`: region-year rows × indicator columns (numbers only), for regression software.

**One value per cell, by a stated rule** (`CELL_RULE`), among the facts of one report and one
indicator with a number: leave out facts from repeated text, values that are changes (同比增长15%),
and facts about a sub-unit (an agent other than the report's own region or body, or a deictic
全县/我区-style word); keep facts whose period is the report year (else the latest period); take
the first mention in the text. Units are harmonised by the normaliser (万件 → 件: numbers carry
the scale; percentages are numbers); an indicator reported in two units is two columns.

**Levels kept apart**: 国家级, 省级, 市级, 县级 (区级) at the start of a metric are part of the
indicator (`民主法治示范村 [国家级]`), never merged by similarity.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from ..document import Document

CELL_RULE = ("report-level (agent is the report's region or body, or a deictic 全县/我区) over sub-units; "
             "period the report year, else the latest; levels, not changes; first mention")
PANEL_FORMATS = ("csv", "parquet", "dta")
LEVELS = ("国家级", "省级", "市级", "县级", "区级", "州级")
_LEVEL_RE = re.compile("^(" + "|".join(LEVELS) + ")")
_DEICTIC = re.compile(r"^(全|我|本)(国|省|区|市|县|州|盟|旗|镇|乡|局|委|院)$|^辖区$")
LONG_COLUMNS = ("region", "level", "year", "indicator", "indicator_level", "value", "unit", "n_mentions", "rule",
                "doc_id", "metric", "value_text", "value_start", "value_end", "period")


@dataclass
class Panel:
    """The long table and the wide pivot of `panel()`."""

    long: "pandas.DataFrame"
    wide: "pandas.DataFrame"
    rule: str = CELL_RULE


def region_level(region: str | None, meta_level: str | None = None) -> str | None:
    """province, city, county or None: from meta `level`, else the region name's suffix."""
    if meta_level:
        return str(meta_level)
    if not region:
        return None
    if region.endswith(("省", "自治区")) or region in ("北京市", "天津市", "上海市", "重庆市"):
        return "province"
    if region.endswith(("县", "区", "旗", "县级市")):
        return "county"
    if region.endswith(("市", "州", "盟", "地区")):
        return "city"
    return None


def indicator_of(metric: str, key: str) -> tuple[str, str | None]:
    """(indicator, level): the canonical key with a leading 国家级/省级/… level kept apart."""
    level = _LEVEL_RE.match(metric.strip("“”\"'"))
    if level is None:
        return key, None
    base = _LEVEL_RE.sub("", key) or key
    return f"{base} [{level.group(1)}]", level.group(1)


def _is_report_level(agent: str | None, region: str | None) -> bool:
    return agent is None or agent == region or bool(_DEICTIC.match(agent)) or (
        region is not None and (agent in region or region in agent))


def _period_rank(period: str | None, year: int | None) -> tuple[int, str]:
    """Sort key: the report year's own period first, then later periods first."""
    if period is None:
        return (2, "")
    own = year is not None and (period == str(year) or period.startswith(f"{year}-") or period == f"as of {year}"
                                or period.startswith(f"as of {year}-"))
    return (0 if own else 1, "".join(chr(0x10FFFF - ord(c)) for c in period))


def panel(docs: Iterable["Document"], *, include_duplicates: bool = False, canonicalizer=None) -> Panel:
    """The panel of `docs` (annotated Documents with facts); see the module docstring."""
    import pandas as pd

    from ..facts import defaults_for
    from .metric_keys import default_canonicalizer

    canon = canonicalizer or default_canonicalizer()
    candidates = []
    for doc in docs:
        defaults = defaults_for(doc)
        region = defaults.agent or doc.meta.get("region")
        for fact in doc.facts:
            candidates.append((doc, fact, region, defaults.year))
    keys = canon.canonicalize_all(f.metric for _, f, _, _ in candidates)
    cells: dict[tuple, list] = {}
    duplicates = 0
    for doc, fact, region, year in candidates:
        if fact.duplicate_of is not None and not include_duplicates:
            duplicates += 1
            continue
        if fact.number is None:
            continue
        if fact.change is not None and fact.previous_value is None:
            continue  # a change (同比增长15%), not a level
        indicator, ind_level = indicator_of(fact.metric, keys[fact.metric].key)
        cells.setdefault((doc.id, region, year, indicator, fact.unit or ""), []).append((fact, ind_level, doc))
    rows = []
    for (doc_id, region, year, indicator, unit), found in cells.items():
        report_level = [c for c in found if _is_report_level(c[0].agent, region)] or found
        chosen = sorted(report_level, key=lambda c: (_period_rank(c[0].period, year), c[0].evidence.value_span[0]))[0]
        fact, ind_level, doc = chosen
        rows.append({"region": region, "level": region_level(region, doc.meta.get("level")), "year": year,
                     "indicator": indicator, "indicator_level": ind_level, "value": fact.number, "unit": unit or None,
                     "n_mentions": len(found), "rule": CELL_RULE, "doc_id": doc_id, "metric": fact.metric,
                     "value_text": fact.value, "value_start": fact.evidence.value_span[0],
                     "value_end": fact.evidence.value_span[1], "period": fact.period})
    long = pd.DataFrame(rows, columns=list(LONG_COLUMNS))
    if not long.empty:
        long = long.sort_values(["region", "year", "indicator", "unit"], na_position="last", kind="stable")
        long = long.reset_index(drop=True)
    for col in ("year", "n_mentions", "value_start", "value_end"):
        long[col] = long[col].astype("Int64")
    long["value"] = long["value"].astype("float64")
    if duplicates:
        import warnings

        from .tables import DuplicateFactsLeftOut

        warnings.warn(f"{duplicates} fact(s) from text the page repeats verbatim were left out (they duplicate "
                      "facts of the original block); pass include_duplicates=True (--duplicates) to keep them",
                      DuplicateFactsLeftOut, stacklevel=2)
    return Panel(long, wide_table(long))


def column_name(indicator: str, unit: str | None) -> str:
    """The wide table's column for an indicator and unit: `受理行政复议案件 (件)`."""
    return f"{indicator} ({unit})" if unit else indicator


def wide_table(long: "pandas.DataFrame") -> "pandas.DataFrame":
    """Region-year rows × indicator columns, numeric, from the long table (one value per cell already)."""
    import pandas as pd

    if long.empty:
        return pd.DataFrame(columns=["region", "year"])
    frame = long.assign(column=[column_name(i, u if isinstance(u, str) else None)
                                for i, u in zip(long["indicator"], long["unit"])])
    wide = frame.groupby(["region", "year", "column"], dropna=False, sort=True)["value"].first().unstack("column")
    wide = wide.reset_index()
    wide.columns.name = None
    return wide


def panel_format(path: str | Path, fmt: str | None = None) -> str:
    """`fmt`, or the format named by the suffix of `path`; ValueError listing the valid ones."""
    from .tables import format_by_suffix

    return format_by_suffix(path, fmt, PANEL_FORMATS, "panel")


def write_panel(frame: "pandas.DataFrame", path: str | Path, fmt: str | None = None) -> str:
    """Write a long or wide panel as CSV, Parquet or Stata .dta (version 118, Unicode; in a .dta file the
    wide table's indicator columns are named v1, v2, … with the indicator as the variable label)."""
    fmt = panel_format(path, fmt)
    if fmt == "csv":
        frame.to_csv(path, index=False, encoding="utf-8")
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        out, labels = frame.copy(), {}
        renames = {}
        for i, col in enumerate(out.columns, start=1):
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,31}", str(col)):
                renames[col] = f"v{i}"
                labels[f"v{i}"] = str(col)[:80]
        out = out.rename(columns=renames)
        for col in out.columns:
            if str(out[col].dtype) in ("string", "object"):
                out[col] = out[col].astype(object).where(out[col].notna(), "")
            elif str(out[col].dtype) == "Int64":
                out[col] = out[col].astype("float64")
        out.to_stata(path, write_index=False, version=118, variable_labels=labels)
    return fmt


def plot_indicator(long: "pandas.DataFrame", indicator: str, *, by: str = "year", ax=None):
    """A bar or line chart of one indicator: over years (`by="year"`, one line per region) or across
    regions (`by="region"`, one bar per region-year). Chinese labels use a CJK font when one is
    installed (Noto Sans CJK, WenQuanYi, SimHei…). Returns the matplotlib Axes."""
    import matplotlib.pyplot as plt

    rows = long[long["indicator"] == indicator]
    if rows.empty:
        options = ", ".join(sorted(set(long["indicator"]))[:10])
        raise ValueError(f"no indicator {indicator!r} in the panel; e.g. {options}")
    _use_cjk_font()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    unit = next((u for u in rows["unit"] if isinstance(u, str)), "")
    if by == "year":
        for region, part in rows.groupby("region"):
            part = part.sort_values("year")
            ax.plot(part["year"].astype(int), part["value"], marker="o", label=region)
        ax.set_xlabel("年份")
        ax.legend(fontsize=8)
    elif by == "region":
        labels = [f"{r} {y}" for r, y in zip(rows["region"], rows["year"])]
        ax.bar(range(len(rows)), rows["value"])
        ax.set_xticks(range(len(rows)), labels, rotation=30, ha="right", fontsize=8)
    else:
        raise ValueError(f"by={by!r}; valid: year, region")
    ax.set_title(indicator)
    ax.set_ylabel(unit)
    return ax


def _use_cjk_font() -> bool:
    """Make matplotlib draw Chinese with an installed CJK font; False when there is none."""
    from matplotlib import font_manager, rcParams

    for name in ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
                 "SimHei", "Microsoft YaHei", "PingFang SC", "Source Han Sans SC"):
        if any(f.name == name for f in font_manager.fontManager.ttflist):
            rcParams["font.sans-serif"] = [name] + list(rcParams.get("font.sans-serif", []))
            rcParams["axes.unicode_minus"] = False
            return True
    return False
