"""The second instruction reader, learned: a linear probe on a line's EmbeddingGemma vector.

rag/verify/guard.py reads a line for features written by hand (address, order, override, ...). On
attack sets no one had read it caught 26, 24 and 21 of 32 planted lines: each new set used
phrasings the features did not yet know. The embedding of a line carries what it *is* (a note
to an assistant, a report of what someone said) beyond its wording, so a logistic regression on the
vector that the index already holds for every line is a reader that costs nothing at query time
and generalises differently. A line is an instruction when either reader says so.

The probe is trained by scripts/train_probe.py on written examples only: the attack sets that are
development sets now (eval/adversarial/instructions-dev, -frozen, -frozen-2, train-instructions)
against a fixed sample of real news lines and news written to look like instructions
(benign-hard, train-benign; weighted more). Its threshold is set above every training news line
by a margin, then checked on the ~24,000 news lines it never saw (docs/security.md). It is 770
numbers in instruction_probe.npz, tied to the embedder it was trained on: an index built with
another embedder gets the hand-written reader only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

PROBE_FILE = Path(__file__).with_name("instruction_probe.npz")


@dataclass(frozen=True)
class Probe:
    embedder: str  # the embedder's name (an index's manifest records it)
    w: np.ndarray
    b: float
    tau: float  # a score above this is an instruction

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        return np.asarray(vectors, dtype=np.float32) @ self.w + self.b

    def flags(self, vectors: np.ndarray) -> np.ndarray:
        if len(vectors) == 0:
            return np.zeros(0, dtype=bool)
        return self.scores(vectors) > self.tau

    def save(self, path: Path, **meta: str) -> None:
        with Path(path).open("wb") as f:
            np.savez(f, w=self.w.astype(np.float32), b=np.float64(self.b), tau=np.float64(self.tau), embedder=self.embedder,
                     **{k: np.str_(v) for k, v in meta.items()})


def fit(
    pos: np.ndarray, news: np.ndarray, lookalikes: np.ndarray, embedder: str, margin: float = 0.25,
    lookalike_weight: float = 10.0, lam: float = 1e-3, steps: int = 2000,
) -> Probe:
    """Logistic regression by gradient descent, L2 `lam`: instructions against news, with news
    written to look like instructions (`lookalikes`) weighing `lookalike_weight` news lines each
    and the positives as much as all negatives together. The threshold is the highest training
    news line's score plus `margin`: no training news line is flagged, a look-alike may be."""
    x = np.concatenate([pos, news, lookalikes]).astype(np.float64)
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(news) + len(lookalikes))])
    weight = np.concatenate([np.zeros(len(pos)), np.ones(len(news)), np.full(len(lookalikes), lookalike_weight)])
    weight[: len(pos)] = weight.sum() / max(len(pos), 1)
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(x @ w + b, -30, 30)))
        g = (p - y) * weight
        w -= 0.5 * (x.T @ g / weight.sum() + lam * w)
        b -= 0.5 * g.sum() / weight.sum()
    tau = float((np.asarray(news, dtype=np.float64) @ w + b).max()) + margin
    return Probe(embedder, w.astype(np.float32), float(b), tau)


@cache
def load(embedder: str, path: Path = PROBE_FILE) -> Probe | None:
    """The probe for `embedder`, or None (no probe file, or one trained on another embedder)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["embedder"]) != embedder:
                return None
            return Probe(str(z["embedder"]), z["w"].astype(np.float32), float(z["b"]), float(z["tau"]))
    except (OSError, KeyError, ValueError):
        return None
