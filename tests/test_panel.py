"""The region × year panel (fazhi_ie.analysis.panel, `fazhi-ie panel`): one numeric value per cell by the stated
rule, levels kept apart, sub-units and repeats left out, CSV / Parquet / Stata output, a plot."""
from __future__ import annotations

import pandas as pd
import pytest

import fazhi_ie
from fazhi_ie.analysis.panel import CELL_RULE, indicator_of, panel, region_level, write_panel
from fazhi_ie.cli import main

REPORTS = {
    "a": ("金塔县2023年法治政府建设年度报告\n2023年，全县受理行政复议案件93件，审结75件。"
          "东坝镇受理行政复议案件5件。全县共有国家级民主法治示范村2个，省级民主法治示范村16个。", "金塔县"),
    "b": ("金塔县2022年法治政府建设年度报告\n2022年，全县受理行政复议案件80件，同比增长15%。", "金塔县"),
    "c": ("城关区2023年法治政府建设年度报告\n今年以来，全区受理行政复议案件1.2万件。", "兰州市城关区"),
}


@pytest.fixture(scope="module")
def docs():
    nlp = fazhi_ie.load(engine="rules")
    return [nlp(text, {"region": region}, doc_id=doc_id) for doc_id, (text, region) in REPORTS.items()]


def test_one_numeric_value_per_region_year_and_indicator(docs):
    result = fazhi_ie.panel(docs)
    long = result.long
    assert not long.duplicated(["region", "year", "indicator", "unit"]).any()
    cell = long[(long["region"] == "金塔县") & (long["year"] == 2023) & long["indicator"].str.contains("受理")]
    assert cell["value"].tolist() == [93.0]  # the county total, not the town's 5件
    assert cell["n_mentions"].tolist() == [2] and (cell["rule"] == CELL_RULE).all()
    c = long[(long["region"] == "兰州市城关区") & long["indicator"].str.contains("受理")]
    assert c["value"].tolist() == [12000.0] and c["unit"].tolist() == ["件"]  # 1.2万件 harmonised to 件
    b = long[(long["region"] == "金塔县") & (long["year"] == 2022)]
    assert 15.0 not in b["value"].tolist()  # 同比增长15% is a change, not a level
    row = cell.iloc[0]
    assert REPORTS[row["doc_id"]][0][row["value_start"]:row["value_end"]] == row["value_text"]


def test_levels_are_kept_apart(docs):
    long = fazhi_ie.panel(docs).long
    villages = long[long["indicator"].str.contains("民主法治示范村")].set_index("indicator_level")["value"]
    assert villages.to_dict() == {"国家级": 2.0, "省级": 16.0}
    assert indicator_of("国家级民主法治示范村", "国家级民主法治示范村") == ("民主法治示范村 [国家级]", "国家级")
    assert region_level("金塔县") == "county" and region_level("甘肃省") == "province"


def test_the_wide_table_is_numeric_region_year_rows(docs):
    wide = fazhi_ie.panel(docs).wide
    assert list(wide.columns[:2]) == ["region", "year"] and len(wide) == 3
    assert all(pd.api.types.is_numeric_dtype(wide[c]) for c in wide.columns[2:])


@pytest.mark.parametrize("suffix", ["csv", "parquet", "dta"])
def test_panel_files_round_trip(docs, tmp_path, suffix):
    result = fazhi_ie.panel(docs)
    for name, frame in (("long", result.long), ("wide", result.wide)):
        path = tmp_path / f"{name}.{suffix}"
        write_panel(frame, path)
        back = {"csv": pd.read_csv, "parquet": pd.read_parquet, "dta": pd.read_stata}[suffix](path)
        assert len(back) == len(frame)
    if suffix == "dta":
        reader = pd.io.stata.StataReader(tmp_path / "wide.dta")
        with reader:
            labels = reader.variable_labels()
        assert any("受理行政复议案件" in label for label in labels.values())


def test_plot_an_indicator(docs):
    import matplotlib

    matplotlib.use("Agg")
    from fazhi_ie.analysis.panel import plot_indicator

    long = fazhi_ie.panel(docs).long
    indicator = long[long["indicator"].str.contains("受理")]["indicator"].iloc[0]
    ax = plot_indicator(long, indicator, by="year")
    assert ax.get_title() == indicator and ax.lines
    with pytest.raises(ValueError, match="no indicator"):
        plot_indicator(long, "不存在的指标")


def test_cli_panel(tmp_path, capsys):
    src = tmp_path / "reports"
    src.mkdir()
    for doc_id, (text, _) in REPORTS.items():
        (src / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    code = main(["panel", "--engine", "rules", str(src), "-o", str(tmp_path / "p.csv"), "--wide", str(tmp_path / "w.dta")])
    err = capsys.readouterr().err
    assert code == 0 and "One value per cell" in err
    long = pd.read_csv(tmp_path / "p.csv")
    assert set(long["year"]) == {2022, 2023} and (tmp_path / "w.dta").stat().st_size > 0
    assert main(["panel", "--engine", "rules", str(src), "-o", str(tmp_path / "p.xlsx")]) == 1
