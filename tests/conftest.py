"""Shared fixtures: every test runs in its own folder, offline, with fakes unless marked `real`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """No test reads the real rag.toml or writes the real index/: cwd is a fresh folder."""
    monkeypatch.chdir(tmp_path)
    for k in list(os.environ):
        if k.startswith("RAG_") and k != "RAG_MODELS_DIR":
            monkeypatch.delenv(k)


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    dst = tmp_path / "seeds"
    shutil.copytree(SEEDS, dst)
    return dst


@pytest.fixture
def hash_index(seeds_copy, tmp_path):
    from rag.embedding import HashingEmbedder
    from rag.index import build_index, load_index

    idx = tmp_path / "index"
    build_index(seeds_copy, idx, HashingEmbedder())
    return load_index(idx)


def make_pipeline(index, reply="", **settings):
    from rag.config import Settings
    from rag.embedding import HashingEmbedder
    from rag.generate import ScriptedGenerator
    from rag.pipeline import Pipeline

    s = Settings(corpus=str(SEEDS), index=str(index.path.parent), embedder="hash", **settings)
    return Pipeline(s, index, HashingEmbedder(), ScriptedGenerator(reply))
