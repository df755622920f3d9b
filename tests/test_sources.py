"""The one input layer (fazhi_ie.io.sources): every command reads documents the same way, and a bad file
or record is one line naming it while the other documents go on (reliability issue, item 5)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from fazhi_ie.cli import main
from fazhi_ie.io.sources import Failure, iter_documents, list_sources, read_documents

REPORT = "2023年,全区受理行政复议案件93件,审结75件。\n"


def run(capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def items(*paths, **kw):
    return list(iter_documents(list_sources([str(p) for p in paths]), **kw))


def test_meta_that_is_not_an_object_names_the_file_and_line(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": REPORT, "meta": [1, 2]}) + "\n"
                   + json.dumps({"id": "b", "text": REPORT}) + "\n", encoding="utf-8")
    got = items(src)
    assert isinstance(got[0], Failure) and got[0].where == f"{src}:1" and "'meta' must be an object" in got[0].reason
    code, _, err = run(capsys, "facts", "--engine", "rules", str(src), "-o", str(tmp_path / "f.csv"))
    assert code == 1 and f"{src}:1" in err and "'meta' must be an object, got list" in err
    assert "dictionary update" not in err
    assert "b," in (tmp_path / "f.csv").read_text(encoding="utf-8")  # the good document still made it


def test_two_files_with_one_name_in_two_folders_stay_two_documents(tmp_path, capsys):
    for folder in ("north", "south"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "report.txt").write_text(REPORT, encoding="utf-8")
    ids = [d.id for d in read_documents([str(tmp_path)])]
    assert len(ids) == 2 and len(set(ids)) == 2 and all("report" in i for i in ids)
    code, _, _ = run(capsys, "facts", "--engine", "rules", str(tmp_path), "-o", str(tmp_path / "f.csv"))
    import pandas as pd

    assert code == 0 and pd.read_csv(tmp_path / "f.csv")["doc_id"].nunique() == 2


def test_upper_case_suffix_is_read_by_every_command(tmp_path, capsys):
    (tmp_path / "OTHER.TXT").write_text(REPORT, encoding="utf-8")
    assert [d.id for d in read_documents([str(tmp_path / "OTHER.TXT")])] == ["OTHER"]
    code, _, err = run(capsys, "render", "--engine", "rules", str(tmp_path / "OTHER.TXT"), "-o", str(tmp_path / "o.html"))
    assert code == 0, err
    code, _, err = run(capsys, "facts", "--engine", "rules", str(tmp_path), "-o", str(tmp_path / "f.csv"))
    assert code == 0, err


def test_a_gbk_file_is_read_and_a_lone_surrogate_fails_alone(tmp_path, capsys):
    (tmp_path / "good.txt").write_text(REPORT, encoding="utf-8")
    (tmp_path / "gbk.txt").write_bytes(REPORT.encode("gbk"))
    (tmp_path / "bad.jsonl").write_text('{"id": "s", "text": "受理\\ud800案件93件。"}\n', encoding="utf-8")
    code, _, err = run(capsys, "facts", "--engine", "rules", str(tmp_path), "-o", str(tmp_path / "f.csv"))
    assert code == 1
    assert "bad.jsonl:1" in err and "lone surrogate" in err and "gbk.txt" not in err
    import pandas as pd

    assert set(pd.read_csv(tmp_path / "f.csv")["doc_id"]) == {"good", "gbk"}


def test_null_id_is_an_error_not_the_string_none(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": None, "text": REPORT}) + "\n", encoding="utf-8")
    got = items(src)
    assert isinstance(got[0], Failure) and "'id' must be a non-empty string or an integer, got None" in got[0].reason


def test_annotations_are_kept_only_when_asked(tmp_path):
    record = {"id": "g", "text": "受理93件", "entities": [
        {"id": "T1", "label": "METRIC", "start": 0, "end": 2, "text": "受理"},
        {"id": "T2", "label": "VALUE", "start": 2, "end": 5, "text": "93件"}],
        "relations": [{"id": "R1", "label": "HAS_VALUE", "head": "T1", "tail": "T2"}]}
    src = tmp_path / "g.jsonl"
    src.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    assert [len(d.relations) for d in read_documents([str(src)])] == [0]
    assert [len(d.relations) for d in read_documents([str(src)], annotations="keep")] == [1]
    with pytest.raises(ValueError, match="valid: drop, keep, extracted"):
        list(read_documents([str(src)], annotations="all"))


def test_dev_stdin_is_read_as_a_file(tmp_path):
    code = ("import sys; from fazhi_ie.cli import main; "
            "sys.exit(main(['extract', '--engine', 'rules', '/dev/stdin', '-q', '--format', 'csv']))")
    result = subprocess.run([sys.executable, "-c", code], input=REPORT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "受理行政复议案件" in result.stdout and "no such file" not in result.stderr
