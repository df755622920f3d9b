"""What a report says about itself (fazhi_ie.report): year and region from its own words, never from page
furniture; repeated blocks, whose facts are marked duplicate_of and left out of tables."""
from __future__ import annotations

import warnings

import pytest

import fazhi_ie
from fazhi_ie.analysis.tables import DuplicateFactsLeftOut, facts_table
from fazhi_ie.report import furniture_lines, repeated_blocks, report_info

BODY = "2023年,全县受理行政复议案件93件,审结75件。\n全年开展法治宣传活动120场次。\n"


def test_the_year_comes_from_the_title_not_the_pages_today_line():
    text = "欢迎访问甘肃政法网 今天是 2024年11月24日 星期日\n\n2023年全省法治建设工作十大亮点\n来源:甘肃政法网 发布时间:2024-01-31\n" + BODY
    info = report_info(text)
    assert (info.year, info.year_source) == (2023, "title")
    assert len(furniture_lines(text)) == 2


def test_the_year_from_the_opening_or_the_body_and_full_width_digits():
    assert report_info("　　２０２２年，全县受理案件９３件。\n").year == 2022
    info = report_info("一、主要成效\n" + "全县受理案件93件。\n" * 50 + "2021年以来累计办理300件，2021年共办理100件。")
    assert (info.year, info.year_source) == (2021, "body")


def test_meta_wins_and_a_disagreement_is_reported():
    info = report_info("2023年度法治政府建设工作报告\n" + BODY, {"year": 2022})
    assert (info.year, info.year_source) == (2022, "meta")
    assert info.warnings and "meta says year 2022 but the report's title says 2023" in info.warnings[0]


def test_the_region_from_the_title_with_its_source():
    info = report_info("柳州市城中区2023年法治政府建设年度报告\n" + BODY, {}, ["柳州市城中区", "城中区"])
    assert (info.region, info.region_source) == ("柳州市城中区", "title")


def test_a_block_printed_twice_is_found_with_its_original():
    text = "标题\n" + BODY + "相关链接\n" + BODY
    blocks = repeated_blocks(text)
    assert len(blocks) == 1
    start, end, original = blocks[0]
    assert text[start:end] == text[original:original + end - start] == BODY.rstrip("\n")


def test_facts_from_the_repeat_are_marked_and_left_out_of_tables():
    text = "金塔县2023年法治政府建设年度报告\n" + BODY + "——以下为页面重复内容——\n" + BODY
    doc = fazhi_ie.load(engine="rules")(text)
    originals = [f for f in doc.facts if f.duplicate_of is None]
    copies = [f for f in doc.facts if f.duplicate_of is not None]
    assert len(originals) == len(copies) >= 2
    for fact in copies:
        start, end = fact.duplicate_of
        assert text[start:end] == fact.value and any(o.evidence.value_span == (start, end) for o in originals)
    with pytest.warns(DuplicateFactsLeftOut, match=f"{len(copies)} fact"):
        table = facts_table([doc])
    assert len(table) == len(originals)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(facts_table([doc], include_duplicates=True)) == len(doc.facts)


def test_extraction_output_says_how_the_year_was_found():
    doc = fazhi_ie.load(engine="rules")("今天是 2024年11月24日\n2023年全省工作十大亮点\n全省受理案件93件。")
    assert doc.meta["report"]["year"] == 2023 and doc.meta["report"]["year_source"] == "title"
    assert {f.time for f in doc.facts} == {"2023"}


def test_a_report_that_names_no_region_in_its_opening_gets_its_authors_region_from_the_body():
    gansu = ("欢迎访问甘肃政法网 今天是 2024年11月24日\n2023年全省法治建设和司法行政工作十大亮点\n"
             "2023年,省司法厅认真贯彻省委省政府决策部署。\n" + "全省法治建设取得新进展。\n" * 40 + "甘肃省学习贯彻习近平法治思想研究基地。\n" * 2
             + "辽宁省来函1件。\n")
    info = report_info(gansu, known_regions=["甘肃省", "甘肃", "辽宁省", "兰州市"])
    assert (info.region, info.region_source) == ("甘肃省", "body")
    jinpu = ("2023年,新区司法局在新区党工委、管委会的领导下,推进法治政府建设。\n" + "推进依法行政。\n" * 60 +
             "印发《大连金普新区贯彻落实纲要分工方案》《中共大连金普新区工作委员会工作要点》,"
             "出台《大连金普新区备案工作办法》。\n")
    info = report_info(jinpu, known_regions=["辽宁省"])
    assert (info.region, info.region_source) == ("大连金普新区", "body")
    # no deictic level in the opening: no guess
    assert report_info("一、主要成效\n印发《大连金普新区要点》《大连金普新区办法》。\n").region is None
    # meta still wins
    assert report_info(jinpu, {"region": "金普新区"}).region == "金普新区"
