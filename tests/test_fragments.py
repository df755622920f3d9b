"""Fragment spans: the measure (training/fragments.py) and the decoding fixes that keep words whole
(fazhi_ie/neural/cohesion.py, `decode_spans` with bound junctions, `repair_spans(drop_stray=True)`)."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from fazhi_ie.neural.cohesion import bound_junctions, load_bound_bigrams, parse_bigrams  # noqa: E402
from fazhi_ie.neural.config import bio_tags  # noqa: E402
from fazhi_ie.neural.engine import EncodedText, decode_spans, repair_spans  # noqa: E402
from fazhi_ie.neural.tokenization import TokenizedText  # noqa: E402
from training.fragments import cuts_word, fragment_counts, inside_mask  # noqa: E402

TAGS = bio_tags()


# --- the measure ------------------------------------------------------------------------------------------
def test_an_edge_strictly_inside_a_word_cuts_it():
    text = "全市办复率达到95%"
    inside = inside_mask(text, [(0, 2), (2, 5), (5, 7), (7, 9), (9, 10)])  # 全市|办复率|达到|95|%
    assert cuts_word(3, 5, inside)  # 复率 (of 办复率)
    assert cuts_word(2, 4, inside)  # 办复
    assert not cuts_word(2, 5, inside) and not cuts_word(7, 10, inside)  # whole words, end-exclusive


def test_fragment_counts_per_label_with_jieba():
    pytest.importorskip("jieba")
    text = "依法从轻处罚事项38条,不予受理52件,区委常委会召开3次。"
    entities = [(3, 8, "METRIC"), (8, 11, "VALUE"),  # 轻处罚事项 cuts 从轻
                (12, 13, "METRIC"), (16, 19, "VALUE"),  # 不 (of 不予): cuts, and one character
                (20, 21, "ORG"),  # 区 (of 区委): cuts, one character
                (27, 29, "VALUE")]
    record = {"id": "d", "text": text,
              "entities": [{"label": label, "start": s, "end": e} for s, e, label in entities]}
    table = fragment_counts([record], max_examples=5)
    assert (table["METRIC"].spans, table["METRIC"].cutting, table["METRIC"].one_char) == (2, 2, 1)
    assert (table["ORG"].spans, table["ORG"].cutting, table["ORG"].one_char) == (1, 1, 1)
    assert (table["VALUE"].spans, table["VALUE"].cutting) == (3, 0)
    assert (table["ALL"].spans, table["ALL"].cutting) == (6, 3) and table["ALL"].share == pytest.approx(0.5)
    assert table["METRIC"].examples[0] == "d:3 依法从[轻处罚事项]38条,不予"


# --- bound bigrams and the constrained decoder ------------------------------------------------------------
def _char_pieces(text: str) -> TokenizedText:
    n = len(text)
    return TokenizedText(np.arange(n), np.arange(n), np.arange(1, n + 1))


def _encoded(text: str, probs: dict[int, dict[str, float]]) -> EncodedText:
    """Tag log-probabilities per character: O unless `probs[i]` says otherwise."""
    lp = np.full((len(text), len(TAGS)), 1e-4)
    lp[:, 0] = 1.0
    for i, tags in probs.items():
        lp[i, 0] = 1e-4
        for tag, p in tags.items():
            lp[i, TAGS.index(tag)] = p
    lp /= lp.sum(axis=1, keepdims=True)
    pieces = _char_pieces(text)
    return EncodedText(pieces, torch.zeros(len(text), 4), torch.log(torch.tensor(lp, dtype=torch.float32)))


def _spans(text, encoded, bound=None):
    pieces = encoded.pieces
    return [(text[int(pieces.starts[f]):int(pieces.ends[l])], int(pieces.starts[f]), int(pieces.ends[l]), label)
            for f, l, label, _ in decode_spans(encoded, TAGS, bound=bound)]


def test_bound_junctions_mark_touching_pieces_inside_a_bound_bigram():
    text = "平均办复率达 95%"
    pieces = TokenizedText(np.arange(7), np.array([0, 1, 2, 3, 4, 5, 7]), np.array([1, 2, 3, 4, 5, 6, 10]))
    marks = bound_junctions(text, pieces, frozenset({"办复", "达 ", "均办"}))
    assert marks.tolist() == [False, False, True, True, False, False, False]  # 均|办, 办|复; 达 95 do not touch
    assert not bound_junctions(text, pieces, frozenset()).any()


def test_an_edge_inside_a_bound_bigram_is_snapped_or_dropped():
    text = "平均办复率达到95%"
    bound = bound_junctions(text, _char_pieces(text), frozenset({"办复"}))
    # the network proposes 复率 (of 办复率); 办 leans O but METRIC is likely there too: the span takes the whole word
    leaning = _encoded(text, {2: {"O": 0.6, "I-METRIC": 0.3, "B-METRIC": 0.1}, 3: {"B-METRIC": 0.9},
                              4: {"I-METRIC": 0.9}, 7: {"B-VALUE": 0.9}, 8: {"I-VALUE": 0.9}, 9: {"I-VALUE": 0.9}})
    assert _spans(text, leaning)[0] == ("复率", 3, 5, "METRIC")
    assert _spans(text, leaning, bound) == [("办复率", 2, 5, "METRIC"), ("95%", 7, 10, "VALUE")]
    # when 办 is surely outside, the fragment is dropped rather than cut
    sure = _encoded(text, {2: {"O": 0.999}, 3: {"B-METRIC": 0.6, "O": 0.4}, 4: {"I-METRIC": 0.6, "O": 0.4},
                           7: {"B-VALUE": 0.9}, 8: {"I-VALUE": 0.9}, 9: {"I-VALUE": 0.9}})
    assert _spans(text, sure)[0] == ("复率", 3, 5, "METRIC")
    assert _spans(text, sure, bound) == [("95%", 7, 10, "VALUE")]


def test_a_whole_word_is_left_untouched_by_the_constraint():
    text = "出庭应诉率达100%"
    encoded = _encoded(text, {0: {"B-METRIC": 0.9}, 1: {"I-METRIC": 0.9}, 2: {"I-METRIC": 0.9},
                              3: {"I-METRIC": 0.9}, 4: {"I-METRIC": 0.9}, 6: {"B-VALUE": 0.9}, 7: {"I-VALUE": 0.9},
                              8: {"I-VALUE": 0.9}, 9: {"I-VALUE": 0.9}})
    bound = bound_junctions(text, encoded.pieces, frozenset({"出庭", "应诉", "庭应", "诉率"}))
    assert bound.any()
    expected = [("出庭应诉率", 0, 5, "METRIC"), ("100%", 6, 10, "VALUE")]
    assert _spans(text, encoded) == expected == _spans(text, encoded, bound)


def test_the_shipped_bigrams_hold_common_words_and_no_split_of_the_examples():
    bigrams = load_bound_bigrams()
    assert {"从轻", "不予", "督察", "区委"} <= bigrams
    assert all(len(b) == 2 for b in bigrams)
    with pytest.raises(ValueError, match="line 2|:2:"):
        parse_bigrams("# header\n办复率\n")


# --- span-level rules -------------------------------------------------------------------------------------
def test_stray_spans_are_dropped_and_listed():
    text = "来源:司法局 作者:\n全镇3个村完成整改,不予受理52件,区委常委会召开3次。"
    def at(sub, label):
        start = text.index(sub)
        return (start, start + len(sub), label)

    spans = [at("司法", "METRIC"), at("司法局", "ORG"),  # METRIC on a furniture line goes, an ORG there stays
             at("3个", "VALUE"), at("村", "METRIC"),  # a counted noun next to its VALUE stays
             at("不", "METRIC"), at("52件", "VALUE"),  # 不 (of 不予受理) goes
             at("区", "ORG"), at("3次", "VALUE")]
    spans = [spans[0], spans[2], spans[3], spans[4], spans[5], spans[6], spans[7]]  # 司法 and 司法局 overlap
    kept, dropped, _ = repair_spans(text, spans, drop_stray=True)
    assert [(text[s:e], label) for s, e, label, _, _ in kept] == [("3个", "VALUE"), ("村", "METRIC"),
                                                                 ("52件", "VALUE"), ("3次", "VALUE")]
    assert [(d["text"], text[d["start"]:d["end"]]) for d in dropped] == [("司法", "司法"), ("不", "不"), ("区", "区")]
    assert [d["reason"] for d in dropped] == ["a METRIC on a page-furniture line",
                                              "a one-character METRIC that no VALUE touches", "a one-character ORG"]
    kept, dropped, _ = repair_spans(text, [at("司法局", "ORG"), at("区", "ORG")], drop_stray=True)
    assert [text[s:e] for s, e, *_ in kept] == ["司法局"] and [d["text"] for d in dropped] == ["区"]
    kept, dropped, _ = repair_spans(text, spans)  # off: nothing dropped
    assert len(kept) == len(spans) and dropped == []
