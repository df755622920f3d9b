"""The gold corpus: valid, complete, loadable offline with datasets, split by document."""
from __future__ import annotations

import json

import pytest

from conftest import ROOT
from fazhi_ie.cli import main
from fazhi_ie.io.jsonl import read_jsonl

ANNOTATIONS = ROOT / "data" / "annotations"
GOLD_FILES = [ANNOTATIONS / "reports.jsonl", ANNOTATIONS / "gov-work-reports.jsonl"]
REPORT_IDS = {"chengguan-lanzhou-2023", "jinta-2023", "chengzhong-liuzhou-2023", "gansu-highlights-2023"}


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


def test_datasets_loads_the_gold_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import datasets
    files = {p.stem.replace("-", "_"): str(p) for p in GOLD_FILES}
    loaded = datasets.load_dataset("json", data_files=files, cache_dir=str(tmp_path))
    assert loaded["reports"].num_rows == 4 and loaded["gov_work_reports"].num_rows >= 8
    assert loaded["reports"][0]["entities"][0]["label"]
