"""The gold corpus: valid, complete, loadable offline with datasets, split by document."""
from __future__ import annotations

import json

import pytest

from conftest import ROOT
from fazhi_ie.cli import main
from fazhi_ie.io.jsonl import read_jsonl

ANNOTATIONS = ROOT / "data" / "annotations"
GOLD_FILES = [ANNOTATIONS / "reports.jsonl", ANNOTATIONS / "gov-work-reports.jsonl"]
SILVER_SOURCES = ANNOTATIONS / "silver" / "sources.jsonl"
SILVER_FILES = [ANNOTATIONS / "silver.jsonl", ANNOTATIONS / "silver" / "first.jsonl", ANNOTATIONS / "silver" / "double.jsonl"]
REPORT_IDS = {"chengguan-lanzhou-2023", "jinta-2023", "chengzhong-liuzhou-2023", "gansu-highlights-2023", "jinpu-2023"}


@pytest.fixture(scope="module")
def gold():
    return {path.name: read_jsonl(path) for path in GOLD_FILES}


def test_every_gold_file_validates(capsys):
    assert main(["validate", *map(str, GOLD_FILES)]) == 0
    assert "0 problem(s)" in capsys.readouterr().err


def test_corpus_size_and_coverage(gold):
    reports, passages = gold["reports.jsonl"], gold["gov-work-reports.jsonl"]
    assert {d.id for d in reports} == REPORT_IDS
    assert sum(len(d.text) for d in passages) >= 40_000
    years = {d.meta["year"] for d in passages}
    assert len(years) >= 8 and min(years) < 1990 and max(years) >= 2023
    for doc in passages:  # each passage is an exact, contiguous slice of its report
        assert doc.meta["char_end"] - doc.meta["char_start"] == len(doc.text)
    for doc in reports + passages:
        assert all(e.norm is not None for e in doc.entities if e.label == "VALUE"), doc.id


def test_repeated_block_is_annotated_like_the_first_copy(gold):
    doc = next(d for d in gold["reports.jsonl"] if d.id == "chengzhong-liuzhou-2023")
    half = doc.text.index("\n", 1) + 1
    second = doc.text.index(doc.text[half:half + 200], half + 1)
    shift = second - half
    first = [(e.label, e.text) for e in doc.entities if half <= e.start < second]
    copy = [(e.label, e.text) for e in doc.entities if e.start >= second]
    assert first and first == copy[:len(first)]
    assert {(e.start + shift, e.label) for e in doc.entities if half <= e.start < second} <= \
           {(e.start, e.label) for e in doc.entities}


def test_splits_are_by_document_and_cover_the_corpus(gold):
    splits = json.loads((ANNOTATIONS / "splits.json").read_text(encoding="utf-8"))
    ids = {d.id for docs in gold.values() for d in docs}
    parts = [set(splits[k]) for k in ("train", "dev", "test")]
    assert set().union(*parts) == ids
    assert sum(len(p) for p in parts) == len(ids)
    assert {f["held_out"] for f in splits["cv_folds"]} == REPORT_IDS
    # the silver tier is training-only: every silver passage is listed, none in dev/test/folds
    silver_ids = {json.loads(line)["id"] for line in SILVER_SOURCES.read_text(encoding="utf-8").splitlines()}
    assert set(splits["silver"]) == silver_ids and len(silver_ids) >= 20
    assert not silver_ids & (ids | {f["held_out"] for f in splits["cv_folds"]})


def test_gold_meta_records_tier_and_review(gold):
    for doc in gold["reports.jsonl"] + gold["gov-work-reports.jsonl"]:
        assert doc.meta["tier"] == "gold"
        review = doc.meta["review"]
        assert review["status"] == "adjudicated" and (ANNOTATIONS / review["log"]).exists()


def test_gold_audit_has_nothing_unexplained(capsys):
    assert main(["audit", *map(str, GOLD_FILES), "--exceptions", str(ANNOTATIONS / "audit-exceptions.tsv"),
                 "--strict"]) == 0
    assert "label 0, untagged 0, boundary 0, relation 0 unexplained" in capsys.readouterr().out


def test_gold_and_silver_audit_has_nothing_unexplained(capsys):
    """The silver consistency pass: gold + silver together, every finding fixed or stated."""
    silver = ANNOTATIONS / "silver.jsonl"
    assert main(["audit", *map(str, GOLD_FILES), str(silver), "--exceptions",
                 str(ANNOTATIONS / "audit-exceptions.tsv"), "--strict"]) == 0
    assert "audit of 41 document(s): label 0, untagged 0, boundary 0, relation 0 unexplained" in capsys.readouterr().out


def _silver_files() -> list:
    return [p for p in SILVER_FILES if p.exists() and p.read_text(encoding="utf-8").strip()]


def test_silver_files_validate_and_match_their_sources(capsys):
    files = _silver_files()
    if not files:
        pytest.skip("no silver document built yet")
    assert main(["validate", *map(str, files)]) == 0
    sources = {json.loads(line)["id"]: json.loads(line) for line in SILVER_SOURCES.read_text(encoding="utf-8").splitlines()}
    for path in files:
        for doc in read_jsonl(path):
            src = sources[doc.id]
            assert doc.text == src["text"] and doc.meta["tier"] == "silver", doc.id
            assert doc.meta["char_end"] - doc.meta["char_start"] == len(doc.text)
            assert doc.meta["review"]["status"] in ("reviewed", "first pass", "double")
            assert all(e.norm is not None for e in doc.entities if e.label == "VALUE"), doc.id


def test_datasets_loads_gold_and_silver_together_offline(tmp_path, monkeypatch):
    files = _silver_files()
    if not files:
        pytest.skip("no silver document built yet")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import datasets
    data_files = {p.stem.replace("-", "_"): str(p) for p in GOLD_FILES}
    data_files.update({f"silver_{p.stem}": str(p) for p in files})
    loaded = datasets.load_dataset("json", data_files=data_files, cache_dir=str(tmp_path))
    for path in files:
        split = loaded[f"silver_{path.stem}"]
        assert split.num_rows == len(read_jsonl(path))
        assert split[0]["meta"]["tier"] == "silver" and split[0]["entities"][0]["label"]


def test_datasets_loads_the_gold_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import datasets
    files = {p.stem.replace("-", "_"): str(p) for p in GOLD_FILES}
    loaded = datasets.load_dataset("json", data_files=files, cache_dir=str(tmp_path))
    assert loaded["reports"].num_rows == 5 and loaded["gov_work_reports"].num_rows >= 8
    assert loaded["reports"][0]["entities"][0]["label"]


def test_silver_build_validates_and_lists_what_it_leaves_out(tmp_path):
    import importlib.util
    import sys

    tools = ANNOTATIONS / "tools"
    sys.path.insert(0, str(tools))
    try:
        spec = importlib.util.spec_from_file_location("silver_tool", tools / "silver.py")
        silver = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(silver)
    finally:
        sys.path.remove(str(tools))
    from fazhi_ie.sentences import split_sentences

    sources = dict(list(silver.silver_sources().items())[:3])
    good, short, bad = list(sources)
    n = len(split_sentences(sources[good]["text"]))
    (tmp_path / f"{good}.ann").write_text("".join(f"@S{i}\n" for i in range(1, n + 1)), encoding="utf-8")
    (tmp_path / f"{short}.ann").write_text("@S1\n", encoding="utf-8")
    n_bad = len(split_sentences(sources[bad]["text"]))
    first = split_sentences(sources[bad]["text"])[0].text
    (tmp_path / f"{bad}.ann").write_text(  # complete, but a VALUE without a HAS_VALUE head
        "@S1\nE VALUE " + first[:2] + "\n" + "".join(f"@S{i}\n" for i in range(2, n_bad + 1)), encoding="utf-8")
    docs, failed = silver.build_pool(tmp_path, "reviewed", sources)
    assert [d.id for d in docs] == [good]
    assert docs[0].meta["tier"] == "silver" and docs[0].meta["review"]["status"] == "reviewed"
    assert set(docs[0].meta) == set(silver.META_KEYS)
    assert failed[short][0].startswith("incomplete")
    assert "schema" in failed[bad][0] and any("HAS_VALUE" in p for p in failed[bad])


def test_the_local_tier_is_written_annotated_and_valid(capsys):
    """The local-report tier (issue 13): at least 300,000 characters in 80 documents by the team, 60 regions in
    25 provinces, 2019-2025, every document marked written and never passed off as a real report, valid."""
    local = ANNOTATIONS / "local.jsonl"
    assert main(["validate", str(local), str(ANNOTATIONS / "local" / "first.jsonl")]) == 0
    docs = read_jsonl(local)
    assert len(docs) >= 80 and sum(len(d.text) for d in docs) >= 300_000
    assert all(d.meta["source"] == "written" and d.meta["tier"] == "local" for d in docs)
    assert all(d.meta["review"]["status"] == "reviewed" and d.meta["review"]["log"] for d in docs)
    assert len({d.meta["region"] for d in docs}) >= 60 and len({d.meta["province"] for d in docs}) >= 25
    assert {d.meta["year"] for d in docs} == set(range(2019, 2026))
    splits = json.loads((ANNOTATIONS / "splits.json").read_text(encoding="utf-8"))
    held_out = set(splits["local_held_out_writer"])
    assert held_out and all(d.meta["writer"] == "w5" for d in docs if d.id in held_out)
    assert not held_out & set(splits["local"]) and set(splits["local"]) | held_out == {d.id for d in docs}
    gold_ids = {d.id for path in GOLD_FILES for d in read_jsonl(path)}
    assert not gold_ids & {d.id for d in docs}
