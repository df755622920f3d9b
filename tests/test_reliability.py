"""Regression tests for the defects of issue 9 (reliability), one or more per defect."""
from __future__ import annotations

import io
import json
import re
import time
from pathlib import Path

import pytest

from fazhi_ie.batch import BatchConfig, run_batch
from fazhi_ie.cli import main
from fazhi_ie.document import Document
from fazhi_ie.analysis.evaluation import EvaluationError, evaluate
from fazhi_ie.io.doccano import read_doccano
from fazhi_ie.io.jsonl import InputError, read_jsonl, read_records
from fazhi_ie.io.labelstudio import from_labelstudio
from fazhi_ie.pipeline import extract as _extract


def extract(text, **kwargs):
    """These tests exercise the rule engine, named explicitly (the library's default is the model)."""
    kwargs.setdefault("engine", "rules")
    return _extract(text, **kwargs)
from fazhi_ie.schema import validate_record
from fazhi_ie.sentences import MAX_WINDOW
from fazhi_ie.analysis.stats import corpus_stats

ROOT = Path(__file__).resolve().parents[1]
REPORT = "2023年,兰州市城关区司法局聘请4名法律顾问。今年来,全区受理行政复议案件93件,目前已审结75件。\n"


def run(capsys, *args):
    """The CLI in-process; extraction with the rule engine (fast, whatever the default engine)."""
    args = list(args)
    if args[0] == "extract" and "--engine" not in args:
        args += ["--engine", "rules"]
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def values(doc: Document) -> list[tuple[str, float | None]]:
    return [(e.text, e.norm.number if e.norm else None) for e in doc.entities if e.label == "VALUE"]


# 1. thousands separators ---------------------------------------------------------------------
@pytest.mark.parametrize("text,value,number", [
    ("全市新增1,234名律师。", "1,234名", 1234.0),
    ("全年服务群众12,345,678人次。", "12,345,678人次", 12345678.0),
    ("投入资金1,234.5万元。", "1,234.5万元", 12345000.0),
])
def test_thousands_separators_are_one_value(text, value, number):
    assert values(extract(text)) == [(value, number)]


def test_a_comma_list_is_not_read_as_thousands():
    # 3,45 is not a thousands group: no value may swallow it as 345 or 345件
    doc = extract("受理案件3,45件。")
    found = [e.text for e in doc.entities if e.label == "VALUE"] + [d["text"] for d in doc.meta.get("dropped_values", [])]
    assert found == ["45件"]  # the value is read (here left out for want of a head, and listed), never as 3,45件
    assert all(number not in (345.0, 3045.0) for _, number in values(doc))


# 2. one span, one label; extract output always validates --------------------------------------
def test_program_taken_into_a_metric_is_not_tagged_twice():
    doc = extract("2023年，全区人民调解120件130人。")
    assert validate_record(doc.to_dict()) == []
    spans = sorted((e.start, e.end) for e in doc.entities)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    assert [v for v, _ in values(doc)] == ["120件", "130人"]


# 3. linear cost: bounded windows and evidence ------------------------------------------------
def _report_text() -> str:
    return (ROOT / "fazhi_ie" / "data" / "sample_report.txt").read_text(encoding="utf-8")


def test_long_sentence_output_stays_proportional():
    text = (_report_text() * 4)[:20000]
    flat = re.sub(r"[。！？\n\r]", "", text)
    sizes = {}
    for name, t in (("punct", text), ("flat", flat)):
        doc = extract(t)
        assert validate_record(doc.to_dict()) == []
        assert all(len(f.evidence.sentence) <= 2 * MAX_WINDOW for f in doc.facts)
        sizes[name] = len(json.dumps(doc.to_dict(), ensure_ascii=False).encode()) / len(t)
    assert sizes["flat"] < 3 * sizes["punct"], sizes


def test_a_long_line_is_cut_without_splitting_numbers():
    text = "，".join(f"受理案件{n}件" for n in range(1000, 1400))  # one sentence of 4,000 characters
    doc = extract(text)
    assert [number for _, number in values(doc)] == [float(n) for n in range(1000, 1400)]
    for fact in doc.facts:
        assert text[fact.evidence.sentence_start:fact.evidence.sentence_end] == fact.evidence.sentence
        assert len(fact.evidence.sentence) <= MAX_WINDOW


# 4. one bad .jsonl does not stop the batch ---------------------------------------------------
def test_bad_jsonl_record_is_named_and_the_rest_is_written(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(REPORT, encoding="utf-8")
    bad = tmp_path / "in" / "b.jsonl"
    bad.write_text(json.dumps({"id": "x", "text": REPORT, "meta": [1, 2]}) + "\n"
                   + json.dumps({"id": "y", "text": REPORT}) + "\n", encoding="utf-8")
    out, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    code, _, err = run(capsys, "extract", "--engine", "rules", str(tmp_path / "in"), "-o", str(out), "--errors", str(errors))
    assert code == 1
    assert f"{bad}:1" in err and "'meta' must be an object" in err
    assert [d.id for d in read_jsonl(out)] == ["a", "y"]
    recorded = [json.loads(line) for line in errors.read_text(encoding="utf-8").splitlines()]
    assert recorded == [{"where": f"{bad}:1", "id": "x", "error": "'meta' must be an object, got list"}]


# 5. validate accepts exactly what the other tools can use -------------------------------------
BAD_RECORDS = [
    ({"id": "a", "text": "x", "meta": "oops"}, "meta"),
    ({"id": None, "text": "x"}, "id"),
    ({"id": "a", "text": "共93件", "entities": [
        {"id": "T1", "label": "VALUE", "start": 1, "end": 4, "text": "93件", "norm": {"number": "many"}}]}, "norm.number"),
    ({"id": "a", "text": "共93件", "entities": [{"id": "T1", "label": ["VALUE"], "start": 1, "end": 4, "text": "93件"}]},
     "label"),
    ({"id": "a", "text": "受理93件", "facts": [{"metric": "受理", "evidence": {
        "sentence": "受理93件", "sentence_start": 0, "sentence_end": 5, "metric_span": [0, 2], "value_span": [2, 5]}}]},
     "value"),
    ({"id": "a", "text": "x", "entities": [{"id": "T1", "label": "ORG", "start": 0, "end": 1, "text": "x",
                                            "norm": {"qualifier": "some"}}]}, "norm.qualifier"),
]


@pytest.mark.parametrize("record,field", BAD_RECORDS)
def test_validate_names_the_field(record, field):
    problems = validate_record(record, require_value_heads=False)
    assert problems and any(p.field == field for p in problems), problems


def test_validate_goes_on_after_every_bad_line(tmp_path, capsys):
    path = tmp_path / "f.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r, _ in BAD_RECORDS) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "validate", str(path), "--allow-unlinked-values")
    assert code == 1
    for lineno, (_, field) in enumerate(BAD_RECORDS, start=1):
        assert re.search(rf"f\.jsonl:{lineno}: .*\[field: {re.escape(field)}\]", out), (lineno, out)


def test_what_validate_accepts_evaluate_stats_and_convert_can_use(tmp_path, capsys):
    doc = extract(REPORT, doc_id="r1", meta={"year": 2023})
    path = tmp_path / "ok.jsonl"
    path.write_text(json.dumps(doc.to_dict(), ensure_ascii=False) + "\n", encoding="utf-8")
    assert run(capsys, "validate", str(path))[0] == 0
    assert run(capsys, "stats", str(path))[0] == 0
    assert run(capsys, "evaluate", "--gold", str(path), "--pred", str(path), "--bootstrap", "0")[0] == 0
    for fmt in ("labelstudio", "doccano"):
        assert run(capsys, "convert", str(path), str(tmp_path / f"x.{fmt}"), "--from", "jsonl", "--to", fmt)[0] == 0
    corpus_stats(read_jsonl(path))


# 6. line separators inside texts -------------------------------------------------------------
def test_unicode_line_separators_round_trip(tmp_path, capsys):
    text = "全区受理案件93件\u2028审结75件\u2029办结\u008560件。"
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "s", "text": text}, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert run(capsys, "extract", "--engine", "rules", str(src), "-o", str(out), "-q")[0] == 0
    raw = out.read_text(encoding="utf-8")
    assert "\u2028" not in raw and "\u2029" not in raw and "\u0085" not in raw
    assert len(raw.splitlines()) == 1
    (doc,) = read_jsonl(out)
    assert doc.text == text


# 7. duplicate document ids -------------------------------------------------------------------
def test_same_file_name_in_two_folders_gets_two_ids(tmp_path, capsys):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "report.txt").write_text(REPORT, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert run(capsys, "extract", "--engine", "rules", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(out), "-q")[0] == 0
    ids = [d.id for d in read_jsonl(out)]
    assert len(ids) == 2 and len(set(ids)) == 2


def test_duplicate_jsonl_ids_are_failures(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": "d", "text": REPORT}) + "\n" for _ in range(2)), encoding="utf-8")
    code, out, err = run(capsys, "extract", "--engine", "rules", str(src), "-q")
    assert code == 1 and "duplicate document id 'd'" in err and len(out.splitlines()) == 1


def test_evaluate_refuses_repeated_ids(fixtures, capsys):
    gold = read_jsonl(fixtures / "gold_small.jsonl")
    with pytest.raises(EvaluationError, match="more than once"):
        evaluate(gold + gold, gold, bootstrap=0)
    with pytest.raises(EvaluationError, match="more than once"):
        evaluate(gold, gold + gold[:1], bootstrap=0)
    path = str(fixtures / "gold_small.jsonl")
    code, _, err = run(capsys, "evaluate", "--gold", path, path, "--pred", path, "--bootstrap", "0")
    assert code == 1 and "more than once" in err


# 8. upper-case suffixes; output inside the input directory -----------------------------------
def test_upper_case_suffix_and_output_inside_input(tmp_path, capsys):
    (tmp_path / "A.TXT").write_text(REPORT, encoding="utf-8")
    (tmp_path / "b.JSONL").write_text(json.dumps({"id": "b", "text": REPORT}) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    for _ in range(2):  # the second run must not read the first run's output as input
        assert run(capsys, "extract", "--engine", "rules", str(tmp_path), "-o", str(out), "-q")[0] == 0
        assert [d.id for d in read_jsonl(out)] == ["A", "b"]


# 9. the output path is checked before any work -----------------------------------------------
def test_output_directory_missing_fails_first(tmp_path, capsys, monkeypatch):
    from fazhi_ie.pipeline import Pipeline

    (tmp_path / "big.txt").write_text(REPORT * 20, encoding="utf-8")
    extracted = []
    monkeypatch.setattr(Pipeline, "annotate", lambda self, doc: extracted.append(doc.id))
    code, _, err = run(capsys, "extract", "--engine", "rules", str(tmp_path / "big.txt"), "-o", str(tmp_path / "no" / "out.jsonl"))
    assert code == 1 and "does not exist" in err
    assert extracted == []  # refused before any document was read or extracted


# 10. messages --------------------------------------------------------------------------------
def test_utf16_with_bom_is_read(tmp_path, capsys):
    path = tmp_path / "u.txt"
    path.write_bytes(REPORT.encode("utf-16"))
    code, out, _ = run(capsys, "extract", "--engine", "rules", str(path), "-q")
    assert code == 0 and json.loads(out)["text"] == REPORT


def test_utf16_without_bom_is_read_and_named(tmp_path, capsys):
    path = tmp_path / "u.txt"
    path.write_bytes(REPORT.encode("utf-16-le"))
    code, out, err = run(capsys, "extract", "--engine", "rules", str(path), "-q")
    assert code == 0 and json.loads(out)["meta"]["decoded"] == "decoded as utf-16-le (detected)"


def test_stdin(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(REPORT.encode("utf-8")), encoding="utf-8"))
    code, out, _ = run(capsys, "extract", "--engine", "rules", "-", "-q")
    assert code == 0 and json.loads(out)["id"] == "stdin"
    lines = "".join(json.dumps({"id": f"s{i}", "text": REPORT}) + "\n" for i in range(2))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(lines.encode("utf-8")), encoding="utf-8"))
    code, out, _ = run(capsys, "extract", "--engine", "rules", "-", "--stdin-format", "jsonl", "-q")
    assert code == 0 and [json.loads(x)["id"] for x in out.splitlines()] == ["s0", "s1"]


def test_labelstudio_messages():
    task = {"data": {"text": "全区93件"}, "annotations": [{"result": [
        {"id": "a", "type": "labels", "value": {"start": 2, "end": 9, "labels": ["VALUE"]}}]}]}
    with pytest.raises(InputError, match="not integers within the text") as info:
        from_labelstudio([task])
    assert "surrogate" not in str(info.value)
    task["annotations"][0]["result"] = [{"id": "a", "type": "labels", "from_name": "label"}]
    with pytest.raises(InputError, match="needs a value"):
        from_labelstudio([task])


def test_doccano_message(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"id": 1, "text": "全区93件", "entities": [{"id": 1, "label": "VALUE", "end_offset": 4}]})
                    + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"d\.jsonl:1: entity #1: missing field\(s\) 'start_offset'") as info:
        read_doccano(path)
    assert str(info.value).count("d.jsonl:1") == 1


def test_malformed_json_message_says_at_once(tmp_path):
    path = tmp_path / "f.jsonl"
    path.write_text('{"id": "a", "text": "tab\tinside"}\n', encoding="utf-8")
    ((_, message),) = list(read_records(path, lenient=True))
    assert "at at" not in message and "column" in message


def test_error_lines_are_not_printed_onto_the_progress_bar(tmp_path):
    (tmp_path / "a.txt").write_text(REPORT, encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(b"\xff\xfe\x00")  # invalid UTF-16 after a BOM
    (tmp_path / "c.txt").write_bytes(b"\xff" * 30)  # no encoding reads this as text
    err = io.StringIO()
    result = run_batch([str(tmp_path)], BatchConfig(engine="rules"), out_stream=io.StringIO(), err_stream=err, progress=True)
    assert len(result.failures) == 2 and result.documents == 1
    lines = re.split(r"[\r\n]", err.getvalue())
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 2 and all(line.startswith("error: ") for line in errors)
    assert "docs" in err.getvalue() and "chars/s" in err.getvalue()


def test_negative_error_count_is_refused(fixtures, capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--gold", str(fixtures / "gold_small.jsonl"), "--engine", "rules", "--errors", "-3"])
    assert "must be 0 or more" in capsys.readouterr().err


def test_null_id_is_a_problem():
    assert any(p.field == "id" for p in validate_record({"id": None, "text": "x"}))


# 11. the README's Python example runs as written ---------------------------------------------
def test_output_that_is_an_input_is_refused_and_left_intact(tmp_path, capsys):
    path = tmp_path / "r.txt"
    path.write_text(REPORT, encoding="utf-8")
    code, _, err = run(capsys, "extract", "--engine", "rules", str(path), "-o", str(path))
    assert code == 1 and "also the output" in err
    assert path.read_text(encoding="utf-8") == REPORT


def test_unreadable_jsonl_line_is_named_once(tmp_path, capsys):
    path = tmp_path / "b.jsonl"
    path.write_bytes(json.dumps({"id": "ok", "text": REPORT}).encode() + b"\n\xff\xfe\n")
    code, out, err = run(capsys, "extract", "--engine", "rules", str(path), "-q")
    assert code == 1 and len(out.splitlines()) == 1
    assert f"error: {path}:2: not UTF-8" in err and err.count(str(path)) == 1


# --- Reliability II (issue 17): research commands, resume, workers, configs, messages -----------------
def _broken_model(tmp_path):
    """A copy of the shipped model whose weights file is garbage."""
    import shutil

    from fazhi_ie.engines import default_model_path

    model = tmp_path / "broken-model"
    shutil.copytree(default_model_path(), model)
    (model / "model.safetensors").write_bytes(b"not a safetensors file")
    return model


def test_resume_refuses_a_file_begun_with_another_engine(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a", "b"):
        (src / f"{name}.txt").write_text(REPORT, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert run(capsys, "extract", "--engine", "rules", str(src / "a.txt"), "-o", str(out), "-q")[0] == 0
    before = out.read_bytes()
    code, _, err = run(capsys, "extract", "--engine", "model", str(src), "-o", str(out), "--resume", "-q")
    assert code == 1 and "written by engine 'rules'" in err and "this run uses engine 'model'" in err
    assert out.read_bytes() == before  # nothing appended
    assert run(capsys, "extract", "--engine", "rules", str(src), "-o", str(out), "--resume", "-q")[0] == 0
    assert [d.id for d in read_jsonl(out)] == ["a", "b"]


def test_workers_with_a_broken_model_give_one_clear_error(tmp_path, capsys):
    (tmp_path / "a.txt").write_text(REPORT, encoding="utf-8")
    (tmp_path / "b.txt").write_text(REPORT, encoding="utf-8")
    model = _broken_model(tmp_path)
    code, _, err = run(capsys, "extract", "--engine", "model", "--model", str(model), "--workers", "2",
                       str(tmp_path / "a.txt"), str(tmp_path / "b.txt"), "-o", str(tmp_path / "o.jsonl"))
    assert code == 1 and "Traceback" not in err and "BrokenProcessPool" not in err and "--resume" not in err
    assert len(err.strip().splitlines()) == 1 and str(model) in err


def test_workers_exit_when_their_parent_dies():
    # a worker's watchdog ends it when its parent is gone (here: told a parent pid that is not its parent)
    import subprocess
    import sys

    code = "import os, time; from fazhi_ie.batch import _watch_parent; _watch_parent(os.getppid() + 999999, 0.05); time.sleep(60)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=50)
    assert result.returncode == 1


def test_rules_engine_with_a_model_directory_is_refused(tmp_path, capsys):
    (tmp_path / "a.txt").write_text(REPORT, encoding="utf-8")
    code, _, err = run(capsys, "extract", "--engine", "rules", "--model", str(tmp_path / "m"), str(tmp_path / "a.txt"))
    assert code == 1 and "the rules engine uses none" in err and "Traceback" not in err


def test_help_names_the_model_as_the_default_engine(capsys):
    from fazhi_ie.engines import DEFAULT_ENGINE

    for command in ("extract", "facts", "compare", "render"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert f"default: the shipped model, '{DEFAULT_ENGINE}'" in text or f"default: {DEFAULT_ENGINE}, the shipped model" in text
        assert "default: rules" not in text


def test_outputs_in_a_missing_folder_fail_before_any_extraction(tmp_path, capsys, monkeypatch):
    from fazhi_ie.pipeline import Pipeline

    (tmp_path / "a.txt").write_text(REPORT, encoding="utf-8")
    extracted = []
    monkeypatch.setattr(Pipeline, "annotate", lambda self, doc: extracted.append(doc.id))
    gold = str(ROOT / "tests" / "fixtures" / "gold_small.jsonl")
    for args in (("facts", "--engine", "rules", str(tmp_path / "a.txt"), "-o", str(tmp_path / "no" / "f.csv")),
                 ("evaluate", "--gold", gold, "--engine", "rules", "--json", str(tmp_path / "no" / "e.json")),
                 ("render", "--engine", "rules", str(tmp_path / "a.txt"), "-o", str(tmp_path / "no" / "a.html"))):
        code, _, err = run(capsys, *args)
        assert code == 1 and "does not exist" in err, args
    assert extracted == []


def test_compare_refuses_what_is_not_a_facts_table(tmp_path, capsys):
    (tmp_path / "other.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 4)
    for name, message in (("other.csv", "not a facts table"), ("binary.csv", "cannot be read as a csv facts table")):
        code, _, err = run(capsys, "compare", str(tmp_path / name))
        assert code == 1 and name in err and message in err


def test_render_of_an_empty_file_says_so(tmp_path, capsys):
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    code, _, err = run(capsys, "render", "--engine", "rules", str(tmp_path / "empty.jsonl"))
    assert code == 1 and "holds no document to render" in err and "None" not in err


def test_label_studio_relation_to_an_unknown_region_names_the_file(tmp_path):
    from fazhi_ie.io.jsonl import InputError
    from fazhi_ie.io.labelstudio import read_labelstudio

    task = [{"id": 1, "data": {"text": "受理93件"}, "annotations": [{"result": [
        {"id": "a", "type": "labels", "value": {"start": 0, "end": 2, "labels": ["METRIC"]}},
        {"type": "relation", "from_id": "a", "to_id": "zz", "labels": ["HAS_VALUE"]}]}]}]
    path = tmp_path / "ls.json"
    path.write_text(json.dumps(task, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InputError, match=r"ls\.json: task 1: relation a->zz \(HAS_VALUE\) refers to region id 'zz'"):
        read_labelstudio(path)


def test_messages_say_where_texts_differ_and_what_json_broke():
    from fazhi_ie.analysis.evaluation import EvaluationError, evaluate
    from fazhi_ie.document import Document
    from fazhi_ie.io.jsonl import parse_line

    text = "受理案件93件。"
    with pytest.raises(EvaluationError, match=r"first difference at offset 5: gold '3件。', predicted '4件。'; lengths 8 and 8"):
        evaluate([Document("d", text)], [Document("d", text.replace("93", "94"))])
    assert parse_line('{"id": "a", "text": "abc')[1] == "malformed JSON (Unterminated string starting at column 21)"


def test_html_view_shows_control_characters_visibly():
    import fazhi_ie

    html = fazhi_ie.render(fazhi_ie.load(engine="rules")("全区受理\x00案件93件。\x07"))
    assert "\x00" not in html and "\x07" not in html and "\u2400" in html and "\u2407" in html


def test_in_sample_warning_compares_texts_not_ids(tmp_path, capsys):
    gold = read_jsonl(ROOT / "data" / "annotations" / "reports.jsonl")
    renamed = tmp_path / "renamed.jsonl"
    renamed.write_text("".join(json.dumps({**d.to_dict(), "id": "x-" + d.id}, ensure_ascii=False) + "\n"
                               for d in gold if d.id == "jinta-2023"), encoding="utf-8")
    code, _, err = run(capsys, "evaluate", "--gold", str(renamed), "--engine", "model", "--bootstrap", "0")
    assert code == 0 and "warning: 1 of the 1 gold documents were in the training data" in err
    held_out = tmp_path / "held_out.jsonl"
    held_out.write_text("".join(json.dumps(d.to_dict(), ensure_ascii=False) + "\n"
                                for d in gold if d.id == "jinpu-2023"), encoding="utf-8")
    code, _, err = run(capsys, "evaluate", "--gold", str(held_out), "--engine", "model", "--bootstrap", "0")
    assert code == 0 and "warning" not in err
