"""A tiny randomly initialised encoder directory (BertModel layout + Unigram tokenizer) for tests."""
from __future__ import annotations

import json
from pathlib import Path

import torch

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]


def tiny_tokenizer(texts: list[str], multi_char: tuple[str, ...] = ("人民政府", "100", "行政复议")):
    """A Unigram tokenizer whose pieces are the characters of `texts` plus a few multi-character pieces."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    chars = sorted({ch for t in texts for ch in t if not ch.isspace()} | set("".join(multi_char)))
    vocab = [(s, 0.0) for s in SPECIALS] + [("▁", -3.0)] + [(p, -1.0) for p in multi_char] + [(c, -5.0) for c in chars]
    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    return tok


def write_tiny_encoder(directory: Path, texts: list[str], *, layers: int = 2, hidden: int = 32, seed: int = 0) -> Path:
    """Write config.json (BertConfig fields), model.safetensors (BertModel names) and tokenizer.json."""
    from safetensors.torch import save_file

    from fazhi_ie.neural.config import ModelConfig
    from fazhi_ie.neural.network import Encoder, init_weights

    directory.mkdir(parents=True, exist_ok=True)
    tok = tiny_tokenizer(texts)
    config = {"model_type": "bert", "vocab_size": tok.get_vocab_size(), "hidden_size": hidden,
              "num_hidden_layers": layers, "num_attention_heads": 4, "intermediate_size": 2 * hidden,
              "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
              "hidden_act": "gelu", "pad_token_id": 1}
    torch.manual_seed(seed)
    encoder = Encoder(ModelConfig.from_bert_config(config))
    init_weights(encoder)
    save_file({k: v.contiguous() for k, v in encoder.state_dict().items()}, str(directory / "model.safetensors"))
    (directory / "config.json").write_text(json.dumps(config), encoding="utf-8")
    tok.save(str(directory / "tokenizer.json"))
    return directory
