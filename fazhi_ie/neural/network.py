"""The network: a BERT encoder (weights named as transformers' BertModel), a BIO tagging head
and a pair scorer for relations. Plain torch, so inference needs neither transformers nor a
download; `tests/test_model.py` checks the encoder against transformers' BertModel.
"""
from __future__ import annotations


import torch
import torch.nn.functional as F
from torch import nn

from ..schema import RELATION_RULES
from .config import ModelConfig


class _Embeddings(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_token_id)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(0.1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.word_embeddings(ids) + self.position_embeddings(positions)[None] + self.token_type_embeddings.weight[0]
        return self.dropout(self.LayerNorm(x))


class _SelfAttention(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)
        self.heads = c.num_attention_heads


class _Dense(nn.Module):
    def __init__(self, d_in: int, d_out: int, eps: float | None):
        super().__init__()
        self.dense = nn.Linear(d_in, d_out)
        if eps is not None:
            self.LayerNorm = nn.LayerNorm(d_out, eps=eps)
        self.dropout = nn.Dropout(0.1)


class _Layer(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.attention = nn.Module()
        self.attention.add_module("self", _SelfAttention(c))
        self.attention.add_module("output", _Dense(c.hidden_size, c.hidden_size, c.layer_norm_eps))
        self.intermediate = _Dense(c.hidden_size, c.intermediate_size, None)
        self.output = _Dense(c.intermediate_size, c.hidden_size, c.layer_norm_eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        att = getattr(self.attention, "self")
        b, t, h = x.shape
        heads = att.heads

        def split(y: torch.Tensor) -> torch.Tensor:
            return y.view(b, t, heads, h // heads).transpose(1, 2)

        q, k, v = split(att.query(x)), split(att.key(x)), split(att.value(x))
        p = 0.1 if self.training else 0.0
        ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        ctx = ctx.transpose(1, 2).reshape(b, t, h)
        out = self.attention.output
        x = out.LayerNorm(x + out.dropout(out.dense(ctx)))
        inner = F.gelu(self.intermediate.dense(x))
        return self.output.LayerNorm(x + self.output.dropout(self.output.dense(inner)))


class Encoder(nn.Module):
    """BERT without pooler; parameter names match `transformers.BertModel`."""

    def __init__(self, c: ModelConfig):
        super().__init__()
        self.embeddings = _Embeddings(c)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList(_Layer(c) for _ in range(c.num_hidden_layers))

    def forward(self, ids: torch.Tensor, attention: torch.Tensor, *, start_layer: int = 0,
                hidden: torch.Tensor | None = None, stop_layer: int | None = None,
                inject: torch.Tensor | None = None, inject_layer: int = 0) -> torch.Tensor:
        """Hidden states after `stop_layer` layers (all by default); start from `hidden` after `start_layer`.

        `inject` (same shape as the states) is added to the input of layer `inject_layer` (or to the
        output when it equals the number of layers): how rule-engine features enter the network.
        """
        mask = attention[:, None, None, :].bool()
        x = self.embeddings(ids) if hidden is None else hidden
        layers = self.encoder.layer
        stop = len(layers) if stop_layer is None else stop_layer
        for i in range(start_layer, stop):
            if inject is not None and i == inject_layer:
                x = x + inject
            x = layers[i](x, mask)
        if inject is not None and inject_layer == stop == len(layers) and start_layer <= inject_layer:
            x = x + inject
        return x


def distance_bucket(d: torch.Tensor, buckets: int) -> torch.Tensor:
    """Signed log-scale buckets of token distance: 0..2*buckets."""
    mag = torch.clamp(torch.floor(torch.log2(d.abs().float() + 1)), max=buckets - 1).long()
    return torch.where(d >= 0, buckets + mag, buckets - 1 - mag).clamp(0, 2 * buckets - 1)


PAIR_TYPES: tuple[tuple[str, str, str], ...] = tuple(
    (rel, head, tail) for rel, (heads, tails) in RELATION_RULES.items() for head in sorted(heads) for tail in sorted(tails))


class SpanRelationModel(nn.Module):
    """Encoder + BIO tagger + relation pair scorer (one logit per candidate pair)."""

    def __init__(self, c: ModelConfig):
        super().__init__()
        self.config = c
        self.bert = Encoder(c)
        self.dropout = nn.Dropout(0.1)
        self.tagger = nn.Linear(c.hidden_size, len(c.tags))
        d = c.relation_dim
        self.span_proj = nn.Linear(2 * c.hidden_size, d)
        self.pair_type = nn.Embedding(len(PAIR_TYPES), d)
        self.distance = nn.Embedding(2 * c.distance_buckets, d)
        self.pair_mlp = nn.Sequential(nn.Linear(3 * d, d), nn.GELU(), nn.Dropout(0.1), nn.Linear(d, 1))
        if c.rule_features:
            # the rule engine's BIO tag of each piece and whether it linked a pair: learned corrections of the rules
            self.rule_tags = nn.Embedding(len(c.tags), c.hidden_size)
            self.rule_pairs = nn.Embedding(2, d)

    def encode(self, ids: torch.Tensor, attention: torch.Tensor, rule_tags: torch.Tensor | None = None, *,
               start_layer: int = 0, hidden: torch.Tensor | None = None) -> torch.Tensor:
        """Encoder states with the rule features injected where the config says (when enabled)."""
        inject = self.rule_tags(rule_tags) if self.config.rule_features and rule_tags is not None else None
        return self.bert(ids, attention, start_layer=start_layer, hidden=hidden, inject=inject,
                         inject_layer=self.config.rule_feature_layer)

    def tag_logits(self, states: torch.Tensor) -> torch.Tensor:
        return self.tagger(self.dropout(states))

    def pair_logits(self, states: torch.Tensor, spans: torch.Tensor, pairs: torch.Tensor,
                    pair_types: torch.Tensor, rule_links: torch.Tensor | None = None) -> torch.Tensor:
        """states [T, H] of one sequence; spans [S, 2] piece (first, last); pairs [P, 2] span indices."""
        if len(pairs) == 0:
            return states.new_zeros(0)
        span_vec = F.gelu(self.span_proj(torch.cat([states[spans[:, 0]], states[spans[:, 1]]], dim=-1)))
        head, tail = span_vec[pairs[:, 0]], span_vec[pairs[:, 1]]
        dist = spans[pairs[:, 1], 0] - spans[pairs[:, 0], 0]
        ctx = self.pair_type(pair_types) + self.distance(distance_bucket(dist, self.config.distance_buckets))
        if self.config.rule_features and rule_links is not None:
            ctx = ctx + self.rule_pairs(rule_links)
        return self.pair_mlp(torch.cat([head * ctx, tail * ctx, head * tail], dim=-1)).squeeze(-1)


def allowed_transitions(tags: tuple[str, ...]) -> torch.Tensor:
    """[from, to] bool matrix of BIO transitions that keep spans well formed (I-X only after B-X/I-X)."""
    n = len(tags)
    ok = torch.ones(n, n, dtype=torch.bool)
    for j, to in enumerate(tags):
        if to.startswith("I-"):
            for i, fr in enumerate(tags):
                ok[i, j] = fr in (f"B-{to[2:]}", to)
    return ok


def init_weights(module: nn.Module) -> None:
    """BERT-style initialisation for freshly created layers (rule-feature embeddings start at zero)."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, std=0.02)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    for name in ("rule_tags", "rule_pairs"):
        if isinstance(getattr(module, name, None), nn.Embedding):
            nn.init.zeros_(getattr(module, name).weight)


__all__ = ["Encoder", "SpanRelationModel", "PAIR_TYPES", "allowed_transitions", "init_weights", "distance_bucket"]
