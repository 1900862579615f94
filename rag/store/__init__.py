"""The index on disk: generations of vectors (FAISS, HNSW), the BM25 keyword index, an optional external vector store."""
