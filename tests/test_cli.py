"""The command line, including every kind of bad input the foundation issue names."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fazhi_ie.cli import main
from fazhi_ie.io.jsonl import read_jsonl

REPORT = "2023年,兰州市城关区司法局聘请4名法律顾问。今年来,全区受理行政复议案件93件,目前已审结75件。\n"


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_extract_files_and_directories_to_valid_jsonl(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(REPORT, encoding="utf-8")
    (tmp_path / "in" / "b.txt").write_text(REPORT * 2, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    code, _, err = run(capsys, "extract", "--engine", "rules", str(tmp_path / "in"), "-o", str(out))
    assert code == 0 and "2 document(s)" in err
    docs = read_jsonl(out)
    assert [d.id for d in docs] == ["a", "b"] and all(d.facts for d in docs)
    code, _, err = run(capsys, "validate", str(out))
    assert code == 0 and "valid" in err


def test_extract_formats(tmp_path, capsys):
    path = tmp_path / "r.txt"
    path.write_text(REPORT, encoding="utf-8")
    code, out, _ = run(capsys, "extract", "--engine", "rules", str(path), "--format", "csv", "-q")
    assert code == 0 and out.splitlines()[0].startswith("doc_id,metric,value,number")
    assert "受理行政复议案件,93件,93.0,件" in out
    code, out, _ = run(capsys, "extract", "--engine", "rules", str(path), "--format", "table", "-q")
    assert "受理行政复议案件 | 93件 → 93 件" in out


def test_sample_report_is_bundled(capsys):
    code, out, _ = run(capsys, "extract", "--engine", "rules", "--sample", "--format", "table", "-q")
    assert code == 0 and "受理行政复议案件 | 93件 → 93 件" in out


def test_model_engine_is_explained_not_a_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FAZHI_IE_MODEL", str(tmp_path / "missing-model"))
    path = tmp_path / "r.txt"
    path.write_text(REPORT, encoding="utf-8")
    code, _, err = run(capsys, "extract", str(path), "--engine", "model")
    assert code == 1 and "no such model directory" in err and "Traceback" not in err


@pytest.mark.parametrize("content,expected_code,fragment", [
    (b"", 0, "is empty"),
    ("Only English text, 2023.".encode(), 0, "no Chinese text"),
    (b"\x00\x01\x02binary\x00", 1, "binary"),
    (b"\xff" * 30, 1, "not UTF-8"),  # neither UTF-8 nor any legacy encoding of text
])
def test_bad_text_inputs(tmp_path, capsys, content, expected_code, fragment):
    path = tmp_path / "x.txt"
    path.write_bytes(content)
    code, out, err = run(capsys, "extract", "--engine", "rules", str(path), "-q")
    assert code == expected_code and fragment in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_one_megabyte_report_is_not_truncated(tmp_path, capsys):
    text = (REPORT * (1_000_000 // len(REPORT) + 1))
    path = tmp_path / "big.txt"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "big.jsonl"
    code, _, _ = run(capsys, "extract", "--engine", "rules", str(path), "-o", str(out), "-q")
    doc = read_jsonl(out)[0]
    assert code == 0 and doc.text == text and len(doc.text) >= 1_000_000
    assert doc.facts[-1].evidence.value_span[1] > len(text) - len(REPORT)


def test_missing_path_is_one_line(capsys):
    code, _, err = run(capsys, "extract", "--engine", "rules", "/nonexistent/report.txt")
    assert code == 1 and "no such file or directory" in err


def test_validate_lists_every_problem(tmp_path, capsys):
    good = {"id": "a", "text": "全区受理93件", "entities": [], "relations": []}
    bad = {"id": "b", "text": "全区受理93件",
           "entities": [{"id": "T1", "label": "REGION", "start": 1, "end": 3, "text": "全区"},
                        {"id": "T2", "label": "VALUE", "start": 4, "end": 7, "text": "93件"}],
           "relations": [{"id": "R1", "label": "AGENT", "head": "T2", "tail": "T1"}]}
    path = tmp_path / "f.jsonl"
    path.write_text("\n".join([json.dumps(good), json.dumps(bad, ensure_ascii=False), "{oops"]) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "validate", str(path))
    assert code == 1
    assert "b T1: text '全区' does not match" in out
    assert "b R1: AGENT head must be one of" in out
    assert "b T2: VALUE must be the tail of exactly one HAS_VALUE" in out
    assert "f.jsonl:3: malformed JSON" in out


def test_evaluate_engine_and_pred(fixtures, tmp_path, capsys):
    gold = str(fixtures / "gold_small.jsonl")
    code, out, _ = run(capsys, "evaluate", "--gold", gold, "--pred", gold, "--bootstrap", "20", "--json", str(tmp_path / "r.json"))
    assert code == 0 and "micro" in out
    assert json.loads((tmp_path / "r.json").read_text())["entities"]["micro"]["f1"] == 1.0
    code, out, _ = run(capsys, "evaluate", "--gold", gold, "--engine", "rules", "--bootstrap", "0")
    assert code == 0 and "Relations" in out
    code, _, err = run(capsys, "evaluate", "--gold", gold)
    assert code == 1 and "exactly one of --pred" in err


def test_convert_round_trip(fixtures, tmp_path, capsys):
    gold = fixtures / "gold_small.jsonl"
    for fmt in ("labelstudio", "doccano"):
        mid, back = tmp_path / f"x.{fmt}", tmp_path / f"back.{fmt}.jsonl"
        assert run(capsys, "convert", str(gold), str(mid), "--from", "jsonl", "--to", fmt)[0] == 0
        assert run(capsys, "convert", str(mid), str(back), "--from", fmt, "--to", "jsonl")[0] == 0
        original, returned = read_jsonl(gold), read_jsonl(back, require_value_heads=False)
        assert [(e.label, e.start, e.end) for d in returned for e in d.entities] == \
               [(e.label, e.start, e.end) for d in original for e in d.entities]


def test_stats_command(fixtures, capsys):
    code, out, _ = run(capsys, "stats", str(fixtures / "gold_small.jsonl"), "--json")
    stats = json.loads(out)
    assert code == 0 and stats["documents"] == 2 and stats["entities"]["VALUE"] == 8


def test_console_script_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "fazhi_ie.cli", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "extract" in result.stdout
