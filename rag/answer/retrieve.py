"""Hybrid retrieval: dense (FAISS) and a Vietnamese-aware BM25, fused by weighted reciprocal rank.

The keyword side is weighted by how much of the question the corpus vocabulary actually
covers: an English question over Vietnamese text shares only names, and its keyword
ranking is mostly noise, so it counts for little there.

A question that names people or places ("What did Lavrov say Russia is ready to do?") is pulled,
in embedding space, towards every line that repeats the names, while the line that answers often
says "the foreign minister" or no name at all. So the lines of the leading articles that carry those
names are ranked a second time by the question without its names (`unnamed`), and that ranking is
fused in too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from rag.models.embedding import Embedder
from rag.store.index import LoadedIndex
from rag.text import fold, words
from rag.verify.cite import question_names

RRF_K = 60


@dataclass(frozen=True, slots=True)
class Hit:
    chunk_id: int
    file: str
    start_line: int
    end_line: int
    text: str
    score: float  # fused score, higher is better
    dense: float  # cosine similarity to the question
    keyword: float  # BM25 score (0 when no term matched)


@dataclass(frozen=True, slots=True)
class Retrieval:
    hits: list[Hit]
    keyword_weight: float
    ms: float


def _rank_of(order: np.ndarray, n: int) -> np.ndarray:
    ranks = np.full(n, np.inf, dtype=np.float64)
    ranks[order] = np.arange(len(order))
    return ranks


SCOPE_ARTICLES = 2  # the name-scoped ranking looks inside the articles of the top two hits
SCOPE_DEPTH = 10  # and adds its best ten lines to the fused ranking


def unnamed(index: LoadedIndex, query: str, names: set[str] | None = None) -> str | None:
    """`query` without its names (`cite.question_names`, or `names` when already found), or None without any."""
    names = question_names(query, index.keyword.names) if names is None else names
    if not names:
        return None
    return " ".join(w for w in words(query) if fold(w) not in names and w.lower() != "s")


def _name_scope(index: LoadedIndex, names: set[str], leaders: list[int]) -> np.ndarray:
    """Chunks of those leading articles that carry the most of the question's names."""
    count: dict[str, int] = {}
    for name in names:
        for f in index.files_with(name):
            count[f] = count.get(f, 0) + 1
    if not count:
        return np.zeros(0, dtype=np.int64)
    most = max(count.values())
    files = {index.chunks[i].file for i in leaders} & {f for f, c in count.items() if c == most}
    return np.array(sorted(i for f in files for i in index.chunks_of(f)), dtype=np.int64)


def search(
    index: LoadedIndex,
    embedder: Embedder | None,
    query: str,
    k: int = 8,
    mode: str = "hybrid",
    depth: int = 50,
    query_vector: np.ndarray | None = None,
    unnamed_vector: np.ndarray | None = None,
    name_scope: bool = True,
) -> Retrieval:
    """Rank chunks for `query`. mode: hybrid | dense | keyword.

    In hybrid mode (and with `name_scope`) a question with names gets the name-scoped ranking
    (module docstring), from `unnamed_vector` (the embedding of `unnamed(index, query)`) or,
    without it, from `embedder`."""
    t0 = time.perf_counter()
    n = len(index.chunks)
    if n == 0:
        return Retrieval([], 0.0, 0.0)
    depth = min(depth, n)
    dense_scores = np.zeros(n, dtype=np.float32)
    fused = np.zeros(n, dtype=np.float64)
    if mode in ("hybrid", "dense"):
        if query_vector is None:
            assert embedder is not None
            query_vector = embedder.embed_queries([query])[0]
        sims, ids = index.dense.search(np.ascontiguousarray(query_vector[None, :], dtype=np.float32), depth)
        ids, sims = ids[0], sims[0]
        keep = ids >= 0
        ids, sims = ids[keep], sims[keep]
        dense_scores[ids] = sims
        fused[ids] += 1.0 / (RRF_K + np.arange(len(ids)) + 1)
    kw = index.keyword.scores(query) if mode in ("hybrid", "keyword") else np.zeros(n, dtype=np.float32)
    weight = 0.0
    if mode in ("hybrid", "keyword"):
        weight = 1.0 if mode == "keyword" else index.keyword.coverage(query) ** 2
        matched = np.flatnonzero(kw > 0)
        if len(matched):
            order = matched[np.argsort(-kw[matched], kind="stable")][:depth]
            fused[order] += weight / (RRF_K + np.arange(len(order)) + 1)
    if mode == "hybrid" and name_scope:
        _fuse_name_scope(index, embedder, query, fused, dense_scores, query_vector, unnamed_vector)
    candidates = np.flatnonzero(fused > 0)
    # Ties (e.g. keyword-only) fall back to the dense score, then to corpus order.
    order = sorted(candidates, key=lambda i: (-fused[i], -dense_scores[i], i))[:k]
    hits = [
        Hit(int(i), index.chunks[i].file, index.chunks[i].start_line, index.chunks[i].end_line, index.chunks[i].text,
            float(fused[i]), float(dense_scores[i]), float(kw[i]))
        for i in order
    ]
    return Retrieval(hits, weight, (time.perf_counter() - t0) * 1000)


def _fuse_name_scope(index, embedder, query, fused, dense_scores, query_vector, unnamed_vector) -> None:
    """Add the name-scoped ranking (module docstring) to `fused`, in place."""
    names = question_names(query, index.keyword.names)
    rest = unnamed(index, query, names)
    if not rest or query_vector is None or (unnamed_vector is None and embedder is None):
        return
    candidates = np.flatnonzero(fused > 0)
    leaders = sorted(candidates, key=lambda i: (-fused[i], -dense_scores[i], i))[:SCOPE_ARTICLES]
    scope = _name_scope(index, names, [int(i) for i in leaders])
    if not len(scope):
        return
    if unnamed_vector is None:
        unnamed_vector = embedder.embed_queries([rest])[0]
    vectors = index.vectors[scope]
    dense_scores[scope] = vectors @ query_vector  # lines past the dense depth get their real similarity
    order = scope[np.argsort(-(vectors @ unnamed_vector), kind="stable")][:SCOPE_DEPTH]
    fused[order] += 1.0 / (RRF_K + np.arange(len(order)) + 1)
