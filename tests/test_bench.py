import json
import subprocess
import sys

import click
from click.testing import CliRunner
from conftest import REPO, SEEDS

from rag.corpus.ingest import read_corpus
from rag.evals.bench import bench_command, synthesize


@click.group()
@click.option("--config")
@click.option("--corpus")
@click.option("--embedder")
def group(config, corpus, embedder):
    pass


group.add_command(bench_command)


def test_bench_reports_medians_as_json(tmp_path):
    res = CliRunner().invoke(group, ["bench", "--corpus", str(SEEDS), "--embedder", "hash", "--runs", "2", "--json"])
    assert res.exit_code == 0, res.output
    r = json.loads(res.output)
    assert r["articles"] == 5 and r["chunks"] > 50 and r["cold_chunks_per_s"] > 0
    assert r["add_one_embedded_chunks"] > 0 and r["add_one_s"] >= 0
    assert set(r["retrieval_ms"]) == {"p50", "p95"} and r["retrieval_ms"]["p50"] <= r["retrieval_ms"]["p95"]
    assert r["index_mb"] > 0 and r["peak_rss_mb"] > 0 and r["faiss"] == "flat"
    assert list(SEEDS.glob("zz_bench*")) == []  # the real corpus is not touched


def test_bench_table_and_synthetic_corpus(tmp_path):
    res = CliRunner().invoke(group, ["bench", "--corpus", str(SEEDS), "--embedder", "hash", "--runs", "1", "--synthetic", "300"])
    assert res.exit_code == 0, res.output
    assert "cold build" in res.output and "retrieval p50/p95" in res.output
    synthesize([SEEDS], tmp_path / "s", 300)
    from rag.corpus.chunking import chunk_document

    assert sum(len(chunk_document(d)) for d in read_corpus(tmp_path / "s").documents) >= 300


def test_bench_faiss_point_and_bad_corpus():
    res = CliRunner().invoke(group, ["bench", "--faiss", "500", "--json"])
    assert res.exit_code == 0, res.output
    points = [json.loads(line) for line in res.output.splitlines()]
    assert [p["dim"] for p in points] == [384, 768] and all(p["hnsw_recall_at_10"] > 0.5 for p in points)
    res = CliRunner().invoke(group, ["bench", "--corpus", "no-such-dir", "--embedder", "hash"])
    assert res.exit_code == 2 and "does not exist" in res.output


def test_importing_bench_is_light():
    code = "import sys, rag.evals.bench; print(sorted(m for m in ('numpy', 'faiss', 'rag.store.index', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_hnsw_recall_on_a_real_index_with_real_questions(tmp_path):
    from rag.models.embedding import HashingEmbedder
    from rag.store.index import build_index

    build_index(SEEDS, tmp_path / "idx", HashingEmbedder())
    gold = REPO / "eval" / "gold" / "seeds.jsonl"
    res = CliRunner().invoke(group, ["bench", "--recall-on", str(tmp_path / "idx"), "--questions", str(gold), "--json"])
    assert res.exit_code == 0, res.output
    point = json.loads(res.output)
    assert point["n"] == 76 and point["embedder"] == "hash-256"
    assert 0.9 <= point["hnsw_recall_at_10"] <= 1.0  # 76 vectors: HNSW visits nearly all of them
    res = CliRunner().invoke(group, ["bench", "--recall-on", str(tmp_path / "idx")])
    assert "--questions" in str(res.exception)  # a ConfigError: `rag` prints it as one line, exit 2


def test_bench_resumes_an_interrupted_cold_build_and_counts_its_saved_time(tmp_path, monkeypatch):
    import shutil

    from test_index import InterruptedEmbedder

    from rag.store.index import build_index

    work = tmp_path / "work"
    shutil.copytree(SEEDS, work / "corpus")
    monkeypatch.setenv("RAG_TEST_CHECKPOINT_S", "0")
    try:
        build_index(work / "corpus", work / "index", InterruptedEmbedder(at=3))  # 2 of 3 batches saved
    except KeyboardInterrupt:
        pass
    args = ["bench", "--corpus", str(SEEDS), "--embedder", "hash", "--runs", "1", "--work", str(work)]
    res = CliRunner().invoke(group, args)
    assert res.exit_code == 2 and "--resume" in res.output  # a folder in use is not overwritten
    res = CliRunner().invoke(group, [*args, "--resume", "--json"])
    assert res.exit_code == 0, res.output
    r = json.loads(res.output)
    assert r["cold_resumed_chunks"] == 64 and r["chunks"] == 76 and r["articles"] == 5
    res = CliRunner().invoke(group, [*args, "--resume"])
    assert res.exit_code == 2 and "finished" in res.output
    res = CliRunner().invoke(group, ["bench", "--embedder", "hash", "--resume"])
    assert res.exit_code == 2 and "--work" in res.output
