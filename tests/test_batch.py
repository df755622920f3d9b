"""Batch extraction: workers, resume after a kill, errors file, constant-memory streaming."""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fazhi_ie.batch import BatchConfig, BatchError, completed_ids, iter_documents, list_sources, run_batch
from fazhi_ie.io.jsonl import read_jsonl

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = (ROOT / "fazhi_ie" / "data" / "sample_report.txt").read_text(encoding="utf-8")


def corpus(path: Path, n: int, chars: int = 1500) -> Path:
    """n JSONL documents cut from the sample report, each a little different."""
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            start = (i * 97) % max(1, len(SAMPLE) - chars)
            fh.write(json.dumps({"id": f"d{i:04d}", "text": SAMPLE[start:start + chars], "meta": {"n": i}},
                                ensure_ascii=False) + "\n")
    return path


def test_two_workers_write_what_one_writes(tmp_path):
    src = corpus(tmp_path / "in.jsonl", 12)
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}.jsonl"
        result = run_batch([str(src)], BatchConfig(engine="rules", workers=workers), output=str(out), progress=False)
        assert result.documents == 12 and not result.failures
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_workers_record_failures_in_order(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": SAMPLE[:300]}, ensure_ascii=False) + "\n{broken\n"
                   + json.dumps({"id": "b", "text": SAMPLE[:200]}, ensure_ascii=False) + "\n", encoding="utf-8")
    errors = tmp_path / "errors.jsonl"
    result = run_batch([str(src)], BatchConfig(engine="rules", workers=2), output=str(tmp_path / "o.jsonl"), errors=str(errors),
                       progress=False)
    assert result.documents == 2 and [f.where for f in result.failures] == [f"{src}:2"]
    assert json.loads(errors.read_text(encoding="utf-8"))["where"] == f"{src}:2"


def test_resume_after_a_cut_mid_line_gives_the_uninterrupted_output(tmp_path):
    src = corpus(tmp_path / "in.jsonl", 30)
    full = tmp_path / "full.jsonl"
    run_batch([str(src)], BatchConfig(engine="rules"), output=str(full), progress=False)
    data = full.read_bytes()
    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(data[: len(data) // 2])  # ends inside a line: a half-written document
    assert not cut.read_bytes().endswith(b"\n")
    result = run_batch([str(src)], BatchConfig(engine="rules", resume=True), output=str(cut), progress=False)
    assert result.skipped > 0 and result.skipped + result.documents == 30
    assert cut.read_bytes() == data


def test_completed_ids_cuts_a_partial_tail(tmp_path):
    path = tmp_path / "o.jsonl"
    path.write_bytes(b'{"id": "a", "text": ""}\n{"id": "b", "text": ""}\n{"id": "c", "te')
    assert completed_ids(path) == {"a", "b"}
    assert path.read_bytes() == b'{"id": "a", "text": ""}\n{"id": "b", "text": ""}\n'


@pytest.mark.slow
def test_kill_midway_then_resume(tmp_path):
    """A real run killed with SIGKILL part way, resumed: exactly the uninterrupted output."""
    src = corpus(tmp_path / "in.jsonl", 200, chars=2000)
    full = tmp_path / "full.jsonl"
    cmd = [sys.executable, "-m", "fazhi_ie.cli", "extract", str(src), "-q", "--engine", "rules"]
    subprocess.run(cmd + ["-o", str(full)], check=True, timeout=300)
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(cmd + ["-o", str(out)])
    deadline = time.time() + 120
    while time.time() < deadline and (not out.exists() or out.stat().st_size < full.stat().st_size // 4):
        time.sleep(0.01)
    still_running = proc.poll() is None
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert still_running, "the run ended before it could be killed; give it more input"
    partial = out.stat().st_size
    assert 0 < partial < full.stat().st_size
    subprocess.run(cmd + ["-o", str(out), "--resume"], check=True, timeout=300)
    assert out.read_bytes() == full.read_bytes()
    ids = [d.id for d in read_jsonl(out)]
    assert len(ids) == len(set(ids)) == 200


def test_documents_are_streamed_not_read_ahead(tmp_path):
    src = tmp_path / "in.jsonl"
    lines = [json.dumps({"id": "a", "text": "全区受理案件93件。"}, ensure_ascii=False).encode(), b"\xff\xfe broken"]
    src.write_bytes(b"\n".join(lines) + b"\n")
    items = iter_documents(list_sources([str(src)]))
    first = next(items)  # read before the broken line is reached
    assert first.doc.id == "a"
    second = next(items)
    assert "not UTF-8" in second.reason and second.where == f"{src}:2"


def test_config_rejects_what_it_cannot_use():
    with pytest.raises(BatchError, match="at least 1"):
        BatchConfig(engine="rules", workers=0)
    with pytest.raises(BatchError, match="valid formats"):
        BatchConfig(engine="rules", fmt="xml")
    with pytest.raises(BatchError, match="--resume needs --format jsonl"):
        BatchConfig(engine="rules", fmt="csv", resume=True)


def test_csv_and_table_stream_per_document(tmp_path):
    src = corpus(tmp_path / "in.jsonl", 3)
    out = io.StringIO()
    run_batch([str(src)], BatchConfig(engine="rules", fmt="csv"), out_stream=out, progress=False)
    rows = out.getvalue().splitlines()
    assert rows[0].startswith("doc_id,metric,value") and len(rows) > 3
    assert {r.split(",")[0] for r in rows[1:]} == {"d0000", "d0001", "d0002"}


def test_resume_refuses_a_file_that_is_not_an_earlier_output(tmp_path):
    path = tmp_path / "notes.jsonl"
    path.write_bytes(b'{"id": "a", "text": "x"}\nsomething else\n{"id": "b", "text": "y"}\n')
    with pytest.raises(BatchError, match="notes.jsonl:2: not a document record"):
        completed_ids(path)
    assert path.read_bytes().endswith(b'"y"}\n')  # nothing cut


def test_memory_does_not_grow_with_the_number_of_documents(tmp_path):
    import tracemalloc

    warm = corpus(tmp_path / "warm.jsonl", 3, chars=300)  # imports and caches before measuring
    run_batch([str(warm)], BatchConfig(engine="rules"), output=str(tmp_path / "warm.out"), progress=False)
    peaks = {}
    for n in (30, 300):
        src = corpus(tmp_path / f"in{n}.jsonl", n, chars=300)
        tracemalloc.start()
        result = run_batch([str(src)], BatchConfig(engine="rules"), output=str(tmp_path / f"out{n}.jsonl"), progress=False)
        peaks[n] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert result.documents == n
    # ten times the documents: the same peak, give or take the ids kept for duplicate checks
    assert peaks[300] < peaks[30] * 1.3 + 200_000, peaks
