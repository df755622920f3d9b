"""Fact tables, metric canonicalisation and the research subcommands (the HTML view: test_html_view.py)."""
from __future__ import annotations

import json

import pytest

import fazhi_ie
from conftest import ROOT
from fazhi_ie import Document, Evidence, Fact
from fazhi_ie.analysis.metric_keys import (Lexicon, MetricCanonicalizer, match_key, pairwise_scores, read_grouping,
                            similarity)
from fazhi_ie.cli import main
from fazhi_ie.analysis.tables import FACT_TABLE_COLUMNS, compare_table, read_table, to_dataset, write_table

pd = pytest.importorskip("pandas")

TEXT_A = "今年来，城关区受理行政复议案件93件，行政机关负责人出庭应诉率达100%。"
TEXT_B = "2023年，金塔县受理行政复议案件24件，出庭应诉率100%。"


@pytest.fixture(scope="module")
def docs():
    nlp = fazhi_ie.load(engine="rules")
    return [nlp(TEXT_A, meta={"region": "兰州市城关区", "year": 2023}, doc_id="a"),
            nlp(TEXT_B, meta={"region": "金塔县", "year": "2023年"}, doc_id="b")]


def awkward_doc() -> Document:
    """A document whose fact fields hold commas, quotes and line breaks (built by hand)."""
    text = '甲,"乙"\n丙：办理“案件,A”\n共5件。'
    m0, v0 = text.index("办理"), text.index("5件")
    fact = Fact(metric=text[m0:m0 + 9], value="5件", number=5.0, unit="件", qualifier=None, change=None,
                agent='某区,"x"\n局', time=None, program="p\r\nq",
                evidence=Evidence(text[m0:], m0, len(text), (m0, m0 + 9), (v0, v0 + 2)))
    return Document("odd,id", text, {"region": '区,"引号"', "year": 2021}, facts=(fact,))


def test_facts_table_rows_are_traceable(docs):
    table = fazhi_ie.facts_table(docs)
    assert list(table.columns) == list(FACT_TABLE_COLUMNS)
    assert len(table) == sum(len(d.facts) for d in docs) >= 4
    texts = {d.id: d.text for d in docs}
    for row in table.itertuples():
        text = texts[row.doc_id]
        assert text[row.value_start:row.value_end] == row.value
        assert text[row.metric_start:row.metric_end] == row.metric
        assert text[row.sentence_start:row.sentence_end] == row.sentence
    assert set(table["year"]) == {2023} and set(table["region"]) == {"兰州市城关区", "金塔县"}
    assert table["engine"].eq("rules").all() and table["value_score"].notna().all()


def test_facts_table_sentence_comes_from_the_text_not_the_evidence_copy():
    doc = awkward_doc()
    short = Evidence("(cut)", *[getattr(doc.facts[0].evidence, f) for f in
                                ("sentence_start", "sentence_end", "metric_span", "value_span")])
    doc = doc.with_annotations(facts=[Fact(**{**doc.facts[0].__dict__, "evidence": short})])
    row = fazhi_ie.facts_table([doc]).iloc[0]
    assert row["sentence"] == doc.text[row["sentence_start"]:row["sentence_end"]] != "(cut)"


@pytest.mark.parametrize("suffix", ["csv", "parquet", "jsonl"])
def test_tables_round_trip_with_awkward_fields(tmp_path, docs, suffix):
    table = fazhi_ie.facts_table(docs + [awkward_doc()])
    assert table["agent"].str.contains("\n").any() and table["doc_id"].str.contains(",").any()
    path = tmp_path / f"facts.{suffix}"
    assert write_table(table, path) == suffix
    back = read_table(path)
    pd.testing.assert_frame_equal(back, table)


def test_csv_is_plain_quoted_csv(tmp_path):
    import csv

    path = tmp_path / "f.csv"
    write_table(fazhi_ie.facts_table([awkward_doc()]), path)
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["agent"] == '某区,"x"\n局' and rows[0]["doc_id"] == "odd,id"


def test_unknown_table_format_names_the_valid_ones(tmp_path, docs):
    with pytest.raises(ValueError, match="csv, parquet, jsonl"):
        write_table(fazhi_ie.facts_table(docs), tmp_path / "x.xlsx")


def test_dataset_export(docs):
    table = fazhi_ie.facts_table(docs)
    dataset = to_dataset(table)
    assert dataset.num_rows == len(table) and dataset.column_names == list(FACT_TABLE_COLUMNS)
    assert dataset[0]["value"] == table.iloc[0]["value"]


def test_compare_puts_one_indicator_side_by_side(docs):
    table = fazhi_ie.facts_table(docs)
    pivot = compare_table(table, min_reports=2)
    assert list(pivot.columns) == ["a", "b"]
    row = pivot.loc["行政机关负责人出庭应诉率"]
    assert row["a"] == "100%" and row["b"] == "100%"
    assert pivot.loc["受理行政复议案件"].tolist() == ["93件", "24件"]


# --- canonicalisation -------------------------------------------------------------------------
def test_lexicon_groups_the_issue_variants_and_records_the_rule():
    canon = MetricCanonicalizer.from_file()
    keys = {canon.canonicalize(m) for m in ("出庭应诉率", "行政机关负责人出庭应诉率", "负责人出庭应诉率")}
    assert {(c.key, c.rule) for c in keys} == {("行政机关负责人出庭应诉率", "lexicon")}
    assert canon.canonicalize("“出庭应诉率”").rule == "lexicon"  # quotes ignored for matching
    assert canon.canonicalize("兼职人民调解员").key != canon.canonicalize("人民调解员").key


def test_similarity_fallback_and_peers():
    lexicon = Lexicon.parse("受理行政复议案件\t受理复议案件\n")
    canon = MetricCanonicalizer(lexicon, threshold=0.8)
    near = canon.canonicalize("新受理行政复议案件")
    assert near.key == "受理行政复议案件" and near.rule == "similarity" and 0.8 <= near.score < 1
    assert canon.canonicalize("法律顾问").rule == "none"
    result = canon.canonicalize_all(["聘请法律顾问", "聘请法律顾问数", "法律顾问"])
    assert result["聘请法律顾问数"].rule == "similarity-peer"
    assert result["聘请法律顾问数"].key == "聘请法律顾问"
    assert result["法律顾问"].rule == "none"


def test_similarity_and_lexicon_errors():
    assert similarity("出庭应诉率", "出庭应诉率") == 1.0 and similarity("出庭", "审结") == 0.0
    with pytest.raises(ValueError, match="x.tsv:2: .乙. is already a variant"):
        Lexicon.parse("甲\t乙\n丙\t乙\n", "x.tsv")
    with pytest.raises(ValueError):
        MetricCanonicalizer(threshold=0)


def test_pairwise_scores_on_a_known_case():
    gold = {"a": 1, "b": 1, "c": 1, "d": 2}
    pred = {"a": "x", "b": "x", "c": "y", "d": "y"}
    s = pairwise_scores(gold, pred)  # gold pairs ab ac bc; predicted ab cd; 1 shared
    assert (s.true_pairs, s.predicted_pairs, s.gold_pairs) == (1, 2, 3)
    assert s.precision == 0.5 and s.recall == round(1 / 3, 4)


def test_hand_grouping_covers_gold_metrics_and_scores_are_current():
    grouping = read_grouping(ROOT / "data" / "metrics" / "groups.tsv")
    assert len(grouping) >= 100
    gold = set()
    for name in ("reports.jsonl", "gov-work-reports.jsonl"):
        for doc in fazhi_ie.read_jsonl(ROOT / "data" / "annotations" / name, require_value_heads=False):
            gold |= {e.text for e in doc.entities if e.label == "METRIC"}
    in_gold = sum(m in gold for m in grouping)
    assert in_gold / len(grouping) >= 0.9, f"only {in_gold} of {len(grouping)} grouped strings are gold METRICs"
    import importlib.util

    spec = importlib.util.spec_from_file_location("score_grouping", ROOT / "data" / "metrics" / "score_grouping.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.score(grouping)
    recorded = json.loads((ROOT / "data" / "metrics" / "scores.json").read_text(encoding="utf-8"))
    for setting in ("coverage", "shipped", "leave_one_report_out", "leave_one_report_out_strict", "leave_one_out",
                    "similarity_only", "exact_strings"):
        assert result[setting] == recorded[setting], (f"{setting} changed: rerun data/metrics/score_grouping.py "
                                                      "--json data/metrics/scores.json")
    assert result["shipped"]["precision"] > result["similarity_only"]["precision"]


# --- command line -------------------------------------------------------------------------------
def test_cli_facts_compare_render(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("兰州市城关区2023年法治建设工作\n" + TEXT_A, encoding="utf-8")
    (src / "b.txt").write_text("金塔县2023年法治政府建设工作报告\n" + TEXT_B, encoding="utf-8")
    for suffix in ("csv", "parquet", "jsonl"):
        assert main(["facts", str(src), "-o", str(tmp_path / f"f.{suffix}"), "--engine", "rules"]) == 0
    table = read_table(tmp_path / "f.parquet")
    assert set(table["doc_id"]) == {"a", "b"} and set(table["region"]) == {"兰州市城关区", "金塔县"}
    pd.testing.assert_frame_equal(read_table(tmp_path / "f.csv"), table)
    capsys.readouterr()
    assert main(["compare", str(tmp_path / "f.parquet"), "--metric", "出庭应诉率"]) == 0
    out = capsys.readouterr().out
    assert "行政机关负责人出庭应诉率" in out and out.count("100%") == 2
    assert main(["compare", str(src), "-o", str(tmp_path / "cmp.csv"), "--engine", "rules"]) == 0
    assert "受理行政复议案件" in (tmp_path / "cmp.csv").read_text(encoding="utf-8")
    assert main(["render", str(src / "a.txt"), "-o", str(tmp_path / "a.html"), "--engine", "rules"]) == 0
    assert "受理行政复议案件" in (tmp_path / "a.html").read_text(encoding="utf-8")


def test_cli_uses_gold_annotations_when_asked(tmp_path, capsys):
    gold = ROOT / "tests" / "fixtures" / "gold_small.jsonl"
    assert main(["facts", str(gold), "--annotations", "-o", str(tmp_path / "g.jsonl")]) == 0
    table = read_table(tmp_path / "g.jsonl")
    assert len(table) > 0 and table["engine"].isna().all()


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["facts", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "x.csv")]) == 1
    assert main(["facts", str(ROOT / "tests" / "fixtures" / "gold_small.jsonl"), "-o", str(tmp_path / "x.xlsx")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "no such file" in err[0] and "valid: csv, parquet, jsonl" in err[1]
    assert main(["render", str(ROOT / "tests" / "fixtures" / "gold_small.jsonl"), "--doc", "nope",
                 "--annotations", "-o", str(tmp_path / "x.html")]) == 1
    assert "no document with id 'nope'" in capsys.readouterr().err
