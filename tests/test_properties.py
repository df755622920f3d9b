"""Property-based checks (hypothesis): extraction never raises, its output always validates,
round-trips through JSONL with offsets intact and stays within a fixed multiple of the
input size; validation accepts only what the other tools can use. Derandomized, bounded."""
from __future__ import annotations

import io
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fazhi_ie.batch import BatchConfig, run_batch
from fazhi_ie.document import Document, SchemaError
from fazhi_ie.analysis.evaluation import evaluate
from fazhi_ie.io.doccano import to_doccano
from fazhi_ie.io.jsonl import dumps_record
from fazhi_ie.io.labelstudio import to_labelstudio
from fazhi_ie.pipeline import extract as _extract


def extract(text, **kwargs):
    """These tests exercise the rule engine, named explicitly (the library's default is the model)."""
    kwargs.setdefault("engine", "rules")
    return _extract(text, **kwargs)
from fazhi_ie.rules import RuleEngine
from fazhi_ie.schema import validate_record
from fazhi_ie.analysis.stats import corpus_stats

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = (ROOT / "fazhi_ie" / "data" / "sample_report.txt").read_text(encoding="utf-8")
FRAGMENTS = [SAMPLE[i:i + n] for i, n in zip(range(0, 6000, 37), [5, 9, 14, 20, 3, 30] * 200)]
CJK = sorted({ch for ch in SAMPLE if "\u4e00" <= ch <= "\u9fff"})
DIGITS = list("0123456789０１２３４５６７８９一二两三四五六七八九十百千万亿零")
SEPARATORS = list(",.，、；;：:·．-～/ \t\u3000")
PUNCT = list("。！？“”‘’《》（）()【】%％‰")
CONTROL = [chr(c) for c in range(0, 32)] + ["\x7f", "\x85"]
RARE = ["\u2028", "\u2029", "\ufeff", "\u200b", "\u0301", "😀", "𠀀", "\ufffd", "\ue000", "Ａ", "é"]
CHARS = st.sampled_from(CJK + DIGITS + SEPARATORS + PUNCT + CONTROL + RARE)
PIECES = st.one_of(st.sampled_from(FRAGMENTS), st.text(CHARS, min_size=1, max_size=8), st.sampled_from(
    ["1,234名", "12,345,678人次", "6万余份", "近10万次", "99.16%", "两次", "2023年", "受理", "案件", "律师"]))
TEXTS = st.lists(PIECES, max_size=40).map("".join)
SETTINGS = settings(max_examples=120, derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ENGINE = RuleEngine()
# Output bytes may not exceed OUTPUT_BASE + OUTPUT_FACTOR * input bytes. The factor covers
# the worst case (a fact every few characters, each quoting a window of up to 320 characters
# and its metric and value spans); typical reports give 20-30 bytes per input character.
OUTPUT_BASE = 2000
OUTPUT_FACTOR = 400


@SETTINGS
@given(TEXTS)
def test_extract_output_validates_round_trips_and_is_bounded(text):
    doc = extract(text, engine=ENGINE, doc_id="p")
    record = doc.to_dict()
    assert validate_record(record) == []
    line = dumps_record(record)
    assert line.endswith("\n") and len(line.splitlines()) == 1  # no raw line separators
    back = Document.from_dict(json.loads(line))
    assert back.to_dict() == record
    for span in back.entities:
        assert text[span.start:span.end] == span.text
    for fact in back.facts:
        ev = fact.evidence
        assert text[ev.sentence_start:ev.sentence_end] == ev.sentence
        assert text[ev.value_span[0]:ev.value_span[1]] == fact.value
        assert text[ev.metric_span[0]:ev.metric_span[1]] == fact.metric
    size_in = len(text.encode("utf-8", "surrogatepass"))
    assert len(line.encode("utf-8", "surrogatepass")) <= OUTPUT_BASE + OUTPUT_FACTOR * size_in


@settings(max_examples=15, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TEXTS, min_size=1, max_size=4))
def test_batch_never_raises_and_accounts_for_every_document(texts):
    src = io.StringIO("".join(json.dumps({"id": f"t{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
    out = io.StringIO()
    result = run_batch(["-"], BatchConfig(stdin_format="jsonl"), out_stream=out, err_stream=io.StringIO(),
                       progress=False, stdin=src)
    assert result.documents + len(result.failures) == len(texts)
    assert len(out.getvalue().splitlines()) == result.documents


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 40) | st.floats(allow_nan=True) | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
    max_leaves=4)
BASE = extract("2023年，兰州市城关区司法局聘请4名法律顾问，全区受理行政复议案件93件。", engine=ENGINE, doc_id="b",
               meta={"year": 2023}).to_dict()


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from _paths(value, prefix + (index,))


PATHS = [p for p in _paths(BASE) if p]


@settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PATHS), JSON_VALUES)
def test_validate_accepts_exactly_what_the_tools_can_use(path, value):
    record = json.loads(json.dumps(BASE))
    target = record
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    problems = validate_record(record)
    if problems:
        try:
            Document.from_dict(record)
        except SchemaError:
            return
        raise AssertionError(f"from_dict accepted a record validate rejects: {problems}")
    doc = Document.from_dict(record)
    corpus_stats([doc])
    to_labelstudio([doc])
    to_doccano(doc)
    evaluate([doc], [doc], bootstrap=0)
    json.loads(dumps_record(doc.to_dict()))
