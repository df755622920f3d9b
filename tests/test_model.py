"""The model engine and its training harness, on a tiny randomly initialised encoder (fast, offline)."""
from __future__ import annotations

import json
import os
import math
import re
import shutil
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from conftest import FIXTURES  # noqa: E402
from model_fixtures import write_tiny_encoder  # noqa: E402

from fazhi_ie.document import Document, Span  # noqa: E402
from fazhi_ie.io.jsonl import read_jsonl  # noqa: E402
from fazhi_ie.neural import ModelDirectoryError, ModelEngine, load_model_directory  # noqa: E402
from fazhi_ie.neural.config import ModelConfig  # noqa: E402
from fazhi_ie.neural.engine import encode_text  # noqa: E402
from fazhi_ie.neural.network import Encoder  # noqa: E402
from fazhi_ie.neural.tokenization import AlignmentError, load_tokenizer, split_words, tokenize  # noqa: E402
from fazhi_ie.schema import validate_record  # noqa: E402
from fazhi_ie.trainer import ConfigError, TrainConfig, featurize, train  # noqa: E402

GOLD = FIXTURES / "gold_small.jsonl"


@pytest.fixture(scope="module")
def docs():
    return read_jsonl(GOLD)


@pytest.fixture(scope="module")
def encoder_dir(tmp_path_factory, docs):
    texts = [d.text for d in docs] + ["人民政府100%" + "全区受理行政复议案件93件。" * 3]
    return write_tiny_encoder(tmp_path_factory.mktemp("enc") / "tiny", texts)


def _config(encoder_dir: Path, out: Path, **kw) -> TrainConfig:
    data = {"train_files": [str(GOLD)], "init_encoder": str(encoder_dir), "output_dir": str(out), "num_layers": 2,
            "epochs": 60, "batch_size": 4, "window_tokens": 32, "window_stride": 20, "learning_rate": 5e-3,
            "head_learning_rate": 1e-2, "warmup_ratio": 0.05, "relation_dim": 32, "progress": False,
            "save_dtype": "float32"}
    data.update(kw)
    return TrainConfig.from_dict(data)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, encoder_dir):
    out = tmp_path_factory.mktemp("model") / "m"
    summary = train(_config(encoder_dir, out), log=lambda m: None)
    return out, summary


def test_encoder_matches_transformers_bert(encoder_dir):
    transformers = pytest.importorskip("transformers")
    bert = transformers.BertModel.from_pretrained(str(encoder_dir), add_pooling_layer=False,
                                                  attn_implementation="eager").eval()
    config = ModelConfig.from_bert_config(json.loads((encoder_dir / "config.json").read_text()))
    ours = Encoder(config).eval()
    from safetensors.torch import load_file

    ours.load_state_dict(load_file(str(encoder_dir / "model.safetensors")))
    ids = torch.tensor([[0, 5, 9, 12, 2, 1, 1]])
    att = torch.tensor([[1, 1, 1, 1, 1, 0, 0]])
    with torch.no_grad():
        expected = bert(input_ids=ids, attention_mask=att).last_hidden_state
        got = ours(ids, att)
    assert torch.allclose(expected[:, :5], got[:, :5], atol=1e-5)


def test_words_split_punctuation_and_scripts():
    text = "全区受理93件,占18.67%。"
    words = [text[s:e] for s, e in split_words(text, "subword")]
    assert words == ["全区受理", "93", "件", ",", "占", "18.67", "%", "。"]
    assert [text[s:e] for s, e in split_words(text, "char")][:4] == ["全", "区", "受", "理"]
    other = "人民政府"
    assert [other[s:e] for s, e in split_words(other, "subword", boundaries=[2])] == ["人民", "政府"]


def test_alignment_on_multi_character_pieces(encoder_dir):
    tok = load_tokenizer(encoder_dir)
    text = "县人民政府完成100%。"
    pieces = tokenize(tok, text, "subword")
    got = [text[s:e] for s, e in zip(pieces.starts, pieces.ends)]
    assert "人民政府" in got and "100" in got
    assert pieces.align_span(1, 5) == (got.index("人民政府"), got.index("人民政府"))
    with pytest.raises(AlignmentError, match=r"\[1, 3\)"):
        pieces.align_span(1, 3)  # 人民 ends inside the piece 人民政府
    forced = tokenize(tok, text, "subword", boundaries=[1, 3])
    first, last = forced.align_span(1, 3)
    assert text[forced.starts[first]:forced.ends[last]] == "人民"


def test_featurize_raises_on_misaligned_gold(encoder_dir, docs):
    tok = load_tokenizer(encoder_dir)
    mc = ModelConfig.from_bert_config(json.loads((encoder_dir / "config.json").read_text()), num_hidden_layers=2,
                                      window_tokens=32, window_stride=20, tokenization="subword")
    rows = featurize(docs[0], tok, mc)
    assert rows and all(len(r["ids"]) <= 32 for r in rows)
    tagged = sum(t > 0 for r in rows for t in r["tags"])
    assert tagged >= sum(len(e.text) > 0 for e in docs[0].entities)
    # an entity made only of a character the tokenizer's normaliser deletes has no piece: training stops and
    # names the document and the entity
    bad = Document("bad", "全区\u200b受理行政复议案件93件。", {}, (Span("T1", "ORG", 2, 3, "\u200b"),))
    with pytest.raises(AlignmentError, match=r"document bad: entity T1 ORG"):
        featurize(bad, tok, mc)


def test_training_learns_and_saves_a_model_directory(trained, docs):
    out, summary = trained
    losses = [h["loss"] for h in summary["history"]]
    assert losses[-1] < 0.6 * losses[0]
    assert {p.name for p in out.iterdir()} >= {"config.json", "model.safetensors", "tokenizer.json"}
    assert not list(out.glob("*.bin")) and not list(out.glob("*.pt")) and not list(out.glob("*.pkl"))
    config = json.loads((out / "config.json").read_text())
    assert config["entity_labels"] == ["ORG", "REGION", "PROGRAM", "DOC", "METRIC", "VALUE", "TIME"]
    assert config["schema_version"] == "1.1"
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert len(log) == 60 and log[0]["epoch"] == 1


def test_trained_model_predicts_valid_scored_output(trained, docs):
    from fazhi_ie.pipeline import annotate

    engine = ModelEngine.from_pretrained(trained[0])
    doc = annotate(Document(docs[0].id, docs[0].text, docs[0].meta), engine=engine)
    assert doc.entities, "the overfitted tiny model should find entities on its training text"
    assert validate_record(doc.to_dict()) == []
    assert all(0.0 <= e.score <= 1.0 for e in doc.entities)
    assert all(r.score is not None and 0.0 <= r.score <= 1.0 for r in doc.relations)
    gold = {(e.start, e.end, e.label) for e in docs[0].entities}
    found = {(e.start, e.end, e.label) for e in doc.entities}
    assert len(gold & found) >= len(gold) // 2


def test_save_load_round_trip_is_identical(trained, tmp_path, docs):
    out = trained[0]
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    a = ModelEngine.from_pretrained(out).predict(docs[1].text)
    b = ModelEngine.from_pretrained(copy).predict(docs[1].text)
    assert [(e.start, e.end, e.label, e.score) for e in a.entities] == [(e.start, e.end, e.label, e.score) for e in b.entities]
    assert [(r.head, r.tail, r.label, r.score) for r in a.relations] == [(r.head, r.tail, r.label, r.score) for r in b.relations]


def test_same_config_same_model(encoder_dir, tmp_path):
    a = train(_config(encoder_dir, tmp_path / "a", epochs=2), log=lambda m: None)
    b = train(_config(encoder_dir, tmp_path / "b", epochs=2), log=lambda m: None)
    assert [h["loss"] for h in a["history"]] == [h["loss"] for h in b["history"]]
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()


def test_long_sentence_is_covered_by_windows_without_truncation(trained):
    model, tok = load_model_directory(trained[0])
    sentence = ("全区受理行政复议案件93件，" * 215)[:3000]  # 3,000 characters, no sentence end
    assert len(sentence) == 3000
    pieces = tokenize(tok, sentence, model.config.tokenization)
    with torch.inference_mode():
        encoded = encode_text(model, pieces)
    assert len(pieces) > 20 * model.config.window_tokens
    assert encoded.states.shape[0] == len(pieces)
    assert bool((encoded.states.abs().sum(dim=1) > 0).all()), "every piece gets states from some window"
    prediction = ModelEngine.from_pretrained(trained[0]).predict(sentence)
    assert max((e.end for e in prediction.entities), default=0) > 2900, "entities are found at the far end too"


def test_continue_training_from_a_model_directory(trained, tmp_path, encoder_dir):
    out = tmp_path / "continued"
    config = _config(encoder_dir, out, epochs=1, init_model=str(trained[0]))
    summary = train(config, log=lambda m: None)
    assert (out / "model.safetensors").exists() and summary["best_epoch"] == 1


def test_continued_training_keeps_the_decoding_hybrid_and_drops_a_stale_calibration(trained, tmp_path, encoder_dir,
                                                                                      capsys):
    start = tmp_path / "start"
    shutil.copytree(trained[0], start)
    data = json.loads((start / "config.json").read_text())
    data.update(span_sources={"REGION": "rules"}, span_precedence="rules",
                score_calibration={"entities": [0.5, 0.0]})
    (start / "config.json").write_text(json.dumps(data))
    inherited = tmp_path / "inherited"
    train(_config(encoder_dir, inherited, epochs=1, init_model=str(start)), log=lambda m: None)
    config = ModelEngine.from_pretrained(inherited).config
    assert config.span_sources == {"REGION": "rules"} and config.span_precedence == "rules"
    assert config.score_calibration == {} and "calibrate.py" in capsys.readouterr().err
    changed = tmp_path / "changed"
    train(_config(encoder_dir, changed, epochs=1, init_model=str(start), span_sources={}), log=lambda m: None)
    assert ModelEngine.from_pretrained(changed).config.span_sources == {}


@pytest.mark.parametrize("damage, message", [
    ("no_weights", "model.safetensors is missing"),
    ("corrupt_weights", "unreadable or corrupt"),
    ("no_tokenizer", "tokenizer.json is missing"),
    ("unknown_key", "unknown key"),
    ("bad_json", "not valid JSON"),
    ("plain_encoder", "not a fazhi_ie model"),
    ("wrong_shape", "do not match config.json"),
])
def test_damaged_model_directory_gives_a_clear_error(trained, tmp_path, damage, message, encoder_dir):
    d = tmp_path / "m"
    shutil.copytree(trained[0], d)
    config = json.loads((d / "config.json").read_text())
    if damage == "no_weights":
        (d / "model.safetensors").unlink()
    elif damage == "corrupt_weights":
        data = (d / "model.safetensors").read_bytes()
        (d / "model.safetensors").write_bytes(data[: len(data) // 3])
    elif damage == "no_tokenizer":
        (d / "tokenizer.json").unlink()
    elif damage == "unknown_key":
        config["hiden_size"] = 3
        (d / "config.json").write_text(json.dumps(config))
    elif damage == "bad_json":
        (d / "config.json").write_text("{")
    elif damage == "plain_encoder":
        shutil.rmtree(d)
        d = encoder_dir
    elif damage == "wrong_shape":
        config["relation_dim"] = 16
        (d / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelDirectoryError, match=message):
        ModelEngine.from_pretrained(d)


def test_cli_model_errors_are_one_line(tmp_path, capsys):
    from fazhi_ie.cli import main

    report = tmp_path / "r.txt"
    report.write_text("全区受理案件93件。", encoding="utf-8")
    assert main(["extract", str(report), "--engine", "model", "--model", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err.strip()
    errors = [line for line in err.splitlines() if line.startswith("fazhi-ie:")]
    assert len(errors) == 1 and "no such model directory" in errors[0] and "Traceback" not in err


def test_train_config_rejects_unknown_keys_and_bad_values(tmp_path):
    with pytest.raises(ConfigError, match="unknown config key.*epoch.*valid keys"):
        TrainConfig.from_dict({"train_files": ["x"], "epoch": 3})
    with pytest.raises(ConfigError, match="tokenization"):
        TrainConfig.from_dict({"train_files": ["x"], "tokenization": "bpe"})
    with pytest.raises(ConfigError, match="train_files"):
        TrainConfig.from_dict({})


def test_plain_model_without_rule_features(encoder_dir, tmp_path, docs):
    out = tmp_path / "plain"
    train(_config(encoder_dir, out, epochs=2, rule_features=False), log=lambda m: None)
    config = json.loads((out / "config.json").read_text())
    assert config["rule_features"] is False
    engine = ModelEngine.from_pretrained(out)
    assert engine.rules is None
    prediction = engine.predict(docs[0].text)
    assert all(0.0 <= e.score <= 1.0 for e in prediction.entities)


def test_rule_features_are_inputs_of_the_hybrid_model(trained, docs):
    engine = ModelEngine.from_pretrained(trained[0])
    assert engine.config.rule_features and engine.rules is not None
    weights = engine.model.rule_tags.weight
    assert float(weights.detach().abs().sum()) > 0, "the rule-tag embedding was trained (it starts at zero)"


def test_default_engine_is_the_shipped_model_unless_configured(monkeypatch):
    import fazhi_ie.engines as engines
    from fazhi_ie.engines import default_engine_name

    monkeypatch.delenv("FAZHI_IE_ENGINE", raising=False)
    monkeypatch.delenv("FAZHI_IE_MODEL", raising=False)
    assert default_engine_name() == "model"
    monkeypatch.setattr(engines, "default_model_path", lambda: None)
    assert default_engine_name() == "rules", "without an installed model the rules are the default"
    monkeypatch.undo()
    monkeypatch.setenv("FAZHI_IE_ENGINE", "rules")
    assert default_engine_name() == "rules"
    monkeypatch.setenv("FAZHI_IE_ENGINE", "model")
    assert default_engine_name() == "model"
    monkeypatch.setenv("FAZHI_IE_ENGINE", "modle")
    with pytest.raises(ValueError, match="valid engines: rules, model"):
        default_engine_name()


def test_shipped_model_loads_offline_and_extracts_the_sample(monkeypatch):
    from importlib import resources

    import fazhi_ie
    from fazhi_ie.engines import default_model_path

    monkeypatch.delenv("FAZHI_IE_MODEL", raising=False)
    monkeypatch.delenv("FAZHI_IE_ENGINE", raising=False)
    assert default_model_path() is not None, "the package ships fazhi_ie/models/default"
    nlp = fazhi_ie.load()
    assert nlp.engine.name == "model" and nlp.engine.config.schema_version == fazhi_ie.SCHEMA_VERSION
    config = nlp.engine.config
    assert config.span_precedence == "rules" and config.source_of_span("VALUE") == "model"
    assert set(config.score_calibration) == {"entities", "relations"}
    sample = resources.files("fazhi_ie.data").joinpath("sample_report.txt").read_text(encoding="utf-8")
    doc = nlp(sample, meta={"region": "兰州市城关区", "year": 2023})
    assert validate_record(doc.to_dict()) == []
    assert any(e.label == "VALUE" for e in doc.entities) and doc.facts
    assert all(doc.text[e.start:e.end] == e.text for e in doc.entities)


def test_hybrid_decoding_takes_chosen_labels_from_the_rules(trained, docs):
    from fazhi_ie.rules import RuleEngine

    text = docs[0].text
    rules = RuleEngine().predict(text)
    rule_regions = {(e.start, e.end) for e in rules.entities if e.label == "REGION"}
    assert rule_regions, "the fixture needs a REGION the rules find"
    engine = ModelEngine.from_pretrained(trained[0], span_sources={"REGION": "rules"}, relation_sources={"AGENT": "rules"})
    prediction = engine.predict(text)
    assert validate_record({"id": "x", "text": text, "entities": [e.to_dict() for e in prediction.entities],
                            "relations": [r.to_dict() for r in prediction.relations]}) == []
    regions = {(e.start, e.end) for e in prediction.entities if e.label == "REGION"}
    assert regions and regions <= rule_regions
    others = [e for e in prediction.entities if e.label != "REGION"]
    for start, end in rule_regions - regions:  # a rule REGION is left out only where a model span sits
        assert any(e.start < end and start < e.end for e in others)
    assert all(e.score is not None and 0.0 <= e.score <= 1.0 for e in prediction.entities)
    by_id = {e.id: e for e in prediction.entities}
    rule_by_id = {e.id: e for e in rules.entities}
    rule_agent = {((rule_by_id[r.head].start, rule_by_id[r.head].end), (rule_by_id[r.tail].start, rule_by_id[r.tail].end))
                  for r in rules.relations if r.label == "AGENT"}
    agent = {((by_id[r.head].start, by_id[r.head].end), (by_id[r.tail].start, by_id[r.tail].end))
             for r in prediction.relations if r.label == "AGENT"}
    assert agent <= rule_agent
    assert all(r.score is not None and 0.0 <= r.score <= 1.0 for r in prediction.relations)
    heads = [r.tail for r in prediction.relations if r.label == "HAS_VALUE"]
    assert len(heads) == len(set(heads)), "every VALUE keeps exactly one head"


def test_hybrid_sources_are_validated_with_the_valid_options(trained, encoder_dir, tmp_path):
    with pytest.raises(ModelDirectoryError, match="valid sources: model, rules"):
        ModelConfig.from_dict({"vocab_size": 10, "span_sources": {"REGION": "gazetteer"}})
    with pytest.raises(ValueError, match="valid labels: ORG, REGION"):
        ModelEngine.from_pretrained(trained[0], span_sources={"PLACE": "rules"})
    with pytest.raises(TypeError, match="relation_threshold"):
        ModelEngine.from_pretrained(trained[0], window_tokens=64)
    with pytest.raises(ConfigError, match="HAS_VALUE must come from the model"):
        _config(encoder_dir, tmp_path / "x", relation_sources={"HAS_VALUE": "rules"})
    out = tmp_path / "hybrid"
    train(_config(encoder_dir, out, epochs=1, span_sources={"DOC": "rules"}), log=lambda m: None)
    assert ModelEngine.from_pretrained(out).config.span_sources == {"DOC": "rules"}


def test_score_calibration_maps_scores_and_changes_no_decision(trained, docs):
    plain = ModelEngine.from_pretrained(trained[0]).predict(docs[0].text)
    mapped = ModelEngine.from_pretrained(trained[0], score_calibration={"entities": [0.5, -1.0], "relations": [2.0, 0.5]})
    calibrated = mapped.predict(docs[0].text)
    key = lambda p: ([(e.start, e.end, e.label) for e in p.entities], [(r.head, r.tail, r.label) for r in p.relations])
    assert key(plain) == key(calibrated)
    c = mapped.config
    for a, b in zip(plain.entities, calibrated.entities):
        # a.score is rounded to 4 decimals: the raw score lies within 5e-5 of it (the map is monotone, and
        # steep near 0 and 1, so a fixed tolerance on the mapped score does not hold there)
        low, high = c.calibrated("entities", max(a.score - 5e-5, 0.0)), c.calibrated("entities", min(a.score + 5e-5, 1.0))
        assert low - 5e-5 - 1e-9 <= b.score <= high + 5e-5 + 1e-9
    assert c.calibrated("entities", 0.9) > c.calibrated("entities", 0.5)  # monotone
    with pytest.raises(ValueError, match="score_calibration"):
        ModelEngine.from_pretrained(trained[0], score_calibration={"spans": [1.0, 0.0]})


def test_calibration_fit_recovers_a_known_map():
    import random

    from training.calibrate import fit_platt

    rng = random.Random(0)
    pairs = []
    for _ in range(4000):
        s = rng.uniform(0.01, 0.99)
        z = 0.5 * math.log(s / (1 - s)) - 1.0  # the true probability of being right
        pairs.append((s, rng.random() < 1 / (1 + math.exp(-z))))
    a, b = fit_platt(pairs)
    assert a == pytest.approx(0.5, abs=0.12) and b == pytest.approx(-1.0, abs=0.15)


def test_evaluating_a_model_on_its_training_documents_warns(trained, capsys):
    from fazhi_ie.cli import main

    assert "fx-1" in ModelEngine.from_pretrained(trained[0]).trained_on
    assert main(["evaluate", "--gold", str(GOLD), "--engine", "model", "--model", str(trained[0]),
                 "--bootstrap", "0"]) == 0
    err = capsys.readouterr().err
    assert "in-sample" in err and "fx-1" in err


def test_train_lists_its_options_without_a_config(capsys):
    from fazhi_ie.cli import main

    assert main(["train", "--list-options"]) == 0
    out = capsys.readouterr().out
    assert "span_precedence (default None)" in out and "epochs (default 10)" in out
    assert main(["train"]) != 0
    assert "needs --config" in capsys.readouterr().err


def test_batch_workers_share_the_cores_for_the_model(trained):
    from fazhi_ie import batch

    before = torch.get_num_threads()
    try:
        batch._init_worker("model", str(trained[0]), "jsonl", 1, os.getppid())  # the parent is alive: no exit
        assert torch.get_num_threads() == 1 and batch._WORKER_STATE["pipeline"].engine.name == "model"
    finally:
        torch.set_num_threads(before)
        batch._WORKER_STATE.clear()


def test_training_config_values_are_type_checked(tmp_path):
    from fazhi_ie.trainer import ConfigError, TrainConfig

    base = {"train_files": ["a.jsonl"], "output_dir": str(tmp_path / "out")}
    for bad, message in ((
            {"epochs": "10"}, "epochs must be a whole number, got '10' (str)"),
            ({"learning_rate": "fast"}, "learning_rate must be a finite number, got 'fast' (str)"),
            ({"max_steps": -1}, "max_steps must be at least 0, got -1"),
            ({"rule_features": "yes"}, "rule_features must be true or false"),
            ({"exclude_docs": "jinta-2023"}, "exclude_docs must be a list of strings"),
            ({"warmup_ratio": 1.5}, "warmup_ratio must be at most 1.0")):
        with pytest.raises(ConfigError, match=re.escape(message)):
            TrainConfig.from_dict({**base, **bad})


def test_training_never_writes_into_the_package():
    from fazhi_ie.engines import default_model_path
    from fazhi_ie.trainer import ConfigError, TrainConfig

    with pytest.raises(ConfigError, match="inside the installed package"):
        TrainConfig.from_dict({"train_files": ["a.jsonl"], "output_dir": str(default_model_path())})


def test_training_options_group_and_override_from_the_command_line(tmp_path, capsys):
    from fazhi_ie.cli import build_parser
    from fazhi_ie.trainer import DataArguments, ModelArguments, TrainConfig, TrainingArguments

    config = TrainConfig.from_dict({"data": {"train_files": ["a.jsonl"]}, "training": {"epochs": 3},
                                    "output_dir": str(tmp_path / "o")})
    assert isinstance(config.data, DataArguments) and isinstance(config.model, ModelArguments)
    assert isinstance(config.training, TrainingArguments) and config.epochs == 3 == config.training.epochs
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"train_files": ["a.jsonl"], "epochs": 6, "output_dir": str(tmp_path / "o")}))
    args = build_parser().parse_args(["train", "--config", str(path), "--epochs", "2", "--exclude-docs", '["x"]',
                                      "--rule-features", "false"])
    assert (args.opt_epochs, args.opt_exclude_docs, args.opt_rule_features) == (2, ["x"], False)
    overridden = TrainConfig.from_file(path, {"epochs": args.opt_epochs, "exclude_docs": args.opt_exclude_docs})
    assert overridden.epochs == 2 and overridden.exclude_docs == ["x"]


def test_training_killed_midway_resumes_to_the_uninterrupted_result(encoder_dir, tmp_path, monkeypatch):
    """Checkpoints within an epoch: a run killed between checkpoints and resumed ends with the same weights as
    a run never interrupted (same steps, order and random state)."""
    import fazhi_ie.trainer as T

    kw = dict(epochs=4, checkpoint_steps=3, rule_features=False)
    real, calls = T.relation_loss, []

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(T, "relation_loss", counting)
    whole = tmp_path / "whole"
    train(_config(encoder_dir, whole, **kw), log=lambda m: None)
    total, calls[:] = len(calls), []
    assert total >= 16

    def dying(*args, **kwargs):  # killed part way through, between two checkpoints
        calls.append(1)
        if len(calls) == total // 2 + 1:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    cut = tmp_path / "cut"
    monkeypatch.setattr(T, "relation_loss", dying)
    with pytest.raises(KeyboardInterrupt):
        train(_config(encoder_dir, cut, **kw), log=lambda m: None)
    assert (cut / "checkpoint" / "state.json").is_file()
    monkeypatch.setattr(T, "relation_loss", real)
    messages = []
    train(_config(encoder_dir, cut, resume=True, **kw), log=messages.append)
    assert any(m.startswith("resuming from") for m in messages)
    assert (whole / "model.safetensors").read_bytes() == (cut / "model.safetensors").read_bytes()
    assert [json.loads(l)["loss"] for l in (whole / "train_log.jsonl").read_text().splitlines()] == \
        [json.loads(l)["loss"] for l in (cut / "train_log.jsonl").read_text().splitlines()]


def test_a_checkpoint_of_another_config_is_refused(encoder_dir, tmp_path):
    from fazhi_ie.trainer import ConfigError

    out = tmp_path / "m"
    train(_config(encoder_dir, out, epochs=1, rule_features=False), log=lambda m: None)
    with pytest.raises(ConfigError, match="written with another config"):
        train(_config(encoder_dir, out, epochs=1, rule_features=False, learning_rate=1e-3, resume=True),
              log=lambda m: None)


# --- reliability items 3-6: the shipped model on awkward input, damaged model directories, long documents ---
SHIPPED = Path(__file__).resolve().parents[1] / "fazhi_ie" / "models" / "default"


@pytest.fixture
def shipped_copy(tmp_path):
    d = tmp_path / "shipped"
    shutil.copytree(SHIPPED, d)
    return d


@pytest.mark.parametrize("field, value, message", [
    ("relation_threshold", "0.5", "relation_threshold must be a finite number, got '0.5'"),
    ("relation_threshold", 1.5, "relation_threshold must be in 0..1"),
    ("window_stride", "192", "window_stride must be an integer"),
    ("rule_features", "yes", "rule_features must be true or false"),
    ("hidden_size", 0, "hidden_size must be at least 1"),
    ("score_calibration", {"entities": [1.0, float("nan")]}, "score_calibration must be an object of lists of finite"),
    ("span_sources", ["ORG"], "span_sources must be an object of strings"),
])
def test_config_types_are_checked_at_load(shipped_copy, field, value, message):
    # a string relation_threshold used to load and then fail every document with a TypeError naming no file
    config = json.loads((shipped_copy / "config.json").read_text(encoding="utf-8"))
    config[field] = value
    (shipped_copy / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ModelDirectoryError) as err:
        ModelEngine.from_pretrained(shipped_copy)
    assert str(shipped_copy / "config.json") in str(err.value) and message in str(err.value)
    assert "\n" not in str(err.value)


def test_nan_weights_fail_at_load_naming_the_tensor(shipped_copy):
    from safetensors.torch import load_file, save_file

    weights = load_file(str(shipped_copy / "model.safetensors"))
    name = sorted(weights)[5]
    weights[name].view(-1)[0] = float("nan")
    save_file(weights, str(shipped_copy / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(ModelDirectoryError) as err:
        ModelEngine.from_pretrained(shipped_copy)
    assert str(shipped_copy / "model.safetensors") in str(err.value) and name in str(err.value)
    assert "NaN" in str(err.value)


@pytest.fixture(scope="module")
def shipped():
    import fazhi_ie

    return fazhi_ie.load(engine="model")


def _sample_report() -> str:
    return (SHIPPED.parents[1] / "data" / "sample_report.txt").read_text(encoding="utf-8")


def _values(doc):
    return [(e.text, e.norm.number, e.norm.unit, e.norm.qualifier) for e in doc.entities if e.label == "VALUE"]


@pytest.mark.parametrize("amount,number,qualifier", [("1亿3000万元", 130_000_000.0, None),
                                                     ("1亿3千多万元", 130_000_000.0, "gt"),
                                                     ("2亿零5百万元", 205_000_000.0, None)])
def test_shipped_model_reads_a_compound_amount_as_one_value(shipped, amount, number, qualifier):
    doc = shipped(f"全年挽回经济损失{amount}。")
    assert _values(doc) == [(amount, number, "元", qualifier)]
    assert [(f.metric, f.value, f.number, f.unit) for f in doc.facts] in (
        [("挽回经济损失", amount, number, "元")], [("经济损失", amount, number, "元")])


def _cutting_decoder(monkeypatch):
    """Make the network cut every VALUE after its first piece (a VALUE, then another VALUE for the rest)."""
    from fazhi_ie.neural import engine as model_engine

    real = model_engine.decode_spans

    def cut(encoded, tags, start=0, end=None, bound=None):
        out = []
        for f, l, label, p in real(encoded, tags, start, end, bound):
            out += [(f, f, label, p), (f + 1, l, label, p)] if label == "VALUE" and l > f else [(f, l, label, p)]
        return out

    monkeypatch.setattr(model_engine, "decode_spans", cut)


@pytest.mark.parametrize("text,value,number,unit", [("全年挽回经济损失1亿3000万元。", "1亿3000万元", 130_000_000.0, "元"),
                                                    ("全市新增１，２３４名律师。", "１，２３４名", 1234.0, "名")])
def test_a_value_the_network_cuts_is_repaired_by_the_number_grammar(shipped, monkeypatch, text, value, number, unit):
    _cutting_decoder(monkeypatch)
    doc = shipped(text)
    assert [v[:3] for v in _values(doc)] == [(value, number, unit)]
    start = text.index(value)
    assert [(e.start, e.end) for e in doc.entities if e.label == "VALUE"] == [(start, start + len(value))]
    repaired = doc.meta["repaired_spans"]
    assert repaired and all(r["text"] == value and "amount was cut" in r["reason"] for r in repaired)
    assert [f.value for f in doc.facts] == [value]


def test_repair_spans_checks_model_spans_against_the_text():
    from fazhi_ie.neural.engine import repair_spans

    def run(text, spans):
        kept, dropped, repaired = repair_spans(text, spans)
        return [(text[s:e], label) for s, e, label, _, _ in kept], [d["text"] for d in dropped], repaired

    assert run("全年挽回经济损失1亿3000万元。", [(2, 8, "METRIC"), (8, 10, "VALUE")])[0] == [
        ("挽回经济损失", "METRIC"), ("1亿3000万元", "VALUE")]
    assert run("受理3000万元", [(2, 6, "VALUE")])[0] == [("3000万元", "VALUE")]  # a scale after the cut
    assert run("全市新增１，２３４名律师", [(4, 6, "VALUE"), (6, 10, "VALUE"), (10, 12, "METRIC")])[0] == [
        ("１，２３４名", "VALUE"), ("律师", "METRIC")]
    assert run("受理93件", [(2, 4, "VALUE")])[0] == [("93", "VALUE")]  # a unit left out is not a cut number
    assert run("全区受理案件93件😀。", [(6, 10, "VALUE")])[0] == [("93件", "VALUE")]
    assert run("为期5天的法治督察", [(2, 5, "VALUE"), (5, 9, "PROGRAM")])[0] == [("5天", "VALUE"), ("法治督察", "PROGRAM")]
    assert run("开设法治课100多场(次)。", [(5, 12, "VALUE")])[0] == [("100多场(次)", "VALUE")]
    kept, dropped, _ = run("审结䶵75件。来函236批251人次", [(2, 3, "VALUE"), (3, 6, "VALUE"), (9, 18, "VALUE")])
    assert kept == [("75件", "VALUE")] and dropped == ["䶵", "236批251人次"]
    kept, _, repaired = run("<b>全区受理案件93件</b>", [(0, 3, "METRIC"), (3, 9, "METRIC"), (9, 13, "VALUE"),
                                                      (14, 16, "METRIC")])
    assert kept == [("全区受理案件", "METRIC"), ("93件", "VALUE")]
    assert repaired == [{"label": "VALUE", "text": "93件", "start": 9, "end": 12, "was": "93件<", "was_start": 9,
                         "was_end": 13, "reason": "markup at its edge"}]
    # an extension that would run into a span of another label is not made
    assert run("1亿3000万元", [(0, 2, "VALUE"), (2, 8, "METRIC")])[0] == [("1亿", "VALUE"), ("3000万元", "METRIC")]


def test_model_values_without_a_number_are_dropped_and_listed(shipped):
    text = "全区受理行政复议案件93件😀。审结䶵75件。"
    doc = shipped(text)
    assert validate_record(doc.to_dict()) == []
    values = _values(doc)
    assert ("93件", 93.0, "件", None) in values
    assert all(number is not None and any(ch.isdigit() for ch in value) for value, number, _, _ in values)
    dropped = doc.meta.get("dropped_values", [])
    assert ("75件", 75.0, "件", None) in values or any(d["text"] == "75件" for d in dropped)
    assert all(d["reason"] and text[d["start"]:d["end"]] == d["text"] for d in dropped)
    assert not any(f.number is None for f in doc.facts)


def test_no_entity_edge_inside_markup(shipped):
    import re

    text = "<b>全区受理案件93件</b>"
    doc = shipped(text)
    tags = [m.span() for m in re.finditer(r"<[^<>]*>", text)]
    for e in doc.entities:
        assert not any(a <= e.start < b or a < e.end <= b for a, b in tags), e
    assert _values(doc) == [("93件", 93.0, "件", None)]


def test_a_value_does_not_end_in_a_particle(shipped):
    doc = shipped(_sample_report(), meta={"region": "兰州市城关区", "year": 2023})
    assert not [e.text for e in doc.entities if e.label == "VALUE" and e.text[-1] in "的了等"]
    assert ("法治督察", "5天", "天") in [(f.metric, f.value, f.unit) for f in doc.facts]


def test_text_chunks_are_bounded_and_cut_between_sentences():
    from fazhi_ie.neural.engine import CHUNK_CHARS, text_chunks

    report = _sample_report()
    for text in ("\n".join([report] * 3), report.replace("\n", "")):
        chunks = list(text_chunks(text))
        assert all(e - s <= CHUNK_CHARS for s, e, _ in chunks) and len(chunks) >= len(text) // CHUNK_CHARS
        assert "".join(text[s:e] for s, e, _ in chunks).replace("\n", "") == text.replace("\n", "").strip()
        for (_, end, _), (start, _, _) in zip(chunks, chunks[1:]):
            assert text[end] == "\n" or text[end - 1] in "。！？”", "a chunk ends at a line or sentence end"
    sentence = "全区受理行政复议案件93件，" * 700  # one sentence of 9,800 characters
    chunks = list(text_chunks(sentence))
    assert all(e - s <= CHUNK_CHARS and sentence[e - 1] == "，" for s, e, _ in chunks[:-1])


def test_the_model_reads_a_long_document_in_bounded_chunks(trained, monkeypatch):
    from fazhi_ie.neural import engine as model_engine

    seen = []
    real = model_engine.tokenize
    monkeypatch.setattr(model_engine, "tokenize", lambda tok, text, *a, **k: seen.append(len(text)) or real(tok, text, *a, **k))
    text = "\n".join(["全区受理行政复议案件93件。"] * 1500)  # 22,500 characters
    prediction = ModelEngine.from_pretrained(trained[0]).predict(text)
    assert max(seen) <= model_engine.CHUNK_CHARS and sum(seen) >= len(text) - len(seen)
    assert max(e.end for e in prediction.entities) > len(text) - 20
    assert len({e.id for e in prediction.entities}) == len(prediction.entities)
