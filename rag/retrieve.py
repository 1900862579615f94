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

import math
import re
import time
from dataclasses import dataclass

import numpy as np

from rag.cite import question_names
from rag.embedding import Embedder
from rag.index import LoadedIndex
from rag.text import fold, keyword_tokens, words

RRF_K = 60
CAPS_VERSION = 2  # 2: web addresses are not counted ("ong-trump-va-ong-putin" hid both names)
_ADDRESS = re.compile(r"(?:https?|ftp)://\S+|www\.\S+|\S+@\S+\.\w+", re.IGNORECASE)


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
    """BM25 (k1=1.2, b=0.75) over `keyword_tokens`, postings as numpy arrays.

    Scores are computed at query time from term frequencies and lengths, so a new generation can
    be derived from the previous one (`updated`): only added lines are tokenised."""

    def __init__(
        self,
        vocab: dict[str, int],
        postings: list[tuple[np.ndarray, np.ndarray]],
        lengths: np.ndarray,
        caps: dict[str, list[int]] | None = None,
        caps_version: int = CAPS_VERSION,
    ):
        self.vocab = vocab
        self.caps = caps  # folded word -> [capitalised, lower-case] counts; None in older saves
        self.caps_version = caps_version
        self.names = _names(caps or {})  # folded syllables the corpus always capitalises: proper names
        self.postings = postings
        self.lengths = lengths
        self.avg = float(lengths.mean()) if len(lengths) else 1.0
        self.n = len(lengths)

    @classmethod
    def build(cls, texts: list[str]) -> KeywordIndex:
        return cls.updated(None, np.full(len(texts), -1), texts, [])

    @classmethod
    def updated(cls, old: KeywordIndex | None, reuse: np.ndarray, texts: list[str], old_texts: list[str]) -> KeywordIndex:
        """The index of `texts`, built from `old` (the index of `old_texts`): reuse[i] is the old
        id of a line with the same text as texts[i] (or -1). Postings of reused lines are renumbered,
        those of lines no longer present dropped; only the other lines are tokenised."""
        n = len(texts)
        if old is None or old.caps is None:
            old, reuse, old_texts = cls({}, [], np.zeros(0, np.float32), {}), np.full(n, -1), []
        reuse = np.asarray(reuse, dtype=np.int64)
        new_ids = np.nonzero(reuse >= 0)[0]
        _, first = np.unique(reuse[new_ids], return_index=True)  # an old line serves one new line
        keep_new, keep_old = new_ids[first], reuse[new_ids[first]]
        remap = np.full(old.n, -1, dtype=np.int64)
        remap[keep_old] = keep_new
        lens = np.fromiter((len(d) for d, _ in old.postings), np.int64, len(old.postings))
        terms = np.repeat(np.arange(len(lens), dtype=np.int64), lens)
        docs = remap[np.concatenate([d for d, _ in old.postings])] if old.postings else np.zeros(0, np.int64)
        tfs = np.concatenate([t for _, t in old.postings]) if old.postings else np.zeros(0, np.float32)
        alive = docs >= 0
        terms, docs, tfs = terms[alive], docs[alive], tfs[alive]
        lengths = np.zeros(n, dtype=np.float32)
        lengths[keep_new] = old.lengths[keep_old]
        vocab = dict(old.vocab)
        caps = {w: list(c) for w, c in old.caps.items()}
        _count_caps(caps, (old_texts[j] for j in np.nonzero(remap < 0)[0]), -1)
        fresh = np.setdiff1d(np.arange(n), keep_new)
        _count_caps(caps, (texts[i] for i in fresh), 1)
        add_t: list[int] = []
        add_d: list[int] = []
        add_f: list[int] = []
        for i in fresh:
            toks = keyword_tokens(texts[i])
            lengths[i] = len(toks)
            tf: dict[int, int] = {}
            for t in toks:
                tid = vocab.setdefault(t, len(vocab))
                tf[tid] = tf.get(tid, 0) + 1
            add_t.extend(tf)
            add_d.extend([int(i)] * len(tf))
            add_f.extend(tf.values())
        terms = np.concatenate([terms, np.asarray(add_t, dtype=np.int64)])
        docs = np.concatenate([docs, np.asarray(add_d, dtype=np.int64)])
        tfs = np.concatenate([tfs, np.asarray(add_f, dtype=np.float32)])
        order = np.lexsort((docs, terms))
        terms, docs, tfs = terms[order], docs[order].astype(np.int32), tfs[order]
        counts = np.bincount(terms, minlength=len(vocab))
        live = counts > 0  # words of removed lines only are forgotten
        words_by_id = sorted(vocab, key=vocab.__getitem__)
        vocab = {w: k for k, w in enumerate(w for w, ok in zip(words_by_id, live) if ok)}
        offsets = np.concatenate([[0], np.cumsum(counts[live])])
        postings = [(docs[offsets[k] : offsets[k + 1]], tfs[offsets[k] : offsets[k + 1]]) for k in range(len(vocab))]
        return cls(vocab, postings, lengths, {w: c for w, c in caps.items() if c[0] or c[1]})

    def recount_caps(self, texts: list[str]) -> None:
        """Count capitalisation afresh (a save from before CAPS_VERSION counted it differently)."""
        caps: dict[str, list[int]] = {}
        _count_caps(caps, texts, 1)
        self.caps, self.caps_version, self.names = caps, CAPS_VERSION, _names(caps)

    def save(self, path) -> None:
        """One .npz: vocabulary, postings as one flat array with offsets, lengths, capitalisation counts."""
        import os

        offsets = np.zeros(len(self.postings) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(d) for d, _ in self.postings])
        docs = np.concatenate([d for d, _ in self.postings]) if self.postings else np.zeros(0, np.int32)
        tfs = np.concatenate([t for _, t in self.postings]) if self.postings else np.zeros(0, np.float32)
        vocab = np.array(sorted(self.vocab, key=self.vocab.__getitem__), dtype=object).astype(str)
        caps = self.caps or {}
        cap_words = np.array(list(caps), dtype=object).astype(str)
        cap_counts = np.array(list(caps.values()), dtype=np.int64).reshape(-1, 2)
        with open(path, "wb") as f:
            np.savez(
                f, vocab=vocab, offsets=offsets, docs=docs, tfs=tfs, lengths=self.lengths,
                cap_words=cap_words, cap_counts=cap_counts, caps_version=np.int64(self.caps_version),
            )
            f.flush()
            os.fsync(f.fileno())

    @classmethod
    def load(cls, path) -> KeywordIndex:
        with np.load(path, allow_pickle=False) as z:
            vocab_list, offsets, docs, tfs, lengths = z["vocab"].tolist(), z["offsets"], z["docs"], z["tfs"], z["lengths"]
            caps = dict(zip(z["cap_words"].tolist(), z["cap_counts"].tolist())) if "cap_words" in z.files else None
            version = int(z["caps_version"]) if "caps_version" in z.files else 1
        postings = [(docs[offsets[i] : offsets[i + 1]], tfs[offsets[i] : offsets[i + 1]]) for i in range(len(vocab_list))]
        return cls({t: i for i, t in enumerate(vocab_list)}, postings, lengths, caps, version)

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


def _count_caps(caps: dict[str, list[int]], texts, sign: int) -> None:
    """Add (sign=1) or take away (-1) how often each word is written capitalised or not."""
    for text in texts:
        for pos, w in enumerate(words(_ADDRESS.sub(" ", text))):
            if pos == 0 or len(w) < 2:
                continue  # a sentence's first word is capitalised whatever it is
            c = caps.setdefault(fold(w), [0, 0])
            c[0 if w[0].isupper() else 1] += sign


def _names(caps: dict[str, list[int]]) -> frozenset[str]:
    return frozenset(w for w, (up, low) in caps.items() if up >= 1 and low == 0 and not w.isdigit())


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
        tid = index.keyword.vocab.get(name)
        if tid is None:
            continue
        for f in {index.chunks[i].file for i in index.keyword.postings[tid][0].tolist()}:
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
