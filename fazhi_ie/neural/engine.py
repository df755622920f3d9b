"""The trained engine: loads a model directory and predicts spans and relations with scores.

Reads: text. Writes: a `Prediction` (entities with scores and VALUE norms; HAS_VALUE, AGENT,
WHEN and IN_PROGRAM relations with scores). A text is read in bounded chunks of whole lines (a
long line cut after a whole sentence), so memory does not grow with its length; within a line
the windows of pieces start at sentence starts and overlap, each piece takes its states from
the window whose centre is nearest, so nothing is ever truncated, the merge is deterministic,
and a passage gets the same spans wherever it sits. Decoded spans are then checked against the
text (`repair_spans`): a VALUE that cuts an amount is extended over it, markup, symbols and
particles are kept off span edges, and a VALUE the normaliser cannot read is dropped and listed.
Under the decoding options `keep_words_whole` and `drop_stray_spans` (on by default) no span edge
splits a bound bigram (`cohesion.py`), and stray spans (one-character ORG/PROGRAM, a one-character
METRIC no VALUE touches, counts on page-furniture lines) are dropped and listed.
"""
from __future__ import annotations

import dataclasses
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..document import Relation, Span
from ..normalize import normalize_span, normalize_value
from ..prediction import Prediction
from ..report import furniture_lines
from ..sentences import Sentence, bounded_segments, sentence_index, split_sentences
from .cohesion import bound_junctions, load_bound_bigrams
from .config import ModelConfig, ModelDirectoryError
from .network import PAIR_TYPES, SpanRelationModel, allowed_transitions
from .tokenization import TOKENIZER_FILE, TokenizedText, load_tokenizer, owner_window, tokenize, windows

WEIGHTS_FILE = "model.safetensors"
PAIR_INDEX: dict[tuple[str, str], tuple[int, str]] = {(h, t): (i, rel) for i, (rel, h, t) in enumerate(PAIR_TYPES)}


@dataclass
class EncodedText:
    """Merged states of one text: pieces, encoder states [T, H] and tag log-probabilities [T, tags]."""

    pieces: TokenizedText
    states: torch.Tensor
    tag_log_probs: torch.Tensor


def window_batches(pieces: TokenizedText, config: ModelConfig, batch_size: int, rule_tags: np.ndarray | None = None,
                   spans: list[tuple[int, int]] | None = None):
    """Yield (spans, ids, attention, rule tags or None) batches of windows with <s> … </s> added.

    `spans` are the windows ([start, end) piece ranges) in the order to batch them; by default the
    sliding windows of `windows()` over all pieces. A batch holds at most `batch_size` full-length
    windows' worth of pieces, and no window more than a quarter longer than its first (given shortest
    first, little is padded, and short windows go in few batches)."""
    if spans is None:
        spans = windows(len(pieces), config.window_tokens - 2, config.window_stride)
    b = 0
    while b < len(spans):
        first = spans[b][1] - spans[b][0]
        cap = min(len(spans), b + max(batch_size, batch_size * config.window_tokens // (first + 2)))
        end = b + 1
        while end < cap and spans[end][1] - spans[end][0] <= max(first * 5 // 4, first + 8):
            end += 1
        chunk = spans[b:end]
        b = end
        width = max(e - s for s, e in chunk) + 2
        ids = torch.full((len(chunk), width), config.pad_token_id, dtype=torch.long)
        att = torch.zeros((len(chunk), width), dtype=torch.long)
        tags = torch.zeros((len(chunk), width), dtype=torch.long) if rule_tags is not None else None
        for row, (s, e) in enumerate(chunk):
            ids[row, 0] = config.bos_token_id
            ids[row, 1:e - s + 1] = torch.from_numpy(pieces.ids[s:e])
            ids[row, e - s + 1] = config.eos_token_id
            att[row, :e - s + 2] = 1
            if tags is not None:
                tags[row, 1:e - s + 1] = torch.from_numpy(rule_tags[s:e])
        yield chunk, ids, att, tags


def encode_text(model: SpanRelationModel, pieces: TokenizedText, batch_size: int = 16,
                rule_tags: np.ndarray | None = None, spans: list[tuple[int, int]] | None = None) -> EncodedText:
    """Run the encoder and tagger over all windows and merge them (model must be in eval mode).

    `spans` are the windows (default: sliding windows over all pieces); every piece must lie in one.
    Each piece takes its states from the window whose centre is nearest. Windows are batched
    shortest first, so that little padding is computed."""
    c = model.config
    n = len(pieces)
    states = torch.zeros(n, c.hidden_size)
    log_probs = torch.zeros(n, len(c.tags))
    if spans is None:
        spans = windows(n, c.window_tokens - 2, c.window_stride)
    owner = owner_window(spans, n)
    order = sorted(range(len(spans)), key=lambda w: (spans[w][1] - spans[w][0], w))
    done = 0
    for chunk, ids, att, tags in window_batches(pieces, c, batch_size, rule_tags, [spans[w] for w in order]):
        hidden = model.encode(ids, att, tags)
        lp = torch.log_softmax(model.tag_logits(hidden), dim=-1)
        for row, (s, e) in enumerate(chunk):
            mine = np.nonzero(owner[s:e] == order[done])[0]
            idx = torch.from_numpy(mine)
            states[s + idx] = hidden[row, 1 + idx]
            log_probs[s + idx] = lp[row, 1 + idx]
            done += 1
    return EncodedText(pieces, states, log_probs)


def piece_range(pieces: TokenizedText, start: int, end: int) -> tuple[int, int] | None:
    """First and last piece overlapping the characters [start, end), or None if there is none."""
    first = int(np.searchsorted(pieces.ends, start, side="right"))
    last = int(np.searchsorted(pieces.starts, end, side="left")) - 1
    return (first, last) if first <= last else None


def rule_piece_tags(pieces: TokenizedText, spans: list[tuple[int, int, str]], tags: tuple[str, ...]) -> np.ndarray:
    """The BIO tag index of every piece under character spans (e.g. the rule engine's entities)."""
    index = {t: i for i, t in enumerate(tags)}
    out = np.zeros(len(pieces), dtype=np.int64)
    for start, end, label in spans:
        rng = piece_range(pieces, start, end)
        if rng is not None:
            out[rng[0]] = index[f"B-{label}"]
            out[rng[0] + 1:rng[1] + 1] = index[f"I-{label}"]
    return out


@dataclass
class RuleHints:
    """What the rule engine says about a text: its prediction, as piece tags and linked span pairs."""

    tags: np.ndarray
    links: set
    prediction: Prediction | None = None

    def linked(self, head: Span, tail: Span) -> int:
        """1 when the rules linked exactly these two character spans, else 0 (a pair feature)."""
        return int(((head.start, head.end), (tail.start, tail.end)) in self.links)


def rule_hints(rules, text: str, pieces: TokenizedText, tags: tuple[str, ...], sentences=None) -> RuleHints:
    prediction = rules.predict(text, sentences=sentences) if sentences is not None else rules.predict(text)
    by_id = {e.id: e for e in prediction.entities}
    links = {((by_id[r.head].start, by_id[r.head].end), (by_id[r.tail].start, by_id[r.tail].end))
             for r in prediction.relations}
    return RuleHints(rule_piece_tags(pieces, [(e.start, e.end, e.label) for e in prediction.entities], tags), links,
                     prediction)


def span_probability(encoded: EncodedText, tags: tuple[str, ...], first: int, last: int, label: str) -> float:
    """The model's mean probability of B-label, I-label … over pieces first..last (a score for spans it
    did not propose itself, e.g. rule spans under a hybrid config)."""
    lp = encoded.tag_log_probs
    b, i = tags.index(f"B-{label}"), tags.index(f"I-{label}")
    cols = torch.tensor([b] + [i] * (last - first), dtype=torch.long)
    return float(torch.exp(lp[torch.arange(first, last + 1), cols]).mean())


def merge_sources(found: list[tuple[int, int, str, float]], rule_prediction: Prediction | None,
                  pieces: TokenizedText, encoded: EncodedText, c: ModelConfig) -> list[tuple[int, int, int, int, str, float]]:
    """Entity spans under the config's span_sources: (start, end, first piece, last piece, label, score).

    Model spans of model-sourced labels and rule spans of rule-sourced labels are merged; where two
    overlap, the source named by `span_precedence` wins. Rule spans are scored by the tagger
    (`span_probability`). Sorted by position.
    """
    model_spans = [(int(pieces.starts[f]), int(pieces.ends[l]), f, l, label, score)
                   for f, l, label, score in found if c.source_of_span(label) == "model"]
    rule_spans = []
    if rule_prediction is not None and "rules" in c.span_sources.values():
        for sp in rule_prediction.entities:
            rng = piece_range(pieces, sp.start, sp.end) if c.source_of_span(sp.label) == "rules" else None
            if rng is not None:
                rule_spans.append((sp.start, sp.end, rng[0], rng[1], sp.label,
                                   span_probability(encoded, c.tags, rng[0], rng[1], sp.label)))
    first, second = (model_spans, rule_spans) if c.span_precedence == "model" else (rule_spans, model_spans)
    out = list(first)
    if second:
        taken = np.zeros(max(x[1] for x in first + second), dtype=bool)
        for s, e, *_ in first:
            taken[s:e] = True
        for span in second:
            if not taken[span[0]:span[1]].any():
                out.append(span)
                taken[span[0]:span[1]] = True
    out.sort(key=lambda x: (x[0], x[1]))
    return out


def rule_relation_pairs(rule_prediction: Prediction | None, entities: list[Span],
                        labels: set[str]) -> list[tuple[int, int, int]]:
    """(head index, tail index, pair type) of the rules' relations with a label in `labels` whose head and
    tail are both among `entities` (same span and label), sorted: rule-sourced relations under a hybrid."""
    if not labels or rule_prediction is None:
        return []
    index = {(sp.start, sp.end, sp.label): i for i, sp in enumerate(entities)}
    by_id = {sp.id: sp for sp in rule_prediction.entities}
    out = set()
    for r in rule_prediction.relations:
        h, t = by_id[r.head], by_id[r.tail]
        hi, ti = index.get((h.start, h.end, h.label)), index.get((t.start, t.end, t.label))
        key = PAIR_INDEX.get((h.label, t.label))
        if r.label in labels and hi is not None and ti is not None and key is not None and key[1] == r.label:
            out.add((hi, ti, key[0]))
    return sorted(out)


def viterbi_np(log_probs: np.ndarray, trans: np.ndarray, start: np.ndarray, inside: np.ndarray | None = None,
               trans_inside: np.ndarray | None = None) -> np.ndarray:
    """Constrained BIO decoding in numpy (trans and start hold 0 or -inf-like penalties); at the steps i where
    `inside[i]` is True, `trans_inside` replaces `trans` (e.g. no span edge inside a word)."""
    t, n = log_probs.shape
    back = np.zeros((t, n), dtype=np.int64)
    score = log_probs[0] + start
    for i in range(1, t):
        total = score[:, None] + (trans_inside if inside is not None and inside[i] else trans)
        back[i] = total.argmax(axis=0)
        score = total.max(axis=0) + log_probs[i]
    best = np.zeros(t, dtype=np.int64)
    best[-1] = score.argmax()
    for i in range(t - 1, 0, -1):
        best[i - 1] = back[i, best[i]]
    return best


def inside_word_transitions(tags: tuple[str, ...]) -> np.ndarray:
    """Transition penalties at a junction inside a word: only O→O, B-X→I-X and I-X→I-X (no span starts or
    ends there)."""
    out = np.full((len(tags), len(tags)), -1e9)
    for a, prev in enumerate(tags):
        for b, nxt in enumerate(tags):
            if (prev == "O" and nxt == "O") or (prev != "O" and nxt == f"I-{prev[2:]}"):
                out[a, b] = 0.0
    return out


def decode_spans(encoded: EncodedText, tags: tuple[str, ...], start: int = 0,
                 end: int | None = None, bound: np.ndarray | None = None) -> list[tuple[int, int, str, float]]:
    """(first piece, last piece, label, score) of each span; score = mean probability of its tags.

    Decodes pieces start..end-1 only (default: all), on their own: no span crosses their edges.
    `bound` (bool per piece of the text, `cohesion.bound_junctions`): where True, no span may start at
    that piece nor end at the one before it (the best path that keeps those words whole is taken)."""
    lp = encoded.tag_log_probs[start:end].numpy().astype(np.float64)
    if len(lp) == 0:
        return []
    allowed = allowed_transitions(tags).numpy()
    trans = np.where(allowed, 0.0, -1e9)
    first = np.array([0.0 if not t.startswith("I-") else -1e9 for t in tags])
    inside = bound[start:start + len(lp)] if bound is not None else None
    if inside is not None and inside.any():
        path = viterbi_np(lp, trans, first, inside, inside_word_transitions(tags))
    else:
        path = viterbi_np(lp, trans, first)
    out = []
    i = 0
    n = len(path)
    while i < n:
        tag = tags[path[i]]
        if tag.startswith("B-"):
            label = tag[2:]
            j = i + 1
            while j < n and tags[path[j]] == f"I-{label}":
                j += 1
            prob = float(np.exp(lp[np.arange(i, j), path[i:j]]).mean())
            out.append((start + i, start + j - 1, label, prob))
            i = j
        else:
            i += 1
    return out


def span_sentences(sentences: list[Sentence], spans: list[Span]) -> list[int]:
    """Index of the sentence wholly containing each span, or -1: relations stay within one sentence."""
    out = []
    for sp in spans:
        i = sentence_index(sentences, sp.start)
        out.append(i if i is not None and sp.end <= sentences[i].end else -1)
    return out


def candidate_pairs(labels: list[str], sentence_of: list[int], firsts: list[int], max_pair_tokens: int):
    """(head index, tail index, pair type) of every schema-allowed pair in one sentence within reach.

    Entities are given in text order; only neighbours within `max_pair_tokens` pieces are looked at,
    so the cost stays linear in the text length however long a sentence is.
    """
    out = []
    n = len(labels)
    for h in range(n):
        if sentence_of[h] < 0:
            continue
        for step in (-1, 1):
            t = h + step
            while 0 <= t < n and abs(firsts[t] - firsts[h]) <= max_pair_tokens and sentence_of[t] == sentence_of[h]:
                key = PAIR_INDEX.get((labels[h], labels[t]))
                if key is not None:
                    out.append((h, t, key[0]))
                t += step
    out.sort()
    return out


def link(model: SpanRelationModel, states: torch.Tensor, spans: list[tuple[int, int, str]], pairs: list,
         rule_links: list[int] | None = None) -> tuple[torch.Tensor, list]:
    """Pair logits for `pairs` over `spans` (piece ranges) given states [T, H]."""
    if not pairs:
        return torch.zeros(0), pairs
    span_t = torch.tensor([(f, l) for f, l, _ in spans], dtype=torch.long)
    pair_t = torch.tensor([(h, t) for h, t, _ in pairs], dtype=torch.long)
    types = torch.tensor([k for _, _, k in pairs], dtype=torch.long)
    flags = torch.tensor(rule_links, dtype=torch.long) if rule_links is not None else None
    return model.pair_logits(states, span_t, pair_t, types, flags), pairs


def select_relations(logits: torch.Tensor, pairs: list, labels: list[str], threshold: float):
    """Every VALUE gets its best-scoring head (softmax over its candidates); other relations pass a threshold.

    Returns (relations as (head, tail, label, score), VALUE indices with no candidate head).
    """
    chosen = []
    by_value: dict[int, list[int]] = {}
    probs = torch.sigmoid(logits).tolist()
    for k, (h, t, ptype) in enumerate(pairs):
        rel = PAIR_TYPES[ptype][0]
        if rel == "HAS_VALUE":
            by_value.setdefault(t, []).append(k)
        elif probs[k] >= threshold:
            chosen.append((h, t, rel, probs[k]))
    for t, ks in by_value.items():
        soft = torch.softmax(logits[ks], dim=0)
        best = int(soft.argmax())
        chosen.append((pairs[ks[best]][0], t, "HAS_VALUE", float(soft[best])))
    orphans = [i for i, label in enumerate(labels) if label == "VALUE" and i not in by_value]
    return chosen, orphans


class ModelEngine:
    """The fine-tuned span + relation model behind the engine interface (`predict(text)`).

    Built from a model directory with `ModelEngine.from_pretrained(path, **decoding)` and written
    back with `save_pretrained(path)`, like a Hugging Face model: config.json (labels, schema
    version, decoding, calibration), model.safetensors and tokenizer.json.
    """

    name = "model"

    #: config fields that only change decoding, so they may be overridden when loading (research use)
    DECODING_FIELDS = ("span_sources", "relation_sources", "span_precedence", "relation_threshold",
                       "score_calibration", "keep_words_whole", "drop_stray_spans")

    def __init__(self, model: SpanRelationModel, tokenizer, *, directory: str | Path | None = None,
                 rules=None, batch_size: int = 16):
        """Wrap a loaded network and tokenizer. A model that reads the rule engine's output needs
        `rules` (a RuleEngine), passed in rather than built here."""
        self.model, self.tokenizer = model, tokenizer
        self.directory = Path(directory) if directory is not None else None
        self.config = model.config
        self.batch_size = batch_size
        if self.config.uses_rule_output and rules is None:
            raise ValueError(f"{self.directory or 'this model'}: the model reads the rule engine's output "
                             "(rule features or rule-sourced labels), so it needs rules=RuleEngine()")
        self.rules = rules if self.config.uses_rule_output else None
        #: bigrams no entity edge may split (decoding option keep_words_whole), read once here
        self.bound_bigrams = load_bound_bigrams() if self.config.keep_words_whole else None
        self.load_seconds = 0.0
        #: identifies the model directory (and decoding overrides) in output records; None when built in memory
        self.fingerprint: str | None = None

    @classmethod
    def from_pretrained(cls, directory: str | Path, *, rules=None, batch_size: int = 16,
                        **decoding: Any) -> "ModelEngine":
        """Load a model directory; `decoding` overrides decoding fields of its config (DECODING_FIELDS).

        When the model reads the rule engine's output and no `rules` is given, the default
        RuleEngine is built and passed in.
        """
        start = time.perf_counter()
        unknown = sorted(set(decoding) - set(cls.DECODING_FIELDS))
        if unknown:
            raise TypeError(f"ModelEngine: unknown option(s) {', '.join(unknown)}; decoding options that may be "
                            f"overridden: {', '.join(cls.DECODING_FIELDS)}")
        model, tokenizer = load_model_directory(Path(directory))
        if decoding:
            model.config = dataclasses.replace(model.config, **decoding)
        if model.config.uses_rule_output and rules is None:
            from ..rules import RuleEngine

            rules = RuleEngine()
        engine = cls(model, tokenizer, directory=directory, rules=rules, batch_size=batch_size)
        engine.fingerprint = model_fingerprint(Path(directory), decoding)
        engine.load_seconds = time.perf_counter() - start
        return engine

    def save_pretrained(self, directory: str | Path, *, dtype: torch.dtype = torch.float32,
                        extra_files: dict[str, str] | None = None) -> Path:
        """Write this model as a model directory (config.json, model.safetensors, tokenizer.json)."""
        path = Path(directory)
        save_model_directory(self.model, self.tokenizer, path, dtype=dtype, extra_files=extra_files)
        return path

    @property
    def trained_on(self) -> frozenset[str]:
        """Ids of the documents the model was trained on (from config.json), to keep evaluations held out."""
        return frozenset(self.config.training.get("train_docs", ()))

    @property
    def trained_on_texts(self) -> frozenset[str]:
        """Text hashes (`text_hash`) of every document the model, or a model it was fine-tuned from, saw."""
        return frozenset(self.config.training.get("train_text_hashes", ()))

    def predict(self, text: str, sentences=None) -> Prediction:
        """Spans and relations of `text`; `sentences` are its sentences when already split (the pipeline's),
        so neither the model nor the rule engine inside it splits them again."""
        with torch.inference_mode():
            return predict_text(self.model, self.tokenizer, text, batch_size=self.batch_size, rules=self.rules,
                                sentences=sentences, bound_bigrams=self.bound_bigrams)


def model_fingerprint(directory: Path, decoding: dict | None = None) -> str:
    """A short hash of a model directory's config and weights (and any decoding overrides): two runs with the
    same fingerprint used the same model."""
    import hashlib

    digest = hashlib.sha256()
    for name in ("config.json", WEIGHTS_FILE):
        digest.update((directory / name).read_bytes())
    digest.update(json.dumps(decoding or {}, sort_keys=True).encode("utf-8"))
    return digest.hexdigest()[:16]


def quantize_dynamic_int8(engine: "ModelEngine") -> None:
    """Swap the engine's linear layers for dynamically quantised int8 ones (CPU speed; accuracy cost measured
    in benchmarks/ and the model card)."""
    from torch.ao.quantization import quantize_dynamic

    config = engine.model.config
    engine.model = quantize_dynamic(engine.model, {torch.nn.Linear}, dtype=torch.qint8)
    engine.model.config = config


CHUNK_CHARS = 8000  # the model reads a document in chunks of whole lines or sentences of at most this many characters
# (8,000: a typical report is one chunk, read as before chunking; 3,000 cost a point of entity and relation F1 on
# jinpu-2023, and windows kept inside each line cost five points of relation F1 there: the model needs the
# context across lines)


def text_chunks(text: str, limit: int = CHUNK_CHARS):
    """Yield (start, end, segments) of consecutive chunks of `text` of at most `limit` characters (one
    segment may reach `limit` itself): whole segments of `sentences.bounded_segments` (lines, a long line
    cut after a whole sentence), so memory stays bounded however long the document is."""
    group: list[tuple[int, int]] = []
    for segment in bounded_segments(text, limit):
        if group and segment[1] - group[0][0] > limit:
            yield group[0][0], group[-1][1], group
            group = []
        group.append(segment)
    if group:
        yield group[0][0], group[-1][1], group


def predict_text(model: SpanRelationModel, tokenizer, text: str, *, batch_size: int = 16, rules=None,
                 chunk_chars: int = CHUNK_CHARS, sentences=None,
                 bound_bigrams: frozenset[str] | None = None) -> Prediction:
    """Spans, then relations, for one text (model in eval mode, no grad).

    The text is read chunk by chunk (`text_chunks`: whole lines, or whole sentences of a long line, up
    to `chunk_chars` characters), so peak memory does not grow with the length of the document beyond
    the output itself; relations never cross a sentence, so nothing is lost at a chunk edge. Within a
    chunk the model reads sliding windows across lines (context across lines matters: see CHUNK_CHARS),
    so a passage's spans can still differ slightly with where window edges fall (a known limitation).

    A model that uses the rule engine's output (rule features, or labels sourced from the rules) needs
    `rules` (a RuleEngine), passed in by the caller. Under the decoding option keep_words_whole no entity
    edge splits one of `bound_bigrams` (default: the shipped ones, `cohesion.load_bound_bigrams`).
    """
    if model.config.uses_rule_output and rules is None:
        raise ValueError("this model reads the rule engine's output: pass rules=RuleEngine()")
    if model.config.keep_words_whole and bound_bigrams is None:
        bound_bigrams = load_bound_bigrams()
    elif not model.config.keep_words_whole:
        bound_bigrams = None
    entities: list[Span] = []
    relations: list[Relation] = []
    dropped: list[dict] = []
    repaired: list[dict] = []
    for start, end, segments in text_chunks(text, chunk_chars):
        chunk_sentences = None
        if sentences is not None:  # the document's sentences inside the chunk (chunks end at sentence ends)
            chunk_sentences = [Sentence(sent.start - start, sent.end - start, sent.text) for sent in sentences
                               if start <= sent.start and sent.end <= end]
        part = _predict_chunk(model, tokenizer, text, start, end, segments, batch_size, rules, chunk_sentences,
                              bound_bigrams)
        new_id = {}
        for sp in part.entities:
            new_id[sp.id] = f"T{len(entities) + 1}"
            entities.append(dataclasses.replace(sp, id=new_id[sp.id]))
        for rel in part.relations:
            relations.append(Relation(f"R{len(relations) + 1}", rel.label, new_id[rel.head], new_id[rel.tail], rel.score))
        dropped.extend(part.dropped)
        repaired.extend(part.repaired)
    return Prediction(entities, relations, dropped, repaired)


def _predict_chunk(model: SpanRelationModel, tokenizer, text: str, start: int, end: int,
                   segments: list[tuple[int, int]], batch_size: int, rules, sentences=None,
                   bound_bigrams: frozenset[str] | None = None) -> Prediction:
    """The prediction for text[start:end] (whole segments), with offsets into `text`; `sentences` are the
    chunk's sentences (chunk offsets) when already split; no entity edge splits one of `bound_bigrams`."""
    c = model.config
    chunk = text[start:end]
    pieces = tokenize(tokenizer, chunk, c.tokenization)
    if sentences is None:
        sentences = split_sentences(chunk)
    hints = rule_hints(rules, chunk, pieces, c.tags, sentences) if c.uses_rule_output else None
    local = [(s - start, e - start) for s, e in segments]
    # sliding windows over the whole chunk, across its lines (see CHUNK_CHARS)
    encoded = encode_text(model, pieces, batch_size, hints.tags if hints is not None and c.rule_features else None)
    bound = bound_junctions(chunk, pieces, bound_bigrams) if bound_bigrams else None
    found = []
    for a, b in np.searchsorted(pieces.starts, np.asarray(local, dtype=np.int64).reshape(-1, 2)).tolist():
        found.extend(decode_spans(encoded, c.tags, a, b, bound=bound))  # each segment on its own
    merged = merge_sources(found, hints.prediction if hints else None, pieces, encoded, c)
    kept, dropped, repaired = repair_spans(chunk, [(s, e, label) for s, e, _, _, label, _ in merged],
                                           drop_stray=c.drop_stray_spans)
    fixed = []
    for s, e, label, k, changed in kept:
        if not changed:
            fixed.append(merged[k])
            continue
        rng = piece_range(pieces, s, e)
        if rng is not None:
            fixed.append((s, e, rng[0], rng[1], label, span_probability(encoded, c.tags, rng[0], rng[1], label)))
    fixed.sort(key=lambda x: (x[0], x[1]))
    entities: list[Span] = []
    for k, (s, e, _, _, label, score) in enumerate(fixed):
        norm = normalize_span(text, start + s, start + e) if label == "VALUE" else None
        entities.append(Span(f"T{k + 1}", label, start + s, start + e, chunk[s:e],
                             round(c.calibrated("entities", score), 4), norm))
    labels = [sp.label for sp in entities]
    spans = [(f, l, label) for _, _, f, l, label, _ in fixed]
    local_entities = [dataclasses.replace(sp, start=sp.start - start, end=sp.end - start) for sp in entities]
    pairs = candidate_pairs(labels, span_sentences(sentences, local_entities), [f for f, _, _ in spans],
                            c.max_pair_tokens)
    from_rules = {rel for rel in c.relation_labels if c.source_of_relation(rel) == "rules"}
    model_pairs = [p for p in pairs if PAIR_TYPES[p[2]][0] not in from_rules]
    scored = model_pairs + (rule_relation_pairs(hints.prediction, local_entities, from_rules) if hints else [])
    flags = ([hints.linked(local_entities[h], local_entities[t]) for h, t, _ in scored]
             if hints is not None and c.rule_features else None)
    logits, _ = link(model, encoded.states, spans, scored, flags)
    chosen, orphans = select_relations(logits[:len(model_pairs)], model_pairs, labels, c.relation_threshold)
    probs = torch.sigmoid(logits[len(model_pairs):]).tolist()
    chosen += [(h, t, PAIR_TYPES[k][0], probs[j]) for j, (h, t, k) in enumerate(scored[len(model_pairs):])]
    chosen.sort(key=lambda r: (entities[r[1]].start, entities[r[0]].start, r[2]))
    relations = [Relation(f"R{i + 1}", rel, entities[h].id, entities[t].id, round(c.calibrated("relations", score), 4))
                 for i, (h, t, rel, score) in enumerate(chosen)]
    for item in dropped + repaired:
        for key in ("start", "end", "was_start", "was_end"):
            if key in item:
                item[key] += start
    if orphans:
        drop_ids = {entities[i].id for i in orphans}
        dropped += [{"text": entities[i].text, "start": entities[i].start, "end": entities[i].end,
                     "reason": "no METRIC/PROGRAM/DOC/ORG head candidate in its sentence"} for i in orphans]
        entities = [sp for sp in entities if sp.id not in drop_ids]
    dropped.sort(key=lambda d: d["start"])
    return Prediction(entities, relations, dropped, repaired)


# --- post-decoding repairs of the spans (what the network proposes is checked against the text) ---
#: an HTML/XML tag or comment: no entity may start or end inside one (<b>全区受理案件93件</b>)
_MARKUP_RE = re.compile(r"<(?:!--[^\n]{0,200}?--|[/!?]?[A-Za-z][^<>\n]{0,200})>")
#: particles that never end a VALUE (为期5天的 → 5天)
VALUE_END_PARTICLES = "的了等"
#: what a VALUE may start or end with (besides a closing bracket it opened): digits, Chinese (numerals,
#: 约, units), Latin letters, percent signs, unit symbols; never an emoji, markup or punctuation
_VALUE_EDGE_RE = re.compile(r"[\d\u4e00-\u9fffA-Za-z%％‰²³℃°\u3380-\u33ff]")
_CLOSING = {"(": ")", "（": "）"}
_NUMBERISH = frozenset("0123456789０１２３４５６７８９,，.．零〇一二两三四五六七八九十百千万亿")
AMOUNT_REACH = 64  # characters around a VALUE searched for the amount it may cut


def repair_spans(text: str, spans: list[tuple[int, int, str]], *, drop_stray: bool = False):
    """Check decoded spans (start, end, label) of `text` against the text, as the rule engine's patterns would.

    - No span starts or ends inside markup (`<b>`, `</p>`): its edges are moved out, and a span of
      markup only is left out.
    - A VALUE that cuts an amount (1亿|3000万元, １，|２３４名, 3000|万元) is extended over the whole
      amount by the rule engine's VALUE pattern (the number grammar of normalize.py); VALUEs that then
      overlap become one. An extension that would overlap a span of another label is not made.
    - A VALUE closes a bracket it opened (100多场(次 → 100多场(次)) and does not start or end with a
      symbol, emoji or particle (93件😀 → 93件, 5天的 → 5天).
    - A VALUE the normaliser still cannot read (䶵, 236批251人次) is left out and listed.
    - With `drop_stray` (decoding option drop_stray_spans), stray spans are left out and listed: a
      one-character ORG or PROGRAM (区|委常委会), a one-character METRIC that no VALUE touches (a counted
      noun such as 3个|村 stays; 不|予受理 goes), and a METRIC, VALUE or PROGRAM on a page-furniture line
      (来源:司法局 作者:), where nothing is counted.

    Returns (kept, dropped, repaired): kept as (start, end, label, index of the input span, changed),
    dropped as {"text", "start", "end", "reason"} (the span as proposed), repaired as {"label", "text",
    "start", "end", "was", "was_start", "was_end", "reason"}.
    """
    tags = [m.span() for m in _MARKUP_RE.finditer(text)] if "<" in text else []
    items = []
    for k, (s, e, label) in enumerate(spans):
        ns, ne, why = s, e, []
        if tags:
            ns, ne = _outside_markup(ns, ne, tags)
            if (ns, ne) != (s, e):
                why.append("markup at its edge")
        items.append([ns, ne, label, k, why])
    others = [(it[0], it[1]) for it in items if it[2] != "VALUE" and it[1] > it[0]]
    for it in items:
        if it[2] != "VALUE" or it[1] <= it[0]:
            continue
        ns, ne = _amount_extent(text, it[0], it[1])
        if (ns, ne) != (it[0], it[1]) and not any(a < ne and ns < b for a, b in others):
            it[0], it[1] = ns, ne
            it[4].append("the amount was cut (extended by the number grammar)")
        ns, ne = _trim_value(text, it[0], it[1])
        if (ns, ne) != (it[0], it[1]):
            it[0], it[1] = ns, ne
            it[4].append("bracket, symbol or particle at its edge")
    values = sorted((it for it in items if it[2] == "VALUE" and it[1] > it[0]), key=lambda it: (it[0], it[1]))
    merged_away = set()
    for prev, cur in zip(values, values[1:]):
        if cur[0] < prev[1]:  # overlapping VALUEs after an extension: one amount
            cur[0], cur[1] = prev[0], max(prev[1], cur[1])
            cur[4].append("merged with the VALUE next to it")
            merged_away.add(prev[3])
    stray = _stray_spans(text, items) if drop_stray else {}
    kept, dropped, repaired = [], [], []
    for ns, ne, label, k, why in items:
        s, e, _ = spans[k]
        if k in merged_away:
            continue
        if k in stray:
            dropped.append({"text": text[s:e], "start": s, "end": e, "reason": stray[k]})
            continue
        if label == "VALUE":
            norm = normalize_value(text[ns:ne] if ne > ns else text[s:e])
            if ne <= ns or norm.number is None:
                dropped.append({"text": text[s:e], "start": s, "end": e,
                                "reason": f"the normaliser cannot read this VALUE: {norm.unparsed or 'nothing left'}"})
                continue
        elif ne <= ns:
            continue  # markup only
        if why:
            repaired.append({"label": label, "text": text[ns:ne], "start": ns, "end": ne, "was": text[s:e],
                             "was_start": s, "was_end": e, "reason": "; ".join(why)})
        kept.append((ns, ne, label, k, bool(why)))
    return kept, dropped, repaired


#: labels that count nothing on a page-furniture line (来源:司法局 作者:) and are dropped there
FURNITURE_DROPPED = ("METRIC", "VALUE", "PROGRAM")


def _stray_spans(text: str, items: list) -> dict[int, str]:
    """{index of the input span: why it is dropped} of the stray spans among repaired `items` (see repair_spans)."""
    out = {}
    value_edges = {it[0] for it in items if it[2] == "VALUE"} | {it[1] for it in items if it[2] == "VALUE"}
    furniture = furniture_lines(text)
    for s, e, label, k, _ in items:
        if e - s == 1 and label in ("ORG", "PROGRAM"):
            out[k] = f"a one-character {label}"
        elif e - s == 1 and label == "METRIC" and s not in value_edges and e not in value_edges:
            out[k] = "a one-character METRIC that no VALUE touches"
        elif label in FURNITURE_DROPPED and any(a <= s and e <= b for a, b in furniture):
            out[k] = f"a {label} on a page-furniture line"
    return out


def _outside_markup(s: int, e: int, tags: list[tuple[int, int]]) -> tuple[int, int]:
    """[s, e) with its first and last characters moved out of any markup tag (and off spaces)."""
    changed = True
    while changed and s < e:
        changed = False
        for a, b in tags:
            if a <= s < b:
                s, changed = b, True
            if a < e <= b:
                e, changed = a, True
    return s, max(s, e)


def _amount_extent(text: str, s: int, e: int) -> tuple[int, int]:
    """[s, e) extended over the amount it cuts: an edge inside the number part (digits, separators,
    scales, the tail of a compound amount, a 万/亿 before the unit) of a rule VALUE match moves to the
    start of the number, or the end of the match (unit and suffix included)."""
    from ..rules.patterns import VALUE_RE

    lo = max(0, s - AMOUNT_REACH)
    while lo > max(0, s - 2 * AMOUNT_REACH) and text[lo - 1] in _NUMBERISH:
        lo -= 1
    ns, ne = s, e
    for m in VALUE_RE.finditer(text, lo, min(len(text), e + AMOUNT_REACH)):
        if m.end() <= s or m.start() >= e:
            continue
        number = next(m.start(g) for g in ("arabic", "chinese", "scaled") if m.group(g) is not None)
        core = m.start("unit") if m.group("unit") is not None else m.end()
        while core < m.end() and text[core] in "万亿":
            core += 1
        if number < s < core:
            ns = min(ns, number)
        if number < e < core:
            ne = max(ne, m.end())
    return ns, ne


def _trim_value(text: str, s: int, e: int) -> tuple[int, int]:
    """A VALUE's [s, e) with a bracket it opened closed, and no symbol at its start nor symbol or particle at its end."""
    opened = [ch for ch in text[s:e] if ch in _CLOSING]
    if opened and e < len(text) and text[e] == _CLOSING[opened[-1]] and _CLOSING[opened[-1]] not in text[s:e]:
        e += 1
    while s < e and not _VALUE_EDGE_RE.match(text[s]):
        s += 1
    while e > s:
        last = text[e - 1]
        closes = last in _CLOSING.values() and any(_CLOSING[o] == last for o in text[s:e - 1] if o in _CLOSING)
        if last in VALUE_END_PARTICLES or not (_VALUE_EDGE_RE.match(last) or closes):
            e -= 1
        else:
            break
    return s, e


def load_model_directory(directory: Path) -> tuple[SpanRelationModel, object]:
    """Build the network from config.json, load model.safetensors strictly, load tokenizer.json."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    if not directory.is_dir():
        raise ModelDirectoryError(f"{directory}: no such model directory")
    config = ModelConfig.load(directory)
    for name in (WEIGHTS_FILE, TOKENIZER_FILE):
        if not (directory / name).is_file():
            raise ModelDirectoryError(f"{directory}: incomplete model directory, {name} is missing "
                                      f"(a model directory holds config.json, {WEIGHTS_FILE} and {TOKENIZER_FILE})")
    model = SpanRelationModel(config)
    try:
        weights = load_file(str(directory / WEIGHTS_FILE))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelDirectoryError(f"{directory / WEIGHTS_FILE}: unreadable or corrupt ({exc})") from None
    weights = {k: v.float() for k, v in weights.items()}
    expected = model.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    wrong = sorted(k for k in set(expected) & set(weights) if expected[k].shape != weights[k].shape)
    if missing or unexpected or wrong:
        parts = [f"{len(missing)} missing (e.g. {missing[:3]})" if missing else "",
                 f"{len(unexpected)} unexpected (e.g. {unexpected[:3]})" if unexpected else "",
                 f"{len(wrong)} with the wrong shape (e.g. {wrong[:3]})" if wrong else ""]
        raise ModelDirectoryError(f"{directory / WEIGHTS_FILE}: weights do not match config.json: "
                                  + "; ".join(p for p in parts if p))
    broken = sorted(k for k, v in weights.items() if not np.isfinite(v.numpy()).all())  # numpy: ms, not 1 s
    if broken:
        raise ModelDirectoryError(f"{directory / WEIGHTS_FILE}: {len(broken)} tensor(s) hold NaN or infinite values "
                                  f"(e.g. {broken[:3]}); the model directory is damaged, retrain or restore it")
    model.load_state_dict(weights)
    model.eval()
    try:
        tokenizer = load_tokenizer(directory)
    except Exception as exc:  # tokenizers raises a bare Exception on a corrupt file
        raise ModelDirectoryError(f"{directory / TOKENIZER_FILE}: unreadable tokenizer ({exc})") from None
    if tokenizer.get_vocab_size() > config.vocab_size:
        raise ModelDirectoryError(f"{directory}: tokenizer has {tokenizer.get_vocab_size()} pieces but the "
                                  f"model only {config.vocab_size} embedding rows")
    return model, tokenizer


def save_model_directory(model: SpanRelationModel, tokenizer, directory: Path, *, dtype: torch.dtype = torch.float32,
                         extra_files: dict[str, str] | None = None) -> None:
    """Write config.json, model.safetensors (`dtype`) and tokenizer.json into `directory`."""
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    model.config.save(directory)
    state = {k: v.detach().to(dtype).contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(directory / WEIGHTS_FILE), metadata={"format": "pt"})
    tokenizer_json = json.loads(tokenizer.to_str())
    (directory / TOKENIZER_FILE).write_text(json.dumps(tokenizer_json, ensure_ascii=False), encoding="utf-8")
    for name, content in (extra_files or {}).items():
        (directory / name).write_text(content, encoding="utf-8")
