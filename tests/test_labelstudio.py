"""The annotation loop with Label Studio, without a server: `fazhi-ie preannotate` writes predictions and
the labelling config, an annotator's export (simulated here) comes back through `fazhi-ie convert`,
and the README's "Annotate your own reports" commands run end to end on the tiny fixtures.
The same loop against a real Label Studio server is tests/test_labelstudio_server.py (slow)."""
from __future__ import annotations

import copy
import json
import re
import shlex
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import FIXTURES, ROOT
from fazhi_ie.cli import build_parser, main
from fazhi_ie.io.jsonl import InputError, read_jsonl, write_jsonl
from fazhi_ie.io.labelstudio import from_labelstudio, labelling_config, to_labelstudio
from fazhi_ie.schema import ENTITY_LABELS, RELATION_LABELS, validate_record

# 𠀀 (U+20000) and 😀 are outside the BMP: one code point each (Label Studio's current editor counts code
# points), two UTF-16 units each (older editors counted those)
REPORT = "2023年,兰州市城关区司法局聘请4名法律顾问。𠀀今年来,全区受理行政复议案件93件,目前已审结😀75件。\n"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def utf16_slice(text: str, start: int, end: int) -> str:
    """text[start:end] with start and end counted in UTF-16 code units, as older Label Studio editors counted."""
    return text.encode("utf-16-le")[2 * start:2 * end].decode("utf-16-le")


def utf16_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-16-le")) // 2


def as_export(tasks: list[dict]) -> list[dict]:
    """What Label Studio exports once an annotator has accepted each task's prediction: ids, and the
    prediction's result copied under `annotations` (the prediction itself is kept beside it)."""
    export = []
    for n, task in enumerate(copy.deepcopy(tasks), start=1):
        prediction = {**task["predictions"][0], "id": 100 + n, "task": n}
        export.append({"id": n, "data": task["data"], "predictions": [prediction],
                       "annotations": [{"id": 200 + n, "completed_by": 1, "was_cancelled": False,
                                        "ground_truth": False, "result": copy.deepcopy(prediction["result"]),
                                        "prediction": prediction, "task": n}]})
    return export


@pytest.fixture
def tasks(tmp_path, capsys) -> list[dict]:
    (tmp_path / "report.txt").write_text(REPORT, encoding="utf-8")
    code, _, err = run(capsys, "preannotate", str(tmp_path / "report.txt"), "-o", str(tmp_path / "tasks.json"),
                       "--engine", "rules")
    assert code == 0 and "1 task(s)" in err and "tasks.labelconfig.xml" in err
    return json.loads((tmp_path / "tasks.json").read_text(encoding="utf-8"))


def test_preannotate_writes_scored_predictions_not_annotations(tasks):
    (task,) = tasks
    assert "annotations" not in task, "annotations would be imported as finished human work"
    assert task["data"]["text"] == REPORT and task["data"]["doc_id"] == "report"
    (prediction,) = task["predictions"]
    assert prediction["model_version"] == "rules"
    results = prediction["result"]
    spans = [r for r in results if r["type"] == "labels"]
    relations = [r for r in results if r["type"] == "relation"]
    assert spans and relations
    assert all(0 <= r["score"] <= 1 for r in results)
    assert prediction["score"] == pytest.approx(sum(r["score"] for r in results) / len(results), abs=1e-4)
    for span in spans:  # code points, as Label Studio's editor counts them
        assert (span["from_name"], span["to_name"]) == ("label", "text")
        assert REPORT[span["value"]["start"]:span["value"]["end"]] == span["value"]["text"]
    after = next(s for s in spans if s["value"]["text"] == "93件")
    assert after["value"]["start"] == REPORT.index("93件")  # after 𠀀
    ids = {s["id"] for s in spans}
    assert all(r["from_id"] in ids and r["to_id"] in ids and len(r["labels"]) == 1 for r in relations)


def test_preannotate_can_count_utf16_units_for_older_editors(tmp_path, capsys):
    (tmp_path / "report.txt").write_text(REPORT, encoding="utf-8")
    code, _, err = run(capsys, "preannotate", str(tmp_path / "report.txt"), "-o", str(tmp_path / "old.json"),
                       "--engine", "rules", "--utf16-offsets")
    assert code == 0, err
    (task,) = json.loads((tmp_path / "old.json").read_text(encoding="utf-8"))
    spans = [r["value"] for r in task["predictions"][0]["result"] if r["type"] == "labels"]
    assert all(utf16_slice(REPORT, v["start"], v["end"]) == v["text"] for v in spans)
    assert next(v for v in spans if v["text"] == "93件")["start"] == REPORT.index("93件") + 1  # 𠀀 counts twice
    (doc,) = from_labelstudio(as_export([task]))
    assert all(REPORT[e.start:e.end] == e.text for e in doc.entities)


def test_preannotate_refuses_an_output_label_studio_cannot_import(tmp_path, capsys):
    (tmp_path / "report.txt").write_text(REPORT, encoding="utf-8")
    code, _, err = run(capsys, "preannotate", str(tmp_path / "report.txt"), "-o", str(tmp_path / "tasks.jsonl"),
                       "--engine", "rules")
    assert code == 1 and "tasks.jsonl: Label Studio imports tasks from a .json file" in err


def test_labelling_config_lists_every_schema_label_with_distinct_colours(tmp_path, tasks):
    written = (tmp_path / "tasks.labelconfig.xml").read_text(encoding="utf-8")
    assert written == labelling_config()
    view = ET.fromstring(written)
    labels = view.find("Labels")
    assert [x.get("value") for x in labels.findall("Label")] == list(ENTITY_LABELS)
    colours = [x.get("background") for x in labels.findall("Label")]
    assert len(set(colours)) == len(colours) and all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in colours)
    assert [x.get("value") for x in view.find("Relations").findall("Relation")] == list(RELATION_LABELS)
    text = view.find("Text")
    assert (labels.get("name"), labels.get("toName"), text.get("name"), text.get("value")) == \
           ("label", "text", "text", "$text")


def test_accepted_export_with_one_correction_converts_back(tmp_path, tasks, capsys):
    export = as_export(tasks)
    result = export[0]["annotations"][0]["result"]
    metric = next(r for r in result if r["type"] == "labels" and r["value"]["text"] == "受理行政复议案件")
    metric["value"].update(start=metric["value"]["start"] + 2, text="行政复议案件")  # the annotator's one change
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    code, _, err = run(capsys, "convert", str(path), str(tmp_path / "gold.jsonl"), "--from", "labelstudio",
                       "--to", "jsonl")
    assert code == 0, err
    (doc,) = read_jsonl(tmp_path / "gold.jsonl", require_value_heads=False)
    assert validate_record(doc.to_dict()) == []
    changed = doc.entity(metric["id"])
    assert (changed.start, changed.end, changed.text) == (REPORT.index("行政复议案件"), REPORT.index("93件"), "行政复议案件")
    predicted = {r["id"]: r["value"]["text"] for r in tasks[0]["predictions"][0]["result"] if r["type"] == "labels"}
    for span in doc.entities:  # every span at its code-point offsets, also after 𠀀
        assert REPORT[span.start:span.end] == span.text == (predicted[span.id] if span.id != metric["id"] else "行政复议案件")
    assert len(doc.relations) == sum(r["type"] == "relation" for r in result)


@pytest.mark.parametrize("utf16", [False, True], ids=["current-editor-code-points", "older-editor-utf16"])
def test_spans_the_annotator_adds_after_non_bmp_characters_come_back_right(tasks, utf16):
    """An export's offsets are read as what they are, whichever way the editor counted: the text Label Studio
    stores with each span tells."""
    export = as_export(tasks)
    start = REPORT.index("75件")  # after 𠀀 and 😀
    at = (lambda i: utf16_offset(REPORT, i)) if utf16 else (lambda i: i)
    if utf16:
        assert at(start) == start + 2
        for r in export[0]["annotations"][0]["result"]:
            if r["type"] == "labels":
                r["value"].update(start=at(r["value"]["start"]), end=at(r["value"]["end"]))
    export[0]["annotations"][0]["result"] += [
        {"id": "m1", "from_name": "label", "to_name": "text", "type": "labels", "origin": "manual",
         "value": {"start": at(start - 3), "end": at(start - 1), "text": "审结", "labels": ["METRIC"]}},
        {"id": "v1", "from_name": "label", "to_name": "text", "type": "labels", "origin": "manual",
         "value": {"start": at(start), "end": at(start + 3), "text": "75件", "labels": ["VALUE"]}},
        # drawn from the value to the metric, then turned round in the editor
        {"type": "relation", "from_id": "v1", "to_id": "m1", "direction": "left", "labels": ["HAS_VALUE"]}]
    for fallback in (False, True):  # whatever the caller assumes
        (doc,) = from_labelstudio(export, utf16=fallback)
        assert validate_record(doc.to_dict()) == []
        assert doc.entity("v1").text == "75件" and doc.entity("v1").start == start
        assert doc.entity("m1").text == "审结" and REPORT[doc.entity("m1").start:doc.entity("m1").end] == "审结"
        assert doc.entity("T8").text == "93件" and doc.entity("T8").start == REPORT.index("93件")
        assert any((r.label, r.head, r.tail) == ("HAS_VALUE", "m1", "v1") for r in doc.relations)


def test_a_span_whose_text_is_at_neither_offsets_is_read_by_the_callers_convention(tasks):
    export = as_export(tasks)
    value = next(r["value"] for r in export[0]["annotations"][0]["result"] if r["type"] == "labels"
                 and r["value"]["text"] == "93件")
    value["text"] = "edited"  # the stored text no longer tells, so the offsets are taken as the caller says
    assert from_labelstudio(export, utf16=False)[0].entity("T8").start == REPORT.index("93件")
    with pytest.raises(InputError, match=r"task 1 \(document report\): span T5: offset 25 splits a surrogate pair"):
        from_labelstudio(export, utf16=True)


def test_export_without_a_human_annotation_is_refused_naming_the_task(tmp_path, tasks, capsys):
    export = as_export(tasks) + as_export(tasks)
    export[1]["id"] = 7
    export[1]["data"] = {**export[1]["data"], "doc_id": "report-2"}
    del export[1]["annotations"]  # imported, never annotated: the export has only the prediction
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    code, _, err = run(capsys, "convert", str(path), str(tmp_path / "out.jsonl"), "--from", "labelstudio",
                       "--to", "jsonl")
    assert code == 1 and not (tmp_path / "out.jsonl").exists()
    assert re.search(r"export\.json: task 7 \(document report-2\): it has only predictions .*no human annotation",
                     err), err
    assert len(err.strip().splitlines()) == 1
    # the tasks file itself (predictions only) is no annotation either
    with pytest.raises(InputError, match="task report: it has only predictions"):
        from_labelstudio(tasks)


def test_skipped_and_ground_truth_annotations(tasks):
    export = as_export(tasks)
    export[0]["annotations"][0]["was_cancelled"] = True
    with pytest.raises(InputError, match=r"task 1 \(document report\): its annotation was skipped"):
        from_labelstudio(export)
    reviewed = copy.deepcopy(export[0]["annotations"][0])
    reviewed.update(was_cancelled=False, ground_truth=True,
                    result=[r for r in reviewed["result"] if r["type"] == "labels" and r["value"]["labels"] != ["VALUE"]])
    export[0]["annotations"] = [{**reviewed, "ground_truth": False, "result": []}, reviewed]
    (doc,) = from_labelstudio(export)
    assert doc.entities and all(e.label != "VALUE" for e in doc.entities)


def test_annotation_round_trip_still_reads_its_own_files():
    (doc,) = read_jsonl(FIXTURES / "gold_small.jsonl")[:1]
    (back,) = from_labelstudio(to_labelstudio([doc]))
    assert [(e.label, e.start, e.end) for e in back.entities] == [(e.label, e.start, e.end) for e in doc.entities]


# --- the README's loop, end to end on the tiny fixtures ---------------------------------------------------
def guide_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## Annotate your own reports", 1)[1].split("\n## ", 1)[0]


def guide_commands() -> list[list[str]]:
    """The `fazhi-ie` command lines of the README section "Annotate your own reports"."""
    section = guide_section()
    lines = [line.split("#", 1)[0].strip() for line in section.splitlines()
             if line.startswith("    ") and line.strip().startswith("fazhi-ie ")]  # the code blocks' command lines
    return [shlex.split(line)[1:] for line in lines]


def test_guide_commands_are_the_commands_the_cli_takes():
    commands = guide_commands()
    assert [c[0] for c in commands] == ["preannotate", "convert", "validate", "train", "evaluate", "evaluate"]
    parser = build_parser()
    for argv in commands:
        parser.parse_args(argv)  # exits (fails the test) on an unknown option


def test_guide_training_config_is_one_the_trainer_takes(tmp_path):
    from fazhi_ie.trainer import TrainConfig

    section = guide_section()
    block = section[section.index('{"train_files"'):]
    block = block[:block.index("}") + 1]
    config = TrainConfig.from_dict(json.loads(block), base_dir=tmp_path)
    assert config.train_files == ["mine.jsonl"] and config.keep == "last"


def test_annotation_loop_runs_end_to_end_without_the_server(tmp_path, capsys, monkeypatch):
    """preannotate -> (annotator: accept and correct) -> convert -> validate -> train --init -> evaluate, with a
    tiny model standing in for the shipped one and gold_small's two documents as the annotator's work and
    the held-out document."""
    pytest.importorskip("torch")
    from model_fixtures import write_tiny_encoder

    from fazhi_ie.neural.engine import model_fingerprint

    monkeypatch.chdir(tmp_path)
    mine, held_out = read_jsonl(FIXTURES / "gold_small.jsonl")
    write_jsonl([mine], "mine-gold.jsonl")
    write_jsonl([held_out], "held-out.jsonl")
    encoder = write_tiny_encoder(tmp_path / "encoder", [mine.text, held_out.text])
    small = {"epochs": 2, "batch_size": 4, "window_tokens": 32, "window_stride": 20, "num_layers": 2,
             "relation_dim": 32, "learning_rate": 5e-3, "head_learning_rate": 1e-2, "progress": False,
             "save_dtype": "float32", "checkpoint_steps": 0}
    Path("start.json").write_text(json.dumps({"train_files": ["mine-gold.jsonl"], "init_encoder": str(encoder),
                                              **small}), encoding="utf-8")
    assert run(capsys, "train", "--config", "start.json", "--output", "shipped")[0] == 0  # stands in for models/default

    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / f"{mine.id}.txt").write_text(mine.text, encoding="utf-8")
    code, _, err = run(capsys, "preannotate", "reports", "-o", "tasks.json", "--model", "shipped")
    assert code == 0, err
    (task,) = json.loads(Path("tasks.json").read_text(encoding="utf-8"))
    assert task["predictions"][0]["model_version"] == model_fingerprint(tmp_path / "shipped", {})
    assert "annotations" not in task and Path("tasks.labelconfig.xml").is_file()

    # the annotator accepts the suggestions and corrects them until they are the gold annotation
    export = as_export([task])
    export[0]["annotations"][0]["result"] = to_labelstudio([mine])[0]["annotations"][0]["result"]
    Path("export.json").write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")

    assert run(capsys, "convert", "export.json", "mine.jsonl", "--from", "labelstudio", "--to", "jsonl")[0] == 0
    code, _, err = run(capsys, "validate", "mine.jsonl")
    assert code == 0 and "valid" in err
    (converted,) = read_jsonl("mine.jsonl")
    assert [(e.label, e.start, e.end) for e in converted.entities] == [(e.label, e.start, e.end) for e in mine.entities]

    Path("mine-train.json").write_text(json.dumps({"train_files": ["mine.jsonl"], "keep": "last", **small}),
                                       encoding="utf-8")
    code, out, err = run(capsys, "train", "--config", "mine-train.json", "--init", "shipped", "--output", "runs/mine")
    assert code == 0, err
    assert json.loads(out)["output_dir"] == str(tmp_path / "runs" / "mine")
    assert (tmp_path / "runs" / "mine" / "model.safetensors").is_file()
    code, out, err = run(capsys, "evaluate", "--gold", "held-out.jsonl", "--engine", "model", "--model", "runs/mine",
                         "--bootstrap", "0")
    assert code == 0 and "Relations" in out and "in-sample" not in err
