"""A `rag index` killed with SIGKILL at any point leaves the previous index loadable and intact,
the next run completes and cleans up, and one writer at a time is enforced by a lock the kernel
releases when its holder dies."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from rag.errors import IndexLockedError
from rag.evals.datasets import data_root
from rag.models.embedding import HashingEmbedder
from rag.store.index import build_index, load_index

REPO = Path(__file__).resolve().parent.parent
VNTC = data_root() / "vntc" / "utf8" / "Train_Full"
STAGES = ["locked", "read", "embed", "write-chunks", "write-vectors", "before-swap", "after-swap"]

SEED_LINES = [ln for f in sorted((REPO / "seeds").glob("*.txt")) for ln in f.read_text(encoding="utf-8").splitlines() if len(ln) > 40]


def _copy_articles(dst: Path, n: int, offset: int = 0) -> None:
    """n real articles of the VNTC sample when ../shared/data has it; otherwise n synthetic ones
    (seed lines in a different order per article, numbered so no two are the same)."""
    if VNTC.is_dir():
        for f in sorted(VNTC.rglob("*.txt"))[offset : offset + n]:
            target = dst / f.relative_to(VNTC)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, target)
        return
    for i in range(offset, offset + n):
        k = len(SEED_LINES)
        body = [f"Bài {i}: {SEED_LINES[(i * 7 + j * 13) % k]}" for j in range(12)]
        target = dst / "synthetic" / f"{i:05d}.txt"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n\n".join(body) + "\n", encoding="utf-8")


def _rag(corpus: Path, index: Path, *args: str, crash_at: str | None = None, env_extra: dict | None = None, **kw) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO), **(env_extra or {}))
    if crash_at:
        env["RAG_TEST_CRASH_AT"] = crash_at
    cmd = [sys.executable, "-m", "rag.cli.main", "--corpus", str(corpus), "--index", str(index), "--embedder", "hash", "index", *args]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _snapshot(index: Path) -> tuple[str, int, list[str]]:
    got = load_index(index, "hash-256")
    return got.path.name, len(got.chunks), sorted(got.docs)


def _leftovers(index: Path) -> list[str]:
    return sorted(p.name for p in index.iterdir() if p.name.startswith(".tmp-") or p.name == "CURRENT.tmp")


@pytest.fixture
def corpus_and_index(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    _copy_articles(corpus, 60)
    build_index(corpus, index, HashingEmbedder())
    _copy_articles(corpus, 60, offset=1000)  # new articles for the run that will be killed
    return corpus, index


@pytest.mark.parametrize("stage", STAGES)
def test_kill_at_each_stage_keeps_the_previous_index(corpus_and_index, stage):
    corpus, index = corpus_and_index
    before = _snapshot(index)
    proc = _rag(corpus, index, "--json", crash_at=stage)
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, f"the crash hook at {stage} did not fire"
    after = _snapshot(index)
    if stage == "after-swap":  # the new generation was complete and live before the kill
        assert after[0] != before[0] and after[1] > before[1] and len(after[2]) == 120
    else:
        assert after == before
    proc = _rag(corpus, index, "--json")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    final = _snapshot(index)
    assert len(final[2]) == 120 and final[1] >= before[1]
    assert _leftovers(index) == []
    gens = sorted(p.name for p in index.iterdir() if p.name.startswith("gen-"))
    assert final[0] in gens and len(gens) <= 2  # the live one and the previous, nothing orphaned


def test_kill_at_random_times_never_leaves_a_broken_index(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    _copy_articles(corpus, 40)
    build_index(corpus, index, HashingEmbedder())
    old = _snapshot(index)
    _copy_articles(corpus, 700, offset=400)
    for delay in (0.2, 0.5, 1.0, 2.0):
        proc = _rag(corpus, index)
        time.sleep(delay)
        proc.kill()
        proc.communicate()
        got = _snapshot(index)  # loads, whatever point the kill hit
        assert got == old or len(got[2]) == 740
    proc = _rag(corpus, index)
    assert proc.wait(timeout=120) == 0
    assert len(_snapshot(index)[2]) == 740 and _leftovers(index) == []


def test_readers_never_see_a_half_written_generation(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    _copy_articles(corpus, 40)
    build_index(corpus, index, HashingEmbedder())
    seen, errors, stop = set(), [], threading.Event()

    def reader():
        while not stop.is_set():
            try:
                got = load_index(index, "hash-256")
                assert got.vectors.shape[0] == len(got.chunks) == got.manifest["n_chunks"]
                seen.add(got.path.name)
            except Exception as e:  # noqa: BLE001 - any failure to load is what this test looks for
                errors.append(e)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for offset in (500, 600, 700):
            _copy_articles(corpus, 100, offset=offset)
            proc = _rag(corpus, index)
            assert proc.wait(timeout=120) == 0
            time.sleep(0.2)  # a reader that started on the old generation finishes before the next swap
    finally:
        stop.set()
        t.join()
    assert errors == []
    assert len(seen) >= 2


def test_second_writer_is_refused_and_a_dead_holders_lock_is_recovered(seeds_copy, tmp_path):
    index = tmp_path / "index"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from pathlib import Path; from rag.store.index import IndexLock\n"
                "with IndexLock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(120)"
            ),
            str(index),
        ],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(IndexLockedError, match=f"being written by pid {holder.pid}. Wait for it"):
            build_index(seeds_copy, index, HashingEmbedder())
        proc = _rag(seeds_copy, index)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 2 and err.startswith("error: ") and "being written" in err and "Traceback" not in err
    finally:
        holder.kill()
        holder.wait()
    assert build_index(seeds_copy, index, HashingEmbedder()).added  # the kernel released the dead holder's lock
    assert (index / ".lock").exists()  # the stale file is harmless: flock, not the file, is the lock


def test_a_writer_killed_while_holding_the_lock_does_not_block_the_next(seeds_copy, tmp_path):
    index = tmp_path / "index"
    proc = _rag(seeds_copy, index, crash_at="locked")
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert (index / ".lock").read_text().strip() == str(proc.pid)
    report = build_index(seeds_copy, index, HashingEmbedder())
    assert len(report.added) == 5


def test_a_killed_cold_build_resumes_where_it_stopped(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    _copy_articles(corpus, 60)
    # Save a checkpoint after every batch; the kill comes after the second batch is saved.
    proc = _rag(corpus, index, crash_at="embed", env_extra={"RAG_TEST_CHECKPOINT_S": "0"})
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert not (index / "CURRENT").exists() and len(list((index / ".partial").glob("seg-*.npz"))) == 2
    proc = _rag(corpus, index, "--json")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    report = json.loads(out)
    assert report["resumed_chunks"] == 64 and report["embedded_chunks"] == report["total_chunks"] - 64
    assert not (index / ".partial").exists()
    resumed = load_index(index, "hash-256")
    fresh = tmp_path / "fresh"
    build_index(corpus, fresh, HashingEmbedder())
    assert np.array_equal(resumed.vectors, load_index(fresh, "hash-256").vectors)
