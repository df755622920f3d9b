"""The model directory's configuration: encoder shape, labels, schema version, decoding.

Stored as `config.json` in a model directory next to `model.safetensors` and
`tokenizer.json`. Unknown keys are rejected so that a typo never passes silently.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Sequence, get_args, get_origin, get_type_hints

from ..schema import ENTITY_LABELS, RELATION_RULES, SCHEMA_VERSION

MODEL_FORMAT = "fazhi_ie-span-relation/1"
TOKENIZATION_MODES = ("char", "subword")
SOURCES = ("model", "rules")
SCORE_KINDS = ("entities", "relations")


class ModelDirectoryError(RuntimeError):
    """A model directory that is missing, incomplete, corrupt or built for another schema."""


def check_decoding(span_sources: Any, relation_sources: Any, span_precedence: str = "model",
                   entity_labels: Sequence[str] = ENTITY_LABELS,
                   relation_labels: Sequence[str] = tuple(RELATION_RULES)) -> None:
    """Raise ValueError unless the decoding hybrid is valid: both source maps send some of their labels
    to one of SOURCES, and span_precedence is one of SOURCES.

    HAS_VALUE always comes from the model: its softmax over heads gives every VALUE exactly one head.
    """
    for name, sources, labels in (("span_sources", span_sources, entity_labels),
                                  ("relation_sources", relation_sources, relation_labels)):
        if not isinstance(sources, dict):
            raise ValueError(f"{name} must be an object mapping labels to sources, got {sources!r}")
        for label, source in sources.items():
            if label not in labels:
                raise ValueError(f"{name}: unknown label {label!r}; valid labels: {', '.join(labels)}")
            if source not in SOURCES:
                raise ValueError(f"{name}[{label!r}] = {source!r}; valid sources: {', '.join(SOURCES)}")
    if relation_sources.get("HAS_VALUE", "model") != "model":
        raise ValueError("relation_sources: HAS_VALUE must come from the model (it gives every VALUE exactly one head)")
    if span_precedence not in SOURCES:
        raise ValueError(f"span_precedence {span_precedence!r}; valid: {', '.join(SOURCES)}")


#: config fields that must be at least 1 (the network's shape and the decoder's reach)
POSITIVE_FIELDS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                   "max_position_embeddings", "type_vocab_size", "relation_dim", "max_pair_tokens", "distance_buckets")


def _is_number(value: Any) -> bool:
    """A finite int or float (not a bool, a string, NaN or infinity)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _matches(value: Any, hint: Any) -> bool:
    """Whether `value` (from JSON) has the type `hint` of a ModelConfig field."""
    origin = get_origin(hint)
    if hint is Any:
        return True
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return _is_number(value)
    if hint is str:
        return isinstance(value, str)
    if origin is list:
        return isinstance(value, list) and all(_matches(v, get_args(hint)[0]) for v in value)
    if origin is dict:
        key, item = get_args(hint)
        return isinstance(value, dict) and all(_matches(k, key) and _matches(v, item) for k, v in value.items())
    return isinstance(value, hint)


def _describe(hint: Any, plural: bool = False) -> str:
    """'a finite number', 'a list of strings', 'an object of strings' (plural: 'finite numbers' ...)."""
    names = {bool: ("true or false", "booleans"), int: ("an integer", "integers"),
             float: ("a finite number", "finite numbers"), str: ("a string", "strings")}
    if hint in names:
        return names[hint][plural]
    if get_origin(hint) is list:
        return ("lists" if plural else "a list") + f" of {_describe(get_args(hint)[0], True)}"
    if get_origin(hint) is dict:
        item = get_args(hint)[1]
        return ("objects" if plural else "an object") + ("" if item is Any else f" of {_describe(item, True)}")
    return getattr(hint, "__name__", str(hint))


@lru_cache(maxsize=None)
def _field_types(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def check_field_types(config: "ModelConfig") -> None:
    """Raise ValueError naming the first field whose value has the wrong type or is out of range
    (a string relation_threshold, a NaN, a zero hidden_size), so that a bad config.json fails at load."""
    for name, hint in _field_types(type(config)).items():
        value = getattr(config, name)
        if not _matches(value, hint):
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            raise ValueError(f"{name} must be {_describe(hint)}, got {shown} ({type(value).__name__})")
    for name in POSITIVE_FIELDS:
        if getattr(config, name) < 1:
            raise ValueError(f"{name} must be at least 1, got {getattr(config, name)}")
    if not 0.0 <= config.relation_threshold <= 1.0:
        raise ValueError(f"relation_threshold must be in 0..1, got {config.relation_threshold}")
    if config.layer_norm_eps <= 0:
        raise ValueError(f"layer_norm_eps must be above 0, got {config.layer_norm_eps}")
    if config.hidden_size % config.num_attention_heads:
        raise ValueError(f"hidden_size ({config.hidden_size}) must be a multiple of num_attention_heads "
                         f"({config.num_attention_heads})")
    for name in ("pad_token_id", "bos_token_id", "eos_token_id", "unk_token_id"):
        if not 0 <= getattr(config, name) < config.vocab_size:
            raise ValueError(f"{name} must be in 0..vocab_size-1, got {getattr(config, name)}")


def bio_tags(labels: tuple[str, ...] = ENTITY_LABELS) -> tuple[str, ...]:
    """O, then B-/I- for every entity label, in label order."""
    return ("O",) + tuple(f"{p}-{label}" for label in labels for p in ("B", "I"))


@dataclass
class ModelConfig:
    """Everything needed to rebuild the network and decode its output."""

    vocab_size: int
    hidden_size: int = 384
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 1536
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_act: str = "gelu"
    pad_token_id: int = 1
    bos_token_id: int = 0
    eos_token_id: int = 2
    unk_token_id: int = 3
    entity_labels: list[str] = field(default_factory=lambda: list(ENTITY_LABELS))
    relation_labels: list[str] = field(default_factory=lambda: list(RELATION_RULES))
    schema_version: str = SCHEMA_VERSION
    tokenization: str = "char"
    window_tokens: int = 256
    window_stride: int = 192
    relation_dim: int = 256
    max_pair_tokens: int = 160
    distance_buckets: int = 12
    relation_threshold: float = 0.5
    rule_features: bool = False
    rule_feature_layer: int = 0
    span_sources: dict[str, str] = field(default_factory=dict)
    relation_sources: dict[str, str] = field(default_factory=dict)
    span_precedence: str = "model"
    #: decoding: no entity edge inside a bigram the corpus keeps whole (cohesion.py; fazhi_ie/data/bound_bigrams.txt)
    keep_words_whole: bool = True
    #: decoding: drop one-character ORG/PROGRAM spans, one-character METRICs not next to a VALUE, and METRIC,
    #: VALUE and PROGRAM spans on page-furniture lines (来源:司法局)
    drop_stray_spans: bool = True
    score_calibration: dict[str, list[float]] = field(default_factory=dict)
    format: str = MODEL_FORMAT
    training: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_field_types(self)
        if self.tokenization not in TOKENIZATION_MODES:
            raise ValueError(f"tokenization {self.tokenization!r}; valid: {', '.join(TOKENIZATION_MODES)}")
        if not 8 <= self.window_tokens <= self.max_position_embeddings:
            raise ValueError(f"window_tokens must be in 8..{self.max_position_embeddings}, got {self.window_tokens}")
        if not 0 <= self.rule_feature_layer <= self.num_hidden_layers:
            raise ValueError(f"rule_feature_layer must be in 0..num_hidden_layers, got {self.rule_feature_layer}")
        if not 1 <= self.window_stride <= self.window_tokens - 2:
            raise ValueError(f"window_stride must be in 1..window_tokens-2, got {self.window_stride}")
        check_decoding(self.span_sources, self.relation_sources, self.span_precedence, self.entity_labels,
                       self.relation_labels)
        for kind, ab in self.score_calibration.items():
            if kind not in SCORE_KINDS or not (isinstance(ab, list) and len(ab) == 2
                                               and all(_is_number(x) for x in ab)):
                raise ValueError(f"score_calibration: {kind!r}: {ab!r}; expected {{kind: [a, b]}} with kind in "
                                 f"{', '.join(SCORE_KINDS)}")

    def calibrated(self, kind: str, score: float) -> float:
        """The reported score: sigmoid(a * logit(score) + b) with the fitted [a, b] of `kind`, if any.

        Monotone, and applied after every decision is made, so it changes what scores say, never what
        is predicted. Fitted on cross-validated held-out predictions (training/calibrate.py).
        """
        ab = self.score_calibration.get(kind)
        if not ab:
            return score
        p = min(max(score, 1e-6), 1 - 1e-6)
        z = ab[0] * math.log(p / (1 - p)) + ab[1]
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

    def source_of_span(self, label: str) -> str:
        """'model' or 'rules': which engine supplies the spans of this entity label."""
        return self.span_sources.get(label, "model")

    def source_of_relation(self, label: str) -> str:
        """'model' or 'rules': which engine decides the relations of this label."""
        return self.relation_sources.get(label, "model")

    @property
    def uses_rule_output(self) -> bool:
        """True when the rule engine's output is needed at prediction time (features or sources)."""
        return self.rule_features or "rules" in self.span_sources.values() or "rules" in self.relation_sources.values()

    @property
    def tags(self) -> tuple[str, ...]:
        return bio_tags(tuple(self.entity_labels))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "config") -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ModelDirectoryError(f"{source}: unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(sorted(known))}")
        try:
            return cls(**dict(data))
        except (TypeError, ValueError) as exc:
            raise ModelDirectoryError(f"{source}: {exc}") from None

    @classmethod
    def from_bert_config(cls, bert: Mapping[str, Any], **overrides: Any) -> "ModelConfig":
        """Take the encoder shape from a transformers BertConfig dict (the converted base encoder)."""
        keys = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                "max_position_embeddings", "type_vocab_size", "layer_norm_eps", "hidden_act", "pad_token_id")
        shape = {k: bert[k] for k in keys if k in bert}
        shape.update(overrides)
        return cls(**shape)

    def save(self, directory: Path) -> None:
        (directory / "config.json").write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n",
                                              encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> "ModelConfig":
        path = directory / "config.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelDirectoryError(f"{directory}: not a model directory (no config.json)") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelDirectoryError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ModelDirectoryError(f"{path}: must hold a JSON object")
        if data.get("format") != MODEL_FORMAT:
            raise ModelDirectoryError(
                f"{path}: format {data.get('format')!r} is not a fazhi_ie model ({MODEL_FORMAT}); a plain "
                "encoder directory is a training starting point (--init-encoder), not a model")
        config = cls.from_dict(data, source=str(path))
        if config.schema_version != SCHEMA_VERSION:
            raise ModelDirectoryError(f"{path}: model built for schema {config.schema_version}, "
                                      f"this fazhi_ie uses schema {SCHEMA_VERSION}; retrain it")
        if tuple(config.entity_labels) != ENTITY_LABELS or tuple(config.relation_labels) != tuple(RELATION_RULES):
            raise ModelDirectoryError(f"{path}: labels {config.entity_labels}/{config.relation_labels} differ from "
                                      f"the schema's {list(ENTITY_LABELS)}/{list(RELATION_RULES)}")
        return config
