"""The keyword side of retrieval: BM25 over Vietnamese tokens, and which words the corpus
writes capitalised (its names). Built and saved with each index generation (rag/store/index.py),
ranked at query time by rag/answer/retrieve.py."""

from __future__ import annotations

import math
import re

import numpy as np

from rag.text import fold, keyword_tokens, words

CAPS_VERSION = 2  # 2: web addresses are not counted ("ong-trump-va-ong-putin" hid both names)
_ADDRESS = re.compile(r"(?:https?|ftp)://\S+|www\.\S+|\S+@\S+\.\w+", re.IGNORECASE)


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


