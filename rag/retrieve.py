"""Hybrid retrieval: dense (FAISS) and a Vietnamese-aware BM25, fused by weighted reciprocal rank.

The keyword side is weighted by how much of the question the corpus vocabulary actually
covers: an English question over Vietnamese text shares only names, and its keyword
ranking is mostly noise, so it counts for little there.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from rag.embedding import Embedder
from rag.index import LoadedIndex
from rag.text import fold, keyword_tokens, words

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


class KeywordIndex:
    """BM25 (k1=1.2, b=0.75) over `keyword_tokens`, postings as numpy arrays."""

    def __init__(
        self, vocab: dict[str, int], postings: list[tuple[np.ndarray, np.ndarray]], lengths: np.ndarray, names: frozenset[str] = frozenset()
    ):
        self.vocab = vocab
        self.names = names  # folded syllables the corpus always capitalises: proper names
        self.postings = postings
        self.lengths = lengths
        self.avg = float(lengths.mean()) if len(lengths) else 1.0
        self.n = len(lengths)

    @classmethod
    def build(cls, texts: list[str]) -> KeywordIndex:
        vocab: dict[str, int] = {}
        rows: list[list[int]] = []
        counts: list[list[int]] = []
        lengths = np.zeros(len(texts), dtype=np.float32)
        caps: dict[str, list[int]] = {}
        for text in texts:
            for pos, w in enumerate(words(text)):
                if pos == 0 or len(w) < 2:
                    continue  # a sentence's first word is capitalised whatever it is
                c = caps.setdefault(fold(w), [0, 0])
                c[0 if w[0].isupper() else 1] += 1
        names = frozenset(w for w, (up, low) in caps.items() if up >= 1 and low == 0 and not w.isdigit())
        for i, text in enumerate(texts):
            toks = keyword_tokens(text)
            lengths[i] = len(toks)
            tf: dict[int, int] = {}
            for t in toks:
                tid = vocab.setdefault(t, len(vocab))
                if tid == len(rows):
                    rows.append([])
                    counts.append([])
                tf[tid] = tf.get(tid, 0) + 1
            for tid, c in tf.items():
                rows[tid].append(i)
                counts[tid].append(c)
        postings = [(np.asarray(r, dtype=np.int32), np.asarray(c, dtype=np.float32)) for r, c in zip(rows, counts)]
        return cls(vocab, postings, lengths, names)

    def save(self, path) -> None:
        """One .npz: vocabulary, postings as one flat array with offsets, lengths, names."""
        import os

        offsets = np.zeros(len(self.postings) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(d) for d, _ in self.postings])
        docs = np.concatenate([d for d, _ in self.postings]) if self.postings else np.zeros(0, np.int32)
        tfs = np.concatenate([t for _, t in self.postings]) if self.postings else np.zeros(0, np.float32)
        vocab = np.array(sorted(self.vocab, key=self.vocab.__getitem__), dtype=object).astype(str)
        with open(path, "wb") as f:
            np.savez(f, vocab=vocab, offsets=offsets, docs=docs, tfs=tfs, lengths=self.lengths, names=np.array(sorted(self.names), dtype=str))
            f.flush()
            os.fsync(f.fileno())

    @classmethod
    def load(cls, path) -> KeywordIndex:
        with np.load(path, allow_pickle=False) as z:
            vocab_list, offsets, docs, tfs = z["vocab"].tolist(), z["offsets"], z["docs"], z["tfs"]
            lengths, names = z["lengths"], frozenset(z["names"].tolist())
        postings = [(docs[offsets[i] : offsets[i + 1]], tfs[offsets[i] : offsets[i + 1]]) for i in range(len(vocab_list))]
        return cls({t: i for i, t in enumerate(vocab_list)}, postings, lengths, names)

    def coverage(self, query: str) -> float:
        """Share of the question's distinct keyword tokens that occur in the corpus at all."""
        toks = {t for t in keyword_tokens(query) if not t.startswith("~") and "_" not in t}
        if not toks:
            return 0.0
        return sum(1 for t in toks if t in self.vocab) / len(toks)

    def scores(self, query: str, k1: float = 1.2, b: float = 0.75) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.float32)
        for t in set(keyword_tokens(query)):
            tid = self.vocab.get(t)
            if tid is None:
                continue
            docs, tf = self.postings[tid]
            idf = math.log(1 + (self.n - len(docs) + 0.5) / (len(docs) + 0.5))
            norm = tf + k1 * (1 - b + b * self.lengths[docs] / self.avg)
            out[docs] += idf * tf * (k1 + 1) / norm
        return out


@dataclass(frozen=True, slots=True)
class Retrieval:
    hits: list[Hit]
    keyword_weight: float
    ms: float


def _rank_of(order: np.ndarray, n: int) -> np.ndarray:
    ranks = np.full(n, np.inf, dtype=np.float64)
    ranks[order] = np.arange(len(order))
    return ranks


def search(
    index: LoadedIndex,
    embedder: Embedder | None,
    query: str,
    k: int = 8,
    mode: str = "hybrid",
    depth: int = 50,
    query_vector: np.ndarray | None = None,
) -> Retrieval:
    """Rank chunks for `query`. mode: hybrid | dense | keyword."""
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
    candidates = np.flatnonzero(fused > 0)
    # Ties (e.g. keyword-only) fall back to the dense score, then to corpus order.
    order = sorted(candidates, key=lambda i: (-fused[i], -dense_scores[i], i))[:k]
    hits = [
        Hit(int(i), index.chunks[i].file, index.chunks[i].start_line, index.chunks[i].end_line, index.chunks[i].text,
            float(fused[i]), float(dense_scores[i]), float(kw[i]))
        for i in order
    ]
    return Retrieval(hits, weight, (time.perf_counter() - t0) * 1000)
