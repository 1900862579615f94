"""Dense search in a vector database instead of in-process FAISS, behind the same interface.

`vector_store = "milvus:http://host:19530"` (rag.toml, RAG_VECTOR_STORE or --vector-store) makes
the pipeline mirror the live index generation into a Milvus collection and search there; keyword
search, fusion, evidence selection and citation checks stay here, unchanged. The index folder
stays the source of truth: a collection is named after its generation, filled once, and the
collections of older generations are dropped, so a re-index never serves a half-updated
collection. Tested against Milvus Lite's gRPC server on loopback (tests/test_vectordb.py);
the same client code talks to a Milvus server or Zilliz Cloud.
"""

from __future__ import annotations

import re

import numpy as np

from rag.errors import ConfigError, ModelMissingError

PREFIX = "vnrag_"
BATCH = 1000


def parse(spec: str) -> tuple[str, str]:
    """"milvus:URI" -> ("milvus", URI); a clear error for anything else."""
    kind, _, uri = spec.partition(":")
    if kind != "milvus" or not uri:
        raise ConfigError(
            f"Unknown vector store {spec!r}. Use milvus:http://HOST:19530 (a Milvus server), or leave it empty for the built-in FAISS index."
        )
    return kind, uri


class MilvusDense:
    """FAISS-shaped dense search over a Milvus collection: search(q[1, d], k) -> (sims, ids)."""

    def __init__(self, client, collection: str, dim: int):
        self.client, self.collection, self.d = client, collection, dim

    @property
    def ntotal(self) -> int:
        return int(self.client.get_collection_stats(self.collection).get("row_count", 0))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        res = self.client.search(
            self.collection, data=[q.astype(np.float32).tolist() for q in queries], limit=k,
            search_params={"metric_type": "IP"}, output_fields=[],
        )
        sims = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        for row, hits in enumerate(res):
            for col, h in enumerate(list(hits)[:k]):
                ids[row, col] = int(h["id"])
                sims[row, col] = float(h["distance"])
        return sims, ids


def _collection_name(index) -> str:
    gen = index.path.name if index.path.name.startswith("gen-") else index.manifest.get("generation", index.path.name)
    return PREFIX + re.sub(r"[^0-9A-Za-z_]", "_", str(gen))


def connect(spec: str, index, progress=None) -> MilvusDense:
    """Mirror `index` (a LoadedIndex) into the store named by `spec` and return its dense search."""
    _, uri = parse(spec)
    try:
        from pymilvus import DataType, MilvusClient
        from pymilvus.exceptions import MilvusException
    except ImportError as e:
        raise ModelMissingError(f"The Milvus client is not installed ({e}). Run: .venv/bin/pip install pymilvus") from None
    try:
        client = MilvusClient(uri=uri, timeout=10)
    except MilvusException as e:
        raise ModelMissingError(f"Cannot reach Milvus at {uri} ({e}). Start the server, or unset RAG_VECTOR_STORE to use FAISS.") from None
    name = _collection_name(index)
    vectors = np.ascontiguousarray(index.vectors, dtype=np.float32)
    n, dim = vectors.shape if vectors.ndim == 2 else (0, 0)
    if client.has_collection(name) and int(client.get_collection_stats(name).get("row_count", -1)) != n:
        client.drop_collection(name)  # a fill that was cut short: start it again
    if not client.has_collection(name):
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        params = client.prepare_index_params()
        params.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
        client.create_collection(name, schema=schema, index_params=params)
        for start in range(0, n, BATCH):
            stop = min(n, start + BATCH)
            client.insert(name, [{"id": i, "vector": vectors[i].tolist()} for i in range(start, stop)])
            if progress:
                progress("milvus", stop, n)
        client.flush(name)
    client.load_collection(name)
    for old in client.list_collections():
        if old.startswith(PREFIX) and old != name:
            client.drop_collection(old)
    return MilvusDense(client, name, dim)
