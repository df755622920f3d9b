"""Ray Data extraction on a local Ray instance (slow tier: Ray takes ~20-40 s to start here,
and `ray` is the optional extra fazhi-ie[ray], not part of the dev install CI runs)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from fazhi_ie.batch import BatchConfig, run_batch

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = (ROOT / "fazhi_ie" / "data" / "sample_report.txt").read_text(encoding="utf-8")


@pytest.mark.slow
def test_ray_actors_write_the_facts_of_a_local_run_as_parquet(tmp_path):
    ray = pytest.importorskip("ray")
    pq = pytest.importorskip("pyarrow.parquet")
    from fazhi_ie.ray_extract import extract_to_parquet

    src = tmp_path / "in"
    src.mkdir()
    (src / "sample.txt").write_text(SAMPLE, encoding="utf-8")
    with (src / "docs.jsonl").open("w", encoding="utf-8") as fh:
        for i in range(6):
            fh.write(json.dumps({"id": f"d{i}", "text": SAMPLE[i * 500:i * 500 + 1500]}, ensure_ascii=False) + "\n")
        fh.write(json.dumps({"id": "bad", "text": "x", "meta": [1]}) + "\n")
    local = io.StringIO()
    run_batch([str(src)], BatchConfig(fmt="csv"), out_stream=local, err_stream=io.StringIO(), progress=False)
    expected = sorted((r["doc_id"], r["metric"], r["value"], r["value_start"]) for r in csv.DictReader(io.StringIO(local.getvalue())))

    # two actors hold a CPU each; the read and split tasks need one more (logical CPUs)
    ray.init(num_cpus=3, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        summary = extract_to_parquet([str(src)], tmp_path / "facts", engine="rules", actors=2, batch_size=2)
    finally:
        ray.shutdown()
    table = pq.read_table(str(tmp_path / "facts")).to_pylist()
    facts = sorted((r["doc_id"], r["metric"], r["value"], str(r["value_start"])) for r in table if not r["error"])
    assert facts == expected and summary["facts"] == len(expected) > 50
    assert [f["id"] for f in summary["failures"]] == ["bad"]
    assert "'meta' must be an object" in summary["failures"][0]["error"]
