"""The public API (load, pipe, read/write, facts_table, render) and the README's Python examples."""
from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
import types

import pytest

import fazhi_ie
from conftest import ROOT
from fazhi_ie import Document

TEXT = "今年来，全区共受理行政复议案件93件，审结75件，行政机关负责人出庭应诉率达100%。"


@pytest.fixture(scope="module")
def nlp():
    return fazhi_ie.load(engine="rules")


def test_load_defaults_and_reuses_one_engine(nlp, monkeypatch):
    from fazhi_ie import engines, pipeline as pipeline_module

    built = []
    real = pipeline_module.load_engine
    monkeypatch.setattr(pipeline_module, "load_engine",
                        lambda name, model_path=None: built.append(name) or real(name, model_path))
    monkeypatch.setattr(engines, "default_engine_name", lambda: "rules")
    pipeline = fazhi_ie.load(engine="rules")
    pipeline(TEXT)
    list(pipeline.pipe([TEXT, TEXT, TEXT], batch_size=2))
    assert built == ["rules"] and pipeline.engine_name == "rules"


def test_a_model_path_implies_the_model_engine(tmp_path, monkeypatch):
    from fazhi_ie import pipeline as pipeline_module
    from fazhi_ie.engines import ModelNotInstalledError

    with pytest.raises(ModelNotInstalledError, match="no-model-here"):
        fazhi_ie.load(tmp_path / "no-model-here")
    calls = []
    rules = pipeline_module.load_engine("rules")
    monkeypatch.setattr(pipeline_module, "load_engine",
                        lambda name, model_path=None: calls.append((name, model_path)) or rules)
    fazhi_ie.load("some/model")
    fazhi_ie.load(engine="rules")
    assert calls == [("model", "some/model"), ("rules", None)]


def test_call_gives_entities_relations_and_traceable_facts(nlp):
    doc = nlp(TEXT, meta={"region": "兰州市城关区", "year": 2023}, doc_id="r1")
    assert doc.id == "r1" and doc.meta["region"] == "兰州市城关区"
    assert {e.label for e in doc.entities} >= {"METRIC", "VALUE"} and doc.relations
    values = {f.value: f for f in doc.facts}
    assert values["93件"].number == 93.0 and values["93件"].unit == "件"
    for fact in doc.facts:
        start, end = fact.evidence.value_span
        assert doc.text[start:end] == fact.value


def test_pipe_streams_lazily_in_order(nlp):
    pulled = []

    def source():
        for i in range(10):
            pulled.append(i)
            yield TEXT if i % 2 else (TEXT, {"year": 2020 + i})

    stream = nlp.pipe(source(), batch_size=3)
    first = next(stream)
    assert pulled == [0, 1, 2]  # one batch read, not the whole input
    rest = list(stream)
    assert [d.id for d in [first] + rest] == [f"doc-{i}" for i in range(10)]
    assert first.meta["year"] == 2020


def test_pipe_accepts_documents_and_records_and_rejects_others(nlp):
    gold = Document("g1", TEXT, {"year": 2023})
    out = list(nlp.pipe([gold, {"id": "x", "text": TEXT}]))
    assert [d.id for d in out] == ["g1", "x"] and out[0].meta["engine"] == "rules"
    with pytest.raises(TypeError, match="item 0"):
        list(nlp.pipe([42]))
    with pytest.raises(ValueError):
        list(nlp.pipe([TEXT], batch_size=0))


def test_document_round_trips_through_dict_and_jsonl(nlp, tmp_path):
    doc = nlp(TEXT, meta={"year": 2023})
    assert Document.from_dict(doc.to_dict()) == doc
    path = tmp_path / "out.jsonl"
    assert fazhi_ie.write_jsonl([doc, doc], path) == 2
    assert fazhi_ie.read_jsonl(path) == [doc, doc]


def test_every_public_name_has_a_docstring():
    missing = []
    for name in fazhi_ie.__all__:
        obj = getattr(fazhi_ie, name)
        if isinstance(obj, (str, tuple, int)):
            continue
        if not (inspect.getdoc(obj) or "").strip():
            missing.append(name)
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") or not callable(member) and not isinstance(member, property):
                    continue
                if not (inspect.getdoc(member) or "").strip():
                    missing.append(f"{name}.{attr}")
    assert not missing, f"public names without a docstring: {missing}"


def test_import_stays_free_of_pandas_and_torch():
    code = "import sys, fazhi_ie; bad = [m for m in ('pandas', 'torch', 'pyarrow', 'datasets') if m in sys.modules]; assert not bad, bad"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def readme_python_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", readme, flags=re.S)


def test_readme_has_python_examples():
    assert len(readme_python_blocks()) >= 2


@pytest.mark.parametrize("index", [pytest.param(i, marks=pytest.mark.slow) if i else i  # later blocks run the model
                                   for i in range(len(readme_python_blocks()))])
def test_readme_python_example_runs(index, tmp_path, monkeypatch, capsys):
    """Each ```python block of the README runs as written, from a folder that sees the repo's data/."""
    (tmp_path / "data").symlink_to(ROOT / "data")
    monkeypatch.chdir(tmp_path)
    code = readme_python_blocks()[index]
    exec(compile(code, f"README.md python block {index + 1}", "exec"), {"__name__": "__readme__"})


def test_a_document_is_split_into_sentences_once(monkeypatch):
    """The pipeline splits once and hands the sentences to every stage: the engine (and the rule engine inside
    the model engine), normalisation and the facts."""
    import fazhi_ie.neural.engine as model_engine
    import fazhi_ie.pipeline as pipeline_module
    import fazhi_ie.sentences as sentences_module

    real = sentences_module.split_sentences
    calls = []

    def counting(text):
        calls.append(len(text))
        return real(text)

    for module in (sentences_module, pipeline_module, model_engine):
        monkeypatch.setattr(module, "split_sentences", counting)
    for engine in ("rules", "model"):
        calls.clear()
        fazhi_ie.load(engine=engine)(TEXT + "\n" + TEXT)
        assert calls == [len(TEXT) * 2 + 1], engine


def test_a_user_engine_is_registered_or_passed_directly():
    from fazhi_ie.document import Span
    from fazhi_ie.engines import engine_names, register_engine
    from fazhi_ie.prediction import Prediction

    class Numbers:
        """A toy engine: every run of digits and 件 is a VALUE (no heads, so no facts)."""

        name = "numbers"

        def predict(self, text):
            import re

            spans = [Span(f"T{i}", "VALUE", m.start(), m.end(), m.group()) for i, m in
                     enumerate(re.finditer(r"\d+件", text), start=1)]
            return Prediction(spans, [])

    doc = fazhi_ie.load(engine=Numbers())(TEXT)
    assert doc.meta["engine"] == "numbers" and [e.text for e in doc.entities] == ["93件", "75件"]
    assert doc.entities[0].norm.number == 93.0  # the pipeline normalises every engine's values
    register_engine("numbers-test", lambda model_path: Numbers())
    assert "numbers-test" in engine_names() and fazhi_ie.load(engine="numbers-test").engine_name == "numbers"
    with pytest.raises(ValueError, match="built-in engine"):
        register_engine("rules", lambda model_path: Numbers())
    with pytest.raises(ValueError, match="valid engines: rules, model"):
        fazhi_ie.load(engine="nope")


def test_a_model_directory_round_trips_through_save_pretrained(tmp_path):
    from fazhi_ie.engines import default_model_path
    from fazhi_ie.neural import ModelEngine

    engine = ModelEngine.from_pretrained(default_model_path())
    out = engine.save_pretrained(tmp_path / "copy")
    assert {p.name for p in out.iterdir()} >= {"config.json", "model.safetensors", "tokenizer.json"}
    again = ModelEngine.from_pretrained(out)
    a, b = engine.predict(TEXT), again.predict(TEXT)
    assert [(e.start, e.end, e.label) for e in a.entities] == [(e.start, e.end, e.label) for e in b.entities]
