"""The saved index: a folder of generations, each a complete snapshot, and a CURRENT pointer.

    index/CURRENT          names the live generation; replaced atomically (os.replace)
    index/.lock            held (flock) by the one writer
    index/gen-*/manifest.json, chunks.jsonl, docs.jsonl, vectors.npy, keyword.npz
    index/gen-*/hnsw.faiss, hnsw_ids.npy   past FLAT_MAX chunks: the HNSW graph and its id map
    index/.partial/        vectors a build embedded but did not commit: a killed build resumes

A build writes a new generation beside the live one and swaps CURRENT last, so a crash at
any point leaves the previous index loadable, and readers never see half a generation.
Only new or changed chunks are embedded: vectors are reused by chunk content hash.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Self

import numpy as np

from rag.corpus.chunking import CHUNKING, Chunk, chunk_document
from rag.corpus.ingest import MAX_FILE_MB, Document, Skipped, list_files, read_file
from rag.errors import CorpusError, IndexCorruptError, IndexLockedError, IndexMismatchError, IndexMissingError
from rag.models.embedding import Embedder
from rag.store.keyword import CAPS_VERSION, KeywordIndex

SCHEMA = 1
FLAT_MAX = 200_000  # exact search up to this many vectors (<= ~40 ms p50 on 2 cores, 768-d); HNSW past it: docs/SCALING.md
HNSW_M, HNSW_EF = 32, 128
HNSW_MAX_DEAD = 0.2  # rebuild the saved graph from scratch once this share of its vectors are removed chunks
EMBED_BATCH = 32
CHECKPOINT_S = 60.0  # a long build saves what it embedded this often, so a kill loses at most this much
RACY_NS = 2_000_000_000  # a file modified this close to the last scan is hashed anyway (coarse mtimes)

Progress = Callable[[str, int, int], None]  # (stage, done, total)


def _no_progress(stage: str, done: int, total: int) -> None:
    pass


def _crash_point(stage: str) -> None:
    """Tests kill the writer here (RAG_TEST_CRASH_AT=stage) to prove a crash never loses the index."""
    if os.environ.get("RAG_TEST_CRASH_AT") == stage:
        os.kill(os.getpid(), signal.SIGKILL)


def _stat_unchanged(path: Path, known: dict, scanned_ns: int) -> bool:
    """True when size and mtime match the manifest and the file was not modified around the last scan."""
    try:
        st = path.stat()
    except OSError:
        return False
    mtime = known.get("mtime_ns")
    return (
        mtime is not None
        and st.st_size == known.get("size")
        and st.st_mtime_ns == mtime
        and mtime < scanned_ns - RACY_NS
    )


@dataclass(slots=True)
class IndexReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    embedded_chunks: int = 0
    reused_chunks: int = 0
    resumed_chunks: int = 0  # embedded by an earlier run that was interrupted (counted in reused_chunks)
    resumed_seconds: float = 0.0  # what embedding them took then
    total_chunks: int = 0
    rebuilt: bool = False
    seconds: float = 0.0
    generation: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(slots=True)
class LoadedIndex:
    """A generation in memory: chunks, their unit vectors, the documents, and search structures."""

    path: Path
    manifest: dict
    chunks: list[Chunk]
    vectors: np.ndarray
    docs: dict[str, Document]
    _faiss: object = None
    _keyword: object = None
    _texts: dict[str, str] = field(default_factory=dict)
    _by_file: dict[str, list[int]] | None = None

    def chunks_of(self, file: str) -> list[int]:
        """Positions of a document's chunks (the map is built on first use, then kept)."""
        if self._by_file is None:
            self._by_file = {}
            for i, c in enumerate(self.chunks):
                self._by_file.setdefault(c.file, []).append(i)
        return self._by_file.get(file, [])

    def files_with(self, term: str) -> set[str]:
        """The documents whose indexed lines hold the keyword token `term` (folded), from the postings."""
        tid = self.keyword.vocab.get(term)
        return set() if tid is None else {self.chunks[i].file for i in self.keyword.postings[tid][0].tolist()}

    def article_text(self, file: str) -> str:
        """A document's title and lines as one string (joined once, then kept); "" if unknown."""
        if file not in self._texts:
            doc = self.docs.get(file)
            self._texts[file] = " ".join((doc.title, *doc.lines)) if doc else ""
        return self._texts[file]

    @property
    def dense(self):
        if self._faiss is None:
            graph = self.path / "hnsw.faiss"
            if graph.is_file():  # past FLAT_MAX the writer saved the graph: building it takes minutes
                try:
                    self._faiss = SavedGraph.load(self.path)
                except (OSError, RuntimeError, ValueError) as e:
                    raise IndexCorruptError(f"The vector graph {graph} is damaged ({e}). Run `rag index --rebuild`.") from e
            else:
                self._faiss = build_faiss(self.vectors)
        return self._faiss

    def use_dense(self, searcher) -> None:
        """Send dense search to `searcher` (anything with FAISS's search(q, k)), e.g. a vector DB."""
        self._faiss = searcher

    @property
    def keyword(self):
        if self._keyword is None:
            saved = self.path / "keyword.npz"
            try:
                self._keyword = KeywordIndex.load(saved) if saved.is_file() else None
            except (OSError, ValueError, KeyError) as e:
                raise IndexCorruptError(f"The keyword index {saved} is damaged ({e}). Run `rag index --rebuild`.") from e
            if self._keyword is None or self._keyword.n != len(self.chunks) or self._keyword.caps is None:
                self._keyword = KeywordIndex.build([c.text for c in self.chunks])  # saved by an older version
            elif self._keyword.caps_version < CAPS_VERSION:
                self._keyword.recount_caps([c.text for c in self.chunks])
        return self._keyword

    @property
    def embedder_name(self) -> str:
        return self.manifest["embedder"]["name"]


def build_faiss(vectors: np.ndarray):
    import faiss

    dim = vectors.shape[1] if vectors.ndim == 2 and vectors.shape[0] else 1
    if len(vectors) <= FLAT_MAX:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = HNSW_EF
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


class SavedGraph:
    """An HNSW graph kept across generations. HNSW cannot delete, so a removed chunk's vector
    stays in the graph with id -1 in `ids` (graph position -> chunk number) and is skipped at
    search time; new chunks are appended. Rebuilt from scratch past HNSW_MAX_DEAD."""

    def __init__(self, graph, ids: np.ndarray):
        self.graph, self.ids = graph, ids
        self.dead = int((ids < 0).sum())

    @property
    def ntotal(self) -> int:
        return len(self.ids) - self.dead

    @classmethod
    def load(cls, gen: Path) -> SavedGraph:
        import faiss

        graph = faiss.read_index(str(gen / "hnsw.faiss"))
        graph.hnsw.efSearch = HNSW_EF
        ids = np.load(gen / "hnsw_ids.npy", allow_pickle=False)
        if graph.ntotal != len(ids):
            raise ValueError(f"{graph.ntotal} vectors in the graph, {len(ids)} ids")
        return cls(graph, ids)

    @classmethod
    def updated(cls, prev: LoadedIndex | None, reuse: np.ndarray, vectors: np.ndarray) -> SavedGraph:
        """The previous generation's graph with removed chunks marked dead and new ones appended,
        or a new graph when there is none (or too much of it is dead)."""
        old = None
        if prev is not None and (prev.path / "hnsw.faiss").is_file():
            try:
                old = SavedGraph.load(prev.path)
            except (OSError, RuntimeError, ValueError):
                old = None  # damaged: build a new one
        if old is not None:
            old_to_new = np.full(len(prev.chunks) + 1, -1, dtype=np.int64)  # [-1] stays -1: dead stays dead
            kept = np.flatnonzero(reuse >= 0)
            old_to_new[reuse[kept]] = kept  # a duplicated old line maps to one new chunk; the others are added
            ids = old_to_new[old.ids]
            fresh = np.setdiff1d(np.arange(len(vectors)), ids[ids >= 0])
            if (ids < 0).sum() <= HNSW_MAX_DEAD * (len(ids) + len(fresh)):
                if len(fresh):
                    old.graph.add(np.ascontiguousarray(vectors[fresh], dtype=np.float32))
                return cls(old.graph, np.concatenate([ids, fresh]))
        import faiss

        graph = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efSearch = HNSW_EF
        graph.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(graph, np.arange(len(vectors), dtype=np.int64))

    def save(self, gen: Path) -> None:
        import faiss

        faiss.write_index(self.graph, str(gen / "hnsw.faiss"))
        with (gen / "hnsw_ids.npy").open("wb") as f:
            np.save(f, self.ids)
        for name in ("hnsw.faiss", "hnsw_ids.npy"):
            _fsync_path(gen / name)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """FAISS's search, in chunk numbers; dead vectors are skipped (fetched past, up to their count)."""
        sims, pos = self.graph.search(queries, min(len(self.ids), k + self.dead))
        ids = np.where(pos >= 0, self.ids[pos], -1)
        out_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
        out_i = np.full((len(queries), k), -1, dtype=np.int64)
        for q in range(len(queries)):
            live = ids[q] >= 0
            got = ids[q][live][:k]
            out_i[q, : len(got)] = got
            out_s[q, : len(got)] = sims[q][live][:k]
        return out_s, out_i


# ---------------------------------------------------------------- reading


def current_generation(index_dir: Path) -> Path:
    pointer = index_dir / "CURRENT"
    if not pointer.is_file():
        raise IndexMissingError(f"No index at {index_dir}/. Run `rag index` (add --corpus DIR for another folder).")
    gen = index_dir / pointer.read_text().strip()
    if not gen.is_dir():
        raise IndexCorruptError(f"{pointer} names {gen.name}, which is missing. Run `rag index --rebuild`.")
    return gen


def check_manifest(manifest: dict, embedder_name: str | None, where: Path) -> None:
    if manifest.get("schema") != SCHEMA:
        raise IndexMismatchError(
            f"The index at {where} has schema {manifest.get('schema')}, this version reads {SCHEMA}. Run `rag index --rebuild`."
        )
    built = manifest.get("embedder", {}).get("name")
    if embedder_name and built != embedder_name:
        raise IndexMismatchError(
            f"The index at {where} was built with embedder {built}, but the settings ask for {embedder_name}. "
            f"Run `rag index --rebuild`, or set `embedder` back in rag.toml."
        )


def load_index(index_dir: Path, embedder_name: str | None = None) -> LoadedIndex:
    gen = current_generation(index_dir)
    try:
        manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
        check_manifest(manifest, embedder_name, index_dir)
        chunks = [
            Chunk(r["file"], r["start_line"], r["end_line"], r["text"], r["hash"], r.get("part", 0))
            for r in _read_jsonl(gen / "chunks.jsonl")
        ]
        docs = {}
        for r in _read_jsonl(gen / "docs.jsonl"):
            r["lines"] = tuple(r["lines"])
            docs[r["path"]] = Document(**r)
        vectors = np.load(gen / "vectors.npy", allow_pickle=False)
    except IndexMismatchError:
        raise
    except (OSError, ValueError, KeyError, TypeError, EOFError) as e:
        raise IndexCorruptError(f"The index at {index_dir} is damaged ({type(e).__name__}: {e}). Run `rag index --rebuild`.") from e
    dim = manifest["embedder"]["dim"]
    if vectors.shape != (len(chunks), dim) or manifest.get("n_chunks") != len(chunks):
        raise IndexCorruptError(
            f"The index at {index_dir} is inconsistent ({len(chunks)} chunks, vectors {vectors.shape}). Run `rag index --rebuild`."
        )
    return LoadedIndex(gen, manifest, chunks, vectors.astype(np.float32, copy=False), docs)


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# ---------------------------------------------------------------- writing


class IndexLock:
    """One writer at a time. flock is released by the kernel when a process dies: no stale locks."""

    def __init__(self, index_dir: Path):
        self.path = index_dir / ".lock"
        self.fd: int | None = None

    def __enter__(self) -> Self:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise IndexLockedError(
                f"{self.path.parent}/ is being written by pid {holder}. Wait for it to finish (or stop it), then run again."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def _refresh_keyword(gen: LoadedIndex) -> None:
    """Save again a generation's keyword file whose capitalisation counts an older version made:
    loading recounts them (8 s at 100k chunks), and an unchanged corpus writes no new generation.
    Written aside, then renamed over the old file: a reader gets one or the other, whole."""
    saved = gen.path / "keyword.npz"
    try:
        with np.load(saved, allow_pickle=False) as z:
            current = "caps_version" in z.files and int(z["caps_version"]) >= CAPS_VERSION
    except (OSError, ValueError):
        return  # missing or damaged: loading rebuilds it, and the next change writes a new generation
    if current:
        return
    tmp = gen.path / "keyword.npz.tmp"
    gen.keyword.save(tmp)  # the property recounted the capitalisation
    os.replace(tmp, saved)
    _fsync_path(gen.path)


def _fsync_path(path: Path) -> None:
    """Flush a file written by someone else (FAISS), or a folder's entries, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_write(path: Path, data: bytes) -> None:
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _doc_record(doc: Document) -> dict:
    d = asdict(doc)
    d["lines"] = list(doc.lines)
    return d


def _chunk_record(c: Chunk) -> dict:
    return {"file": c.file, "start_line": c.start_line, "end_line": c.end_line, "part": c.part, "hash": c.hash, "text": c.text}


class Checkpoint:
    """Vectors embedded by a build that has not committed yet, keyed by chunk hash, in
    index/.partial/. Saved every CHECKPOINT_S seconds of embedding, one segment file at a time
    (written aside, then renamed), so a build killed after hours of embedding resumes where it
    stopped. Cleared once a generation is written."""

    def __init__(self, index_dir: Path, embedder: Embedder):
        self.dir = index_dir / ".partial"
        self.key = {"embedder": embedder.name, "dim": embedder.dim}
        self.n_segments = 0  # segments on disk (loaded or saved by this run)
        self._next = 1  # the number of the next segment file

    def load(self) -> tuple[dict[str, np.ndarray], float]:
        """The saved vectors and the seconds spent embedding them; another embedder's are discarded."""
        try:
            key = json.loads((self.dir / "key.json").read_text())
        except (OSError, ValueError):
            key = None
        if key != self.key:
            self.clear()
            return {}, 0.0
        vectors: dict[str, np.ndarray] = {}
        seconds = 0.0
        for seg in sorted(self.dir.glob("seg-*.npz")):
            self._next = max(self._next, int(seg.stem[4:]) + 1)
            try:
                with np.load(seg) as z:
                    hashes, vecs, secs = z["hashes"], z["vectors"], float(z["seconds"])
            except (OSError, ValueError, KeyError, EOFError):
                continue  # damaged (the rename makes this unlikely): those chunks are embedded again
            if vecs.shape != (len(hashes), self.key["dim"]):
                continue
            vectors.update(zip(hashes.tolist(), vecs))
            seconds += secs
            self.n_segments += 1
        return vectors, seconds

    def save(self, hashes: list[str], vectors: np.ndarray, seconds: float) -> None:
        if not hashes:
            return
        if self.n_segments == 0:
            self.clear()
            self.dir.mkdir(parents=True)
            _fsync_write(self.dir / "key.json", json.dumps(self.key).encode())
        final = self.dir / f"seg-{self._next:06d}.npz"
        tmp = self.dir / f".tmp-{final.name}"
        with tmp.open("wb") as f:
            np.savez(f, hashes=np.array(hashes), vectors=vectors.astype(np.float32), seconds=np.float64(seconds))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, final)
        self.n_segments += 1
        self._next += 1

    def clear(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        self.n_segments, self._next = 0, 1


def _try_previous(index_dir: Path, embedder: Embedder, rebuild: bool) -> tuple[LoadedIndex | None, bool]:
    """The live generation if it can be reused, and whether a full rebuild is happening."""
    if rebuild:
        return None, True
    try:
        prev = load_index(index_dir, embedder.name)
    except IndexMissingError:
        return None, False
    except (IndexMismatchError, IndexCorruptError):
        return None, True
    return prev, False


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    progress: Progress = _no_progress,
    max_file_mb: float = MAX_FILE_MB,
) -> IndexReport:
    """Bring index_dir up to date with corpus_dir, embedding only what changed."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"Corpus folder {corpus_dir} does not exist. Create it and add .txt articles, or pass --corpus DIR.")
    t0 = time.perf_counter()
    with IndexLock(index_dir):
        prev, rebuilt = _try_previous(index_dir, embedder, rebuild)
        report = IndexReport(rebuilt=rebuilt)
        _crash_point("locked")
        scanned_ns = time.time_ns()
        files, skipped = list_files(corpus_dir)
        report.skipped = [{"file": s.path, "reason": s.reason} for s in skipped]

        rechunk = prev is not None and prev.manifest.get("chunking") != CHUNKING  # chunked another way: chunk again
        prev_files = prev.manifest["files"] if prev else {}
        prev_scanned = prev.manifest.get("scanned_ns", 0) if prev else 0
        prev_by_file: dict[str, list[int]] = {}
        reuse_vec: dict[str, int] = {}
        if prev:
            for i, c in enumerate(prev.chunks):
                prev_by_file.setdefault(c.file, []).append(i)
                reuse_vec.setdefault(c.hash, i)

        docs: list[Document] = []
        chunks: list[Chunk] = []
        for n, path in enumerate(files, 1):
            progress("read", n, len(files))
            rel = path.relative_to(corpus_dir).as_posix()
            if n == len(files) // 2:
                _crash_point("read")
            if not rechunk and rel in prev_files and rel in prev.docs and _stat_unchanged(path, prev_files[rel], prev_scanned):
                # Same size and mtime as when it was hashed: reuse the parsed document and its chunks.
                report.unchanged.append(rel)
                docs.append(prev.docs[rel])
                chunks.extend(prev.chunks[i] for i in prev_by_file.get(rel, []))
                continue
            got = read_file(path, rel, max_file_mb)
            if isinstance(got, Skipped):
                report.skipped.append({"file": got.path, "reason": got.reason})
                continue
            doc_chunks = chunk_document(got)
            if rel not in prev_files:
                report.added.append(rel)
            elif prev_files[rel]["sha256"] != got.sha256:
                report.changed.append(rel)
            else:
                report.unchanged.append(rel)
            docs.append(got)
            chunks.extend(doc_chunks)
        seen = {d.path for d in docs} | {s["file"] for s in report.skipped}
        report.removed = sorted(f for f in prev_files if f not in seen)
        if not docs:
            why = f" ({len(report.skipped)} skipped, e.g. {report.skipped[0]['file']}: {report.skipped[0]['reason']})" if report.skipped else ""
            raise CorpusError(f"Corpus folder {corpus_dir} holds no readable .txt article{why}. Add UTF-8 text files, one paragraph a line.")

        checkpoint = Checkpoint(index_dir, embedder)
        if rebuild:
            checkpoint.clear()
        resumed, report.resumed_seconds = checkpoint.load()
        vectors = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
        reuse = np.full(len(chunks), -1, dtype=np.int64)  # the previous generation's chunk of the same text
        todo: list[int] = []
        for i, c in enumerate(chunks):
            j = reuse_vec.get(c.hash)
            if j is not None:
                vectors[i] = prev.vectors[j]
                reuse[i] = j
            elif c.hash in resumed:
                vectors[i] = resumed[c.hash]
                report.resumed_chunks += 1
            else:
                todo.append(i)
        del resumed
        # Embed in order of length: a batch of similar lengths pads little (a title line batched
        # with paragraph-long lines would be padded to their length).
        todo.sort(key=lambda i: len(chunks[i].text))
        report.reused_chunks = len(chunks) - len(todo)
        report.embedded_chunks = len(todo)
        report.total_chunks = len(chunks)
        every = float(os.environ.get("RAG_TEST_CHECKPOINT_S", CHECKPOINT_S))
        unsaved: list[int] = []
        since = time.perf_counter()
        for start in range(0, len(todo), EMBED_BATCH):
            batch = todo[start : start + EMBED_BATCH]
            progress("embed", start, len(todo))
            vectors[batch] = embedder.embed_documents([chunks[i].text for i in batch])
            unsaved.extend(batch)
            last = start + EMBED_BATCH >= len(todo)
            if time.perf_counter() - since >= every and (not last or checkpoint.n_segments):
                checkpoint.save([chunks[i].hash for i in unsaved], vectors[unsaved], time.perf_counter() - since)
                unsaved, since = [], time.perf_counter()
            if start:
                _crash_point("embed")
        progress("embed", len(todo), len(todo))

        manifest = {
            "schema": SCHEMA,
            "embedder": {"name": embedder.name, "dim": embedder.dim},
            "chunking": CHUNKING,
            "faiss": "flat" if len(chunks) <= FLAT_MAX else "hnsw32",
            "n_chunks": len(chunks),
            "n_docs": len(docs),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "corpus": str(corpus_dir.resolve()),
            "scanned_ns": scanned_ns,
            "files": {
                d.path: {"sha256": d.sha256, "lines": len(d.lines), "encoding": d.encoding, "size": d.size, "mtime_ns": d.mtime_ns}
                for d in docs
            },
        }
        unchanged_everything = prev is not None and not (rechunk or report.added or report.changed or report.removed)
        if unchanged_everything:
            report.generation = prev.path.name
            _collect_leftovers(index_dir, prev.path)
            _refresh_keyword(prev)
        else:
            # Keyword postings of unchanged lines are carried over: only new lines are tokenised
            # (tokenising every line costs ~40 s at 100k chunks).
            try:
                old_keyword = prev.keyword if prev else None
            except IndexCorruptError:
                old_keyword = None  # a damaged keyword file of the old generation: tokenise everything
            old_texts = [c.text for c in prev.chunks] if prev else []
            keyword = KeywordIndex.updated(old_keyword, reuse, [c.text for c in chunks], old_texts)
            graph = SavedGraph.updated(prev, reuse, vectors) if len(chunks) > FLAT_MAX else None
            report.generation = _write_generation(index_dir, manifest, docs, chunks, vectors, keyword, graph)
        checkpoint.clear()
        report.seconds = time.perf_counter() - t0
        return report


def _write_generation(
    index_dir: Path,
    manifest: dict,
    docs: list[Document],
    chunks: list[Chunk],
    vectors: np.ndarray,
    keyword: KeywordIndex,
    graph: SavedGraph | None = None,
) -> str:
    name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    tmp = index_dir / (".tmp-" + name)
    tmp.mkdir(parents=True)
    _fsync_write(tmp / "chunks.jsonl", "".join(json.dumps(_chunk_record(c), ensure_ascii=False) + "\n" for c in chunks).encode())
    _crash_point("write-chunks")
    _fsync_write(tmp / "docs.jsonl", "".join(json.dumps(_doc_record(d), ensure_ascii=False) + "\n" for d in docs).encode())
    with (tmp / "vectors.npy").open("wb") as f:
        np.save(f, vectors)
        f.flush()
        os.fsync(f.fileno())
    _crash_point("write-vectors")
    keyword.save(tmp / "keyword.npz")  # saved with the generation, so a load never tokenises
    if graph is not None:
        graph.save(tmp)
    # The manifest is written last inside the generation: a generation without one is incomplete.
    _fsync_write(tmp / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode())
    os.replace(tmp, index_dir / name)
    _crash_point("before-swap")
    pointer_tmp = index_dir / "CURRENT.tmp"
    _fsync_write(pointer_tmp, (name + "\n").encode())
    previous = (index_dir / "CURRENT").read_text().strip() if (index_dir / "CURRENT").is_file() else None
    os.replace(pointer_tmp, index_dir / "CURRENT")
    _crash_point("after-swap")
    _fsync_path(index_dir)
    _collect_garbage(index_dir, keep={name, previous})
    return name


def _collect_leftovers(index_dir: Path, current: Path) -> None:
    """After a run that wrote nothing: remove what crashed builds left. Generations newer than the
    live one were never live; of the older ones only the newest (the previous) stays for readers."""
    live = current.stat().st_mtime_ns
    older = []
    for p in index_dir.iterdir():
        if p.name.startswith(".tmp-gen-") or (p.name.startswith("gen-") and p != current and p.stat().st_mtime_ns > live):
            shutil.rmtree(p, ignore_errors=True)
        elif p.name.startswith("gen-") and p != current:
            older.append(p)
    for p in sorted(older, key=lambda p: p.stat().st_mtime_ns)[:-1]:
        shutil.rmtree(p, ignore_errors=True)
    (index_dir / "CURRENT.tmp").unlink(missing_ok=True)


def _collect_garbage(index_dir: Path, keep: set[str | None]) -> None:
    """Remove old generations and leftovers of crashed builds; the previous one stays for readers mid-load."""
    for p in index_dir.iterdir():
        if p.is_dir() and (p.name.startswith("gen-") or p.name.startswith(".tmp-gen-")) and p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)


def index_freshness(corpus_dir: Path, loaded: LoadedIndex) -> dict[str, list[str]]:
    """Which corpus files differ from the index. Only files whose size or mtime changed are
    hashed (sha256 stays the truth: a touched but identical file is not "changed")."""
    files, _ = list_files(corpus_dir) if corpus_dir.is_dir() else ([], [])
    known = loaded.manifest["files"]
    scanned = loaded.manifest.get("scanned_ns", 0)
    out: dict[str, list[str]] = {"added": [], "changed": [], "removed": []}
    seen = set()
    for path in files:
        rel = path.relative_to(corpus_dir).as_posix()
        seen.add(rel)
        if rel not in known:
            out["added"].append(rel)
        elif not _stat_unchanged(path, known[rel], scanned):
            try:
                if hashlib.sha256(path.read_bytes()).hexdigest() != known[rel]["sha256"]:
                    out["changed"].append(rel)
            except OSError:
                out["changed"].append(rel)
    out["removed"] = sorted(set(known) - seen)
    return out
