"""Annotation I/O: interchange JSONL, Label Studio, doccano and the compact format."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fazhi_ie import Document, Relation, Span
from fazhi_ie.io import doccano, labelstudio
from fazhi_ie.io.compact import parse_compact, render_sentence_view, to_compact
from fazhi_ie.io.jsonl import InputError, read_jsonl, write_jsonl
from fazhi_ie.sentences import split_sentences

EDGE_TEXT = "城关区😀受理案件93件,增长１２％👍🏽。全区"


def edge_doc() -> Document:
    """Spans at both text ends, after emoji (astral plane) and over full-width characters."""
    t = EDGE_TEXT
    spans = [Span("T1", "REGION", 0, 3, t[0:3]), Span("T2", "METRIC", 4, 8, t[4:8]),
             Span("T3", "VALUE", 8, 11, t[8:11]), Span("T4", "VALUE", 14, 17, t[14:17]),
             Span("T5", "REGION", len(t) - 2, len(t), t[-2:])]
    rels = [Relation("R1", "HAS_VALUE", "T2", "T3"), Relation("R2", "HAS_VALUE", "T2", "T4"),
            Relation("R3", "AGENT", "T2", "T1")]
    return Document("edge", t, {"year": 2023}, tuple(spans), tuple(rels))


def test_jsonl_round_trip(tmp_path):
    doc = edge_doc()
    write_jsonl([doc], tmp_path / "x.jsonl")
    assert read_jsonl(tmp_path / "x.jsonl") == [doc]
    assert "😀" in (tmp_path / "x.jsonl").read_text(encoding="utf-8")  # no ASCII escaping


def test_labelstudio_round_trip_with_emoji(tmp_path):
    doc = edge_doc()
    labelstudio.write_labelstudio([doc], tmp_path / "ls.json")
    tasks = json.loads((tmp_path / "ls.json").read_text(encoding="utf-8"))
    spans = [r for r in tasks[0]["annotations"][0]["result"] if r["type"] == "labels"]
    # after 😀 (two UTF-16 units) Label Studio offsets are one ahead of code points
    assert spans[1]["value"]["start"] == 5 and doc.entities[1].start == 4
    back = labelstudio.read_labelstudio(tmp_path / "ls.json")
    assert [(e.label, e.start, e.end, e.text) for e in back[0].entities] == \
           [(e.label, e.start, e.end, e.text) for e in doc.entities]
    assert {(r.label, r.head, r.tail) for r in back[0].relations} == {(r.label, r.head, r.tail) for r in doc.relations}


def test_labelstudio_code_point_mode(tmp_path):
    labelstudio.write_labelstudio([edge_doc()], tmp_path / "ls.json", utf16=False)
    back = labelstudio.read_labelstudio(tmp_path / "ls.json", utf16=False)
    assert back[0].entities == edge_doc().entities


def test_doccano_round_trip(tmp_path):
    doc = edge_doc()
    doccano.write_doccano([doc], tmp_path / "d.jsonl")
    back = doccano.read_doccano(tmp_path / "d.jsonl")[0]
    assert back.id == doc.id and back.text == doc.text
    assert [(e.label, e.start, e.end) for e in back.entities] == [(e.label, e.start, e.end) for e in doc.entities]
    by_id = back.entities_by_id()
    assert {(r.label, by_id[r.head].text, by_id[r.tail].text) for r in back.relations} == \
           {(r.label, doc.entity(r.head).text, doc.entity(r.tail).text) for r in doc.relations}


@given(st.text(alphabet="法治政府😀１２３abc，。\n", min_size=1, max_size=40), st.data())
@settings(max_examples=150, deadline=None)
def test_exports_round_trip_random_spans(text, data):
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(text)), max_size=6))))
    spans = []
    for i, (a, b) in enumerate(zip(cuts[::2], cuts[1::2])):
        if a < b:
            spans.append(Span(f"T{i + 1}", "ORG", a, b, text[a:b]))
    doc = Document("r", text, {}, tuple(spans))
    ls = labelstudio.from_labelstudio(labelstudio.to_labelstudio([doc]))[0]
    dc = doccano.from_doccano(doccano.to_doccano(doc))
    for other in (ls, dc):
        assert [(e.start, e.end, e.text) for e in other.entities] == [(e.start, e.end, e.text) for e in doc.entities]


def test_malformed_jsonl_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "text": "x", "entities": [], "relations": []}\n{not json\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.jsonl:2: malformed JSON"):
        read_jsonl(path)


def test_offsets_that_do_not_match_are_rejected(tmp_path):
    path = tmp_path / "off.jsonl"
    rec = {"id": "a", "text": "全区受理93件", "entities": [{"id": "T1", "label": "REGION", "start": 1, "end": 3, "text": "全区"}],
           "relations": []}
    path.write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="does not match"):
        read_jsonl(path)


def test_compact_format_resolves_in_text_order_and_reports_errors():
    text = "全区受理案件93件,审结75件。结案率75.72%,结案率提高。"
    sents = split_sentences(text)
    source = "@S1\nE REGION 全区\nE METRIC 受理案件\nE VALUE 93件\nE METRIC 审结\nE VALUE 75件\n" \
             "R HAS_VALUE 受理案件 > 93件\nR HAS_VALUE 审结 > 75件\nR AGENT 受理案件 > 全区\n" \
             "@S2\nE METRIC 结案率\nE VALUE 75.72%\nE METRIC 结案率\nR HAS_VALUE 结案率#1 > 75.72%\n"
    result = parse_compact(source, sents)
    assert result.errors == []
    assert [(e.label, e.start) for e in result.entities][-1] == ("METRIC", text.rindex("结案率"))
    bad = parse_compact("@S1\nE METRIC 不存在\nR HAS_VALUE 受理案件 > 93件\nR AGENT 全区 > 受理案件\n@S9\nX\n", sents)
    assert len(bad.errors) >= 4
    assert any("not found" in e for e in bad.errors) and any("no sentence S9" in e for e in bad.errors)


def test_compact_writer_round_trips(fixtures):
    for doc in read_jsonl(fixtures / "gold_small.jsonl"):
        sents = split_sentences(doc.text)
        result = parse_compact(to_compact(doc, sents), sents)
        assert result.errors == []
        assert [(e.label, e.start, e.end) for e in result.entities] == [(e.label, e.start, e.end) for e in doc.entities]
        assert len(result.relations) == len(doc.relations)
    assert render_sentence_view(split_sentences("一。二。")).startswith("S1\t0\t2\t一。")
