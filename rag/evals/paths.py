"""Where the project's own files and the measurement caches live (one definition, used by `rag eval`
and `rag attacks`)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """Evaluation corpora and their indexes: $RAG_EVAL_CACHE, else ~/.cache/vnrag/eval."""
    env = os.environ.get("RAG_EVAL_CACHE")
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vnrag" / "eval"


def repo_root() -> Path:
    """The checkout: seeds/, eval/ and the gold sets."""
    return Path(__file__).resolve().parents[2]
