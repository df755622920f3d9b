"""Schema validation, the document model and sentence splitting."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fazhi_ie import Document, SchemaError
from fazhi_ie.io.jsonl import read_jsonl
from fazhi_ie.schema import ENTITY_LABELS, RELATION_RULES, check_relation, validate_record
from fazhi_ie.sentences import split_sentences


def record(**changes):
    base = {"id": "d1", "text": "出庭应诉率达100%。",
            "entities": [{"id": "T1", "label": "METRIC", "start": 0, "end": 5, "text": "出庭应诉率"},
                         {"id": "T2", "label": "VALUE", "start": 6, "end": 10, "text": "100%"}],
            "relations": [{"id": "R1", "label": "HAS_VALUE", "head": "T1", "tail": "T2"}]}
    base.update(changes)
    return base


def test_valid_record_has_no_problems():
    assert validate_record(record()) == []


@pytest.mark.parametrize("change,fragment", [
    ({"entities": [{"id": "T1", "label": "PERSON", "start": 0, "end": 5, "text": "出庭应诉率"}], "relations": []}, "unknown entity label"),
    ({"entities": [{"id": "T1", "label": "METRIC", "start": 0, "end": 4, "text": "出庭应诉率"}], "relations": []}, "does not match"),
    ({"entities": [{"id": "T1", "label": "METRIC", "start": 0, "end": 5, "text": "出庭应诉率"},
                   {"id": "T2", "label": "ORG", "start": 3, "end": 6, "text": "诉率达"}], "relations": []}, "overlaps"),
    ({"relations": [{"id": "R1", "label": "HAS_VALUE", "head": "T1", "tail": "T9"}]}, "unknown entity id"),
    ({"relations": [{"id": "R1", "label": "HAS_VALUE", "head": "T2", "tail": "T1"}]}, "head must be one of"),
    ({"relations": [{"id": "R1", "label": "LIKES", "head": "T1", "tail": "T2"}]}, "unknown relation label"),
    ({"relations": []}, "exactly one HAS_VALUE"),
    ({"entities": [{"id": "T1", "label": "METRIC", "start": 0, "end": 99, "text": "x"}], "relations": []}, "outside text"),
])
def test_each_problem_is_reported_with_ids(change, fragment):
    problems = validate_record(record(**change))
    assert any(fragment in p.message for p in problems), problems
    assert all(p.doc_id == "d1" for p in problems)


def test_every_problem_is_listed_not_just_the_first():
    bad = record(entities=[{"id": "T1", "label": "PERSON", "start": 0, "end": 5, "text": "出庭应诉率"},
                           {"id": "T2", "label": "VALUE", "start": 6, "end": 10, "text": "100"}],
                 relations=[{"id": "R1", "label": "WHEN", "head": "T1", "tail": "T2"}])
    assert len(validate_record(bad)) >= 3


def test_relation_table_matches_schema():
    assert set(RELATION_RULES) == {"HAS_VALUE", "AGENT", "WHEN", "IN_PROGRAM"}
    assert check_relation("AGENT", "METRIC", "REGION") is None
    assert "valid labels" in check_relation("CAUSES", "METRIC", "ORG")
    assert len(ENTITY_LABELS) == 7


def test_document_round_trip(fixtures):
    docs = read_jsonl(fixtures / "gold_small.jsonl")
    for doc in docs:
        again = Document.from_dict(json.loads(json.dumps(doc.to_dict(), ensure_ascii=False)))
        assert again == doc


def test_from_dict_raises_schema_error_listing_problems():
    with pytest.raises(SchemaError) as info:
        Document.from_dict(record(relations=[]))
    assert "d1 T2" in str(info.value)


def test_sentences_follow_the_schema_rule():
    text = "今年以来,全区受理案件93件；审结75件。“好”！下一句？\n标题\n\n  末句"
    sents = split_sentences(text)
    assert [s.text for s in sents] == ["今年以来,全区受理案件93件；审结75件。", "“好”！", "下一句？", "标题", "末句"]
    for s in sents:
        assert text[s.start:s.end] == s.text


def test_closing_quote_stays_with_its_sentence():
    sents = split_sentences("他说“依法行政。”然后走了。")
    assert [s.text for s in sents] == ["他说“依法行政。”", "然后走了。"]


@given(st.text(alphabet="法治政府。！？\n，；、 ”12", max_size=60))
@settings(max_examples=300, deadline=None)
def test_sentence_offsets_always_point_into_the_text(text):
    sents = split_sentences(text)
    for s in sents:
        assert text[s.start:s.end] == s.text and s.text.strip() == s.text and s.text
    for a, b in zip(sents, sents[1:]):
        assert a.end <= b.start
