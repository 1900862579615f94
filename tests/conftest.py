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
    from rag.models.embedding import HashingEmbedder
    from rag.store.index import build_index, load_index

    idx = tmp_path / "index"
    build_index(seeds_copy, idx, HashingEmbedder())
    return load_index(idx)


@pytest.fixture
def cross_lingual_fake(monkeypatch):
    """The hash fake has no cross-lingual similarity: an English question is far from every
    Vietnamese line in its space. These tests are about translation, so the gates that judge
    cross-lingual similarity are opened for it."""
    import rag.answer.pipeline as P

    monkeypatch.setitem(P.MIN_TRANSLATION, "hash-256", -1.0)
    monkeypatch.setitem(P.MIN_EVIDENCE, "hash-256", 0.0)


def make_pipeline(index, reply="", **settings):
    from rag.answer.pipeline import Pipeline
    from rag.config import Settings
    from rag.models.embedding import HashingEmbedder
    from rag.models.generate import ScriptedGenerator

    settings.setdefault("answer_step", "compose")  # the evidence-first step has its own tests (test_reader.py)
    s = Settings(corpus=str(SEEDS), index=str(index.path.parent), embedder="hash", **settings)
    return Pipeline(s, index, HashingEmbedder(), ScriptedGenerator(reply))


def free_port() -> int:
    """A loopback port nothing listens on (just closed again)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(args: list[str], port: int, timeout: float = 60.0):
    """Start a server process and wait until it accepts connections on `port`; fail with its log.
    Its output goes to a file, not a pipe: a chatty server (llama.cpp logs every layer) would fill
    a pipe nobody reads and block before it ever listens."""
    import socket
    import subprocess
    import tempfile
    import time

    log = Path(tempfile.mkdtemp(prefix="server-")) / "log"
    with open(log, "wb") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        if proc.poll() is not None:
            raise AssertionError(log.read_text(errors="replace")[-2000:])
        time.sleep(0.3)
    proc.kill()
    raise AssertionError(f"{args[:3]} did not listen on port {port} within {timeout:.0f} s: " + log.read_text(errors="replace")[-1000:])
