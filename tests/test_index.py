import json

import numpy as np
import pytest

from rag.errors import IndexCorruptError, IndexLockedError, IndexMismatchError, IndexMissingError
from rag.models.embedding import HashingEmbedder
from rag.store.index import IndexLock, build_index, load_index


class CountingEmbedder(HashingEmbedder):
    def __init__(self):
        super().__init__()
        self.embedded = 0

    def embed_documents(self, texts):
        self.embedded += len(texts)
        return super().embed_documents(texts)


def test_round_trip_keeps_chunks_and_vectors(seeds_copy, tmp_path):
    e = HashingEmbedder()
    build_index(seeds_copy, tmp_path / "idx", e)
    got = load_index(tmp_path / "idx", e.name)
    assert got.manifest["n_docs"] == 5 and len(got.chunks) == got.manifest["n_chunks"]
    again = e.embed_documents([c.text for c in got.chunks])
    assert np.allclose(got.vectors, again)
    assert not (got.path / "hnsw.faiss").exists()  # exact search below FLAT_MAX: nothing to save
    c = next(c for c in got.chunks if c.file.startswith("001") and c.start_line == 15)
    assert "Budapest" in c.text


def test_unchanged_corpus_embeds_nothing_and_changes_embed_only_new_lines(seeds_copy, tmp_path):
    e = CountingEmbedder()
    first = build_index(seeds_copy, tmp_path / "idx", e)
    assert e.embedded == first.total_chunks
    e.embedded = 0
    second = build_index(seeds_copy, tmp_path / "idx", e)
    assert e.embedded == 0 and len(second.unchanged) == 5 and second.generation == first.generation
    f = seeds_copy / "001_f9b850b45a61ace5.txt"
    f.write_text(f.read_text(encoding="utf-8") + "\nMột dòng mới hoàn toàn.\n", encoding="utf-8")
    (seeds_copy / "new.txt").write_text("Bài mới về Hà Nội.\n", encoding="utf-8")
    (seeds_copy / "003_4c701e3d3db3bbfc.txt").unlink()
    third = build_index(seeds_copy, tmp_path / "idx", e)
    assert third.changed == ["001_f9b850b45a61ace5.txt"] and third.added == ["new.txt"]
    assert third.removed == ["003_4c701e3d3db3bbfc.txt"]
    assert e.embedded == 2  # the new line and the new article, nothing else
    loaded = load_index(tmp_path / "idx")
    assert not any(c.file.startswith("003") for c in loaded.chunks)


def test_missing_mismatched_and_corrupt_indexes_raise_clear_errors(seeds_copy, tmp_path):
    with pytest.raises(IndexMissingError, match="rag index"):
        load_index(tmp_path / "none")
    build_index(seeds_copy, tmp_path / "idx", HashingEmbedder())
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        load_index(tmp_path / "idx", "embeddinggemma-300m")
    gen = load_index(tmp_path / "idx").path
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["schema"] = 999
    (gen / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="schema"):
        load_index(tmp_path / "idx")
    manifest["schema"] = 1
    (gen / "manifest.json").write_text(json.dumps(manifest))
    (gen / "vectors.npy").write_bytes((gen / "vectors.npy").read_bytes()[:100])
    with pytest.raises(IndexCorruptError, match="--rebuild"):
        load_index(tmp_path / "idx")


def test_a_damaged_index_is_rebuilt_by_the_next_index_run(seeds_copy, tmp_path):
    build_index(seeds_copy, tmp_path / "idx", HashingEmbedder())
    gen = load_index(tmp_path / "idx").path
    (gen / "chunks.jsonl").write_text("{not json")
    report = build_index(seeds_copy, tmp_path / "idx", HashingEmbedder())
    assert report.rebuilt
    assert load_index(tmp_path / "idx").manifest["n_docs"] == 5


def test_second_writer_is_refused_with_a_message(seeds_copy, tmp_path):
    (tmp_path / "idx").mkdir()
    with IndexLock(tmp_path / "idx"), pytest.raises(IndexLockedError, match="being written"):
        build_index(seeds_copy, tmp_path / "idx", HashingEmbedder())
    build_index(seeds_copy, tmp_path / "idx", HashingEmbedder())  # released: works again


def test_keyword_index_is_saved_with_the_generation_and_loads_identically(seeds_copy, tmp_path):
    from rag.store.keyword import KeywordIndex

    build_index(seeds_copy, tmp_path / "idx", HashingEmbedder())
    loaded = load_index(tmp_path / "idx")
    assert (loaded.path / "keyword.npz").is_file()
    fresh = KeywordIndex.build([c.text for c in loaded.chunks])
    q = "hội nghị thượng đỉnh Budapest Lavrov"
    assert np.allclose(loaded.keyword.scores(q), fresh.scores(q))
    assert loaded.keyword.names == fresh.names and loaded.keyword.coverage(q) == fresh.coverage(q)


def test_an_update_carries_keyword_postings_over_and_equals_a_fresh_build(seeds_copy, tmp_path, monkeypatch):
    import rag.store.keyword
    from rag.store.keyword import KeywordIndex

    build_index(seeds_copy, tmp_path / "idx", HashingEmbedder())
    files = sorted(seeds_copy.glob("*.txt"))
    files[0].unlink()  # removed: its words and capitalisations must be forgotten
    text = files[1].read_text(encoding="utf-8").splitlines()
    files[1].write_text("\n".join(text[:9] + ["Ông Zelenskiy gặp Tổng thống Macron ở Paris."] + text[9:]) + "\n", encoding="utf-8")
    (seeds_copy / "new.txt").write_text("Thủ tướng Hungary Viktor Orban nói về hội nghị.\nHội nghị diễn ra ở Budapest.\n", encoding="utf-8")
    tokenised: list[str] = []
    real = rag.store.keyword.keyword_tokens
    monkeypatch.setattr(rag.store.keyword, "keyword_tokens", lambda t: tokenised.append(t) or real(t))
    report = build_index(seeds_copy, tmp_path / "idx", HashingEmbedder())
    assert report.removed and report.changed and report.added
    assert len(tokenised) == report.embedded_chunks  # only new lines were tokenised
    monkeypatch.undo()
    loaded = load_index(tmp_path / "idx")
    fresh = KeywordIndex.build([c.text for c in loaded.chunks])
    assert set(loaded.keyword.vocab) == set(fresh.vocab) and loaded.keyword.names == fresh.names
    assert "zelenskiy" in loaded.keyword.names
    assert np.array_equal(loaded.keyword.lengths, fresh.lengths)
    for q in ("hội nghị thượng đỉnh Budapest Lavrov", "Zelenskiy Macron Paris", "Orban", "điện đàm"):
        assert np.allclose(loaded.keyword.scores(q), fresh.scores(q)), q


def test_a_new_chunking_rechunks_every_file_but_embeds_only_changed_chunks(seeds_copy, tmp_path, monkeypatch):
    import rag.corpus.chunking
    import rag.store.index

    e = CountingEmbedder()
    old = {k: v for k, v in rag.corpus.chunking.CHUNKING.items() if k != "byline"}
    with monkeypatch.context() as m:  # the chunking of an older version: bylines indexed as bare names
        m.setattr(rag.store.index, "CHUNKING", old)
        m.setattr(rag.corpus.chunking, "byline", lambda doc: 0)
        first = build_index(seeds_copy, tmp_path / "idx", e)
    e.embedded = 0
    second = build_index(seeds_copy, tmp_path / "idx", e)
    assert e.embedded == 2 and second.embedded_chunks == 2 and second.total_chunks == first.total_chunks
    got = load_index(tmp_path / "idx", e.name)
    assert got.manifest["chunking"] == rag.corpus.chunking.CHUNKING
    signed = next(c for c in got.chunks if c.file.startswith("000") and c.start_line == 15)
    assert signed.text.startswith("Tác giả bài báo") and signed.text.endswith("là Thúy Hà.")
    e.embedded = 0
    build_index(seeds_copy, tmp_path / "idx", e)
    assert e.embedded == 0


def test_a_damaged_keyword_file_is_rebuilt_by_the_next_update(seeds_copy, tmp_path):
    from rag.store.keyword import KeywordIndex

    build_index(seeds_copy, tmp_path / "idx", HashingEmbedder())
    (load_index(tmp_path / "idx").path / "keyword.npz").write_bytes(b"not a zip")
    (seeds_copy / "new.txt").write_text("Hội nghị diễn ra ở Budapest.\n", encoding="utf-8")
    assert build_index(seeds_copy, tmp_path / "idx", HashingEmbedder()).added == ["new.txt"]
    loaded = load_index(tmp_path / "idx")
    fresh = KeywordIndex.build([c.text for c in loaded.chunks])
    assert np.allclose(loaded.keyword.scores("Budapest Lavrov"), fresh.scores("Budapest Lavrov"))


class InterruptedEmbedder(HashingEmbedder):
    """Raises KeyboardInterrupt (Ctrl-C) on the embedding call number `at`."""

    def __init__(self, at: int, dim: int = 256):
        super().__init__(dim)
        self.calls, self.at, self.embedded = 0, at, 0

    def embed_documents(self, texts):
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt
        self.embedded += len(texts)
        return super().embed_documents(texts)


def test_an_interrupted_build_keeps_its_embedding_work_for_the_next_run(seeds_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_TEST_CHECKPOINT_S", "0")  # save after every batch
    idx = tmp_path / "idx"
    with pytest.raises(KeyboardInterrupt):
        build_index(seeds_copy, idx, InterruptedEmbedder(at=3))  # 76 chunks: batches of 32, 32, 12
    segments = sorted((idx / ".partial").glob("seg-*.npz"))
    assert len(segments) == 2
    segments[0].write_bytes(b"torn")  # a damaged segment: its chunks are embedded again, the others kept
    e = InterruptedEmbedder(at=0)
    report = build_index(seeds_copy, idx, e)
    assert report.resumed_chunks == 32 and e.embedded == report.embedded_chunks == report.total_chunks - 32
    assert not (idx / ".partial").exists()
    fresh = tmp_path / "fresh"
    build_index(seeds_copy, fresh, HashingEmbedder())
    assert np.array_equal(load_index(idx, "hash-256").vectors, load_index(fresh, "hash-256").vectors)


def test_saved_embedding_work_of_another_embedder_or_before_a_rebuild_is_discarded(seeds_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_TEST_CHECKPOINT_S", "0")
    idx = tmp_path / "idx"
    with pytest.raises(KeyboardInterrupt):
        build_index(seeds_copy, idx, InterruptedEmbedder(at=3, dim=128))
    assert build_index(seeds_copy, idx, HashingEmbedder()).resumed_chunks == 0  # hash-128's vectors are not hash-256's
    with pytest.raises(KeyboardInterrupt):
        build_index(seeds_copy, idx, InterruptedEmbedder(at=3), rebuild=True)
    report = build_index(seeds_copy, idx, HashingEmbedder(), rebuild=True)
    assert report.resumed_chunks == 0 and report.embedded_chunks == report.total_chunks


def _self_hits(loaded) -> float:
    """Share of chunks whose own vector finds them first (or a chunk with the same vector)."""
    ids = loaded.dense.search(loaded.vectors, 1)[1][:, 0]
    return float(np.mean([np.array_equal(loaded.vectors[i], loaded.vectors[j]) for i, j in enumerate(ids)]))


def test_past_flat_max_the_hnsw_graph_is_saved_and_updated_in_place(seeds_copy, tmp_path, monkeypatch):
    import rag.store.index

    monkeypatch.setattr(rag.store.index, "FLAT_MAX", 20)
    idx = tmp_path / "idx"
    build_index(seeds_copy, idx, HashingEmbedder())
    first = load_index(idx, "hash-256")
    assert first.manifest["faiss"] == "hnsw32" and (first.path / "hnsw.faiss").is_file()
    assert list(np.load(first.path / "hnsw_ids.npy")) == list(range(len(first.chunks)))
    assert _self_hits(first) == 1.0

    # One article removed, one added: the graph keeps its vectors, marks the removed ones dead
    # and appends the new ones; search answers in the new generation's chunk numbers.
    files = sorted(seeds_copy.glob("*.txt"))
    files[0].unlink()  # 8 of 76 chunks
    (seeds_copy / "new.txt").write_text("Thủ tướng Hungary Viktor Orban nói về hội nghị.\nHội nghị diễn ra ở Budapest.\n")
    build_index(seeds_copy, idx, HashingEmbedder())
    second = load_index(idx, "hash-256")
    graph = second.dense
    assert graph.dead == 8 and graph.ntotal == len(second.chunks) and len(graph.ids) == len(first.chunks) + 2
    assert _self_hits(second) == 1.0
    _, ids = graph.search(second.vectors[:3], len(second.chunks))
    assert (ids >= 0).all() and sorted(ids[0]) == list(range(len(second.chunks)))  # every live chunk, no dead one

    # Removing more than HNSW_MAX_DEAD of it rebuilds the graph from scratch.
    for f in files[1:3]:
        f.unlink()
    build_index(seeds_copy, idx, HashingEmbedder())
    third = load_index(idx, "hash-256")
    assert third.dense.dead == 0 and _self_hits(third) == 1.0

    (third.path / "hnsw.faiss").write_bytes(b"torn")
    with pytest.raises(IndexCorruptError, match="rag index --rebuild"):
        _ = load_index(idx, "hash-256").dense
