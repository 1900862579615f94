"""Dense search through Milvus (Milvus Lite's gRPC server, started on loopback) gives the same
ranking as the built-in FAISS index, and the pipeline answers through it unchanged."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import free_port, make_pipeline, start_server

from rag.answer.pipeline import attach_store
from rag.answer.retrieve import search
from rag.config import Settings
from rag.errors import ConfigError, ModelMissingError

pytest.importorskip("pymilvus", reason="needs pymilvus (installed by the set-up)")
pytest.importorskip("milvus_lite", reason="needs milvus-lite (installed by the set-up)")


@pytest.fixture(scope="module")
def milvus(tmp_path_factory):
    port = free_port()
    data = tmp_path_factory.mktemp("milvus")
    proc = start_server(
        [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data), "--host", "127.0.0.1", "--port", str(port)], port
    )
    yield f"milvus:http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


def test_milvus_ranks_like_faiss(milvus, hash_index):
    from rag.store.index import build_faiss

    faiss_index = build_faiss(hash_index.vectors)
    attach_store(Settings(vector_store=milvus), hash_index)
    assert hash_index.dense.ntotal == len(hash_index.chunks)
    rng = np.random.default_rng(0)
    for i in rng.choice(len(hash_index.chunks), 10, replace=False):
        q = hash_index.vectors[i : i + 1]
        sims_m, ids_m = hash_index.dense.search(q, 5)
        sims_f, ids_f = faiss_index.search(q, 5)
        assert ids_m[0][0] == i  # a line's own vector finds it first
        assert list(ids_m[0]) == list(ids_f[0])
        assert np.allclose(sims_m, sims_f, atol=1e-4)


def test_pipeline_answers_through_milvus(milvus, hash_index):
    attach_store(Settings(vector_store=milvus), hash_index)
    line = hash_index.docs["001_f9b850b45a61ace5.txt"].line(15)
    row = next(i for i, c in enumerate(hash_index.chunks) if c.file == "001_f9b850b45a61ace5.txt" and c.start_line == 15)
    hits = search(hash_index, None, line, k=3, mode="dense", query_vector=hash_index.vectors[row]).hits
    assert (hits[0].file, hits[0].start_line) == ("001_f9b850b45a61ace5.txt", 15)
    a = make_pipeline(hash_index, reply=line[:60] + " [1]").ask(line[:80])
    assert not a.refused and (a.citations[0].file, a.citations[0].line_start) == ("001_f9b850b45a61ace5.txt", 15)


def test_reconnecting_reuses_the_filled_collection(milvus, hash_index):
    from pymilvus import MilvusClient

    attach_store(Settings(vector_store=milvus), hash_index)
    client = MilvusClient(uri=milvus.split(":", 1)[1])
    names = [n for n in client.list_collections() if n.startswith("vnrag_")]
    attach_store(Settings(vector_store=milvus), hash_index)
    assert [n for n in client.list_collections() if n.startswith("vnrag_")] == names == [hash_index.dense.collection]


def test_bad_specs_and_unreachable_servers_are_clear_errors(hash_index):
    with pytest.raises(ConfigError, match="milvus:http://HOST:19530"):
        attach_store(Settings(vector_store="qdrant:x"), hash_index)
    port = free_port()
    with pytest.raises(ModelMissingError, match="Cannot reach Milvus.*unset RAG_VECTOR_STORE"):
        attach_store(Settings(vector_store=f"milvus:http://127.0.0.1:{port}"), hash_index)
